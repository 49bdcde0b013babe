//! Cache trace readers and writers (libCacheSim formats plus our kv-csv).
//!
//! Every reader streams: it never loads a whole trace into memory.

/// One request of a cache trace, whatever the file format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TraceRequest {
    /// Trace time of the request in milliseconds (0 where the format has no time).
    pub time_ms: u64,
    /// Object id (for string keys: a 64-bit hash of the key).
    pub obj_id: u64,
    /// Object size in bytes as libCacheSim counts it (for `twr`: key size + value size).
    pub obj_size: u32,
    /// Key length in bytes for the Redis memory model; 0 when the format has no key
    /// (then the Redis model names the key by the decimal digits of `obj_id`).
    pub key_size: u32,
    /// Value length in bytes for the Redis memory model.
    pub value_size: u32,
    /// Time to live in seconds set on insert; 0 = no TTL.
    pub ttl_s: u32,
    /// oracleGeneral's `next_access_vtime` (absolute 1-based position, -1 none); -2 elsewhere.
    pub next_access_vtime: i64,
}
