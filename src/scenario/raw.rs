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
    /// Node types defined in the scenario itself (same fields as a catalogue file's entries).
    #[serde(default)]
    pub instances: Vec<RawInstance>,
    /// The catalogue the clusters' `instance` names are looked up in: the built-in one, then
    /// `simulation.instance_catalogue` files, then `instances`; filled by `scenario::parse`
    /// (never part of the TOML).
    #[serde(skip)]
    pub catalogue: Vec<crate::scenario::instances::Instance>,
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
    /// Extra instance catalogue files, relative to the scenario's folder.
    #[serde(default)]
    pub instance_catalogue: Option<Vec<String>>,
}

/// One node type of an instance catalogue (a `workloads/instances/*.toml` file or the
/// scenario's `[[instances]]`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInstance {
    pub name: String,
    pub provider: String,
    pub memory_gib: f64,
    #[serde(default)]
    pub vcpus: Option<i64>,
    #[serde(default)]
    pub network_baseline_gbps: Option<f64>,
    pub hourly_price: f64,
    pub currency: String,
    pub region: String,
    #[serde(default)]
    pub reserved_memory_percent: Option<f64>,
    pub as_of: String,
    pub source: String,
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
    /// Required unless `instance` is given (which derives it).
    #[serde(default)]
    pub maxmemory_bytes: Option<Bytes>,
    /// A node type of the instance catalogue.
    #[serde(default)]
    pub instance: Option<String>,
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
    /// Replicas behind each master shard.
    #[serde(default)]
    pub replicas_per_shard: Option<i64>,
    /// How far a replica trails its master, ms.
    #[serde(default)]
    pub replication_lag_ms: Option<RawDist>,
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

/// Key popularity (`popularity = { dist = "...", ... }`): each kind carries exactly its fields.
#[derive(Debug, Deserialize)]
#[serde(tag = "dist", rename_all = "kebab-case")]
pub enum RawPopularity {
    /// Zipf with exponent `alpha`.
    Zipf(RawZipf),
    /// Every key equally likely.
    Uniform(RawNoFields),
    /// A hot set of keys gets a share of the requests.
    HotSet(RawHotSet),
}

/// `dist = "zipf"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawZipf {
    pub alpha: f64,
}

/// `dist = "hot-set"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHotSet {
    #[serde(default)]
    pub hot_keys_fraction: Option<f64>,
    #[serde(default)]
    pub hot_requests_fraction: Option<f64>,
}

/// A kind (or operation) with no fields of its own.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNoFields {}

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

/// A keyspace's client strategy (`strategy = { kind = "...", ... }`): each kind carries its own
/// fields plus the in-process options every kind takes ([`RawClientOptions`]).
#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum RawStrategy {
    /// GET, load on a miss, SET.
    CacheAside(RawCacheAside),
    /// A Redis lock around the load; the others poll.
    SingleFlight(RawSingleFlight),
    /// Soft and hard TTL, one background refresh.
    StaleWhileRevalidate(RawStaleWhileRevalidate),
    /// Probabilistic early recomputation.
    #[serde(rename = "xfetch")]
    XFetch(RawXFetch),
    /// A hit with little TTL left refreshes in the background.
    RefreshAhead(RawRefreshAhead),
    /// Memcache-style leases.
    Lease(RawLease),
}

/// The in-process options of a strategy, whatever its kind.
#[derive(Clone, Copy, Debug, Default)]
pub struct RawClientOptions {
    pub coalesce: Option<bool>,
    pub local_cache_keys: Option<i64>,
    pub local_cache_ttl_ms: Option<Millis>,
    pub negative_fraction: Option<f64>,
    pub negative_ttl_ms: Option<Millis>,
    pub breaker_failures: Option<i64>,
    pub breaker_open_ms: Option<Millis>,
}

/// Declares a strategy kind's table: its own fields, then the in-process options of
/// [`RawClientOptions`] (one list, so every kind takes the same options).
macro_rules! strategy_table {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $field:ident: $ty:ty,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($(#[$fmeta])* pub $field: $ty,)*
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

        impl $name {
            /// The in-process options.
            pub fn options(&self) -> RawClientOptions {
                RawClientOptions {
                    coalesce: self.coalesce,
                    local_cache_keys: self.local_cache_keys,
                    local_cache_ttl_ms: self.local_cache_ttl_ms,
                    negative_fraction: self.negative_fraction,
                    negative_ttl_ms: self.negative_ttl_ms,
                    breaker_failures: self.breaker_failures,
                    breaker_open_ms: self.breaker_open_ms,
                }
            }
        }
    };
}

strategy_table!(
    /// `kind = "cache-aside"`.
    RawCacheAside {}
);
strategy_table!(
    /// `kind = "single-flight"`.
    RawSingleFlight {
        #[serde(default)]
        lock_ttl_ms: Option<Millis>,
        #[serde(default)]
        lock_poll_ms: Option<Millis>,
        #[serde(default)]
        lock_max_wait_ms: Option<Millis>,
    }
);
strategy_table!(
    /// `kind = "stale-while-revalidate"`.
    RawStaleWhileRevalidate {
        soft_ttl_ms: Millis,
        #[serde(default)]
        lock_ttl_ms: Option<Millis>,
    }
);
strategy_table!(
    /// `kind = "xfetch"`.
    RawXFetch {
        #[serde(default)]
        beta: Option<f64>,
    }
);
strategy_table!(
    /// `kind = "refresh-ahead"`.
    RawRefreshAhead {
        #[serde(default)]
        refresh_ahead_fraction: Option<f64>,
        #[serde(default)]
        lock_ttl_ms: Option<Millis>,
    }
);

strategy_table!(
    /// `kind = "lease"`.
    RawLease {
        #[serde(default)]
        lease_ttl_ms: Option<Millis>,
        #[serde(default)]
        lease_poll_ms: Option<Millis>,
        #[serde(default)]
        lease_max_wait_ms: Option<Millis>,
        #[serde(default)]
        stale: Option<String>,
        #[serde(default)]
        stale_ttl_ms: Option<Millis>,
    }
);

impl RawStrategy {
    /// The in-process options, whatever the kind.
    pub fn options(&self) -> RawClientOptions {
        match self {
            RawStrategy::CacheAside(s) => s.options(),
            RawStrategy::SingleFlight(s) => s.options(),
            RawStrategy::StaleWhileRevalidate(s) => s.options(),
            RawStrategy::XFetch(s) => s.options(),
            RawStrategy::RefreshAhead(s) => s.options(),
            RawStrategy::Lease(s) => s.options(),
        }
    }
}

/// A keyspace. Its `operation` is a tagged enum flattened into the same table, so the
/// keyspace itself cannot `deny_unknown_fields`: every field not listed here goes to the
/// operation's variant, which refuses whatever is not its own.
#[derive(Debug, Deserialize)]
pub struct RawKeyspace {
    pub name: String,
    pub key_template: String,
    /// `operation = "..."` and the fields of that operation.
    #[serde(flatten)]
    pub operation: RawOperation,
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
    pub client_timeout_ms: Option<Millis>,
    #[serde(default)]
    pub fallback: Option<RawFallback>,
}

/// What a keyspace's requests do (`operation = "..."`), with the fields only that operation
/// takes.
#[derive(Debug, Deserialize)]
#[serde(tag = "operation", rename_all = "kebab-case")]
pub enum RawOperation {
    /// GET, load on a miss, SET.
    ReadThrough(RawReadThrough),
    /// GET, PEXPIRE on a hit.
    Session(RawNoFields),
    /// A rate limiter per actor.
    RateLimit(RawRateLimit),
    /// SET NX PX, hold, release.
    Lock(RawLock),
    /// The fast-path key of an idempotent command.
    Idempotency(RawIdempotency),
}

/// `operation = "read-through"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReadThrough {
    /// `"master"` or `"replica"`: where the GETs go.
    #[serde(default)]
    pub read_from: Option<String>,
}

/// `operation = "rate-limit"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRateLimit {
    #[serde(default)]
    pub window_ms: Option<Millis>,
    #[serde(default)]
    pub rate_limit_algorithm: Option<String>,
    #[serde(default)]
    pub rate_limit_per_window: Option<i64>,
}

/// `operation = "lock"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLock {
    #[serde(default)]
    pub hold_ms: Option<RawDist>,
}

/// `operation = "idempotency"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIdempotency {
    #[serde(default)]
    pub retry_probability: Option<f64>,
    #[serde(default)]
    pub retry_delay_ms: Option<Millis>,
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

/// A fault on the timeline (`[[faults]]`): each kind carries its own fields plus the ones
/// every fault has ([`RawFaultTiming`]).
#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum RawFault {
    /// Shards unreachable.
    ShardDown(RawShardDown),
    /// Shards' service time multiplied.
    ShardSlow(RawShardSlow),
    /// Network round trip multiplied.
    LatencySpike(RawLatencySpike),
    /// A master fails; its replica is promoted.
    Failover(RawFailover),
    /// Every shard of a cluster restarts empty.
    ClusterRestart(RawClusterRestart),
    /// Keyspaces' traffic multiplied.
    TrafficBurst(RawTrafficBurst),
    /// Pub/sub subscribers disconnected.
    SubscriberDisconnect(RawSubscriberDisconnect),
}

/// The fields every fault has, whatever its kind (`end_ms` is not one: a failover has none).
#[derive(Clone, Debug)]
pub struct RawFaultTiming {
    pub name: Option<String>,
    pub start_ms: Millis,
    pub attribution_ms: Option<Millis>,
}

/// Declares a fault kind's table: its own fields, then `name`, `start_ms` and
/// `attribution_ms`, which every kind takes (one list, so every kind takes them the same way).
macro_rules! fault_table {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $field:ident: $ty:ty,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($(#[$fmeta])* pub $field: $ty,)*
            #[serde(default)]
            pub name: Option<String>,
            pub start_ms: Millis,
            #[serde(default)]
            pub attribution_ms: Option<Millis>,
        }
    };
}

fault_table!(
    /// `kind = "shard-down"`.
    RawShardDown {
        cluster: String,
        #[serde(default)]
        shard: Option<i64>,
        end_ms: Millis,
        #[serde(default)]
        mode: Option<String>,
    }
);
fault_table!(
    /// `kind = "shard-slow"`.
    RawShardSlow {
        cluster: String,
        #[serde(default)]
        shard: Option<i64>,
        end_ms: Millis,
        multiplier: f64,
    }
);
fault_table!(
    /// `kind = "latency-spike"`.
    RawLatencySpike {
        cluster: String,
        #[serde(default)]
        shard: Option<i64>,
        end_ms: Millis,
        multiplier: f64,
        #[serde(default)]
        instances: Option<Vec<i64>>,
    }
);
fault_table!(
    /// `kind = "failover"`: it ends when the replica is promoted, so it has no `end_ms`.
    RawFailover {
        cluster: String,
        shard: i64,
        #[serde(default)]
        mode: Option<String>,
        #[serde(default)]
        replication_lag_ms: Option<Millis>,
        #[serde(default)]
        node_timeout_ms: Option<Millis>,
        #[serde(default)]
        replica_rank: Option<i64>,
    }
);
fault_table!(
    /// `kind = "cluster-restart"`.
    RawClusterRestart {
        cluster: String,
        end_ms: Millis,
    }
);
fault_table!(
    /// `kind = "traffic-burst"`.
    RawTrafficBurst {
        keyspaces: Vec<String>,
        end_ms: Millis,
        multiplier: f64,
    }
);
fault_table!(
    /// `kind = "subscriber-disconnect"`.
    RawSubscriberDisconnect {
        end_ms: Millis,
        #[serde(default)]
        instances: Option<Vec<i64>>,
    }
);

impl RawFault {
    /// The fields every fault has.
    pub fn timing(&self) -> RawFaultTiming {
        let (name, start_ms, attribution_ms) = match self {
            RawFault::ShardDown(f) => (&f.name, f.start_ms, f.attribution_ms),
            RawFault::ShardSlow(f) => (&f.name, f.start_ms, f.attribution_ms),
            RawFault::LatencySpike(f) => (&f.name, f.start_ms, f.attribution_ms),
            RawFault::Failover(f) => (&f.name, f.start_ms, f.attribution_ms),
            RawFault::ClusterRestart(f) => (&f.name, f.start_ms, f.attribution_ms),
            RawFault::TrafficBurst(f) => (&f.name, f.start_ms, f.attribution_ms),
            RawFault::SubscriberDisconnect(f) => (&f.name, f.start_ms, f.attribution_ms),
        };
        RawFaultTiming {
            name: name.clone(),
            start_ms,
            attribution_ms,
        }
    }
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
    #[serde(default)]
    pub error_ratio_max: BTreeMap<String, f64>,
    #[serde(default)]
    pub fill_horizon_ms: Option<Millis>,
}

/// A tagged table of the format, for error messages: where it sits (the last key of its path:
/// `strategy`, `faults`, ...), the key naming its kind, and each kind with its own fields as
/// serde reads them. `ScenarioError`s use it to say which kind a misplaced field belongs to.
pub struct TaggedTable {
    /// The last key of the table's path.
    pub at: &'static str,
    /// The key naming the kind.
    pub tag: &'static str,
    /// Whether the kind's fields share their table with other fields (a keyspace's operation),
    /// so serde's list of expected fields is only part of what the table takes.
    pub flattened: bool,
    /// Each kind's spelling and own fields.
    pub kinds: Vec<(&'static str, &'static [&'static str])>,
}

/// The tagged tables of the format.
pub fn tagged_tables() -> Vec<TaggedTable> {
    vec![
        TaggedTable {
            at: "strategy",
            tag: "kind",
            flattened: false,
            kinds: vec![
                ("cache-aside", fields_of::<RawCacheAside>()),
                ("single-flight", fields_of::<RawSingleFlight>()),
                (
                    "stale-while-revalidate",
                    fields_of::<RawStaleWhileRevalidate>(),
                ),
                ("xfetch", fields_of::<RawXFetch>()),
                ("refresh-ahead", fields_of::<RawRefreshAhead>()),
                ("lease", fields_of::<RawLease>()),
            ],
        },
        TaggedTable {
            at: "faults",
            tag: "kind",
            flattened: false,
            kinds: vec![
                ("shard-down", fields_of::<RawShardDown>()),
                ("shard-slow", fields_of::<RawShardSlow>()),
                ("latency-spike", fields_of::<RawLatencySpike>()),
                ("failover", fields_of::<RawFailover>()),
                ("cluster-restart", fields_of::<RawClusterRestart>()),
                ("traffic-burst", fields_of::<RawTrafficBurst>()),
                (
                    "subscriber-disconnect",
                    fields_of::<RawSubscriberDisconnect>(),
                ),
            ],
        },
        TaggedTable {
            at: "popularity",
            tag: "dist",
            flattened: false,
            kinds: vec![
                ("zipf", fields_of::<RawZipf>()),
                ("uniform", fields_of::<RawNoFields>()),
                ("hot-set", fields_of::<RawHotSet>()),
            ],
        },
        TaggedTable {
            at: "keyspaces",
            tag: "operation",
            flattened: true,
            kinds: vec![
                ("read-through", fields_of::<RawReadThrough>()),
                ("session", fields_of::<RawNoFields>()),
                ("rate-limit", fields_of::<RawRateLimit>()),
                ("lock", fields_of::<RawLock>()),
                ("idempotency", fields_of::<RawIdempotency>()),
            ],
        },
    ]
}

/// The field names of struct `T` as its derived `Deserialize` expects them: a deserializer
/// that answers only `deserialize_struct`, where serde hands over the list.
pub fn fields_of<T: serde::de::DeserializeOwned>() -> &'static [&'static str] {
    use serde::de::{Deserializer, Visitor};
    use std::fmt;

    #[derive(Debug)]
    struct Fields(&'static [&'static str]);
    impl fmt::Display for Fields {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "fields {:?}", self.0)
        }
    }
    impl std::error::Error for Fields {}
    impl serde::de::Error for Fields {
        fn custom<M: fmt::Display>(_: M) -> Fields {
            Fields(&[])
        }
    }
    struct Probe;
    impl<'de> Deserializer<'de> for Probe {
        type Error = Fields;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Fields> {
            Err(Fields(&[]))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Fields> {
            Err(Fields(fields))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
            ignored_any
        }
    }
    match T::deserialize(Probe) {
        Err(Fields(fields)) => fields,
        Ok(_) => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kinds each tagged table lists are exactly those serde accepts, in the same order.
    #[test]
    fn tagged_tables_list_the_kinds_serde_accepts() {
        fn serde_kinds<T: serde::de::DeserializeOwned + std::fmt::Debug>(tag: &str) -> String {
            let err = toml::from_str::<T>(&format!("{tag} = \"?\"")).unwrap_err();
            err.message().to_string()
        }
        for t in tagged_tables() {
            let message = match t.at {
                "strategy" => serde_kinds::<RawStrategy>(t.tag),
                "faults" => serde_kinds::<RawFault>(t.tag),
                "popularity" => serde_kinds::<RawPopularity>(t.tag),
                "keyspaces" => serde_kinds::<RawOperation>(t.tag),
                other => panic!("no check for {other}"),
            };
            let listed: Vec<String> = t.kinds.iter().map(|(k, _)| format!("`{k}`")).collect();
            let want = match listed.len() {
                2 => format!("expected {} or {}", listed[0], listed[1]),
                _ => format!("expected one of {}", listed.join(", ")),
            };
            assert!(message.contains(&want), "{}: {message} vs {want}", t.at);
        }
    }

    #[test]
    fn fields_are_read_from_the_derived_impl() {
        assert_eq!(fields_of::<RawZipf>(), &["alpha"]);
        assert_eq!(fields_of::<RawNoFields>(), &[] as &[&str]);
        assert!(fields_of::<RawXFetch>().contains(&"beta"));
        assert!(fields_of::<RawXFetch>().contains(&"coalesce"));
        assert!(!fields_of::<RawFailover>().contains(&"end_ms"));
    }
}
