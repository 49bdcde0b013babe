//! Trace replay: drive cache policies (exact ones and the Redis model) with a trace, no latency.

pub mod driver;
pub mod exact;
pub mod output;
pub mod timeline;

use crate::workload::trace::TraceRequest;

/// Figures a cache reports at the end of a replay (absent figures are `None`, never zero).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EndFigures {
    /// Keys (objects) evicted to make room.
    pub evicted_keys: Option<u64>,
    /// Keys removed because their TTL passed.
    pub expired_keys: Option<u64>,
    /// Keys (objects) resident at the end.
    pub keys_end: Option<u64>,
    /// Bytes in use at the end as the cache counts them.
    pub used_memory_end: Option<u64>,
    /// Writes refused with `-OOM` (the Redis model under `noeviction`, or a `volatile-*`
    /// policy with no key holding a TTL to evict); `None` for the exact policies, which have
    /// no such error (an object larger than the cache is simply not admitted).
    pub rejected_writes: Option<u64>,
}

/// One cache under replay. Each request is a GET; a miss inserts the object (libCacheSim's
/// semantics, and cache-aside against Redis).
pub trait ReplayCache: Send {
    /// Serves one request at trace time `now_ms`; returns true on a hit.
    fn access(&mut self, req: &TraceRequest, now_ms: u64) -> bool;
    /// Figures at the end of the replay.
    fn end_figures(&self) -> EndFigures;
}

pub mod redis_model;
