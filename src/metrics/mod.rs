//! Recording only: counters, HdrHistogram latency distributions and time windows for one
//! simulated plan. Knows nothing of how figures are written (that is `report`).

use crate::engine::SimTime;
use hdrhistogram::Histogram;

pub mod hotkeys;
pub mod network;
pub mod recorder;
pub mod series;
pub mod summary;
pub mod tenants;
pub use recorder::LatencyRecorder;
pub use series::LatencySketch;

/// The highest latency histograms track: one hour in µs.
pub const LATENCY_HIGHEST_US: u64 = 3_600_000_000;
/// Significant digits of the latency histograms.
pub const LATENCY_SIGFIG: u8 = 3;

/// A latency histogram in microseconds (3 significant digits, 1 µs .. 1 hour).
pub fn new_latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, LATENCY_HIGHEST_US, LATENCY_SIGFIG)
        .expect("valid histogram bounds")
}

/// Figures of one keyspace in one plan (totals after the warm-up).
#[derive(Clone, Debug)]
pub struct KeyspaceMetrics {
    /// User requests started.
    pub requests: u64,
    /// Requests answered from Redis.
    pub redis_hits: u64,
    /// Requests that missed in Redis.
    pub misses: u64,
    /// Loads sent to the origin.
    pub origin_loads: u64,
    /// Requests that failed (origin rejected or timed out, OOM on a write the user waits for).
    pub errors: u64,
    /// Writes rejected with OOM.
    pub oom_errors: u64,
    /// Of `errors`, requests that failed because their command was rejected with OOM (also
    /// in `oom_errors`).
    pub oom_failed: u64,
    /// Redis calls slower than the client timeout (treated as misses).
    pub redis_timeouts: u64,
    /// Lock acquisitions (lock keyspaces).
    pub lock_acquired: u64,
    /// Lock attempts that found the lock held.
    pub lock_contended: u64,
    /// Retries of critical commands (idempotency keyspaces).
    pub retries: u64,
    /// Retries that found no fast-path key and ran the command again at the origin.
    pub retries_reexecuted: u64,
    /// Rate-limit requests over `rate_limit_per_window` (refused).
    pub rate_limited: u64,
    /// Requests answered from the instance's local L1 cache.
    pub l1_hits: u64,
    /// Requests answered with a stale value (stale-while-revalidate).
    pub stale_serves: u64,
    /// Requests that waited for another request's load in the same instance (coalescing).
    pub coalesced: u64,
    /// Single-flight: requests that found the lock held and polled.
    pub lock_waits: u64,
    /// Single-flight: waiters that gave up after the maximum wait and loaded themselves.
    pub lock_wait_timeouts: u64,
    /// Requests that went to the origin without asking Redis (open circuit breaker) or after a
    /// Redis timeout.
    pub fallbacks: u64,
    /// Background recomputations (stale-while-revalidate refreshes, XFetch early recomputes).
    pub background_loads: u64,
    /// Redis calls retried after a failure (`fallback.redis_retries`).
    pub redis_retries: u64,
    /// Requests failed fast because the instance's fallback loads were at
    /// `fallback.origin_max_in_flight`.
    pub fallback_rejected: u64,
    /// Rate-limited requests refused because Redis was unavailable (fail closed).
    pub rate_limit_rejected: u64,
    /// Lock work that ran without the lock because Redis was unavailable.
    pub lock_skipped: u64,
    /// Lock releases that deleted another holder's lock (plain DEL after the TTL passed).
    pub foreign_lock_deletes: u64,
    /// Final uses revalidated at the origin instead of trusting the cache.
    pub final_revalidations: u64,
    /// Recomputations per expiry of a key (stampede size), one sample per episode.
    pub stampede_size: Histogram<u64>,
    /// End-to-end latency, µs.
    pub latency_us: Histogram<u64>,
    /// Redis-only latency (round trip + queue + service), µs.
    pub redis_latency_us: Histogram<u64>,
}

impl Default for KeyspaceMetrics {
    fn default() -> KeyspaceMetrics {
        KeyspaceMetrics {
            requests: 0,
            redis_hits: 0,
            misses: 0,
            origin_loads: 0,
            errors: 0,
            oom_errors: 0,
            oom_failed: 0,
            redis_timeouts: 0,
            lock_acquired: 0,
            lock_contended: 0,
            retries: 0,
            retries_reexecuted: 0,
            rate_limited: 0,
            l1_hits: 0,
            stale_serves: 0,
            coalesced: 0,
            lock_waits: 0,
            lock_wait_timeouts: 0,
            fallbacks: 0,
            background_loads: 0,
            redis_retries: 0,
            fallback_rejected: 0,
            rate_limit_rejected: 0,
            lock_skipped: 0,
            foreign_lock_deletes: 0,
            final_revalidations: 0,
            stampede_size: Histogram::new(3).expect("valid histogram"),
            latency_us: new_latency_histogram(),
            redis_latency_us: new_latency_histogram(),
        }
    }
}

/// Figures of one shard in one plan.
#[derive(Clone, Debug, Default)]
pub struct ShardMetrics {
    /// Cluster index.
    pub cluster: usize,
    /// Shard index within the cluster.
    pub shard: usize,
    /// Commands after the warm-up.
    pub commands: u64,
    /// Main-thread busy time after the warm-up (ns).
    pub busy_ns: u64,
    /// Peak `used_memory` seen at a window boundary.
    pub used_memory_peak_bytes: u64,
    /// `used_memory` at the end.
    pub used_memory_end_bytes: u64,
    /// Keys at the end.
    pub keys_end: u64,
    /// Keys evicted after the warm-up.
    pub evicted_keys: u64,
    /// Keys expired after the warm-up.
    pub expired_keys: u64,
    /// OOM rejections after the warm-up.
    pub oom_errors: u64,
    /// Longest queue (commands waiting or in service) seen by an arriving command.
    pub max_queue_len: u64,
    /// The closed-form steady-state used_memory without maxmemory (`sim::projection`).
    pub projected_used_memory_bytes: u64,
    /// When the projection exceeds maxmemory: when a cold start fills the shard (0 on a
    /// warm start); None when it never fills.
    pub fills_at: Option<SimTime>,
    /// Request bytes received after the warm-up (RESP, see `sim::wire`).
    pub bytes_in: u64,
    /// Reply bytes sent after the warm-up.
    pub bytes_out: u64,
    /// Hot keys (after the warm-up) and the largest keys (at the end).
    pub hot: hotkeys::ShardHotKeys,
}

/// Figures of one origin in one plan.
#[derive(Clone, Debug)]
pub struct OriginMetrics {
    /// Loads started after the warm-up.
    pub loads: u64,
    /// Loads rejected because the wait queue was full.
    pub rejected: u64,
    /// Loads that waited longer than the timeout.
    pub timed_out: u64,
    /// Peak concurrency in use.
    pub peak_concurrency: u32,
    /// Longest wait queue.
    pub peak_queue: u64,
    /// Time the queue first filled up (saturation), if it did.
    pub saturated_since: Option<SimTime>,
    /// Wait for a connection, µs.
    pub queue_wait_us: Histogram<u64>,
}

impl Default for OriginMetrics {
    fn default() -> OriginMetrics {
        OriginMetrics {
            loads: 0,
            rejected: 0,
            timed_out: 0,
            peak_concurrency: 0,
            peak_queue: 0,
            saturated_since: None,
            queue_wait_us: new_latency_histogram(),
        }
    }
}

/// One time window's figures (whole run, warm-up included). Windows are `window_ms` wide
/// until a plan has recorded `series::MAX_WINDOWS` of them; then pairs merge and the width
/// doubles (`series`), so a window's width is the distance to the next one's start.
#[derive(Clone, Debug, Default)]
pub struct Window {
    /// Window start.
    pub start: SimTime,
    /// Per keyspace: requests, Redis hits, misses.
    pub keyspace_requests: Vec<u64>,
    /// Per keyspace: Redis hits.
    pub keyspace_hits: Vec<u64>,
    /// Per keyspace: evictions in this window.
    pub keyspace_evictions: Vec<u64>,
    /// Per keyspace: p99 end-to-end latency in this window (µs), 0 when no request.
    pub keyspace_p99_us: Vec<u64>,
    /// Per keyspace: this window's end-to-end latencies, mergeable (`series`).
    pub keyspace_latency_us: Vec<LatencySketch>,
    /// Per origin: loads started in this window.
    pub origin_loads: Vec<u64>,
    /// Per origin: most connections in use at once in this window.
    pub origin_peak_concurrency: Vec<u32>,
    /// Per origin: p99 latency (connection wait + service) of the loads started in this
    /// window, µs; 0 when none started.
    pub origin_latency_p99_us: Vec<u64>,
    /// Per origin: the latencies of the loads started in this window, mergeable (`series`).
    pub origin_latency_us: Vec<LatencySketch>,
    /// Per shard (plan's global order): used memory at the window's end.
    pub shard_used_memory: Vec<u64>,
    /// Per shard: commands in this window.
    pub shard_commands: Vec<u64>,
    /// Per shard: busy ns in this window.
    pub shard_busy_ns: Vec<u64>,
    /// Per shard: request bytes received in this window.
    pub shard_bytes_in: Vec<u64>,
    /// Per shard: reply bytes sent in this window.
    pub shard_bytes_out: Vec<u64>,
    /// Per keyspace x invariant (`ks * N_INVARIANTS + invariant`): violations in this window.
    pub invariant_violations: Vec<u64>,
    /// Same layout: largest staleness of a violation in this window, ns.
    pub invariant_max_staleness_ns: Vec<u64>,
}

/// Everything one plan's simulation produced.
#[derive(Clone, Debug)]
pub struct PlanResult {
    /// Per keyspace: keys of the steady-state set its cluster refused at the warm start (OOM:
    /// a `noeviction` or `volatile-*` cluster that cannot hold it); all zero for a cold start.
    pub warm_start_refused: Vec<u64>,
    /// Plan index in the scenario.
    pub plan: usize,
    /// Per keyspace.
    pub keyspaces: Vec<KeyspaceMetrics>,
    /// Per keyspace: evictions after the warm-up.
    pub keyspace_evictions: Vec<u64>,
    /// Per keyspace: evictions of keys whose TTL had not passed, after the warm-up.
    pub keyspace_evictions_before_ttl: Vec<u64>,
    /// Per keyspace: expirations after the warm-up.
    pub keyspace_expirations: Vec<u64>,
    /// Per shard, plan order (clusters used by the plan, in scenario order).
    pub shards: Vec<ShardMetrics>,
    /// Per origin.
    pub origins: Vec<OriginMetrics>,
    /// Time windows.
    pub windows: Vec<Window>,
    /// Events processed.
    pub events: u64,
    /// User requests simulated (warm-up included).
    pub requests_total: u64,
    /// The invariant monitors.
    pub invariants: InvariantResult,
    /// Per fault of the scenario, what it did in this plan.
    pub faults: Vec<FaultOutcome>,
    /// Figures per tenant.
    pub tenants: tenants::TenantResult,
}

/// A business invariant of the CPQ/OMS boundaries document that the simulation monitors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Invariant {
    /// A critical command (accept quote, create order) ran twice: its retry found no
    /// fast-path key (evicted, expired, lost in a failover, Redis down) and nothing else
    /// stopped it (section 10).
    DuplicateExecution,
    /// Two holders of one lock did their work at once (lock TTL shorter than the work, a
    /// release deleting another holder's lock, a lock lost in a failover, a skipped lock)
    /// with nothing else guarding the work (section 11).
    LockOverlap,
    /// A read served a value older than the source's last change (an invalidation lost while
    /// a subscriber was disconnected, no invalidation at all) until a TTL backstopped it
    /// (sections 8, 13, 22.2).
    StaleRead,
    /// A cached price preview was used as the final price after the price book changed, with
    /// no revalidation (section 4).
    StaleFinalPrice,
    /// A read returned a value written for another tenant (a key template without the
    /// tenant; section 16).
    CrossTenantRead,
    /// A record whose only copy was in Redis was gone (evicted, expired, lost in a failover
    /// or restart; anti-patterns 28.1 and 28.3).
    LostRecord,
    /// A critical key (idempotency, session) was evicted before its TTL (section 21).
    CriticalEvictedBeforeTtl,
}

/// Number of [`Invariant`]s.
pub const N_INVARIANTS: usize = 7;

impl Invariant {
    /// Every invariant, in report order.
    pub const ALL: [Invariant; N_INVARIANTS] = [
        Invariant::DuplicateExecution,
        Invariant::LockOverlap,
        Invariant::StaleRead,
        Invariant::StaleFinalPrice,
        Invariant::CrossTenantRead,
        Invariant::LostRecord,
        Invariant::CriticalEvictedBeforeTtl,
    ];

    /// The CSV spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Invariant::DuplicateExecution => "duplicate_execution",
            Invariant::LockOverlap => "lock_overlap",
            Invariant::StaleRead => "stale_read",
            Invariant::StaleFinalPrice => "stale_final_price",
            Invariant::CrossTenantRead => "cross_tenant_read",
            Invariant::LostRecord => "lost_record",
            Invariant::CriticalEvictedBeforeTtl => "critical_evicted_before_ttl",
        }
    }

    /// Index in [`Invariant::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// Whether the invariant has a staleness (time since the source changed).
    pub fn has_staleness(self) -> bool {
        matches!(self, Invariant::StaleRead | Invariant::StaleFinalPrice)
    }
}

/// Violations of one invariant of one keyspace in one scope (the run, or a fault's window).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Violations.
    pub violations: u64,
    /// Would-be violations a guard stopped (database idempotency record, database constraint).
    pub prevented: u64,
    /// Time of the first violation.
    pub first: Option<SimTime>,
    /// Time of the last violation.
    pub last: Option<SimTime>,
    /// Largest staleness of a stale read (time since the source changed).
    pub max_staleness: SimTime,
    /// Reads of an older value that are not violations (stale-read invariants only): the
    /// request started before the source changed and was served the value that was current
    /// when it started (a read in flight at the change).
    pub in_flight: u64,
    /// Reads of an older value that are not violations (stale-read invariants only): the
    /// request started after the change and was served less than [`STALENESS_THRESHOLD`]
    /// after it.
    pub below_threshold: u64,
}

/// Staleness below which a read of an older value is not a stale read: 1 ms. In the model a
/// source change reaches the cache at the instant of its timeline event; in production the
/// invalidation (a DEL after the commit, a published message, readers moving to a new
/// version) takes at least a network round trip, so a read less than 1 ms after the change
/// cannot be told apart from that race. `output/README.md` (`invariants.csv`) documents it.
pub const STALENESS_THRESHOLD: SimTime = SimTime(1_000_000);

impl Tally {
    /// Counts a violation at `at` with staleness `staleness`.
    pub fn violation(&mut self, at: SimTime, staleness: SimTime) {
        self.violations += 1;
        self.first.get_or_insert(at);
        self.last = Some(at);
        self.max_staleness = self.max_staleness.max(staleness);
    }
}

/// The invariant monitors' results of one plan.
#[derive(Clone, Debug, Default)]
pub struct InvariantResult {
    /// Per keyspace: which invariants are monitored (by operation, fallback and template).
    pub monitored: Vec<[bool; N_INVARIANTS]>,
    /// Per scope, per keyspace, per invariant. Scope 0 is the run after the warm-up; scope
    /// 1 + f is fault f's window [start, end + attribution), warm-up included.
    pub tallies: Vec<Vec<[Tally; N_INVARIANTS]>>,
}

/// What a fault did in one plan.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FaultOutcome {
    /// Whether the plan uses the fault's cluster (faults without a cluster always apply).
    pub applied: bool,
    /// Shards it hit.
    pub shards: u32,
    /// When it ended in this run (a failover's end is drawn).
    pub end: SimTime,
    /// Commands refused or timed out on its shards.
    pub commands_failed: u64,
    /// Writes lost in a failover (not yet replicated).
    pub writes_lost: u64,
    /// Keys dropped by a cluster restart.
    pub keys_flushed: u64,
    /// Pub/sub invalidation messages lost by disconnected instances.
    pub invalidations_lost: u64,
}
