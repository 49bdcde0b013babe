//! CSV tables of a run (schema version `CSV_SCHEMA_VERSION`, documented column by column in `output/README.md`):
//! dedicated row types, so simulation types never derive `Serialize`. Absent figures are empty
//! cells, never made-up zeros.

use super::csv_table::to_csv;
use crate::engine::SimTime;
use crate::metrics::summary::{keyspace_hit_ratio, PlanSummary};
use crate::metrics::{Invariant, PlanResult, N_INVARIANTS};
use crate::scenario::Scenario;
use serde::{Deserialize, Serialize};

/// Version of the CSV schemas below; bump on any column change.
pub const CSV_SCHEMA_VERSION: u32 = 6;

/// Quantiles reported for latency.
pub const QUANTILES: [(f64, &str); 5] = [
    (0.5, "p50"),
    (0.9, "p90"),
    (0.99, "p99"),
    (0.999, "p99.9"),
    (1.0, "max"),
];

/// One row of `summary.csv`: one plan x keyspace, totals after the warm-up.
#[derive(Serialize, Deserialize)]
pub struct SummaryRow<'a> {
    pub plan: &'a str,
    pub keyspace: &'a str,
    pub cluster: &'a str,
    pub operation: &'a str,
    pub criticality: &'a str,
    pub requests: u64,
    pub redis_hits: u64,
    pub hit_ratio: Option<f64>,
    pub misses: u64,
    pub origin_loads: u64,
    pub errors: u64,
    pub oom_errors: u64,
    pub redis_timeouts: u64,
    pub evicted_keys: u64,
    pub evicted_before_ttl_keys: u64,
    pub expired_keys: u64,
    pub latency_ms_p50: Option<f64>,
    pub latency_ms_p99: Option<f64>,
    pub redis_latency_ms_p99: Option<f64>,
    pub lock_acquired: u64,
    pub lock_contended: u64,
    pub retries: u64,
    pub retries_reexecuted: u64,
    pub rate_limited: u64,
    pub l1_hits: u64,
    pub stale_serves: u64,
    pub coalesced: u64,
    pub lock_waits: u64,
    pub lock_wait_timeouts: u64,
    pub fallbacks: u64,
    pub background_loads: u64,
    pub stampede_episodes: u64,
    pub stampede_size_mean: Option<f64>,
    pub stampede_size_max: Option<u64>,
    pub steady_state: &'static str,
    pub steady_state_reason: String,
    pub plan_nodes: u32,
    pub plan_monthly_cost: f64,
    pub currency: &'a str,
}

/// One row of `latency_quantiles.csv`.
#[derive(Serialize, Deserialize)]
pub struct LatencyRow<'a> {
    pub plan: &'a str,
    pub keyspace: &'a str,
    pub kind: &'a str,
    pub quantile: &'a str,
    pub latency_ms: f64,
}

/// One row of `shards.csv`.
#[derive(Serialize, Deserialize)]
pub struct ShardRow<'a> {
    pub plan: &'a str,
    pub cluster: &'a str,
    pub shard: usize,
    pub commands: u64,
    pub ops_per_s: f64,
    pub utilization: f64,
    pub maxmemory_bytes: u64,
    pub used_memory_peak_bytes: u64,
    pub used_memory_end_bytes: u64,
    pub keys_end: u64,
    pub evicted_keys: u64,
    pub expired_keys: u64,
    pub oom_errors: u64,
    pub max_queue_len: u64,
    pub steady_state: &'static str,
    pub steady_state_reason: String,
    pub steady_state_used_memory_bytes: u64,
    pub fills_at_s: Option<f64>,
    pub when_full: &'static str,
    pub instance: &'a str,
    pub nodes: u32,
    pub monthly_cost: f64,
    pub currency: &'a str,
    pub bytes_in_per_s_mean: f64,
    pub bytes_in_per_s_peak: f64,
    pub bytes_out_per_s_mean: f64,
    pub bytes_out_per_s_peak: f64,
    pub network_baseline_bytes_per_s: Option<u64>,
    pub network_utilization_peak: Option<f64>,
    pub connections: u64,
    pub maxclients: u32,
}

/// One row of `origins.csv`.
#[derive(Serialize, Deserialize)]
pub struct OriginRow<'a> {
    pub plan: &'a str,
    pub origin: &'a str,
    pub loads: u64,
    pub loads_per_s_peak: f64,
    pub rejected: u64,
    pub timed_out: u64,
    pub peak_concurrency: u32,
    pub peak_queue: u64,
    pub queue_wait_ms_p99: Option<f64>,
    pub saturated_since_s: Option<f64>,
}

/// One row of `timeseries.csv` (tidy: one value per row).
#[derive(Serialize, Deserialize)]
pub struct SeriesRow<'a> {
    pub plan: &'a str,
    pub window_start_s: f64,
    pub window_s: f64,
    pub entity_kind: &'a str,
    pub entity: &'a str,
    pub metric: &'a str,
    pub value: f64,
}

/// One row of `invariants.csv`: one plan x scope (the run, or a fault's window) x keyspace x
/// monitored invariant.
#[derive(Serialize, Deserialize)]
pub struct InvariantRow<'a> {
    pub plan: &'a str,
    pub scope: &'a str,
    pub fault: &'a str,
    pub scope_start_s: f64,
    pub scope_end_s: f64,
    pub keyspace: &'a str,
    pub invariant: &'a str,
    pub violations: u64,
    pub prevented: Option<u64>,
    pub first_violation_s: Option<f64>,
    pub last_violation_s: Option<f64>,
    pub max_staleness_ms: Option<f64>,
    pub in_flight_reads: Option<u64>,
    pub below_threshold_reads: Option<u64>,
}

/// Whether an invariant has a guard whose stops are counted (`prevented`).
pub fn has_guard(inv: Invariant) -> bool {
    matches!(inv, Invariant::DuplicateExecution | Invariant::LockOverlap)
}

/// The scopes of a plan's invariant tallies: (scope, fault name, start, end), scope 0 the
/// run after the warm-up, then one per fault (its window ends `attribution` after the fault's
/// end in this plan).
pub fn invariant_scopes<'a>(
    scn: &'a Scenario,
    res: &PlanResult,
) -> Vec<(&'static str, &'a str, SimTime, SimTime)> {
    let mut out = vec![("run", "", scn.warmup, scn.duration)];
    for (fi, f) in scn.faults.iter().enumerate() {
        let end = res.faults.get(fi).map(|o| o.end).unwrap_or(f.end);
        out.push((
            "fault",
            f.name.as_str(),
            f.start,
            (end + f.attribution).min(scn.duration),
        ));
    }
    out
}

/// `invariants.csv`.
pub fn invariants_csv(scn: &Scenario, results: &[PlanResult]) -> Vec<u8> {
    let mut rows = Vec::new();
    for res in results {
        let plan = &scn.plans[res.plan];
        for (si, (scope, fault, from, to)) in invariant_scopes(scn, res).into_iter().enumerate() {
            for (ki, k) in scn.keyspaces.iter().enumerate() {
                for inv in Invariant::ALL {
                    let i = inv.index();
                    let monitored = res.invariants.monitored.get(ki).is_some_and(|m| m[i]);
                    // Critical evictions are counted by the shards, not timed: run scope only.
                    if !monitored || (si > 0 && inv == Invariant::CriticalEvictedBeforeTtl) {
                        continue;
                    }
                    let t = res.invariants.tallies[si][ki][i];
                    rows.push(InvariantRow {
                        plan: &plan.name,
                        scope,
                        fault,
                        scope_start_s: from.as_secs_f64(),
                        scope_end_s: to.as_secs_f64(),
                        keyspace: &k.name,
                        invariant: inv.as_str(),
                        violations: t.violations,
                        prevented: has_guard(inv).then_some(t.prevented),
                        first_violation_s: t.first.map(|x| x.as_secs_f64()),
                        last_violation_s: t.last.map(|x| x.as_secs_f64()),
                        max_staleness_ms: (inv.has_staleness() && t.violations > 0)
                            .then(|| t.max_staleness.as_ns() as f64 / 1e6),
                        in_flight_reads: inv.has_staleness().then_some(t.in_flight),
                        below_threshold_reads: inv.has_staleness().then_some(t.below_threshold),
                    });
                }
            }
        }
    }
    to_csv(&rows)
}

/// Shard labels of a plan's result, in its order: (cluster name, shard index, maxmemory).
fn shard_labels<'a>(scn: &'a Scenario, res: &PlanResult) -> Vec<(&'a str, usize, u64)> {
    res.shards
        .iter()
        .map(|s| {
            let c = &scn.clusters[s.cluster];
            (c.name.as_str(), s.shard, c.redis.maxmemory_bytes)
        })
        .collect()
}

/// `summary.csv`.
pub fn summary_csv(scn: &Scenario, results: &[PlanResult]) -> Vec<u8> {
    let mut rows = Vec::new();
    for res in results {
        let plan = &scn.plans[res.plan];
        let horizon = super::horizon::judge(scn, res);
        let summary = PlanSummary::of(scn, res);
        let cost = crate::cost::plan_cost(scn, res.plan);
        for (ki, k) in scn.keyspaces.iter().enumerate() {
            let m = &res.keyspaces[ki];
            let s = &summary.keyspaces[ki];
            let steady = &horizon.keyspaces[ki];
            rows.push(SummaryRow {
                plan: &plan.name,
                keyspace: &k.name,
                cluster: &scn.clusters[plan.cluster_of_keyspace[ki]].name,
                operation: k.operation.as_str(),
                criticality: k.criticality.as_str(),
                requests: s.requests,
                redis_hits: s.redis_hits,
                hit_ratio: s.hit_ratio,
                misses: s.misses,
                origin_loads: s.origin_loads,
                errors: s.errors,
                oom_errors: s.oom_errors,
                redis_timeouts: s.redis_timeouts,
                evicted_keys: s.evicted_keys,
                evicted_before_ttl_keys: s.evicted_before_ttl_keys,
                expired_keys: s.expired_keys,
                latency_ms_p50: s.latency_ms_p50,
                latency_ms_p99: s.latency_ms_p99,
                redis_latency_ms_p99: s.redis_latency_ms_p99,
                lock_acquired: m.lock_acquired,
                lock_contended: m.lock_contended,
                retries: m.retries,
                retries_reexecuted: m.retries_reexecuted,
                rate_limited: m.rate_limited,
                l1_hits: m.l1_hits,
                stale_serves: m.stale_serves,
                coalesced: m.coalesced,
                lock_waits: m.lock_waits,
                lock_wait_timeouts: m.lock_wait_timeouts,
                fallbacks: m.fallbacks,
                background_loads: m.background_loads,
                stampede_episodes: m.stampede_size.len(),
                stampede_size_mean: (!m.stampede_size.is_empty()).then(|| m.stampede_size.mean()),
                stampede_size_max: (!m.stampede_size.is_empty()).then(|| m.stampede_size.max()),
                steady_state: steady.yes_no(),
                steady_state_reason: steady.reason_text(),
                plan_nodes: cost.nodes,
                plan_monthly_cost: cost.monthly_cost,
                currency: crate::cost::currency(scn),
            });
        }
    }
    to_csv(&rows)
}

/// `latency_quantiles.csv`.
pub fn latency_csv(scn: &Scenario, results: &[PlanResult]) -> Vec<u8> {
    let mut rows = Vec::new();
    for res in results {
        let plan = &scn.plans[res.plan];
        for (ki, k) in scn.keyspaces.iter().enumerate() {
            let m = &res.keyspaces[ki];
            for (kind, h) in [
                ("end_to_end", &m.latency_us),
                ("redis", &m.redis_latency_us),
            ] {
                if h.is_empty() {
                    continue;
                }
                for (q, label) in QUANTILES {
                    rows.push(LatencyRow {
                        plan: &plan.name,
                        keyspace: &k.name,
                        kind,
                        quantile: label,
                        latency_ms: h.value_at_quantile(q) as f64 / 1000.0,
                    });
                }
            }
        }
    }
    to_csv(&rows)
}

/// `shards.csv`.
pub fn shards_csv(scn: &Scenario, results: &[PlanResult]) -> Vec<u8> {
    let mut rows = Vec::new();
    for res in results {
        let plan = &scn.plans[res.plan];
        let horizon = super::horizon::judge(scn, res);
        let summary = PlanSummary::of(scn, res);
        let networks = crate::metrics::network::shard_network(scn, res);
        for (si, (s, (cluster, shard, maxmemory))) in
            res.shards.iter().zip(shard_labels(scn, res)).enumerate()
        {
            let steady = &horizon.shards[si];
            rows.push(ShardRow {
                plan: &plan.name,
                cluster,
                shard,
                commands: s.commands,
                ops_per_s: summary.shards[si].ops_per_s,
                utilization: summary.shards[si].utilization,
                maxmemory_bytes: maxmemory,
                used_memory_peak_bytes: s.used_memory_peak_bytes,
                used_memory_end_bytes: s.used_memory_end_bytes,
                keys_end: s.keys_end,
                evicted_keys: s.evicted_keys,
                expired_keys: s.expired_keys,
                oom_errors: s.oom_errors,
                max_queue_len: s.max_queue_len,
                steady_state: steady.yes_no(),
                steady_state_reason: steady.reason_text(),
                steady_state_used_memory_bytes: s.projected_used_memory_bytes,
                fills_at_s: s.fills_at.map(|t| t.as_secs_f64()),
                when_full: if s.fills_at.is_some() {
                    crate::metrics::summary::when_full(scn, res, s.cluster)
                } else {
                    ""
                },
                instance: scn.clusters[s.cluster]
                    .instance
                    .as_ref()
                    .map_or("", |i| i.instance.name.as_str()),
                nodes: 1 + scn.clusters[s.cluster].replicas_per_shard,
                monthly_cost: crate::cost::shard_monthly_cost(&scn.clusters[s.cluster]),
                currency: crate::cost::currency(scn),
                bytes_in_per_s_mean: networks[si].bytes_in_per_s_mean,
                bytes_in_per_s_peak: networks[si].bytes_in_per_s_peak,
                bytes_out_per_s_mean: networks[si].bytes_out_per_s_mean,
                bytes_out_per_s_peak: networks[si].bytes_out_per_s_peak,
                network_baseline_bytes_per_s: networks[si].baseline_bytes_per_s,
                network_utilization_peak: networks[si].utilization_peak,
                connections: networks[si].connections,
                maxclients: networks[si].maxclients,
            });
        }
    }
    to_csv(&rows)
}

/// `origins.csv`.
pub fn origins_csv(scn: &Scenario, results: &[PlanResult]) -> Vec<u8> {
    let mut rows = Vec::new();
    for res in results {
        let plan = &scn.plans[res.plan];
        let summary = PlanSummary::of(scn, res);
        for (oi, o) in scn.origins.iter().enumerate() {
            let m = &res.origins[oi];
            rows.push(OriginRow {
                plan: &plan.name,
                origin: &o.name,
                loads: m.loads,
                loads_per_s_peak: summary.origin_peaks_per_s[oi],
                rejected: m.rejected,
                timed_out: m.timed_out,
                peak_concurrency: m.peak_concurrency,
                peak_queue: m.peak_queue,
                queue_wait_ms_p99: summary.origin_queue_wait_ms_p99[oi],
                saturated_since_s: m.saturated_since.map(|t| t.as_secs_f64()),
            });
        }
    }
    to_csv(&rows)
}

/// `timeseries.csv`.
pub fn timeseries_csv(scn: &Scenario, results: &[PlanResult]) -> Vec<u8> {
    let all_labels: Vec<Vec<String>> = results
        .iter()
        .map(|res| {
            shard_labels(scn, res)
                .iter()
                .map(|(c, s, _)| format!("{c}/{s}"))
                .collect()
        })
        .collect();
    // Invariant series are named `<keyspace>/<invariant>`, indexed `ks * N_INVARIANTS + inv`.
    let inv_labels: Vec<String> = scn
        .keyspaces
        .iter()
        .flat_map(|k| {
            Invariant::ALL
                .iter()
                .map(move |inv| format!("{}/{}", k.name, inv.as_str()))
        })
        .collect();
    let mut rows = Vec::new();
    for (res, labels) in results.iter().zip(&all_labels) {
        let plan = &scn.plans[res.plan];
        for (wi, w) in res.windows.iter().enumerate() {
            let end = res
                .windows
                .get(wi + 1)
                .map(|n| n.start)
                .unwrap_or(scn.duration);
            let len = (end - w.start).as_secs_f64().max(1e-9);
            let t = w.start.as_secs_f64();
            for (ki, k) in scn.keyspaces.iter().enumerate() {
                let req = w.keyspace_requests[ki];
                let mut push = |metric: &'static str, value: f64| {
                    rows.push(SeriesRow {
                        plan: &plan.name,
                        window_start_s: t,
                        window_s: len,
                        entity_kind: "keyspace",
                        entity: &k.name,
                        metric,
                        value,
                    })
                };
                push("requests_per_s", req as f64 / len);
                if let Some(hit_ratio) = keyspace_hit_ratio(k, w.keyspace_hits[ki], req) {
                    push("hit_ratio", hit_ratio);
                }
                if req > 0 {
                    push("latency_ms_p99", w.keyspace_p99_us[ki] as f64 / 1000.0);
                }
                push("evictions", w.keyspace_evictions[ki] as f64);
            }
            for (oi, o) in scn.origins.iter().enumerate() {
                rows.push(SeriesRow {
                    plan: &plan.name,
                    window_start_s: t,
                    window_s: len,
                    entity_kind: "origin",
                    entity: &o.name,
                    metric: "loads_per_s",
                    value: w.origin_loads[oi] as f64 / len,
                });
                rows.push(SeriesRow {
                    plan: &plan.name,
                    window_start_s: t,
                    window_s: len,
                    entity_kind: "origin",
                    entity: &o.name,
                    metric: "concurrency_peak",
                    value: w.origin_peak_concurrency[oi] as f64,
                });
                if w.origin_loads[oi] > 0 {
                    rows.push(SeriesRow {
                        plan: &plan.name,
                        window_start_s: t,
                        window_s: len,
                        entity_kind: "origin",
                        entity: &o.name,
                        metric: "latency_ms_p99",
                        value: w.origin_latency_p99_us[oi] as f64 / 1000.0,
                    });
                }
            }
            for (si, label) in labels.iter().enumerate() {
                for (metric, value) in [
                    ("used_memory_bytes", w.shard_used_memory[si] as f64),
                    ("ops_per_s", w.shard_commands[si] as f64 / len),
                    ("utilization", w.shard_busy_ns[si] as f64 / 1e9 / len),
                ] {
                    rows.push(SeriesRow {
                        plan: &plan.name,
                        window_start_s: t,
                        window_s: len,
                        entity_kind: "shard",
                        entity: label,
                        metric,
                        value,
                    });
                }
            }
            for ki in 0..scn.keyspaces.len() {
                for inv in Invariant::ALL {
                    let i = inv.index();
                    let monitored = res.invariants.monitored.get(ki).is_some_and(|m| m[i]);
                    if !monitored || inv == Invariant::CriticalEvictedBeforeTtl {
                        continue;
                    }
                    let at = ki * N_INVARIANTS + i;
                    let n = w.invariant_violations.get(at).copied().unwrap_or(0);
                    let mut push = |metric: &'static str, value: f64| {
                        rows.push(SeriesRow {
                            plan: &plan.name,
                            window_start_s: t,
                            window_s: len,
                            entity_kind: "invariant",
                            entity: &inv_labels[at],
                            metric,
                            value,
                        })
                    };
                    push("violations", n as f64);
                    if inv.has_staleness() && n > 0 {
                        let st = w.invariant_max_staleness_ns.get(at).copied().unwrap_or(0);
                        push("max_staleness_ms", st as f64 / 1e6);
                    }
                }
            }
        }
    }
    to_csv(&rows)
}
