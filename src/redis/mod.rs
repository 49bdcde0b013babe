//! The Redis 7 model, as specified by `../shared/REDIS-MODEL.md`: so far cluster hash slots and
//! slot-to-shard routing (`slots`). It may depend on `engine` only, never on clients, origins,
//! workloads or reporting.

pub mod slots;
