//! Exact cache policies for trace replay, with libCacheSim's semantics so that miss counts match
//! its `cachesim` one to one: every request is a GET; a miss inserts the object when
//! `size <= capacity` (a larger object is never admitted, and still counts a miss), evicting
//! until it fits. Capacity counts bytes, or objects when `ignore_obj_size` (every size is 1).
//! An object's size is the one it had at insert; a hit does not change it.
//!
//! TTL: with a TTL (`TraceRequest::insert_ttl_ms` > 0) the expiry is fixed at insert
//! (`insert_ms + ttl_ms`); a hit does
//! not extend it. As in libCacheSim (`exp_time < clock_time` in `cache_find_base`), an object is
//! expired only when its expiry time is strictly before the request time, so it is still a hit
//! at its expiry instant. A lookup of an expired object removes it (counted in `expired_keys`,
//! not `evicted_keys`), counts a miss, then inserts the object afresh. Expired objects nobody
//! asks for stay until evicted, as in libCacheSim.
//!
//! This module owns the policies and their shared store (slab, lists, id table); it does not
//! read traces or keep hit counters (the driver does).

mod bench;
mod clock;
mod fifo;
mod list;
mod lru;
mod s3fifo;
mod sieve;
mod table;

pub use bench::{bench_lru, BenchError, BenchFigures};
pub use clock::ClockCache;
pub use fifo::FifoCache;
pub use lru::LruCache;
pub use s3fifo::S3FifoCache;
pub use sieve::SieveCache;

use crate::replay::ReplayCache;
use std::fmt;

/// The exact policies available, by libCacheSim's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExactPolicy {
    /// Least recently used (`lru`).
    Lru,
    /// First in, first out (`fifo`).
    Fifo,
    /// SIEVE (`sieve`).
    Sieve,
    /// CLOCK, one reference bit (`clock`).
    Clock,
    /// S3-FIFO with libCacheSim's default parameters (`s3fifo`).
    S3Fifo,
}

impl ExactPolicy {
    /// All policies, in a fixed order.
    pub const ALL: [ExactPolicy; 5] = [
        ExactPolicy::Lru,
        ExactPolicy::Fifo,
        ExactPolicy::Sieve,
        ExactPolicy::Clock,
        ExactPolicy::S3Fifo,
    ];

    /// The policy's name as libCacheSim spells it.
    pub fn name(self) -> &'static str {
        match self {
            ExactPolicy::Lru => "lru",
            ExactPolicy::Fifo => "fifo",
            ExactPolicy::Sieve => "sieve",
            ExactPolicy::Clock => "clock",
            ExactPolicy::S3Fifo => "s3fifo",
        }
    }

    /// Parses a policy name (case-insensitive).
    pub fn parse(name: &str) -> Result<ExactPolicy, UnknownPolicy> {
        let lower = name.trim().to_ascii_lowercase();
        ExactPolicy::ALL
            .into_iter()
            .find(|p| p.name() == lower)
            .ok_or_else(|| UnknownPolicy {
                name: name.to_string(),
            })
    }

    /// An upper estimate of the memory a cache of `capacity` takes once it holds
    /// `max_objects` objects (the caller bounds them by the capacity and by the trace): what
    /// `Store::new` reserves up front (in object mode a node and two id-table slots per object
    /// of capacity, up to 2^24), plus per object a 32-byte node and up to four 16-byte id-table
    /// slots, twice over for S3-FIFO (its ghost FIFO indexes as many ids again).
    pub fn memory_estimate_bytes(
        self,
        capacity: u64,
        ignore_obj_size: bool,
        max_objects: u64,
    ) -> u64 {
        const NODE_BYTES: u64 = 32;
        const SLOT_BYTES: u64 = 16;
        let expected = if ignore_obj_size {
            capacity.min(1 << 24)
        } else {
            1024
        };
        let up_front =
            expected * NODE_BYTES + (expected * 2).max(16).next_power_of_two() * SLOT_BYTES;
        let per_object = NODE_BYTES + 4 * SLOT_BYTES;
        let ids = match self {
            ExactPolicy::S3Fifo => max_objects.saturating_mul(2),
            _ => max_objects,
        };
        up_front.saturating_add(ids.saturating_mul(per_object))
    }

    /// A fresh cache of this policy with `capacity` bytes, or objects when `ignore_obj_size`.
    pub fn build(self, capacity: u64, ignore_obj_size: bool) -> Box<dyn ReplayCache> {
        match self {
            ExactPolicy::Lru => Box::new(LruCache::new(capacity, ignore_obj_size)),
            ExactPolicy::Fifo => Box::new(FifoCache::new(capacity, ignore_obj_size)),
            ExactPolicy::Sieve => Box::new(SieveCache::new(capacity, ignore_obj_size)),
            ExactPolicy::Clock => Box::new(ClockCache::new(capacity, ignore_obj_size)),
            ExactPolicy::S3Fifo => Box::new(S3FifoCache::new(capacity, ignore_obj_size)),
        }
    }
}

/// A policy name that is not one of `ExactPolicy::ALL`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownPolicy {
    /// The name as given.
    pub name: String,
}

impl fmt::Display for UnknownPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let known: Vec<&str> = ExactPolicy::ALL.iter().map(|p| p.name()).collect();
        write!(
            f,
            "unknown exact cache policy {:?} (known: {})",
            self.name,
            known.join(", ")
        )
    }
}

impl std::error::Error for UnknownPolicy {}

#[cfg(test)]
pub(crate) mod tests;
