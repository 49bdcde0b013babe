//! The figures derived from a plan's recordings, computed in one place: hit ratios (and which
//! keyspaces have one), latency quantiles in milliseconds, origin peaks per second, shard
//! throughput and utilization over the measured time. `run`'s console table, the report's
//! tables, charts, verdicts and review, and the sweep's cells and SLO checks all read them from
//! here, so a rule (what counts as a hit ratio, where the warm-up ends) is written once.
//!
//! Pure: reads a resolved [`Scenario`] and a [`PlanResult`], formats and writes nothing.

use super::PlanResult;
use crate::scenario::{Keyspace, Operation, Scenario};
use hdrhistogram::Histogram;

/// Whether a keyspace's requests have a hit ratio (rate limits and locks read no value).
pub fn has_hit_ratio(k: &Keyspace) -> bool {
    !matches!(k.operation, Operation::RateLimit | Operation::Lock)
}

/// `hits / requests`; `None` without requests. The one division behind every hit ratio.
pub fn ratio(hits: u64, requests: u64) -> Option<f64> {
    (requests > 0).then(|| hits as f64 / requests as f64)
}

/// The hit ratio of keyspace `k` from its `hits` and `requests` (over a run, a window or pooled
/// seeds); `None` for a keyspace without a hit ratio or without requests.
pub fn keyspace_hit_ratio(k: &Keyspace, hits: u64, requests: u64) -> Option<f64> {
    if has_hit_ratio(k) {
        ratio(hits, requests)
    } else {
        None
    }
}

/// Redis hits / requests of keyspace `ki` in `res` after the warm-up; `None` without
/// requests or hit ratio.
pub fn hit_ratio(scn: &Scenario, res: &PlanResult, ki: usize) -> Option<f64> {
    let m = res.keyspaces.get(ki)?;
    keyspace_hit_ratio(&scn.keyspaces[ki], m.redis_hits, m.requests)
}

/// Latency at quantile `q` of a µs histogram, in ms; `None` for an empty histogram.
pub fn quantile_ms(h: &Histogram<u64>, q: f64) -> Option<f64> {
    (!h.is_empty()).then(|| h.value_at_quantile(q) as f64 / 1000.0)
}

/// Seconds measured: the run after the warm-up.
pub fn measured_s(scn: &Scenario) -> f64 {
    scn.duration.saturating_sub(scn.warmup).as_secs_f64()
}

/// Length in seconds of window `wi` of `res` (the last one ends at the scenario's end).
pub fn window_len_s(scn: &Scenario, res: &PlanResult, wi: usize) -> f64 {
    let start = res.windows[wi].start;
    let end = res
        .windows
        .get(wi + 1)
        .map(|n| n.start)
        .unwrap_or(scn.duration);
    end.saturating_sub(start).as_secs_f64()
}

/// Peak loads per second over the windows after the warm-up, per origin (scenario order).
pub fn origin_peaks_per_s(scn: &Scenario, res: &PlanResult) -> Vec<f64> {
    let mut peaks = vec![0.0f64; scn.origins.len()];
    for (wi, w) in res.windows.iter().enumerate() {
        let len = window_len_s(scn, res, wi);
        if w.start < scn.warmup || len <= 0.0 {
            continue;
        }
        for (oi, &l) in w.origin_loads.iter().enumerate() {
            peaks[oi] = peaks[oi].max(l as f64 / len);
        }
    }
    peaks
}

/// One keyspace of a plan, after the warm-up: its counts and the figures derived from them.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyspaceSummary {
    /// User requests.
    pub requests: u64,
    /// Requests answered from Redis.
    pub redis_hits: u64,
    /// Redis hits / requests; `None` for rate limits, locks and keyspaces without requests.
    pub hit_ratio: Option<f64>,
    /// Requests that missed in Redis.
    pub misses: u64,
    /// Loads sent to the origin.
    pub origin_loads: u64,
    /// Failed requests.
    pub errors: u64,
    /// Writes rejected with OOM.
    pub oom_errors: u64,
    /// Redis calls slower than the client timeout.
    pub redis_timeouts: u64,
    /// Evictions.
    pub evicted_keys: u64,
    /// Evictions of keys whose TTL had not passed.
    pub evicted_before_ttl_keys: u64,
    /// Expirations.
    pub expired_keys: u64,
    /// End-to-end latency p50, ms.
    pub latency_ms_p50: Option<f64>,
    /// End-to-end latency p99, ms.
    pub latency_ms_p99: Option<f64>,
    /// Redis-only latency p99, ms.
    pub redis_latency_ms_p99: Option<f64>,
}

/// One shard of a plan over the measured time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ShardSummary {
    /// Commands per second.
    pub ops_per_s: f64,
    /// Share of the measured time the main thread was busy.
    pub utilization: f64,
}

/// The summary of one plan's run.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanSummary {
    /// Per keyspace, scenario order.
    pub keyspaces: Vec<KeyspaceSummary>,
    /// Peak loads/s per origin, scenario order.
    pub origin_peaks_per_s: Vec<f64>,
    /// Origin connection-wait p99 (ms) per origin, scenario order.
    pub origin_queue_wait_ms_p99: Vec<Option<f64>>,
    /// Per shard, the plan's order.
    pub shards: Vec<ShardSummary>,
}

impl PlanSummary {
    /// Summarises `res`, a run of `scn`.
    pub fn of(scn: &Scenario, res: &PlanResult) -> PlanSummary {
        let keyspaces = scn
            .keyspaces
            .iter()
            .zip(&res.keyspaces)
            .enumerate()
            .map(|(ki, (k, m))| KeyspaceSummary {
                requests: m.requests,
                redis_hits: m.redis_hits,
                hit_ratio: keyspace_hit_ratio(k, m.redis_hits, m.requests),
                misses: m.misses,
                origin_loads: m.origin_loads,
                errors: m.errors,
                oom_errors: m.oom_errors,
                redis_timeouts: m.redis_timeouts,
                evicted_keys: res.keyspace_evictions[ki],
                evicted_before_ttl_keys: res.keyspace_evictions_before_ttl[ki],
                expired_keys: res.keyspace_expirations[ki],
                latency_ms_p50: quantile_ms(&m.latency_us, 0.5),
                latency_ms_p99: quantile_ms(&m.latency_us, 0.99),
                redis_latency_ms_p99: quantile_ms(&m.redis_latency_us, 0.99),
            })
            .collect();
        let measured = measured_s(scn);
        PlanSummary {
            keyspaces,
            origin_peaks_per_s: origin_peaks_per_s(scn, res),
            origin_queue_wait_ms_p99: res
                .origins
                .iter()
                .map(|o| quantile_ms(&o.queue_wait_us, 0.99))
                .collect(),
            shards: res
                .shards
                .iter()
                .map(|s| ShardSummary {
                    ops_per_s: s.commands as f64 / measured,
                    utilization: s.busy_ns as f64 / 1e9 / measured,
                })
                .collect(),
        }
    }
}

/// What a full cluster does under its policy, for a shard whose projection exceeds maxmemory.
pub fn when_full(scn: &Scenario, res: &PlanResult, cluster: usize) -> &'static str {
    scn.clusters[cluster]
        .redis
        .maxmemory_policy
        .when_full(holds_critical(scn, res, cluster))
}

/// Whether a fill of `cluster` hurts in this plan (see `MaxmemoryPolicy::fill_is_harmful`).
pub fn fill_is_harmful(scn: &Scenario, res: &PlanResult, cluster: usize) -> bool {
    scn.clusters[cluster]
        .redis
        .maxmemory_policy
        .fill_is_harmful(holds_critical(scn, res, cluster))
}

fn holds_critical(scn: &Scenario, res: &PlanResult, cluster: usize) -> bool {
    scn.plans[res.plan]
        .cluster_of_keyspace
        .iter()
        .zip(&scn.keyspaces)
        .any(|(&c, k)| c == cluster && k.criticality == crate::scenario::Criticality::Critical)
}

/// (Failed requests + writes rejected with OOM) per request, a request failed by an OOM
/// counted once; None without requests.
pub fn error_ratio(m: &super::KeyspaceMetrics) -> Option<f64> {
    (m.requests > 0).then(|| (m.errors + m.oom_errors - m.oom_failed) as f64 / m.requests as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::SimTime;
    use crate::metrics::{new_latency_histogram, Window};

    #[test]
    fn ratio_is_hits_over_requests_and_absent_without_requests() {
        assert_eq!(ratio(3, 4), Some(0.75));
        assert_eq!(ratio(0, 0), None);
    }

    #[test]
    fn quantiles_are_milliseconds_and_absent_when_empty() {
        let mut h = new_latency_histogram();
        assert_eq!(quantile_ms(&h, 0.99), None);
        h.record(2_000).unwrap();
        assert_eq!(quantile_ms(&h, 0.5), Some(2.0));
    }

    #[test]
    fn origin_peaks_skip_the_warm_up_and_divide_by_each_window() {
        let scn = crate::scenario::parse(
            crate::scenario::DEFAULT_SCENARIO_TOML,
            crate::scenario::DEFAULT_SCENARIO_NAME,
        )
        .unwrap();
        let window = |start_s: u64, loads: u64| Window {
            start: SimTime::from_secs(start_s),
            origin_loads: vec![loads; scn.origins.len()],
            ..Window::default()
        };
        let warm_s = scn.warmup.as_secs_f64() as u64;
        let end_s = scn.duration.as_secs_f64() as u64;
        assert!(warm_s >= 1 && end_s > warm_s + 2);
        // A huge load inside the warm-up is ignored; the last window runs to the end.
        let res = PlanResult {
            windows: vec![
                window(0, 1_000_000),
                window(warm_s, 10),
                window(end_s - 2, 30),
            ],
            warm_start_refused: Vec::new(),
            plan: 0,
            keyspaces: Vec::new(),
            keyspace_evictions: Vec::new(),
            keyspace_evictions_before_ttl: Vec::new(),
            keyspace_expirations: Vec::new(),
            shards: Vec::new(),
            origins: Vec::new(),
            events: 0,
            requests_total: 0,
            invariants: Default::default(),
            faults: Vec::new(),
            tenants: Default::default(),
        };
        let peaks = origin_peaks_per_s(&scn, &res);
        let first_len = (end_s - 2 - warm_s) as f64;
        let expected = (10.0 / first_len).max(15.0);
        assert!(peaks.iter().all(|&p| p == expected), "{peaks:?}");
    }
}
