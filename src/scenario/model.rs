//! The resolved scenario: what the core simulates. Built only by `scenario::resolve`; every
//! default is applied and every cross-reference is an index, so the core re-checks nothing.

use super::dist::Dist;
use crate::engine::SimTime;
use crate::redis::shard::RedisConfig;
use crate::redis::slots::SlotMap;

/// A validated scenario.
/// What the clusters hold at simulated time zero (`[simulation] start`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// Empty clusters: the run shows the cache warming up.
    Cold,
    /// Every cluster holds the keys a long run would leave resident (the stationary state of
    /// each keyspace's traffic, TTL and operation), built through the Redis model before time 0.
    SteadyState,
}

#[derive(Clone, Debug)]
pub struct Scenario {
    /// Scenario name (names the output folder).
    pub name: String,
    /// Free text.
    pub description: String,
    /// The seed from the file, if it gave one (the CLI picks one otherwise).
    pub seed: Option<u64>,
    /// Simulated time to run.
    pub duration: SimTime,
    /// Figures before this time are not counted in totals.
    pub warmup: SimTime,
    /// Width of a time-series window.
    pub window: SimTime,
    /// Unix ms at simulated time zero (Redis's LRU/LFU clocks read it).
    pub start_unix_ms: u64,
    /// What the clusters hold at simulated time zero.
    pub start: Start,
    /// Application instances (each with its own in-process state).
    pub app_instances: u32,
    /// Tenants.
    pub tenants: Vec<Tenant>,
    /// Databases and services behind the cache.
    pub origins: Vec<Origin>,
    /// Redis clusters.
    pub clusters: Vec<Cluster>,
    /// Keyspaces.
    pub keyspaces: Vec<Keyspace>,
    /// Placement plans.
    pub plans: Vec<Plan>,
    /// Timeline events.
    pub events: Vec<Event>,
    /// Service-level objectives.
    pub slo: Slo,
    /// Faults on the timeline, in file order.
    pub faults: Vec<Fault>,
    /// The node types clusters may be declared by (built-in, the scenario's catalogue files,
    /// its `[[instances]]`), for `cacheplan size` to search.
    pub instance_catalogue: Vec<crate::scenario::instances::Instance>,
}

/// A tenant.
#[derive(Clone, Debug)]
pub struct Tenant {
    /// Name as used in keys.
    pub name: String,
    /// Share of every keyspace's traffic (the shares sum to 1).
    pub traffic_share: f64,
    /// Multiplier of every keyspace's `keys_per_tenant`.
    pub size: f64,
}

/// An origin: a database or service with a connection pool.
#[derive(Clone, Debug)]
pub struct Origin {
    /// Name.
    pub name: String,
    /// Requests served at once (connection pool size).
    pub concurrency: u32,
    /// Service time in ms.
    pub service_time_ms: Dist,
    /// Requests that may wait for a connection; more are rejected.
    pub queue_limit: u32,
    /// A request waiting longer than this fails (timeout).
    pub timeout: SimTime,
}

/// A Redis cluster (or one standalone server when `shards = 1`).
#[derive(Clone, Debug)]
pub struct Cluster {
    /// Name.
    pub name: String,
    /// Number of master shards.
    pub shards: u32,
    /// Settings shared by every shard (`maxmemory_bytes` is per shard).
    pub redis: RedisConfig,
    /// Slot assignment.
    pub slot_map: SlotMap,
    /// Main-thread service time per command, µs.
    pub service_time_us: Dist,
    /// Client-to-shard network round trip, µs.
    pub network_rtt_us: Dist,
    /// Cost of one shard (currency units per month), for capacity search.
    pub cost_per_shard: f64,
    /// Cost per GB of maxmemory.
    pub cost_per_gb: f64,
    /// Replicas behind each master shard (`replicas_per_shard`, default 0): a failover
    /// promotes one; keyspaces with `read_from = "replica"` read from them.
    pub replicas_per_shard: u32,
    /// How far a replica's data trails its master's, ms (`replication_lag_ms`): drawn per
    /// replica read, and once per failover that gives no lag of its own.
    pub replication_lag_ms: Dist,
    /// Network baseline of one node, bytes per second (from the instance), when known.
    pub network_baseline_bytes_per_s: Option<u64>,
    /// The node type, when the cluster is declared by `instance`, and how its maxmemory was
    /// derived; `None` for a cluster given by `maxmemory_bytes` (priced by `cost_per_shard`
    /// and `cost_per_gb`).
    pub instance: Option<ClusterInstance>,
}

/// A cluster's node type and the maxmemory derived from it.
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterInstance {
    /// The catalogue entry.
    pub instance: crate::scenario::instances::Instance,
    /// maxmemory per shard, term by term.
    pub derived: crate::scenario::instances::DerivedMaxmemory,
}

/// What a keyspace's requests do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    /// GET; on a miss load from the origin and SET with the TTL (catalog, summaries, previews).
    ReadThrough,
    /// GET; a hit refreshes the TTL (PEXPIRE); a miss loads from the origin and SETs.
    Session,
    /// INCR + PEXPIRE per window per actor (fixed-window rate limit).
    RateLimit,
    /// SET NX PX to acquire; on success hold, then compare-and-delete.
    Lock,
    /// GET the fast-path key; on a miss run the command at the origin and SET the result.
    Idempotency,
}

impl Operation {
    /// The scenario spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::ReadThrough => "read-through",
            Operation::Session => "session",
            Operation::RateLimit => "rate-limit",
            Operation::Lock => "lock",
            Operation::Idempotency => "idempotency",
        }
    }
}

/// How much losing a keyspace's keys hurts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Criticality {
    /// Pure acceleration.
    Low,
    /// Load protection.
    Medium,
    /// User-visible when lost.
    High,
    /// Protects a business invariant (idempotency, sessions).
    Critical,
}

impl Criticality {
    /// The scenario spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Criticality::Low => "low",
            Criticality::Medium => "medium",
            Criticality::High => "high",
            Criticality::Critical => "critical",
        }
    }
}

/// Key popularity within a tenant's keys.
#[derive(Clone, Debug, PartialEq)]
pub enum Popularity {
    /// Zipf with this exponent (0 = uniform).
    Zipf(f64),
    /// Every key equally likely.
    Uniform,
    /// A fraction of keys gets a fraction of requests, uniform within each set.
    HotSet {
        /// Fraction of keys that are hot.
        hot_keys_fraction: f64,
        /// Fraction of requests going to them.
        hot_requests_fraction: f64,
    },
}

/// TTL jitter added on each SET.
#[derive(Clone, Debug, PartialEq)]
pub enum Jitter {
    /// None.
    None,
    /// Uniform in ±pct % of the TTL.
    UniformPct(f64),
    /// Uniform in [0, max] added.
    UpTo(SimTime),
}

/// How a reader refills a missing or stale value.
#[derive(Clone, Debug, PartialEq)]
pub enum StrategyKind {
    /// GET; on a miss load from the origin and SET (cache-aside).
    CacheAside,
    /// On a miss take a Redis lock (`SET lock NX PX`); the holder loads and SETs, the others
    /// poll with GET every `poll` until `max_wait`, then load from the origin themselves.
    SingleFlight {
        /// Lock TTL (PX).
        lock_ttl: SimTime,
        /// Wait between polls.
        poll: SimTime,
        /// Longest wait before falling back to the origin.
        max_wait: SimTime,
    },
    /// The value carries a soft expiry: past it, the stale value is served and one background
    /// refresh (guarded by a Redis lock) reloads it; the Redis TTL is the hard expiry.
    StaleWhileRevalidate {
        /// Soft TTL (shorter than the keyspace's TTL, the hard one).
        soft_ttl: SimTime,
        /// Lock TTL of the background refresh.
        lock_ttl: SimTime,
    },
    /// Probabilistic early recomputation (XFetch, Vattani et al., VLDB 2015): on a hit,
    /// recompute when `now - delta * beta * ln(rand) >= expiry`.
    XFetch {
        /// beta > 0 (1 = the paper's default).
        beta: f64,
    },
    /// Refresh-ahead (Caffeine's refreshAfterWrite): a hit finding less than `fraction` of the
    /// TTL left refreshes the value in the background, behind a Redis lock.
    RefreshAhead {
        /// Fraction of the TTL left below which a hit refreshes (0 < f < 1).
        fraction: f64,
        /// Lock TTL of the background refresh.
        lock_ttl: SimTime,
    },
    /// Leases (memcache's): the first miss takes `SET lease NX PX lease_ttl`; the others
    /// poll until `max_wait` or are served a stale copy; only the holder writes back, and only
    /// while it holds the lease (an invalidation deletes it).
    Lease {
        /// The lease's TTL (PX).
        lease_ttl: SimTime,
        /// Wait between polls.
        poll: SimTime,
        /// Longest wait before loading without the lease (and without writing back).
        max_wait: SimTime,
        /// Wait for the holder, or serve a stale copy.
        stale: LeaseStale,
    },
}

/// What a reader that finds a lease taken does (`stale = "wait" | "serve"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeaseStale {
    /// Wait for the holder's value (poll with GET).
    Wait,
    /// Keep a stale copy `stale_ttl` past the value's TTL and serve it while one reader
    /// reloads.
    Serve {
        /// How long past its TTL a copy is kept (and may be served).
        stale_ttl: SimTime,
    },
}

/// A local in-process cache (L1) per application instance.
#[derive(Clone, Debug, PartialEq)]
pub struct LocalCache {
    /// Keys held per instance (LRU beyond that).
    pub capacity_keys: u64,
    /// TTL of a local copy.
    pub ttl: SimTime,
}

/// Negative caching: a fraction of lookups find nothing at the origin, cached with a short TTL.
#[derive(Clone, Debug, PartialEq)]
pub struct NegativeCache {
    /// Fraction of keys that do not exist at the origin.
    pub fraction: f64,
    /// TTL of a cached "not found".
    pub ttl: SimTime,
}

/// A client-side circuit breaker in front of Redis (per instance and cluster).
#[derive(Clone, Debug, PartialEq)]
pub struct Breaker {
    /// Consecutive failures (timeouts, errors) that open it.
    pub failures: u32,
    /// How long it stays open before a half-open probe.
    pub open_for: SimTime,
}

/// A client strategy (what a reader does around the cache), chosen per keyspace.
#[derive(Clone, Debug, PartialEq)]
pub struct Strategy {
    /// Refill behaviour.
    pub kind: StrategyKind,
    /// In-process coalescing: concurrent misses of one key in one instance share one load.
    pub coalesce: bool,
    /// Local L1 cache.
    pub local_cache: Option<LocalCache>,
    /// Negative caching.
    pub negative: Option<NegativeCache>,
    /// Circuit breaker.
    pub breaker: Option<Breaker>,
}

impl Strategy {
    /// Plain cache-aside with nothing else.
    pub fn cache_aside() -> Strategy {
        Strategy {
            kind: StrategyKind::CacheAside,
            coalesce: false,
            local_cache: None,
            negative: None,
            breaker: None,
        }
    }

    /// The scenario spelling of the kind.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            StrategyKind::CacheAside => "cache-aside",
            StrategyKind::SingleFlight { .. } => "single-flight",
            StrategyKind::StaleWhileRevalidate { .. } => "stale-while-revalidate",
            StrategyKind::XFetch { .. } => "xfetch",
            StrategyKind::RefreshAhead { .. } => "refresh-ahead",
            StrategyKind::Lease { .. } => "lease",
        }
    }
}

/// A traffic burst.
#[derive(Clone, Debug, PartialEq)]
pub struct Burst {
    /// Start.
    pub start: SimTime,
    /// End (exclusive).
    pub end: SimTime,
    /// Rate multiplier while it lasts.
    pub multiplier: f64,
}

/// A keyspace: one kind of key with its traffic.
#[derive(Clone, Debug)]
pub struct Keyspace {
    /// Name.
    pub name: String,
    /// Key template, e.g. `catalog:{tenant}:publication:{version}:offering:{id}`.
    pub key_template: String,
    /// Whether the template names the tenant.
    pub key_has_tenant: bool,
    /// Whether the template carries a version dimension.
    pub key_has_version: bool,
    /// Typical rendered key length in bytes (for memory).
    pub key_len_bytes: u32,
    /// What requests do.
    pub operation: Operation,
    /// Criticality.
    pub criticality: Criticality,
    /// Mean requests per second at profile multiplier 1.
    pub rate_per_s: f64,
    /// Distinct keys per tenant of size 1.
    pub keys_per_tenant: u64,
    /// Popularity of keys.
    pub popularity: Popularity,
    /// Value size in bytes.
    pub value_size_bytes: Dist,
    /// TTL set on write (0 = none).
    pub ttl: SimTime,
    /// Jitter on the TTL.
    pub jitter: Jitter,
    /// Origin index (read-through, session, idempotency).
    pub origin: Option<usize>,
    /// `read_from = "replica"` (read-through only): the user GETs go to a replica of the
    /// key's shard when its cluster has replicas, and see the master's data as of
    /// now − `replication_lag_ms`.
    pub read_from_replica: bool,
    /// Strategy.
    pub strategy: Strategy,
    /// 24 hourly rate multipliers, indexed by the UTC hour of `start_unix_ms` + simulated time.
    pub hourly_profile: Vec<f64>,
    /// Bursts.
    pub bursts: Vec<Burst>,
    /// Rate-limit window.
    pub window: SimTime,
    /// Rate-limit algorithm (rate-limit keyspaces).
    pub rate_limit_algorithm: RateLimitAlgorithm,
    /// Requests an actor may make per window; more are refused (None: no limit is checked).
    pub rate_limit_per_window: Option<u32>,
    /// Lock hold time in ms.
    pub hold_ms: Dist,
    /// Probability a request is retried (idempotency).
    pub retry_probability: f64,
    /// Delay before a retry.
    pub retry_delay: SimTime,
    /// Client timeout on a Redis call.
    pub client_timeout: SimTime,
    /// What the client does when Redis fails, and which guards protect the business invariants.
    pub fallback: Fallback,
}

/// Rate limiting when Redis is unavailable (timeout, refused connection, open breaker).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateLimitWhenDown {
    /// Let the request through (internal, low-risk routes).
    Open,
    /// Refuse the request (public, abusable routes).
    Closed,
}

/// A lock keyspace when Redis is unavailable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockWhenDown {
    /// Proceed without the lock: the work runs unguarded by Redis.
    Skip,
    /// Give up: the work is not done (as if the lock were held by someone else).
    GiveUp,
}

/// Where a keyspace's value lives for good.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceOfTruth {
    /// The origin (database, service): a miss reloads the value.
    Origin,
    /// Redis only: a miss of a key written before means the record is lost.
    Redis,
}

/// Fallback policies and business-invariant guards of a keyspace (the document's sections 10,
/// 11, 22 and 27.3).
#[derive(Clone, Debug, PartialEq)]
pub struct Fallback {
    /// Loads an application instance may have in flight to the origin because Redis failed
    /// (a bulkhead per instance); beyond it the request fails fast. `u32::MAX` = no guard.
    pub origin_max_in_flight: u32,
    /// Rate limiting when Redis is unavailable.
    pub rate_limit: RateLimitWhenDown,
    /// Locking when Redis is unavailable.
    pub lock: LockWhenDown,
    /// Lock release is compare-and-delete with the holder's token (else a plain DEL).
    pub lock_owner_token: bool,
    /// The work a lock guards is also guarded by a database constraint (unique key, version).
    pub db_constraint: bool,
    /// A pause (GC, slow I/O) added to a lock holder's work, ms.
    pub pause_ms: Option<Dist>,
    /// Critical commands are also recorded in a database idempotency table.
    pub db_idempotency: bool,
    /// Retries of a failed Redis call before the fallback applies.
    pub redis_retries: u32,
    /// Delay before each such retry, ms.
    pub redis_retry_delay_ms: Dist,
    /// Where the value lives for good.
    pub source_of_truth: SourceOfTruth,
    /// Share of reads whose value is used as a final price (accept, approve).
    pub final_use_fraction: f64,
    /// A final use reloads the value from the origin instead of trusting the cache.
    pub revalidate_before_final: bool,
}

impl Default for Fallback {
    fn default() -> Fallback {
        Fallback {
            origin_max_in_flight: u32::MAX,
            rate_limit: RateLimitWhenDown::Open,
            lock: LockWhenDown::Skip,
            lock_owner_token: super::defaults::LOCK_OWNER_TOKEN,
            db_constraint: super::defaults::DB_CONSTRAINT,
            pause_ms: None,
            db_idempotency: super::defaults::DB_IDEMPOTENCY,
            redis_retries: super::defaults::REDIS_RETRIES,
            redis_retry_delay_ms: Dist::Fixed(super::defaults::REDIS_RETRY_DELAY_MS),
            source_of_truth: SourceOfTruth::Origin,
            final_use_fraction: super::defaults::FINAL_USE_FRACTION,
            revalidate_before_final: super::defaults::REVALIDATE_BEFORE_FINAL,
        }
    }
}

/// How a client sees a shard that is down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DownMode {
    /// Connection refused: the call fails at once (one round trip).
    Refused,
    /// No answer: the client waits `client_timeout_ms`.
    Timeout,
}

impl DownMode {
    /// The scenario spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            DownMode::Refused => "refused",
            DownMode::Timeout => "timeout",
        }
    }
}

/// What a fault does.
#[derive(Clone, Debug, PartialEq)]
pub enum FaultKind {
    /// The shards are unreachable in the interval; their data survives.
    ShardDown {
        /// How the client sees it.
        mode: DownMode,
    },
    /// Service time multiplied in the interval.
    ShardSlow {
        /// Service-time multiplier.
        multiplier: f64,
    },
    /// Network round trip multiplied in the interval (for `instances` only, when given).
    LatencySpike {
        /// Round-trip multiplier.
        multiplier: f64,
    },
    /// The master of `shard` fails at `start` and a replica is promoted: the writes of the
    /// last replication lag are lost (their keys revert to the state the replica had); its
    /// slots are unavailable until `end` (node timeout + election delay, drawn per run).
    Failover {
        /// How clients see the failed master until the replica is promoted.
        mode: DownMode,
        /// Writes this long before the failure never reached the replica (None: drawn once
        /// per run from the cluster's `replication_lag_ms`).
        replication_lag: Option<SimTime>,
        /// `cluster-node-timeout`.
        node_timeout: SimTime,
        /// The promoted replica's rank (adds rank x 1 s to the election delay).
        replica_rank: u32,
    },
    /// Every shard of the cluster restarts without persistence: empty at `start`, refusing
    /// connections until `end`.
    ClusterRestart,
    /// Traffic of `keyspaces` multiplied in the interval (an eviction-pressure burst).
    TrafficBurst {
        /// Rate multiplier.
        multiplier: f64,
        /// Keyspace indices.
        keyspaces: Vec<usize>,
    },
    /// Pub/sub subscribers of `instances` disconnected: invalidation messages published in
    /// the interval are lost for them.
    SubscriberDisconnect,
}

impl FaultKind {
    /// The scenario spelling.
    pub fn as_str(&self) -> &'static str {
        match self {
            FaultKind::ShardDown { .. } => "shard-down",
            FaultKind::ShardSlow { .. } => "shard-slow",
            FaultKind::LatencySpike { .. } => "latency-spike",
            FaultKind::Failover { .. } => "failover",
            FaultKind::ClusterRestart => "cluster-restart",
            FaultKind::TrafficBurst { .. } => "traffic-burst",
            FaultKind::SubscriberDisconnect => "subscriber-disconnect",
        }
    }
}

/// A fault on the timeline.
#[derive(Clone, Debug, PartialEq)]
pub struct Fault {
    /// Label (report, CSV).
    pub name: String,
    /// What happens.
    pub kind: FaultKind,
    /// Cluster index (shard faults, failover, restart).
    pub cluster: Option<usize>,
    /// Shard index within the cluster; `None` = every shard.
    pub shard: Option<u32>,
    /// Application instances affected (latency spike, subscriber disconnect); empty = all.
    pub instances: Vec<u32>,
    /// Start.
    pub start: SimTime,
    /// End of the interval. For a failover, the latest the slots can come back (node timeout
    /// + 1 s + rank x 1 s); the run draws the actual time.
    pub end: SimTime,
    /// Violations in [start, end + attribution) are attributed to the fault.
    pub attribution: SimTime,
}

/// A plan: where each keyspace lives.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Cluster index per keyspace index.
    pub cluster_of_keyspace: Vec<usize>,
}

/// What a timeline event does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventAction {
    /// Versioned keys: every reader moves to a new version (new, cold keys); the old keys stay
    /// until they expire or are evicted.
    NewVersion,
    /// Delete-on-event: every resident key of the keyspaces is deleted (one DEL each, charged
    /// to the shards' main threads); readers refill the same keys. The invalidation is also
    /// published over pub/sub: connected instances drop their local (L1) copies.
    Delete,
    /// The source changes and nothing invalidates the cache (TTL-only): readers get the old
    /// value until it expires.
    Change,
}

impl EventAction {
    /// The scenario spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            EventAction::NewVersion => "new-version",
            EventAction::Delete => "delete",
            EventAction::Change => "change",
        }
    }
}

/// A timeline event.
#[derive(Clone, Debug)]
pub struct Event {
    /// When.
    pub at: SimTime,
    /// Label (charts, report).
    pub name: String,
    /// What it does.
    pub action: EventAction,
    /// Keyspace indices affected.
    pub keyspaces: Vec<usize>,
}

/// Service-level objectives (empty maps: no objective).
#[derive(Clone, Debug, Default)]
pub struct Slo {
    /// Minimum hit ratio per keyspace index.
    pub hit_ratio_min: Vec<Option<f64>>,
    /// Maximum p99 latency (ms) per keyspace index.
    pub latency_p99_ms_max: Vec<Option<f64>>,
    /// Maximum origin load peak (requests/s in a window) per origin index.
    pub origin_peak_per_s_max: Vec<Option<f64>>,
    /// Maximum evictions of critical keys before their TTL.
    pub critical_evictions_max: Option<u64>,
    /// Maximum shard utilization (0..1).
    pub shard_utilization_max: Option<f64>,
    /// Maximum (errors + OOM rejections) / requests per keyspace index; 0 by default for
    /// keyspaces of criticality `critical` and `high`.
    pub error_ratio_max: Vec<Option<f64>>,
    /// A shard whose memory projection fills it (OOM, or evicting critical keys) within this
    /// horizon fails the plan (default 24 h).
    pub fill_horizon: SimTime,
}

/// How a rate-limit keyspace counts, and what it costs Redis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateLimitAlgorithm {
    /// `INCR` + `PEXPIRE` on a counter per actor and window.
    FixedWindow,
    /// A sorted set per actor (MULTI: ZREMRANGEBYSCORE, ZADD, ZCARD, PEXPIRE, EXEC).
    SlidingWindow,
    /// A two-field hash per actor updated by a script (tokens, last refill time).
    TokenBucket,
}

impl RateLimitAlgorithm {
    /// The scenario spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RateLimitAlgorithm::FixedWindow => "fixed-window",
            RateLimitAlgorithm::SlidingWindow => "sliding-window",
            RateLimitAlgorithm::TokenBucket => "token-bucket",
        }
    }
}
