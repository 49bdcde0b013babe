//! The Redis model as a replay cache: each request is `GET key`, and on a miss
//! `SET key <value_size bytes> [EX ttl]` (cache-aside), both through the shard model with
//! eviction before each command, lazy and active expiry, and serverCron ticks driven by the
//! replay clock. No latency: only the state machine.

use super::{EndFigures, ReplayCache};
use crate::engine::{RngStream, SimTime};
use crate::redis::db::KeyRef;
use crate::redis::memory::decimal_digits;
use crate::redis::shard::{Command, RedisConfig, Reply, Shard};
use crate::workload::trace::TraceRequest;

/// A Redis shard under replay. The shard is created at the first request, whose time becomes
/// simulated time zero (so the LRU/LFU clocks read the trace's unix time).
pub struct RedisReplayCache {
    cfg: RedisConfig,
    rng: RngStream,
    shard: Option<Shard>,
    /// Tests only: step every serverCron tick instead of jumping idle stretches.
    step_every_tick: bool,
}

impl RedisReplayCache {
    /// A cache with these settings; `cfg.epoch_unix_ms` is replaced by the first request's time.
    pub fn new(cfg: RedisConfig, seed: u64) -> RedisReplayCache {
        RedisReplayCache {
            cfg,
            rng: RngStream::named(seed, "replay/redis"),
            shard: None,
            step_every_tick: false,
        }
    }

    /// The reference for tests: every serverCron tick stepped, however long the gap.
    #[cfg(test)]
    fn stepping_every_tick(mut self) -> RedisReplayCache {
        self.step_every_tick = true;
        self
    }

    /// An upper estimate of the model's memory with `maxmemory_bytes` (0 = no limit) over a
    /// trace of at most `max_keys` distinct keys: Redis charges every key at least
    /// `MIN_REDIS_BYTES_PER_KEY` (a 32-byte dict entry, an 8-byte sds for a 1-byte key, a
    /// 32-byte embedded 1-byte value, bucket space), so it holds at most `maxmemory / 76` keys
    /// (plus the one write that overshoots); the model keeps `MODEL_BYTES_PER_KEY` for each
    /// (a 32-byte entry and two u32 bucket heads at most twice over, with room for a table's
    /// growth).
    pub fn memory_estimate_bytes(maxmemory_bytes: u64, max_keys: u64) -> u64 {
        const MIN_REDIS_BYTES_PER_KEY: u64 = 76;
        const MODEL_BYTES_PER_KEY: u64 = 64;
        let keys = if maxmemory_bytes == 0 {
            max_keys
        } else {
            (maxmemory_bytes / MIN_REDIS_BYTES_PER_KEY + 1).min(max_keys)
        };
        keys.saturating_mul(MODEL_BYTES_PER_KEY)
    }

    /// The shard (None before the first request).
    pub fn shard(&self) -> Option<&Shard> {
        self.shard.as_ref()
    }
}

impl ReplayCache for RedisReplayCache {
    fn access(&mut self, req: &TraceRequest, now_ms: u64) -> bool {
        let shard = self.shard.get_or_insert_with(|| {
            let mut cfg = self.cfg.clone();
            cfg.epoch_unix_ms = now_ms;
            Shard::new(cfg, &self.rng)
        });
        let now = SimTime::from_ms(now_ms.saturating_sub(shard.config().epoch_unix_ms));
        if self.step_every_tick {
            while let Some(tick) = shard.cron_due(now) {
                shard.cron(tick);
            }
        } else {
            // Idle stretches cost nothing, however long (see `Shard::run_cron_until`).
            shard.run_cron_until(now);
        }
        let key = KeyRef {
            id: req.obj_id,
            len: if req.key_size > 0 {
                req.key_size
            } else {
                decimal_digits(req.obj_id)
            },
        };
        if shard.execute(now, Command::Get(key)).reply == Reply::Value {
            return true;
        }
        shard.execute(
            now,
            Command::Set {
                key,
                value_size: req.value_size,
                ttl_ms: req.insert_ttl_ms(),
                nx: false,
                stamp: 0,
            },
        );
        false
    }

    fn end_figures(&self) -> EndFigures {
        match &self.shard {
            None => EndFigures {
                evicted_keys: Some(0),
                expired_keys: Some(0),
                keys_end: Some(0),
                used_memory_end: Some(self.cfg.base_used_memory_bytes),
                rejected_writes: Some(0),
            },
            Some(s) => EndFigures {
                evicted_keys: Some(s.stats().evicted_keys),
                expired_keys: Some(s.stats().expired_keys),
                keys_end: Some(s.keys()),
                used_memory_end: Some(s.used_memory()),
                // Only the miss's SET is a write (denyoom); the GET is never refused.
                rejected_writes: Some(s.stats().oom_errors),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redis::evict::MaxmemoryPolicy;
    use crate::replay::ReplayCache;

    /// 4,000 requests 10 ms apart over 1,500 keys (skewed), TTLs none / 1.5 s / 30 s /
    /// 5 min (expiring in the gap) / 1 h (not), then a gap of `gap_ms`, then 4,000 more.
    fn trace_with_gap(gap_ms: u64) -> Vec<TraceRequest> {
        let mut rng = RngStream::new(5, 5);
        let start_ms = 1_767_225_600_000;
        (0..8_000u64)
            .map(|i| {
                let obj_id = rng.below(40).pow(2) % 1_500 + rng.below(2);
                let ttl_ms = [0, 1_500, 30_000, 300_000, 3_600_000][(obj_id % 5) as usize];
                let gap = if i >= 4_000 { gap_ms } else { 0 };
                TraceRequest {
                    time_ms: start_ms + i * 10 + gap,
                    obj_id,
                    obj_size: 100,
                    value_size: 100,
                    ttl_ms,
                    ..TraceRequest::default()
                }
            })
            .collect()
    }

    #[test]
    fn a_gap_jumped_replays_exactly_as_stepped() {
        for (policy, maxmemory_bytes) in [
            (MaxmemoryPolicy::AllkeysLru, 977_368 + 120_000),
            (MaxmemoryPolicy::VolatileLru, 977_368 + 120_000),
            (MaxmemoryPolicy::AllkeysLru, 0),
        ] {
            let cfg = RedisConfig {
                maxmemory_bytes,
                maxmemory_policy: policy,
                ..RedisConfig::default()
            };
            let mut jumped = RedisReplayCache::new(cfg.clone(), 3);
            let mut stepped = RedisReplayCache::new(cfg, 3).stepping_every_tick();
            let mut hits = 0;
            for req in &trace_with_gap(600_000) {
                let hit = jumped.access(req, req.time_ms);
                assert_eq!(hit, stepped.access(req, req.time_ms), "{policy:?} {req:?}");
                hits += hit as u64;
            }
            let (a, b) = (jumped.shard().unwrap(), stepped.shard().unwrap());
            assert_eq!(jumped.end_figures(), stepped.end_figures(), "{policy:?}");
            assert_eq!(a.stats(), b.stats(), "{policy:?}");
            assert_eq!(
                (a.keys(), a.used_memory(), a.cron_ticks()),
                (b.keys(), b.used_memory(), b.cron_ticks())
            );
            assert_eq!(format!("{a:?}"), format!("{b:?}"), "{policy:?}");
            // The gap did something: keys expired in it, and the replay saw hits.
            assert!(a.stats().expired_keys_active > 0, "{policy:?}");
            assert!(a.cron_ticks() > 6_000 && hits > 1_000, "{policy:?}");
        }
    }

    #[test]
    fn a_four_billion_second_gap_costs_nothing() {
        let cfg = RedisConfig {
            maxmemory_bytes: 64 << 20,
            maxmemory_policy: MaxmemoryPolicy::AllkeysLru,
            ..RedisConfig::default()
        };
        let mut cache = RedisReplayCache::new(cfg, 1);
        let started = std::time::Instant::now();
        for req in &trace_with_gap(4_000_000_000_000) {
            cache.access(req, req.time_ms);
        }
        assert!(started.elapsed().as_secs() < 5, "{:?}", started.elapsed());
        let shard = cache.shard().unwrap();
        // Every TTL key of the first half expired in the gap (actively: nobody asked).
        assert!(shard.cron_ticks() > 40_000_000_000);
        assert!(shard.stats().expired_keys_active > 500);
    }
}
