//! # cacheplan
//!
//! A discrete-event simulator and capacity planner for Redis caches in enterprise CPQ/OMS
//! (configure-price-quote, order management) systems. It answers the questions platform
//! architects and SREs bring to an architecture review — how many shards, how much memory,
//! which TTL and jitter, does single-flight stop the stampede, should idempotency keys share a
//! cluster with the price-preview cache — by simulating Redis 7 as it really behaves.
//!
//! ## One run, end to end
//!
//! ```text
//!  workloads/cpq.toml ──► scenario::parse ──► Scenario (validated, no Options left)
//!                                               │
//!                          sim::run_all_plans ◄─┘   (one plan per rayon task, same seed)
//!                               │
//!    ┌──────────────────────────┴─────────────────────────────────┐
//!    │ engine::EventQueue<Event>  (SimTime ns, FIFO among equals) │
//!    │  Arrival ─► client (L1, coalescing, breaker, strategy)      │
//!    │        ─► AtShard ─► redis::shard::Shard (evict, expire,    │
//!    │                     single thread: Lindley over busy_until) │
//!    │        ─► AtOrigin / OriginDone ─► origin::OriginState      │
//!    │        ─► write-back SET, lock release (background)         │
//!    └──────────────────────────┬─────────────────────────────────┘
//!                               ▼
//!                     metrics::PlanResult per plan
//!                               │
//!     report::{tables, manifest, files} ──► output/<scenario>/<run-id>/*.csv, manifest.json
//! ```
//!
//! The trace-driven mode skips the latency model: `replay::driver` feeds a trace
//! (`workload::trace` readers) to exact policies (`replay::exact`) and to the Redis model
//! (`replay::redis_model`).
//!
//! ## As a library
//!
//! ```
//! let toml = r#"
//! version = 1
//! name = "tiny"
//! [simulation]
//! duration_ms = "20s"
//! [[tenants]]
//! name = "tenant-a"
//! [[origins]]
//! name = "catalog-db"
//! concurrency = 8
//! service_time_ms = { dist = "lognormal", median = 5, sigma = 0.3 }
//! [[clusters]]
//! name = "cache"
//! shards = 1
//! maxmemory_bytes = "64mb"
//! maxmemory_policy = "allkeys-lru"
//! [[keyspaces]]
//! name = "catalog"
//! key_template = "catalog:{tenant}:offering:{offeringId}"
//! operation = "read-through"
//! rate_per_s = 200
//! value_size_bytes = { dist = "fixed", value = 512 }
//! ttl_ms = "1m"
//! origin = "catalog-db"
//! [[plans]]
//! name = "one"
//! placement = { catalog = "cache" }
//! "#;
//! let scenario = cacheplan::scenario::parse(toml, "tiny.toml").expect("a valid scenario");
//! let results = cacheplan::sim::run_all_plans(&scenario, 42);
//! let catalog = &results[0].keyspaces[0];
//! assert!(catalog.requests > 3_000);
//! assert!(catalog.redis_hits > 0 && catalog.redis_hits < catalog.requests);
//! ```
//!
//! ## Where to start reading
//! `sim` for the request path, `redis::shard` for the Redis model (with `redis::evict`,
//! `redis::db`, `redis::memory`), `scenario::model` for what a scenario can say.
//!
//! ## Modules
//! - `cli`: arguments (clap) resolved into commands; the only reader of the wall clock.
//! - `engine`: simulated time, the event queue (radix heap), seeded RNG streams.
//! - `scenario`: the TOML format, validation with file/line/field errors, distributions.
//! - `profile`: `cacheplan profile`'s pure inference from sampled data (templates, tenants,
//!   fits, the draft scenario and report; the IO is `cli::profile`).
//! - `redis`: Redis 7.0 model: memory accounting, dicts, eviction pool, expiry, slots.
//! - `client`: application-side state: local L1, coalescing, breaker, stampede tracking.
//! - `origin`: databases and services behind the cache (pools, queues, timeouts).
//! - `workload`: popularity samplers and cache-trace readers/writers/generator.
//! - `replay`: trace replay through exact policies and the Redis model.
//! - `metrics`: counters, HdrHistograms and time windows of one plan.
//! - `sim`: one plan's simulation: the closed `Event` enum and its dispatch; faults and the
//!   business-invariant monitors.
//! - `cost`: a plan's nodes and monthly cost (instance catalogue prices or `cost_per_*`).
//! - `sweep`: parameter grids (resumable cells, sharding, merge) and the capacity search.
//! - `calibrate`: a calibration file's format and the model figures it is compared with.
//! - `report`: the only writer: CSV tables, charts, manifest, atomic run folder.
//! - `test_data` (unit tests only): where tests find `tests/data/` and `../shared` files.

// `!(x > 0.0)` is the NaN-rejecting form of a range check, used on purpose in validation.
#![allow(clippy::neg_cmp_op_on_partial_ord)]
#![deny(unsafe_code)]

pub mod calibrate;
pub mod cli;
pub mod client;
pub mod cost;
pub mod engine;
pub mod metrics;
pub mod origin;
pub mod profile;
pub mod redis;
pub mod replay;
pub mod report;
pub mod scenario;
pub mod sim;
pub mod sweep;
#[cfg(test)]
mod test_data;
pub mod workload;
