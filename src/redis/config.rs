//! A shard's Redis settings, resolved (`RedisConfig`: maxmemory and its policy, hz, active
//! expire effort, lazyfree, the per-type memory corrections and per-command service-time
//! factors of a calibration) and the main thread's CPU cost constants (`CpuCosts`).

use super::command::ObjectType;
use super::evict::MaxmemoryPolicy;
use super::memory;
use super::service_scale::ServiceScale;

/// CPU cost constants of the main thread (nanoseconds), with where each comes from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CpuCosts {
    /// Deleting one expired key in the active cycle: measured 203 ms of expire CPU for 100k
    /// keys of 100 bytes (REDIS-MODEL.md section 7), i.e. about 2 µs.
    pub expire_delete_ns: u64,
    /// Checking one sampled TTL key that has not expired (a dict walk step and a compare).
    pub expire_check_ns: u64,
    /// Visiting one empty expires-dict bucket in the active cycle's walk (one load and a
    /// compare; an estimate, like `expire_check_ns`).
    pub expire_empty_bucket_ns: u64,
    /// Deleting one evicted key (like an expired-key deletion).
    pub evict_delete_ns: u64,
    /// Sampling one candidate into the eviction pool.
    pub evict_sample_ns: u64,
}

impl Default for CpuCosts {
    fn default() -> CpuCosts {
        CpuCosts {
            expire_delete_ns: 2_030,
            expire_check_ns: 100,
            expire_empty_bucket_ns: 5,
            evict_delete_ns: 1_500,
            evict_sample_ns: 60,
        }
    }
}

/// Bytes a calibration adds to the model's value bytes, per data type (`cacheplan calibrate`
/// measures each type the scenario uses against a real server; all zero = the built-in model).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TypeBytesAdjust {
    /// Strings: (measured value bytes, bytes to add), sorted by value bytes. A string takes
    /// the correction of the measured size nearest its own by ratio (its size class).
    pub strings: Vec<(u64, i32)>,
    /// INCR counters.
    pub counter: i32,
    /// Hashes (token buckets).
    pub hash: i32,
    /// Sorted sets (sliding windows).
    pub zset: i32,
}

impl TypeBytesAdjust {
    /// True when nothing is corrected.
    pub fn is_zero(&self) -> bool {
        self.strings.iter().all(|&(_, a)| a == 0)
            && self.counter == 0
            && self.hash == 0
            && self.zset == 0
    }

    /// The correction of a string value of `value_bytes`: the nearest measured size's.
    pub fn string(&self, value_bytes: u64) -> i64 {
        let distance = |measured: u64| {
            (value_bytes.max(1) as f64 / measured.max(1) as f64)
                .ln()
                .abs()
        };
        self.strings
            .iter()
            .min_by(|a, b| distance(a.0).total_cmp(&distance(b.0)))
            .map_or(0, |&(_, adjust)| adjust as i64)
    }

    /// The correction of a collection.
    pub fn object(&self, object_type: ObjectType) -> i64 {
        match object_type {
            ObjectType::Hash => self.hash as i64,
            ObjectType::Zset => self.zset as i64,
        }
    }
}

/// `bytes` plus a correction, never below 0.
pub(crate) fn adjusted(bytes: u64, adjust: i64) -> u64 {
    (bytes as i64 + adjust).max(0) as u64
}

/// A shard's Redis settings, resolved (no defaults left to apply).
#[derive(Clone, Debug, PartialEq)]
pub struct RedisConfig {
    /// `maxmemory` in bytes; 0 = no limit.
    pub maxmemory_bytes: u64,
    /// `maxmemory-policy`.
    pub maxmemory_policy: MaxmemoryPolicy,
    /// `maxmemory-samples` (default 5).
    pub maxmemory_samples: u32,
    /// `maxmemory-eviction-tenacity` 0..100 (default 10).
    pub maxmemory_eviction_tenacity: u32,
    /// `hz` 1..500 (default 10).
    pub hz: u32,
    /// `lfu-log-factor` (default 10).
    pub lfu_log_factor: u32,
    /// `lfu-decay-time` in minutes (default 1; 0 = no decay).
    pub lfu_decay_time: u32,
    /// `active-expire-effort` 1..10 (default 1).
    pub active_expire_effort: u32,
    /// `cluster-enabled`: cluster-mode dict entries are 16 bytes larger.
    pub cluster_enabled: bool,
    /// `used_memory` with no keys: server, clients and buffers (bytes).
    pub base_used_memory_bytes: u64,
    /// Bytes added to every key's modelled size (a `cacheplan calibrate` correction; 0 =
    /// the built-in model).
    pub key_bytes_adjust: i32,
    /// Bytes added to a value's modelled size by its data type (a `cacheplan calibrate`
    /// correction per type and string size; all zero = the built-in model).
    pub type_bytes_adjust: TypeBytesAdjust,
    /// The factor on the sampled service time per command class (built in, or measured by
    /// a calibration: `calibrate::service`).
    pub service_scale: ServiceScale,
    /// Unix time in ms at simulated time zero (drives the LRU and LFU clocks).
    pub epoch_unix_ms: u64,
    /// Offset of the first serverCron tick after time zero, in ms (< 1000/hz).
    pub cron_phase_ms: u64,
    /// Time between a serverCron tick's end and the next tick's due time beyond 1000/hz ms,
    /// in ns: ae.c reschedules the timer from the moment the callback returns, so the tick's
    /// own work besides active expiry (clientsCron, databasesCron's other chores) and the
    /// event loop's lateness in noticing a due timer (epoll_wait's timeout is rounded up to
    /// whole ms, and a busy loop reaches its timers only between file events) push every later
    /// tick back. 0 by default: the model charges only active expiry's CPU. A live server's
    /// ticks drift by about 0.3 ms a tick idle and 1 ms under a paced client (measured on its
    /// `lru_clock` in `tests/it/live_fidelity.rs`, which sets this from that measurement).
    pub cron_tick_delay_ns: u64,
    /// Main-thread CPU costs.
    pub cpu: CpuCosts,
}

impl Default for RedisConfig {
    fn default() -> RedisConfig {
        RedisConfig {
            maxmemory_bytes: 0,
            maxmemory_policy: MaxmemoryPolicy::Noeviction,
            maxmemory_samples: 5,
            maxmemory_eviction_tenacity: 10,
            hz: 10,
            lfu_log_factor: 10,
            lfu_decay_time: 1,
            active_expire_effort: 1,
            cluster_enabled: false,
            base_used_memory_bytes: memory::EMPTY_SERVER_USED_MEMORY_BYTES,
            key_bytes_adjust: 0,
            type_bytes_adjust: TypeBytesAdjust::default(),
            service_scale: ServiceScale::default(),
            epoch_unix_ms: 1_767_225_600_000, // 2026-01-01T00:00:00Z
            cron_phase_ms: 0,
            cron_tick_delay_ns: 0,
            cpu: CpuCosts::default(),
        }
    }
}

impl RedisConfig {
    /// The cron period in ns (1000/hz ms).
    pub fn cron_period_ns(&self) -> u64 {
        1_000_000_000 / self.hz as u64
    }

    /// performEvictions' time limit in µs (evict.c evictionTimeLimitUs); None = unlimited.
    pub fn eviction_time_limit_us(&self) -> Option<u64> {
        let t = self.maxmemory_eviction_tenacity;
        if t <= 10 {
            Some(50 * t as u64)
        } else if t < 100 {
            Some((500.0 * 1.15f64.powi(t as i32 - 10)) as u64)
        } else {
            None
        }
    }
}
