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
}

impl RedisReplayCache {
    /// A cache with these settings; `cfg.epoch_unix_ms` is replaced by the first request's time.
    pub fn new(cfg: RedisConfig, seed: u64) -> RedisReplayCache {
        RedisReplayCache {
            cfg,
            rng: RngStream::named(seed, "replay/redis"),
            shard: None,
        }
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
        while let Some(tick) = shard.cron_due(now) {
            shard.cron(tick);
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
            },
            Some(s) => EndFigures {
                evicted_keys: Some(s.stats().evicted_keys),
                expired_keys: Some(s.stats().expired_keys),
                keys_end: Some(s.keys()),
                used_memory_end: Some(s.used_memory()),
            },
        }
    }
}
