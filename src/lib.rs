//! cacheplan: a discrete-event simulator and capacity planner for Redis caches in CPQ/OMS systems.
//!
//! (crate tour written in a later step)

pub mod engine;
pub mod replay;
pub mod report;
pub mod workload;
