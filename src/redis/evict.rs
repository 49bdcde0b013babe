//! Eviction as Redis 7.0 does it (REDIS-MODEL.md sections 3-6): the eight `maxmemory-policy`
//! values, the 24-bit LRU clock and LFU counter, and the 16-entry eviction pool with stale
//! scores, the strict-less offer rule and the right-to-left pick that skips ghosts.
//!
//! Owns only the choice of a victim; deleting it and counting memory is the shard's job.
//! Candidates come from the db's model of Redis's dicts: `Db::sample_some` (dictGetSomeKeys)
//! for the pool policies, `Db::random_key` (dictGetRandomKey) for the random ones, so the
//! bucket walk's biases (whole chains, runs of neighbouring buckets, fewer keys from a sparse
//! table) are Redis's; the db's header names what remains simplified there.

use super::db::Db;
use crate::engine::RngStream;

/// EVPOOL_SIZE in evict.c.
pub const EVPOOL_SIZE: usize = 16;
/// LFU_INIT_VAL in server.h: the counter of a new object.
pub const LFU_INIT_VAL: u32 = 5;
/// The LRU clock's range (24 bits).
pub const LRU_CLOCK_MAX: u32 = (1 << 24) - 1;

/// `maxmemory-policy`, spelled as Redis spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MaxmemoryPolicy {
    /// Never evict; writes fail with OOM over the limit (the Redis default).
    Noeviction,
    /// Approximated LRU over all keys.
    AllkeysLru,
    /// Approximated LFU over all keys.
    AllkeysLfu,
    /// A random key.
    AllkeysRandom,
    /// Approximated LRU over keys with a TTL.
    VolatileLru,
    /// Approximated LFU over keys with a TTL.
    VolatileLfu,
    /// A random key with a TTL.
    VolatileRandom,
    /// The key with a TTL that expires first (among the sampled).
    VolatileTtl,
}

impl MaxmemoryPolicy {
    /// What a full instance does under this policy: `noeviction` refuses writes, `volatile-*`
    /// evict keys with a TTL and then refuse, `allkeys-*` evict, critical keys included when
    /// the instance holds any (`holds_critical`).
    pub fn when_full(self, holds_critical: bool) -> &'static str {
        use MaxmemoryPolicy as P;
        match self {
            P::Noeviction => "writes refused (OOM)",
            P::VolatileLru | P::VolatileLfu | P::VolatileRandom | P::VolatileTtl => {
                "keys with a TTL evicted; writes refused (OOM) when none is left"
            }
            _ if holds_critical => "keys evicted, critical keys included",
            _ => "keys evicted in policy order",
        }
    }

    /// Whether filling hurts: writes refused (`noeviction`, `volatile-*`), or critical keys
    /// evicted (`allkeys-*` holding any). A plain cache evicting in policy order is fine.
    pub fn fill_is_harmful(self, holds_critical: bool) -> bool {
        !matches!(
            self,
            MaxmemoryPolicy::AllkeysLru
                | MaxmemoryPolicy::AllkeysLfu
                | MaxmemoryPolicy::AllkeysRandom
        ) || holds_critical
    }
    /// All eight policies.
    pub const ALL: [MaxmemoryPolicy; 8] = [
        MaxmemoryPolicy::Noeviction,
        MaxmemoryPolicy::AllkeysLru,
        MaxmemoryPolicy::AllkeysLfu,
        MaxmemoryPolicy::AllkeysRandom,
        MaxmemoryPolicy::VolatileLru,
        MaxmemoryPolicy::VolatileLfu,
        MaxmemoryPolicy::VolatileRandom,
        MaxmemoryPolicy::VolatileTtl,
    ];

    /// Parses Redis's spelling (`"allkeys-lru"`).
    pub fn parse(name: &str) -> Option<MaxmemoryPolicy> {
        MaxmemoryPolicy::ALL
            .into_iter()
            .find(|p| p.as_str() == name)
    }

    /// Redis's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            MaxmemoryPolicy::Noeviction => "noeviction",
            MaxmemoryPolicy::AllkeysLru => "allkeys-lru",
            MaxmemoryPolicy::AllkeysLfu => "allkeys-lfu",
            MaxmemoryPolicy::AllkeysRandom => "allkeys-random",
            MaxmemoryPolicy::VolatileLru => "volatile-lru",
            MaxmemoryPolicy::VolatileLfu => "volatile-lfu",
            MaxmemoryPolicy::VolatileRandom => "volatile-random",
            MaxmemoryPolicy::VolatileTtl => "volatile-ttl",
        }
    }

    /// LFU policies keep a counter in the `lru` field.
    pub fn is_lfu(self) -> bool {
        matches!(
            self,
            MaxmemoryPolicy::AllkeysLfu | MaxmemoryPolicy::VolatileLfu
        )
    }

    /// LRU or LFU policy: small integers are not shared (each key needs its own `lru` field).
    pub fn needs_own_lru_field(self) -> bool {
        matches!(
            self,
            MaxmemoryPolicy::AllkeysLru
                | MaxmemoryPolicy::VolatileLru
                | MaxmemoryPolicy::AllkeysLfu
                | MaxmemoryPolicy::VolatileLfu
        )
    }

    /// Candidates come from the expires dict only.
    pub fn is_volatile(self) -> bool {
        matches!(
            self,
            MaxmemoryPolicy::VolatileLru
                | MaxmemoryPolicy::VolatileLfu
                | MaxmemoryPolicy::VolatileRandom
                | MaxmemoryPolicy::VolatileTtl
        )
    }
}

/// The LRU clock for unix time `unix_ms`: whole seconds modulo 2^24 (evict.c getLRUClock).
pub fn lru_clock(unix_ms: u64) -> u32 {
    ((unix_ms / 1000) & LRU_CLOCK_MAX as u64) as u32
}

/// Estimated idle time in ms of an object stamped `lru` when the clock reads `clock`
/// (evict.c estimateObjectIdleTime, wrap-aware).
pub fn estimate_idle_ms(clock: u32, lru: u32) -> u64 {
    if clock >= lru {
        (clock - lru) as u64 * 1000
    } else {
        (clock as u64 + (LRU_CLOCK_MAX - lru) as u64) * 1000
    }
}

/// LFU minutes clock: (unix seconds / 60) mod 65536 (evict.c LFUGetTimeInMinutes).
pub fn lfu_minutes(unix_ms: u64) -> u32 {
    ((unix_ms / 1000 / 60) & 0xFFFF) as u32
}

/// A new object's LFU field: time now, counter LFU_INIT_VAL.
pub fn lfu_new_field(unix_ms: u64) -> u32 {
    (lfu_minutes(unix_ms) << 8) | LFU_INIT_VAL
}

/// The counter of an LFU field after decay (evict.c LFUDecrAndReturn), not written back.
pub fn lfu_decayed_counter(field: u32, unix_ms: u64, lfu_decay_time: u32) -> u32 {
    let last = field >> 8;
    let counter = field & 0xFF;
    if lfu_decay_time == 0 {
        return counter;
    }
    let now = lfu_minutes(unix_ms);
    let elapsed = if now >= last {
        now - last
    } else {
        65_535 - last + now
    };
    let periods = elapsed / lfu_decay_time;
    counter.saturating_sub(periods)
}

/// Logarithmic increment (evict.c LFULogIncr).
pub fn lfu_log_incr(counter: u32, lfu_log_factor: u32, rng: &mut RngStream) -> u32 {
    if counter >= 255 {
        return 255;
    }
    let base = counter.saturating_sub(LFU_INIT_VAL) as f64;
    let p = 1.0 / (base * lfu_log_factor as f64 + 1.0);
    if rng.next_f64() < p {
        counter + 1
    } else {
        counter
    }
}

/// The LFU field after one access (db.c updateLFU): decay, increment, stamp the time.
pub fn lfu_on_access(
    field: u32,
    unix_ms: u64,
    lfu_log_factor: u32,
    lfu_decay_time: u32,
    rng: &mut RngStream,
) -> u32 {
    let decayed = lfu_decayed_counter(field, unix_ms, lfu_decay_time);
    let counter = lfu_log_incr(decayed, lfu_log_factor, rng);
    (lfu_minutes(unix_ms) << 8) | counter
}

#[derive(Clone, Copy, Debug, Default)]
struct PoolEntry {
    key_id: u64,
    score: u64,
    used: bool,
}

/// The eviction pool: 16 candidates sorted by ascending score, best at the right.
#[derive(Clone, Debug, Default)]
pub struct EvictionPool {
    slots: [PoolEntry; EVPOOL_SIZE],
    /// Scratch buffer for the positions one dictGetSomeKeys call returns.
    samples: Vec<usize>,
}

impl EvictionPool {
    /// Offers a candidate with its score (higher = evict sooner), with evict.c
    /// evictionPoolPopulate's insertion rule.
    pub fn offer(&mut self, key_id: u64, score: u64) {
        let pool = &mut self.slots;
        let mut k = 0;
        while k < EVPOOL_SIZE && pool[k].used && pool[k].score < score {
            k += 1;
        }
        if k == 0 && pool[EVPOOL_SIZE - 1].used {
            return; // not better than the worst of a full pool
        }
        if k < EVPOOL_SIZE && !pool[k].used {
            // an empty slot: insert here
        } else if !pool[EVPOOL_SIZE - 1].used {
            // free space on the right: shift k.. right by one
            pool.copy_within(k..EVPOOL_SIZE - 1, k + 1);
        } else {
            // full: drop the leftmost (worst), insert one to the left
            k -= 1;
            pool.copy_within(1..=k, 0);
        }
        pool[k] = PoolEntry {
            key_id,
            score,
            used: true,
        };
    }

    /// Takes candidates from the right, best first, removing each; returns the first one for
    /// which `exists` says the key is still resident (ghosts are dropped).
    pub fn pick(&mut self, mut exists: impl FnMut(u64) -> Option<usize>) -> Option<usize> {
        for k in (0..EVPOOL_SIZE).rev() {
            if !self.slots[k].used {
                continue;
            }
            let key_id = self.slots[k].key_id;
            self.slots[k].used = false;
            if let Some(pos) = exists(key_id) {
                return Some(pos);
            }
        }
        None
    }

    /// Number of occupied slots.
    pub fn len(&self) -> usize {
        self.slots.iter().filter(|s| s.used).count()
    }

    /// True when no slot is occupied.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What eviction needs to know about the shard's settings and clocks.
#[derive(Clone, Copy, Debug)]
pub struct EvictionContext {
    /// The policy.
    pub policy: MaxmemoryPolicy,
    /// `maxmemory-samples`.
    pub samples: u32,
    /// The cached LRU clock.
    pub lru_clock: u32,
    /// Unix ms now (LFU decay).
    pub unix_ms: u64,
    /// `lfu-decay-time` in minutes.
    pub lfu_decay_time: u32,
}

/// Chooses one key to evict under `ctx.policy`, or None when nothing can be evicted (no
/// candidates: noeviction, an empty db, or a volatile policy with no TTL keys). Also returns
/// the number of keys sampled (CPU cost).
pub fn choose_victim(
    db: &Db,
    pool: &mut EvictionPool,
    ctx: &EvictionContext,
    rng: &mut RngStream,
) -> (Option<usize>, u32) {
    let from_expires = ctx.policy.is_volatile();
    let candidates = if from_expires {
        db.expires_len()
    } else {
        db.len()
    };
    if ctx.policy == MaxmemoryPolicy::Noeviction || candidates == 0 {
        return (None, 0);
    }
    match ctx.policy {
        MaxmemoryPolicy::AllkeysRandom | MaxmemoryPolicy::VolatileRandom => {
            (db.random_key(from_expires, rng), 1)
        }
        _ => {
            let mut sampled = 0;
            let mut samples = std::mem::take(&mut pool.samples);
            let found = loop {
                // evict.c evictionPoolPopulate: one dictGetSomeKeys call, offered in order.
                db.sample_some(ctx.samples as usize, from_expires, rng, &mut samples);
                for &pos in &samples {
                    let e = db.entry(pos);
                    let score = match ctx.policy {
                        MaxmemoryPolicy::AllkeysLfu | MaxmemoryPolicy::VolatileLfu => {
                            255 - lfu_decayed_counter(e.lru, ctx.unix_ms, ctx.lfu_decay_time) as u64
                        }
                        MaxmemoryPolicy::VolatileTtl => u64::MAX - e.expire_at_ms(),
                        _ => estimate_idle_ms(ctx.lru_clock, e.lru),
                    };
                    pool.offer(e.key_id, score);
                }
                sampled += samples.len() as u32;
                let found = pool.pick(|id| {
                    let pos = db.find(id)?;
                    if from_expires && !db.entry(pos).has_ttl() {
                        None
                    } else {
                        Some(pos)
                    }
                });
                if found.is_some() {
                    break found;
                }
            };
            pool.samples = samples;
            (found, sampled)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fill_is_harmful_unless_a_plain_cache_evicts() {
        for p in MaxmemoryPolicy::ALL {
            for critical in [false, true] {
                let harmless = p.when_full(critical) == "keys evicted in policy order";
                assert_eq!(p.fill_is_harmful(critical), !harmless, "{p:?} {critical}");
            }
        }
        assert!(!MaxmemoryPolicy::AllkeysLru.fill_is_harmful(false));
        assert!(MaxmemoryPolicy::Noeviction.fill_is_harmful(false));
        assert!(MaxmemoryPolicy::VolatileTtl.fill_is_harmful(false));
    }

    fn ids(pool: &EvictionPool) -> Vec<(u64, u64)> {
        pool.slots
            .iter()
            .filter(|s| s.used)
            .map(|s| (s.key_id, s.score))
            .collect()
    }

    #[test]
    fn pool_keeps_the_16_best_sorted_and_ties_favour_the_earliest() {
        let mut pool = EvictionPool::default();
        for id in 0..40u64 {
            pool.offer(id, id % 20);
        }
        let v = ids(&pool);
        assert_eq!(v.len(), 16);
        assert!(v.windows(2).all(|w| w[0].1 <= w[1].1));
        // Best score 19 offered twice (ids 19 and 39): the earlier one sits to the right.
        assert_eq!(v[15], (19, 19));
        assert_eq!(v[14], (39, 19));
        let mut exists = |id: u64| if id == 19 { None } else { Some(id as usize) };
        assert_eq!(pool.pick(&mut exists), Some(39)); // 19 is a ghost, dropped
    }

    #[test]
    fn full_pool_rejects_a_candidate_not_better_than_the_worst() {
        let mut pool = EvictionPool::default();
        for id in 0..16u64 {
            pool.offer(id, 100 + id);
        }
        pool.offer(99, 100); // equal to the worst: k == 0, dropped
        assert!(ids(&pool).iter().all(|&(id, _)| id != 99));
        pool.offer(98, 101); // better than the worst: worst drops out
        let v = ids(&pool);
        assert_eq!(v[0], (98, 101));
        assert_eq!(v[1], (1, 101));
    }

    #[test]
    fn lfu_counter_matches_the_formula_in_expectation() {
        // Expected hits to reach c (> 5) ~ (c-5) + f (c-5)(c-6)/2; for f = 10, c = 20: 1,065.
        let mut rng = RngStream::new(5, 5);
        let mut total = 0.0;
        for _ in 0..200 {
            let mut c = LFU_INIT_VAL;
            let mut hits = 0;
            while c < 20 {
                c = lfu_log_incr(c, 10, &mut rng);
                hits += 1;
            }
            total += hits as f64;
        }
        let mean = total / 200.0;
        assert!((mean - 1065.0).abs() / 1065.0 < 0.05, "mean {mean}");
    }

    #[test]
    fn lfu_decay_per_crossed_minute() {
        let t0 = 1_795_752_718_501u64; // :58.5 of a minute
        let field = (lfu_minutes(t0) << 8) | 22;
        assert_eq!(lfu_decayed_counter(field, t0 + 3_004, 1), 21);
        assert_eq!(lfu_decayed_counter(field, t0 + 3_004, 0), 22);
        assert_eq!(lfu_decayed_counter(field, t0 + 600_000, 1), 12);
    }

    #[test]
    fn policy_names_round_trip() {
        for p in MaxmemoryPolicy::ALL {
            assert_eq!(MaxmemoryPolicy::parse(p.as_str()), Some(p));
        }
        assert_eq!(MaxmemoryPolicy::parse("allkeys-lru "), None);
    }
}
