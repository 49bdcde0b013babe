//! The Redis 7 model: memory accounting, databases, eviction, expiry, shards and clusters.

pub mod db;
pub mod evict;
pub mod memory;
pub mod shard;
