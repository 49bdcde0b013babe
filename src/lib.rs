//! cacheplan: a discrete-event simulator and capacity planner for Redis caches in CPQ/OMS systems.
//!
//! (crate tour written in a later step)

// `!(x > 0.0)` is the NaN-rejecting form of a range check, used on purpose in validation.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

pub mod cli;
pub mod client;
pub mod engine;
pub mod metrics;
pub mod origin;
pub mod redis;
pub mod replay;
pub mod report;
pub mod scenario;
pub mod sim;
pub mod workload;
