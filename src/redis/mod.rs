//! The Redis 7 model: memory accounting, databases, eviction, expiry, shards, hash slots and
//! clusters. Follows `../shared/REDIS-MODEL.md` (Redis 7.0.15); knows nothing of CPQ traffic.

pub mod command;
pub mod config;
pub mod db;
pub mod evict;
pub mod expiry_steady;
pub mod memory;
pub mod objects;
pub mod service_scale;
pub mod shard;
pub mod slots;
