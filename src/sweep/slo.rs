//! The scenario's SLOs as numbers, for the capacity search: the same objectives and the same
//! figures as `report::verdict` (hit ratio, p99, origin peak, critical evictions before TTL,
//! busiest-shard utilization, errors + OOM rejections per request, the projected fill against
//! the fill horizon), restricted to a scope (the keyspaces, origins and clusters a cluster's
//! shape can affect), with a signed margin per objective, plus one guard the verdict does not
//! have: writes of critical keyspaces rejected with OOM (a `noeviction` cluster that is too
//! small rejects instead of evicting). Pure.

use crate::metrics::summary::{hit_ratio, measured_s, origin_peaks_per_s, quantile_ms};
use crate::metrics::PlanResult;
use crate::scenario::{Criticality, Scenario};

/// What a plan's SLO check looks at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scope {
    /// Keyspace indices.
    pub keyspaces: Vec<usize>,
    /// Origin indices.
    pub origins: Vec<usize>,
    /// Cluster indices (for utilization).
    pub clusters: Vec<usize>,
}

impl Scope {
    /// Everything of plan `plan`.
    pub fn plan(scn: &Scenario, plan: usize) -> Scope {
        let clusters = used_clusters(scn, plan);
        Scope {
            keyspaces: (0..scn.keyspaces.len()).collect(),
            origins: (0..scn.origins.len()).collect(),
            clusters,
        }
    }

    /// What cluster `cluster` affects in plan `plan`: the keyspaces placed on it, the origins
    /// they load from, its shards.
    pub fn cluster(scn: &Scenario, plan: usize, cluster: usize) -> Scope {
        let keyspaces: Vec<usize> = (0..scn.keyspaces.len())
            .filter(|&k| scn.plans[plan].cluster_of_keyspace[k] == cluster)
            .collect();
        let mut origins: Vec<usize> = keyspaces
            .iter()
            .filter_map(|&k| scn.keyspaces[k].origin)
            .collect();
        origins.sort_unstable();
        origins.dedup();
        Scope {
            keyspaces,
            origins,
            clusters: vec![cluster],
        }
    }
}

/// Clusters a plan uses, in scenario order.
pub fn used_clusters(scn: &Scenario, plan: usize) -> Vec<usize> {
    crate::cost::used_clusters(scn, plan)
}

/// Whether the objective is a minimum or a maximum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// measured ≥ target.
    AtLeast,
    /// measured ≤ target.
    AtMost,
}

/// One objective measured on one or more runs.
#[derive(Clone, Debug, PartialEq)]
pub struct Measure {
    /// "hit ratio", "p99 latency (ms)", "origin peak (loads/s)", "critical evictions before TTL",
    /// "critical OOM rejections", "shard utilization".
    pub metric: &'static str,
    /// Keyspace, origin, cluster or "critical keyspaces".
    pub subject: String,
    /// The objective.
    pub target: f64,
    /// Minimum or maximum.
    pub direction: Direction,
    /// The measured value (the worst over the runs); `None` when no run has a figure.
    pub measured: Option<f64>,
}

impl Measure {
    /// Met (no figure counts as met: nothing to break).
    pub fn pass(&self) -> bool {
        match (self.measured, self.direction) {
            (None, _) => true,
            (Some(v), Direction::AtLeast) => v >= self.target,
            (Some(v), Direction::AtMost) => v <= self.target,
        }
    }

    /// Headroom: positive when met (measured − target for a minimum, target − measured for a
    /// maximum); 0 without a figure.
    pub fn margin(&self) -> f64 {
        match (self.measured, self.direction) {
            (None, _) => 0.0,
            (Some(v), Direction::AtLeast) => v - self.target,
            (Some(v), Direction::AtMost) => self.target - v,
        }
    }

    /// `metric subject` for messages.
    pub fn key(&self) -> String {
        format!("{} {}", self.metric, self.subject)
    }
}

/// Whether the scenario has any objective.
pub fn has_objectives(scn: &Scenario) -> bool {
    let s = &scn.slo;
    s.hit_ratio_min.iter().any(Option::is_some)
        || s.latency_p99_ms_max.iter().any(Option::is_some)
        || s.origin_peak_per_s_max.iter().any(Option::is_some)
        || s.critical_evictions_max.is_some()
        || s.shard_utilization_max.is_some()
}

fn worst(direction: Direction, values: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    values.flatten().reduce(|a, b| match direction {
        Direction::AtLeast => a.min(b),
        Direction::AtMost => a.max(b),
    })
}

/// Every objective in `scope`, measured on each of `results` (the same plan over several
/// seeds) and reduced to the worst value.
pub fn measure(scn: &Scenario, results: &[PlanResult], scope: &Scope) -> Vec<Measure> {
    let slo = &scn.slo;
    let measured = measured_s(scn);
    let mut out = Vec::new();
    for &ki in &scope.keyspaces {
        if let Some(t) = slo.hit_ratio_min.get(ki).copied().flatten() {
            out.push(Measure {
                metric: "hit ratio",
                subject: scn.keyspaces[ki].name.clone(),
                target: t,
                direction: Direction::AtLeast,
                measured: worst(
                    Direction::AtLeast,
                    results.iter().map(|r| hit_ratio(scn, r, ki)),
                ),
            });
        }
    }
    for &ki in &scope.keyspaces {
        if let Some(t) = slo.latency_p99_ms_max.get(ki).copied().flatten() {
            out.push(Measure {
                metric: "p99 latency (ms)",
                subject: scn.keyspaces[ki].name.clone(),
                target: t,
                direction: Direction::AtMost,
                measured: worst(
                    Direction::AtMost,
                    results
                        .iter()
                        .map(|r| quantile_ms(&r.keyspaces[ki].latency_us, 0.99)),
                ),
            });
        }
    }
    for &oi in &scope.origins {
        if let Some(t) = slo.origin_peak_per_s_max.get(oi).copied().flatten() {
            out.push(Measure {
                metric: "origin peak (loads/s)",
                subject: scn.origins[oi].name.clone(),
                target: t,
                direction: Direction::AtMost,
                measured: worst(
                    Direction::AtMost,
                    results
                        .iter()
                        .map(|r| (measured > 0.0).then(|| origin_peaks_per_s(scn, r)[oi])),
                ),
            });
        }
    }
    let critical: Vec<usize> = scope
        .keyspaces
        .iter()
        .copied()
        .filter(|&k| scn.keyspaces[k].criticality == Criticality::Critical)
        .collect();
    if let Some(t) = slo.critical_evictions_max {
        out.push(Measure {
            metric: "critical evictions before TTL",
            subject: "critical keyspaces".into(),
            target: t as f64,
            direction: Direction::AtMost,
            measured: worst(
                Direction::AtMost,
                results.iter().map(|r| {
                    Some(
                        critical
                            .iter()
                            .map(|&k| r.keyspace_evictions_before_ttl[k])
                            .sum::<u64>() as f64,
                    )
                }),
            ),
        });
        out.push(Measure {
            metric: "critical OOM rejections",
            subject: "critical keyspaces".into(),
            target: 0.0,
            direction: Direction::AtMost,
            measured: worst(
                Direction::AtMost,
                results.iter().map(|r| {
                    Some(
                        critical
                            .iter()
                            .map(|&k| r.keyspaces[k].oom_errors)
                            .sum::<u64>() as f64,
                    )
                }),
            ),
        });
    }
    for &ki in &scope.keyspaces {
        if let Some(t) = slo.error_ratio_max.get(ki).copied().flatten() {
            out.push(Measure {
                metric: "errors + OOM rejections / requests",
                subject: scn.keyspaces[ki].name.clone(),
                target: t,
                direction: Direction::AtMost,
                measured: worst(
                    Direction::AtMost,
                    results
                        .iter()
                        .map(|r| crate::metrics::summary::error_ratio(&r.keyspaces[ki])),
                ),
            });
        }
    }
    // The projected fill of shards whose fill is harmful (OOM, critical keys evicted): the
    // earliest, in seconds, against the fill horizon (a shard that never fills has no figure).
    out.push(Measure {
        metric: "projected fill (s)",
        subject: "OOM-prone or critical shards".into(),
        target: slo.fill_horizon.as_secs_f64(),
        direction: Direction::AtLeast,
        measured: worst(
            Direction::AtLeast,
            results.iter().map(|r| {
                r.shards
                    .iter()
                    .filter(|s| scope.clusters.contains(&s.cluster))
                    .filter(|s| crate::metrics::summary::fill_is_harmful(scn, r, s.cluster))
                    .filter_map(|s| s.fills_at.map(|t| t.as_secs_f64()))
                    .reduce(f64::min)
            }),
        ),
    });
    if let Some(t) = slo.shard_utilization_max {
        for &ci in &scope.clusters {
            out.push(Measure {
                metric: "shard utilization",
                subject: scn.clusters[ci].name.clone(),
                target: t,
                direction: Direction::AtMost,
                measured: worst(
                    Direction::AtMost,
                    results.iter().map(|r| {
                        (measured > 0.0)
                            .then(|| {
                                r.shards
                                    .iter()
                                    .filter(|s| s.cluster == ci)
                                    .map(|s| s.busy_ns as f64 / 1e9 / measured)
                                    .reduce(f64::max)
                            })
                            .flatten()
                    }),
                ),
            });
        }
    }
    out
}
