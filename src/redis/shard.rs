//! One Redis 7.0 server (a cluster shard's master) as a state machine over simulated time:
//! commands with eviction before each one, lazy expiry on lookup, and serverCron's ticks (LRU
//! clock refresh, the active expire cycle, dict shrinking). It reports the main-thread CPU each
//! step used, so `node` can charge it to the single command thread; it has no queue itself.
//!
//! Follows REDIS-MODEL.md sections 1-7; the simplifications are named where they are made.

use super::db::{Db, KeyRef};
use super::evict::{self, EvictionContext, EvictionPool};
use super::memory;
use crate::engine::{RngStream, SimTime};
use std::collections::HashMap;

pub use super::command::{Command, Executed, ObjectType, Reply};
pub(crate) use super::config::adjusted;
pub use super::config::{CpuCosts, RedisConfig, TypeBytesAdjust};

/// Counters of one shard, named as in `INFO`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ShardStats {
    /// Commands executed (OOM-rejected ones included).
    pub total_commands_processed: u64,
    /// Lookups that found the key.
    pub keyspace_hits: u64,
    /// Lookups that did not (expired ones included).
    pub keyspace_misses: u64,
    /// Keys evicted.
    pub evicted_keys: u64,
    /// Keys expired (lazily or actively).
    pub expired_keys: u64,
    /// Keys expired by the active cycle.
    pub expired_keys_active: u64,
    /// Commands rejected with `-OOM`.
    pub oom_errors: u64,
    /// Active expire cycles that hit their time limit.
    pub expired_time_cap_reached_count: u64,
    /// CPU spent in active expiry (ns).
    pub expire_cycle_cpu_ns: u64,
    /// CPU spent evicting (ns).
    pub eviction_cpu_ns: u64,
}

/// The tag of a key id: its top 8 bits (the simulator puts the keyspace index there), used to
/// count evictions and expirations per keyspace.
pub fn key_tag(key_id: u64) -> usize {
    (key_id >> 56) as usize
}

/// Evictions and expirations per key tag (see `key_tag`); evictions of keys whose TTL had not
/// passed are counted apart ("evicted before their TTL").
#[derive(Clone, Debug)]
pub struct TagCounters {
    /// Keys evicted, per tag.
    pub evicted: Vec<u64>,
    /// Keys evicted while holding a TTL that had not yet passed, per tag.
    pub evicted_before_ttl: Vec<u64>,
    /// Keys expired (lazily or actively), per tag.
    pub expired: Vec<u64>,
}

impl Default for TagCounters {
    fn default() -> TagCounters {
        TagCounters {
            evicted: vec![0; 256],
            evicted_before_ttl: vec![0; 256],
            expired: vec![0; 256],
        }
    }
}

#[derive(Clone, Debug, Default)]
struct ExpireState {
    /// db->expires_cursor: the next expires-dict bucket index to visit (masked at use).
    cursor: u64,
    /// Scratch buffer for one loop's sampled positions.
    sampled: Vec<usize>,
    stale_perc: f64,
    timelimit_exit: bool,
    last_fast_start_ns: u64,
}

/// One Redis server's state.
#[derive(Clone, Debug)]
pub struct Shard {
    cfg: RedisConfig,
    db: Db,
    pool: EvictionPool,
    lru_clock: u32,
    next_cron_ns: u64,
    expire: ExpireState,
    sample_rng: RngStream,
    lfu_rng: RngStream,
    stats: ShardStats,
    tags: TagCounters,
    /// serverCron ticks run since the start (server.c cronloops).
    cron_ticks: u64,
    /// Counter values of INCR keys are not modelled; INT encoding sizes are.
    int_value_bytes: u64,
    /// Ids of the keys evicted since the caller last took them, when the caller asked for
    /// them (`enable_eviction_log`).
    evicted_ids: Option<Vec<u64>>,
    /// The running command's arguments (`Command::argv_bytes`) while `execute` runs under a
    /// maxmemory, 0 between commands: counted by the maxmemory check and dict growth, never
    /// by `used_memory`.
    argv_bytes: u64,
}

impl Shard {
    /// A new, empty server. `rng` seeds its sampling and LFU streams.
    pub fn new(cfg: RedisConfig, rng: &RngStream) -> Shard {
        // object.c createStringObjectFromLongLongWithOptions: shared integers unless a
        // maxmemory is set and the policy needs each object's own LRU/LFU field.
        let int_value_bytes = adjusted(
            memory::value_object_bytes(
                1,
                memory::StringEncoding::Int,
                cfg.maxmemory_bytes == 0 || !cfg.maxmemory_policy.needs_own_lru_field(),
            ),
            cfg.type_bytes_adjust.counter as i64,
        );
        let lru_clock = evict::lru_clock(cfg.epoch_unix_ms);
        Shard {
            db: Db::new(cfg.cluster_enabled).with_key_bytes_adjust(cfg.key_bytes_adjust),
            pool: EvictionPool::default(),
            lru_clock,
            next_cron_ns: cfg.cron_phase_ms * 1_000_000,
            expire: ExpireState::default(),
            sample_rng: rng.child(1),
            lfu_rng: rng.child(2),
            stats: ShardStats::default(),
            tags: TagCounters::default(),
            cron_ticks: 0,
            int_value_bytes,
            evicted_ids: None,
            argv_bytes: 0,
            cfg,
        }
    }

    /// Keeps the id of every key evicted from now on, until taken (`evicted_ids_mut`).
    pub fn enable_eviction_log(&mut self) {
        self.evicted_ids.get_or_insert_with(Vec::new);
    }

    /// The ids of the keys evicted since the log was last emptied (the caller empties it);
    /// `None` when the log is not enabled.
    pub fn evicted_ids_mut(&mut self) -> Option<&mut Vec<u64>> {
        self.evicted_ids.as_mut()
    }

    /// The settings.
    pub fn config(&self) -> &RedisConfig {
        &self.cfg
    }

    /// The counters.
    pub fn stats(&self) -> &ShardStats {
        &self.stats
    }

    /// Evictions and expirations per key tag.
    pub fn tag_counters(&self) -> &TagCounters {
        &self.tags
    }

    /// `used_memory`: base plus the database.
    pub fn used_memory(&self) -> u64 {
        self.cfg.base_used_memory_bytes + self.db.used_bytes()
    }

    /// Keys resident (expired-but-unreclaimed included), as `dbsize`.
    pub fn keys(&self) -> u64 {
        self.db.len() as u64
    }

    /// Keys with a TTL resident.
    pub fn expires(&self) -> u64 {
        self.db.expires_len() as u64
    }

    /// Keeps the application's value stamps with the keys (`Command::Set::stamp`, returned
    /// in `Executed::stamp` by a GET hit): see `Db::enable_value_stamps`.
    pub fn enable_value_stamps(&mut self) {
        self.db.enable_value_stamps();
    }

    /// The database (read-only), for metrics and tests.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Resident keys whose TTL has passed at `now` (a linear scan: for metrics and tests).
    pub fn expired_resident(&self, now: SimTime) -> u64 {
        let now_ms = self.unix_ms(now);
        self.db
            .positions(true)
            .filter(|&pos| self.db.entry(pos).expire_at_ms() < now_ms)
            .count() as u64
    }

    /// Unix ms as the server sees it at simulated `now`.
    pub fn unix_ms(&self, now: SimTime) -> u64 {
        self.cfg.epoch_unix_ms + now.as_ms()
    }

    /// Executes one command at `now` (the time it starts on the main thread): a fast expire
    /// cycle if due (beforeSleep), eviction until under `maxmemory` (processCommand), then the
    /// command itself.
    ///
    /// The maxmemory check counts the command's own arguments (`Command::argv_bytes`), as
    /// Redis's does: they are allocated when it runs. So a full `noeviction` server refuses a
    /// SET whose value does not fit while it still takes smaller ones, and an evicting policy
    /// frees room for the arguments too.
    pub fn execute(&mut self, now: SimTime, cmd: Command) -> Executed {
        let mut extra_cpu_ns = self.active_expire_cycle(now, true);
        self.stats.total_commands_processed += 1;
        if self.cfg.maxmemory_bytes > 0 {
            self.argv_bytes = cmd.argv_bytes();
        }
        let (fail, evicted, evict_cpu) = self.perform_evictions(now);
        extra_cpu_ns += evict_cpu;
        if fail && cmd.is_denyoom() {
            self.argv_bytes = 0;
            self.stats.oom_errors += 1;
            return Executed {
                reply: Reply::Oom,
                extra_cpu_ns,
                evicted,
                stamp: 0,
            };
        }
        let now_ms = self.unix_ms(now);
        let mut stamp = 0;
        let reply = match cmd {
            Command::Get(key) => match self.lookup(key, now_ms, true) {
                Some(pos) => {
                    self.stats.keyspace_hits += 1;
                    stamp = self.db.stamp(pos);
                    Reply::Value
                }
                None => {
                    self.stats.keyspace_misses += 1;
                    Reply::Nil
                }
            },
            Command::Set {
                key,
                value_size,
                ttl_ms,
                nx,
                stamp: value_stamp,
            } => {
                let value_bytes = adjusted(
                    memory::value_object_bytes(
                        value_size as u64,
                        memory::string_encoding(value_size as u64),
                        false,
                    ),
                    self.cfg.type_bytes_adjust.string(value_size as u64),
                );
                // lookupKeyWrite touches the existing object (a failed NX too).
                match self.lookup(key, now_ms, false) {
                    Some(_) if nx => Reply::Nil,
                    Some(pos) => {
                        // dbOverwrite: LFU keeps the old field, LRU gets a fresh stamp.
                        let lru = if self.cfg.maxmemory_policy.is_lfu() {
                            self.db.entry(pos).lru
                        } else {
                            self.new_lru_field(now_ms)
                        };
                        self.db.overwrite(pos, value_bytes, lru);
                        let expire_at = if ttl_ms > 0 { now_ms + ttl_ms } else { 0 };
                        let headroom = self.headroom();
                        self.db.set_expire(pos, expire_at, headroom);
                        self.db.set_stamp(pos, value_stamp);
                        Reply::Ok
                    }
                    None => {
                        let pos = self.add_key(key, value_bytes, now_ms, ttl_ms);
                        self.db.set_stamp(pos, value_stamp);
                        Reply::Ok
                    }
                }
            }
            Command::IncrExpire { key, ttl_ms } => match self.lookup(key, now_ms, false) {
                Some(_) => Reply::Integer(2),
                None => {
                    let bytes = self.int_value_bytes;
                    self.add_key(key, bytes, now_ms, ttl_ms);
                    Reply::Integer(1)
                }
            },
            Command::WriteObject {
                key,
                object_bytes,
                object_type,
                ttl_ms,
            } => {
                let object_bytes = adjusted(
                    object_bytes as u64,
                    self.cfg.type_bytes_adjust.object(object_type),
                );
                match self.lookup(key, now_ms, false) {
                    Some(pos) => {
                        let lru = self.db.entry(pos).lru;
                        self.db.overwrite(pos, object_bytes, lru);
                        if ttl_ms > 0 {
                            let headroom = self.headroom();
                            self.db.set_expire(pos, now_ms + ttl_ms, headroom);
                        }
                    }
                    None => {
                        self.add_key(key, object_bytes, now_ms, ttl_ms);
                    }
                }
                Reply::Ok
            }
            Command::Del(key) => match self.lookup(key, now_ms, false) {
                Some(pos) => {
                    self.db.remove(pos);
                    Reply::Integer(1)
                }
                None => Reply::Integer(0),
            },
            Command::Expire { key, ttl_ms } => match self.lookup(key, now_ms, false) {
                Some(pos) => {
                    let headroom = self.headroom();
                    self.db.set_expire(pos, now_ms + ttl_ms, headroom);
                    Reply::Integer(1)
                }
                None => Reply::Integer(0),
            },
        };
        self.argv_bytes = 0;
        Executed {
            reply,
            extra_cpu_ns,
            evicted,
            stamp,
        }
    }

    /// Writes a key that a long run would leave resident, before simulated time 0 (the warm
    /// start): `cmd` (a SET, INCR or object write, its TTL the time the key has left) runs as a
    /// write would, evicting first in the policy's order, and the key then carries the LRU or
    /// LFU field of a key last touched `idle_ms` ago (`lfu_counter` under an LFU policy).
    /// Returns false when the write is refused (OOM: `noeviction`, or `volatile-*` with nothing
    /// volatile left to evict). Counters include these writes until `clear_counters`.
    ///
    /// `expired_ago_ms` > 0 writes a key whose TTL ran out that long before time 0 and that
    /// active expiry has not reached yet (`redis::expiry_steady`); `cmd` must carry a TTL.
    pub fn warm_write(
        &mut self,
        cmd: Command,
        idle_ms: u64,
        lfu_counter: u8,
        expired_ago_ms: u64,
    ) -> bool {
        let done = self.execute(SimTime::ZERO, cmd);
        if done.reply == Reply::Oom {
            return false;
        }
        let key = match cmd {
            Command::Set { key, .. }
            | Command::IncrExpire { key, .. }
            | Command::WriteObject { key, .. } => key,
            Command::Get(_) | Command::Del(_) | Command::Expire { .. } => return true,
        };
        if let Some(pos) = self.db.find(key.id) {
            let touched_ms = self.unix_ms(SimTime::ZERO).saturating_sub(idle_ms);
            self.db.entry_mut(pos).lru = if self.cfg.maxmemory_policy.is_lfu() {
                (evict::lfu_minutes(touched_ms) << 8) | lfu_counter as u32
            } else {
                evict::lru_clock(touched_ms)
            };
            if expired_ago_ms > 0 {
                debug_assert!(self.db.entry(pos).has_ttl(), "a warm ghost carries a TTL");
                let at_ms = self.unix_ms(SimTime::ZERO).saturating_sub(expired_ago_ms);
                self.db.set_expire(pos, at_ms.max(1), None);
            }
        }
        true
    }

    /// The database for the warm start's placement of ghosts (`Db::reserve_expires`).
    pub fn db_mut_for_warm_start(&mut self) -> &mut Db {
        &mut self.db
    }

    /// Zeroes the shard's counters (stats and per-tag counts), keeping its keys: what the warm
    /// start did is not part of the run.
    pub fn clear_counters(&mut self) {
        self.stats = ShardStats::default();
        self.tags = TagCounters::default();
        if let Some(log) = &mut self.evicted_ids {
            log.clear();
        }
    }

    /// Deletes every resident key whose tag (`key_tag`) is `tag`, as a client sending one DEL
    /// per key would (delete-on-event invalidation). Returns the keys deleted and the deletion
    /// CPU in ns (the DEL commands' own service time is the caller's to charge).
    pub fn delete_tag(&mut self, tag: usize) -> (u64, u64) {
        let doomed: Vec<usize> = self
            .db
            .positions(false)
            .filter(|&pos| key_tag(self.db.entry(pos).key_id) == tag)
            .collect();
        for &pos in &doomed {
            self.db.remove(pos); // positions of the other keys do not move
        }
        let deleted = doomed.len() as u64;
        self.stats.total_commands_processed += deleted;
        (deleted, deleted * self.cfg.cpu.evict_delete_ns)
    }

    /// A restart without persistence (or FLUSHALL): every key is gone, the eviction pool and
    /// expire-cycle state start afresh; the counters (`stats`, `tag_counters`) are kept, as a
    /// simulator comparing before and after needs. Returns the keys dropped.
    pub fn flush_all(&mut self) -> u64 {
        let dropped = self.db.len() as u64;
        let stamps = self.db.value_stamps_enabled();
        self.db =
            Db::new(self.cfg.cluster_enabled).with_key_bytes_adjust(self.cfg.key_bytes_adjust);
        if stamps {
            self.db.enable_value_stamps();
        }
        self.pool = EvictionPool::default();
        self.expire = ExpireState::default();
        dropped
    }

    fn new_lru_field(&self, now_ms: u64) -> u32 {
        if self.cfg.maxmemory_policy.is_lfu() {
            evict::lfu_new_field(now_ms)
        } else {
            self.lru_clock
        }
    }

    fn headroom(&self) -> Option<u64> {
        (self.cfg.maxmemory_bytes > 0).then(|| {
            self.cfg
                .maxmemory_bytes
                .saturating_sub(self.used_memory() + self.argv_bytes)
        })
    }

    fn add_key(&mut self, key: KeyRef, value_bytes: u64, now_ms: u64, ttl_ms: u64) -> usize {
        let lru = self.new_lru_field(now_ms);
        let headroom = self.headroom();
        let pos = self.db.insert(key, value_bytes, lru, headroom);
        if ttl_ms > 0 {
            let headroom = self.headroom();
            self.db.set_expire(pos, now_ms + ttl_ms, headroom);
        }
        pos
    }

    /// db.c lookupKey: lazy expiry (strict `now > when`), then the LRU/LFU touch.
    fn lookup(&mut self, key: KeyRef, now_ms: u64, _read: bool) -> Option<usize> {
        let pos = self.db.find(key.id)?;
        let e = self.db.entry(pos);
        if e.has_ttl() && now_ms > e.expire_at_ms() {
            self.tags.expired[key_tag(e.key_id)] += 1;
            self.db.remove(pos);
            self.stats.expired_keys += 1;
            return None;
        }
        let field = if self.cfg.maxmemory_policy.is_lfu() {
            evict::lfu_on_access(
                e.lru,
                now_ms,
                self.cfg.lfu_log_factor,
                self.cfg.lfu_decay_time,
                &mut self.lfu_rng,
            )
        } else {
            self.lru_clock
        };
        // Written only when it changes (the LRU clock ticks once a second): a hit within the
        // same second leaves the entry's cache line clean.
        if field != e.lru {
            self.db.entry_mut(pos).lru = field;
        }
        Some(pos)
    }

    /// evict.c performEvictions: returns (failed, keys evicted, CPU ns). What it compares with
    /// maxmemory includes the running command's arguments (`argv_bytes`).
    fn perform_evictions(&mut self, now: SimTime) -> (bool, u32, u64) {
        let maxmemory = self.cfg.maxmemory_bytes;
        let checked = self.used_memory() + self.argv_bytes;
        if maxmemory == 0 || checked <= maxmemory {
            return (false, 0, 0);
        }
        let to_free = checked - maxmemory;
        let ctx = EvictionContext {
            policy: self.cfg.maxmemory_policy,
            samples: self.cfg.maxmemory_samples,
            lru_clock: self.lru_clock,
            unix_ms: self.unix_ms(now),
            lfu_decay_time: self.cfg.lfu_decay_time,
        };
        let limit_ns = self.cfg.eviction_time_limit_us().map(|us| us * 1000);
        let mut freed = 0u64;
        let mut evicted = 0u32;
        let mut cpu_ns = 0u64;
        while freed < to_free {
            let (victim, sampled) =
                evict::choose_victim(&self.db, &mut self.pool, &ctx, &mut self.sample_rng);
            cpu_ns += sampled as u64 * self.cfg.cpu.evict_sample_ns;
            let Some(pos) = victim else {
                self.stats.eviction_cpu_ns += cpu_ns;
                return (true, evicted, cpu_ns);
            };
            let before = self.used_memory();
            let gone = self.db.remove(pos);
            let tag = key_tag(gone.key_id);
            self.tags.evicted[tag] += 1;
            if let Some(log) = &mut self.evicted_ids {
                log.push(gone.key_id);
            }
            if gone.has_ttl() && gone.expire_at_ms() >= ctx.unix_ms {
                self.tags.evicted_before_ttl[tag] += 1;
            }
            freed += before - self.used_memory();
            evicted += 1;
            self.stats.evicted_keys += 1;
            cpu_ns += self.cfg.cpu.evict_delete_ns;
            if evicted.is_multiple_of(16) && limit_ns.is_some_and(|l| cpu_ns > l) {
                break; // the eviction timer proc goes on before later commands
            }
        }
        self.stats.eviction_cpu_ns += cpu_ns;
        (false, evicted, cpu_ns)
    }
}

#[path = "shard_cron.rs"]
mod cron;
pub use cron::IDLE_JUMP_MIN_TICKS;

#[cfg(test)]
#[path = "shard_tests.rs"]
mod tests;
