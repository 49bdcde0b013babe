//! What a command carries: the command of each stage, lock keys, value sizes, write-back TTLs
//! (jitter) and negative values.

use super::invariants::ValueInfo;
use super::request::{Request, Stage};
use super::traffic::KEY_OWNER_MASK;
use super::Sim;
use crate::client::negative;
use crate::engine::rng::mix64;
use crate::engine::{RngStream, SimTime};
use crate::redis::db::KeyRef;
use crate::redis::objects;
use crate::redis::shard::{Command, ObjectType};
use crate::scenario::{Jitter, Operation, RateLimitAlgorithm};

/// A lock's value: the holder's token (a UUID's 36 characters).
pub(super) const LOCK_VALUE_BYTES: u32 = 36;

impl Sim<'_> {
    /// The lock key guarding the refill of `key` (same slot: lock keys carry the value key's
    /// hash tag in practice).
    pub(super) fn lock_key(&self, key: KeyRef) -> KeyRef {
        KeyRef {
            id: (key.id & KEY_OWNER_MASK) | (mix64(key.id ^ 0x10C4) & !KEY_OWNER_MASK),
            len: key.len + 5,
        }
    }

    /// For a write-back that only the holder of the refill lock may make (a lease's): the
    /// lock key, and whether `r` holds it at `now` (the key is live in the shard and holds
    /// `r`'s token). None for other commands.
    pub(super) fn lease_of_write_back(&self, now: SimTime, r: &Request) -> Option<(KeyRef, bool)> {
        let ks = r.ks as usize;
        if r.stage != Stage::WriteBack || !self.clients[ks].strategy.write_back_needs_lock() {
            return None;
        }
        let lease = self.lock_key(r.value_key);
        let shard = &self.nodes[r.shard as usize].shard;
        let live = shard.db().find(lease.id).is_some_and(|pos| {
            let e = shard.db().entry(pos);
            !e.has_ttl() || e.expire_at_ms() >= shard.unix_ms(now)
        });
        Some((
            lease,
            live && self.clients[ks].leases.holds(lease.id, r.token),
        ))
    }

    pub(super) fn command_of(&self, r: &Request) -> Command {
        let k = &self.scn.keyspaces[r.ks as usize];
        match (r.stage, k.operation) {
            (Stage::First, Operation::RateLimit) => match k.rate_limit_algorithm {
                RateLimitAlgorithm::FixedWindow => Command::IncrExpire {
                    key: r.key,
                    ttl_ms: k.ttl.as_ms(),
                },
                RateLimitAlgorithm::SlidingWindow => Command::WriteObject {
                    key: r.key,
                    // Members are request ids of 16 bytes, scores the ms timestamps.
                    object_bytes: objects::zset_bytes(r.token, 16) as u32,
                    object_type: ObjectType::Zset,
                    ttl_ms: k.ttl.as_ms(),
                },
                RateLimitAlgorithm::TokenBucket => Command::WriteObject {
                    key: r.key,
                    object_bytes: objects::token_bucket_bytes() as u32,
                    object_type: ObjectType::Hash,
                    ttl_ms: k.ttl.as_ms(),
                },
            },
            (Stage::First, Operation::Lock) => Command::Set {
                key: r.key,
                value_size: LOCK_VALUE_BYTES,
                ttl_ms: k.ttl.as_ms().max(1),
                nx: true,
                stamp: 0,
            },
            (Stage::First | Stage::Poll, _) => Command::Get(r.key),
            (Stage::Lock | Stage::RefreshLock, _) => Command::Set {
                key: r.key,
                value_size: LOCK_VALUE_BYTES,
                ttl_ms: self.clients[r.ks as usize].strategy.lock_ttl_ms(),
                nx: true,
                stamp: 0,
            },
            (Stage::WriteBack, _) => {
                let negative = k.strategy.negative.as_ref().map(|n| (n.fraction, n.ttl));
                let (value_size, ttl_ms) = negative::write_back(r.key.id, negative, || {
                    (self.value_size(r.ks as usize, r.key.id), self.ttl_ms(r))
                });
                let stamp = if self.monitor.tracks_values(r.ks as usize) {
                    ValueInfo {
                        loaded_at: r.load_started,
                        tenant: r.tenant,
                    }
                    .stamp()
                } else {
                    0
                };
                Command::Set {
                    key: r.key,
                    value_size,
                    ttl_ms,
                    nx: false,
                    stamp,
                }
            }
            (Stage::Refresh, _) => Command::Expire {
                key: r.key,
                ttl_ms: k.ttl.as_ms(),
            },
            (Stage::Release, _) => Command::Del(r.key),
        }
    }

    /// The length of the value a GET hit of `cmd` returns to request `r`: a lock's token (36
    /// bytes) for a lock key, else what the write-back wrote (the value's own size, or a
    /// negative-cache marker).
    pub(super) fn hit_value_len(&self, r: &Request, cmd: &Command) -> u64 {
        let key = super::wire::command_key(cmd);
        let k = &self.scn.keyspaces[r.ks as usize];
        if key.id != r.value_key.id || k.operation == Operation::Lock {
            return 36;
        }
        let negative = k.strategy.negative.as_ref().map(|n| (n.fraction, n.ttl));
        negative::write_back(key.id, negative, || {
            (self.value_size(r.ks as usize, key.id), 0)
        })
        .0 as u64
    }

    /// A key's value size: fixed per key (drawn from the key and the run's seed), so every
    /// plan sees the same.
    pub(super) fn value_size(&self, ks: usize, key_id: u64) -> u32 {
        let mut r = RngStream::new(key_id ^ self.value_salt[ks], 7);
        let x = self.scn.keyspaces[ks].value_size_bytes.sample(&mut r);
        rounded_at_least_1(x).min(u32::MAX as u64) as u32
    }

    /// The TTL of a write-back, jitter included (drawn from the key and the write's time so
    /// every plan sees the same values), and the time a strategy keeps a stale copy past it.
    pub(super) fn ttl_ms(&self, r: &Request) -> u64 {
        let k = &self.scn.keyspaces[r.ks as usize];
        let base = k.ttl.as_ms();
        if base == 0 {
            return 0;
        }
        self.jittered_ttl_ms(r) + self.clients[r.ks as usize].strategy.kept_stale_ms()
    }

    /// The TTL of a write-back with its jitter.
    fn jittered_ttl_ms(&self, r: &Request) -> u64 {
        let k = &self.scn.keyspaces[r.ks as usize];
        let base = k.ttl.as_ms();
        let salt = self.jitter_salt[r.ks as usize];
        let mut rng = RngStream::new(r.key.id ^ r.load_started.as_ns() ^ salt, 11);
        match k.jitter {
            Jitter::None => base,
            Jitter::UniformPct(p) => {
                let f = 1.0 + (rng.next_f64() * 2.0 - 1.0) * p / 100.0;
                rounded_at_least_1(base as f64 * f)
            }
            Jitter::UpTo(max) => base + rng.below(max.as_ms() + 1),
        }
    }
}

/// `(x.round() as u64).max(1)`, bit for bit, without `f64::round` (value sizes and
/// jittered TTLs round on every write and hit): `engine::time::round_to_u64`.
#[inline]
pub(super) fn rounded_at_least_1(x: f64) -> u64 {
    crate::engine::time::round_to_u64(x).max(1)
}
