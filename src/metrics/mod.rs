//! Recording only: counters, HdrHistogram latency distributions and time windows for one
//! simulated plan. Knows nothing of how figures are written (that is `report`).

use crate::engine::SimTime;
use hdrhistogram::Histogram;

/// A latency histogram in microseconds (3 significant digits, 1 µs .. 1 hour).
pub fn new_latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds")
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
    /// Requests refused by a rate limit (counter above the window's limit) — not modelled as
    /// refusals yet; counts INCR results above 1 (repeat hits of a window).
    pub rate_limit_increments: u64,
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
            redis_timeouts: 0,
            lock_acquired: 0,
            lock_contended: 0,
            retries: 0,
            retries_reexecuted: 0,
            rate_limit_increments: 0,
            l1_hits: 0,
            stale_serves: 0,
            coalesced: 0,
            lock_waits: 0,
            lock_wait_timeouts: 0,
            fallbacks: 0,
            background_loads: 0,
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

/// One time window's figures (whole run, warm-up included).
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
    /// Per origin: loads started in this window.
    pub origin_loads: Vec<u64>,
    /// Per shard (plan's global order): used memory at the window's end.
    pub shard_used_memory: Vec<u64>,
    /// Per shard: commands in this window.
    pub shard_commands: Vec<u64>,
    /// Per shard: busy ns in this window.
    pub shard_busy_ns: Vec<u64>,
}

/// Everything one plan's simulation produced.
#[derive(Clone, Debug)]
pub struct PlanResult {
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
}
