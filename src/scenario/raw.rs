//! The scenario file as written: serde types that mirror the TOML one to one
//! (`deny_unknown_fields` everywhere). Only `scenario::resolve` reads these; the core never does.
//! Field meanings, units, defaults and ranges are documented in `workloads/README.md`.

use super::units::{Bytes, Millis};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub version: u32,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub simulation: RawSimulation,
    #[serde(default)]
    pub tenants: Vec<RawTenant>,
    #[serde(default)]
    pub origins: Vec<RawOrigin>,
    #[serde(default)]
    pub clusters: Vec<RawCluster>,
    #[serde(default)]
    pub keyspaces: Vec<RawKeyspace>,
    #[serde(default)]
    pub plans: Vec<RawPlan>,
    #[serde(default)]
    pub events: Vec<RawEvent>,
    #[serde(default)]
    pub slo: Option<RawSlo>,
    #[serde(default)]
    pub faults: Vec<RawFault>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSimulation {
    pub seed: Option<u64>,
    pub duration_ms: Millis,
    #[serde(default)]
    pub warmup_ms: Option<Millis>,
    #[serde(default)]
    pub window_ms: Option<Millis>,
    #[serde(default)]
    pub start_unix_ms: Option<u64>,
    #[serde(default)]
    pub app_instances: Option<u32>,
    #[serde(default)]
    pub start: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTenant {
    pub name: String,
    #[serde(default)]
    pub traffic_weight: Option<f64>,
    #[serde(default)]
    pub size: Option<f64>,
}

/// A distribution of a positive quantity. Which fields apply depends on `dist`.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawDist {
    pub dist: String,
    // fixed / exponential
    #[serde(default)]
    pub value: Option<f64>,
    #[serde(default)]
    pub mean: Option<f64>,
    // lognormal
    #[serde(default)]
    pub median: Option<f64>,
    #[serde(default)]
    pub sigma: Option<f64>,
    // uniform
    #[serde(default)]
    pub min: Option<f64>,
    #[serde(default)]
    pub max: Option<f64>,
    // empirical
    #[serde(default)]
    pub values: Option<Vec<f64>>,
    #[serde(default)]
    pub weights: Option<Vec<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOrigin {
    pub name: String,
    pub concurrency: i64,
    pub service_time_ms: RawDist,
    #[serde(default)]
    pub queue_limit: Option<i64>,
    #[serde(default)]
    pub timeout_ms: Option<Millis>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCluster {
    pub name: String,
    pub shards: i64,
    pub maxmemory_bytes: Bytes,
    #[serde(default)]
    pub maxmemory_policy: Option<String>,
    #[serde(default)]
    pub maxmemory_samples: Option<i64>,
    #[serde(default)]
    pub maxmemory_eviction_tenacity: Option<i64>,
    #[serde(default)]
    pub hz: Option<i64>,
    #[serde(default)]
    pub lfu_log_factor: Option<i64>,
    #[serde(default)]
    pub lfu_decay_time: Option<i64>,
    #[serde(default)]
    pub active_expire_effort: Option<i64>,
    #[serde(default)]
    pub cluster_enabled: Option<bool>,
    #[serde(default)]
    pub service_time_us: Option<RawDist>,
    #[serde(default)]
    pub network_rtt_us: Option<RawDist>,
    #[serde(default)]
    pub slots: Option<Vec<RawSlotRange>>,
    #[serde(default)]
    pub cost_per_shard: Option<f64>,
    #[serde(default)]
    pub cost_per_gb: Option<f64>,
    /// A `cacheplan calibrate` file (relative to the scenario's folder).
    #[serde(default)]
    pub calibration: Option<String>,
    /// The calibration file, read by `scenario::parse` (never part of the TOML).
    #[serde(skip)]
    pub calibration_loaded: Option<crate::calibrate::Calibration>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSlotRange {
    pub shard: i64,
    pub start: i64,
    pub end: i64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPopularity {
    pub dist: String,
    #[serde(default)]
    pub alpha: Option<f64>,
    #[serde(default)]
    pub hot_keys_fraction: Option<f64>,
    #[serde(default)]
    pub hot_requests_fraction: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawJitter {
    pub kind: String,
    #[serde(default)]
    pub pct: Option<f64>,
    #[serde(default)]
    pub max_ms: Option<Millis>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBurst {
    pub start_ms: Millis,
    pub duration_ms: Millis,
    pub multiplier: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStrategy {
    pub kind: String,
    #[serde(default)]
    pub lock_ttl_ms: Option<Millis>,
    #[serde(default)]
    pub lock_poll_ms: Option<Millis>,
    #[serde(default)]
    pub lock_max_wait_ms: Option<Millis>,
    #[serde(default)]
    pub soft_ttl_ms: Option<Millis>,
    #[serde(default)]
    pub beta: Option<f64>,
    #[serde(default)]
    pub coalesce: Option<bool>,
    #[serde(default)]
    pub local_cache_keys: Option<i64>,
    #[serde(default)]
    pub local_cache_ttl_ms: Option<Millis>,
    #[serde(default)]
    pub negative_fraction: Option<f64>,
    #[serde(default)]
    pub negative_ttl_ms: Option<Millis>,
    #[serde(default)]
    pub breaker_failures: Option<i64>,
    #[serde(default)]
    pub breaker_open_ms: Option<Millis>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawKeyspace {
    pub name: String,
    pub key_template: String,
    pub operation: String,
    #[serde(default)]
    pub criticality: Option<String>,
    pub rate_per_s: f64,
    #[serde(default)]
    pub keys_per_tenant: Option<i64>,
    #[serde(default)]
    pub popularity: Option<RawPopularity>,
    pub value_size_bytes: RawDist,
    #[serde(default)]
    pub ttl_ms: Option<Millis>,
    #[serde(default)]
    pub ttl_jitter: Option<RawJitter>,
    #[serde(default)]
    pub origin: Option<String>,
    #[serde(default)]
    pub strategy: Option<RawStrategy>,
    #[serde(default)]
    pub hourly_profile: Option<Vec<f64>>,
    #[serde(default)]
    pub bursts: Vec<RawBurst>,
    #[serde(default)]
    pub window_ms: Option<Millis>,
    #[serde(default)]
    pub rate_limit_algorithm: Option<String>,
    #[serde(default)]
    pub rate_limit_per_window: Option<i64>,
    #[serde(default)]
    pub hold_ms: Option<RawDist>,
    #[serde(default)]
    pub retry_probability: Option<f64>,
    #[serde(default)]
    pub retry_delay_ms: Option<Millis>,
    #[serde(default)]
    pub client_timeout_ms: Option<Millis>,
    #[serde(default)]
    pub fallback: Option<RawFallback>,
}

/// A keyspace's fallback policies and business-invariant guards (`fallback = { ... }`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFallback {
    #[serde(default)]
    pub origin_max_in_flight: Option<i64>,
    #[serde(default)]
    pub rate_limit: Option<String>,
    #[serde(default)]
    pub lock: Option<String>,
    #[serde(default)]
    pub lock_owner_token: Option<bool>,
    #[serde(default)]
    pub db_constraint: Option<bool>,
    #[serde(default)]
    pub pause_ms: Option<RawDist>,
    #[serde(default)]
    pub db_idempotency: Option<bool>,
    #[serde(default)]
    pub redis_retries: Option<i64>,
    #[serde(default)]
    pub redis_retry_delay_ms: Option<RawDist>,
    #[serde(default)]
    pub source_of_truth: Option<String>,
    #[serde(default)]
    pub final_use_fraction: Option<f64>,
    #[serde(default)]
    pub revalidate_before_final: Option<bool>,
}

/// A fault on the timeline (`[[faults]]`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFault {
    pub kind: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub cluster: Option<String>,
    #[serde(default)]
    pub shard: Option<i64>,
    pub start_ms: Millis,
    #[serde(default)]
    pub end_ms: Option<Millis>,
    #[serde(default)]
    pub mode: Option<String>,
    #[serde(default)]
    pub multiplier: Option<f64>,
    #[serde(default)]
    pub keyspaces: Option<Vec<String>>,
    #[serde(default)]
    pub instances: Option<Vec<i64>>,
    #[serde(default)]
    pub replication_lag_ms: Option<Millis>,
    #[serde(default)]
    pub node_timeout_ms: Option<Millis>,
    #[serde(default)]
    pub replica_rank: Option<i64>,
    #[serde(default)]
    pub attribution_ms: Option<Millis>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPlan {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// keyspace name -> cluster name.
    pub placement: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEvent {
    pub at_ms: Millis,
    pub name: String,
    pub action: String,
    pub keyspaces: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSlo {
    #[serde(default)]
    pub hit_ratio_min: BTreeMap<String, f64>,
    #[serde(default)]
    pub latency_p99_ms_max: BTreeMap<String, f64>,
    #[serde(default)]
    pub origin_peak_per_s_max: BTreeMap<String, f64>,
    #[serde(default)]
    pub critical_evictions_max: Option<u64>,
    #[serde(default)]
    pub shard_utilization_max: Option<f64>,
}
