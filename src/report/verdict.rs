//! The verdict of a run: every service-level objective of the scenario (`scn.slo`) checked
//! against every plan's result, with the measured value. Pure computation over a resolved
//! [`Scenario`] and its [`PlanResult`]s; it owns no formatting beyond the short measured-value
//! text and must not touch files (the HTML report renders these checks).

use super::run_charts::short_num;
use crate::metrics::summary::{hit_ratio, measured_s, origin_peaks_per_s, quantile_ms};
use crate::metrics::PlanResult;
use crate::scenario::{Criticality, Scenario};

/// Whether one plan meets one objective.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The measured value meets the objective.
    Pass,
    /// The measured value breaks the objective.
    Fail,
    /// The run has no figure for it (no requests, no measured time).
    NoData,
}

/// One plan's figure for one objective.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    /// Pass, fail or no data.
    pub outcome: Outcome,
    /// The measured value as printed, e.g. "0.911" or "13.22 ms" or "giant/1 4.1%".
    pub measured: String,
}

/// One objective checked against every plan.
#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    /// What is measured, e.g. "hit ratio", "p99 latency", "origin peak load".
    pub metric: String,
    /// What it is measured on: a keyspace, an origin, "critical keyspaces", "every shard".
    pub subject: String,
    /// The objective as printed, e.g. "≥ 0.9" or "≤ 50 ms".
    pub target: String,
    /// One cell per plan result, in result order.
    pub cells: Vec<Cell>,
}

/// Every objective of the scenario checked against every result, in a fixed order: hit
/// ratios and p99s by keyspace order, origin peaks by origin order, critical evictions, shard
/// utilization.
pub fn checks(scn: &Scenario, results: &[PlanResult]) -> Vec<Check> {
    let mut out = Vec::new();
    for (ki, k) in scn.keyspaces.iter().enumerate() {
        if let Some(min) = scn.slo.hit_ratio_min.get(ki).copied().flatten() {
            out.push(Check {
                metric: "hit ratio".into(),
                subject: k.name.clone(),
                target: format!("≥ {}", short_num(min)),
                cells: results
                    .iter()
                    .map(|res| match hit_ratio(scn, res, ki) {
                        Some(v) => cell(v >= min, format!("{v:.3}")),
                        None => no_data("no hit ratio"),
                    })
                    .collect(),
            });
        }
    }
    for (ki, k) in scn.keyspaces.iter().enumerate() {
        if let Some(max) = scn.slo.latency_p99_ms_max.get(ki).copied().flatten() {
            out.push(Check {
                metric: "p99 latency".into(),
                subject: k.name.clone(),
                target: format!("≤ {} ms", short_num(max)),
                cells: results
                    .iter()
                    .map(|res| {
                        match res
                            .keyspaces
                            .get(ki)
                            .and_then(|m| quantile_ms(&m.latency_us, 0.99))
                        {
                            Some(v) => cell(v <= max, format!("{v:.2} ms")),
                            None => no_data("no requests"),
                        }
                    })
                    .collect(),
            });
        }
    }
    let peaks: Vec<Vec<f64>> = results.iter().map(|r| origin_peaks_per_s(scn, r)).collect();
    let measured = measured_s(scn);
    for (oi, o) in scn.origins.iter().enumerate() {
        if let Some(max) = scn.slo.origin_peak_per_s_max.get(oi).copied().flatten() {
            out.push(Check {
                metric: "origin peak load".into(),
                subject: o.name.clone(),
                target: format!("≤ {}/s", short_num(max)),
                cells: peaks
                    .iter()
                    .map(|p| match p.get(oi) {
                        Some(v) if measured > 0.0 => cell(*v <= max, format!("{v:.1}/s")),
                        _ => no_data("no window after the warm-up"),
                    })
                    .collect(),
            });
        }
    }
    if let Some(max) = scn.slo.critical_evictions_max {
        let critical: Vec<usize> = (0..scn.keyspaces.len())
            .filter(|&ki| scn.keyspaces[ki].criticality == Criticality::Critical)
            .collect();
        out.push(Check {
            metric: "evictions before TTL".into(),
            subject: "critical keyspaces".into(),
            target: format!("≤ {max}"),
            cells: results
                .iter()
                .map(|res| {
                    if critical.is_empty() {
                        return cell(true, "0 (no critical keyspace)".into());
                    }
                    let per: Vec<(usize, u64)> = critical
                        .iter()
                        .map(|&ki| {
                            let n = res
                                .keyspace_evictions_before_ttl
                                .get(ki)
                                .copied()
                                .unwrap_or(0);
                            (ki, n)
                        })
                        .collect();
                    let total: u64 = per.iter().map(|p| p.1).sum();
                    let detail: Vec<String> = per
                        .iter()
                        .filter(|p| p.1 > 0)
                        .map(|(ki, n)| format!("{} {n}", scn.keyspaces[*ki].name))
                        .collect();
                    let text = if detail.is_empty() {
                        total.to_string()
                    } else {
                        format!("{total} ({})", detail.join(", "))
                    };
                    cell(total <= max, text)
                })
                .collect(),
        });
    }
    if let Some(max) = scn.slo.shard_utilization_max {
        out.push(Check {
            metric: "shard utilization".into(),
            subject: "busiest shard".into(),
            target: format!("≤ {}%", short_num(max * 100.0)),
            cells: results
                .iter()
                .map(|res| {
                    let busiest = res
                        .shards
                        .iter()
                        .map(|s| (s, s.busy_ns as f64 / 1e9 / measured))
                        .filter(|(_, u)| u.is_finite())
                        .fold(None, |best: Option<(_, f64)>, (s, u)| match best {
                            Some((_, b)) if b >= u => best,
                            _ => Some((s, u)),
                        });
                    match busiest {
                        Some((s, u)) if measured > 0.0 => {
                            let cluster = scn
                                .clusters
                                .get(s.cluster)
                                .map(|c| c.name.as_str())
                                .unwrap_or("?");
                            cell(
                                u <= max,
                                format!("{:.1}% ({cluster}/{})", u * 100.0, s.shard),
                            )
                        }
                        _ => no_data("no measured time"),
                    }
                })
                .collect(),
        });
    }
    out
}

/// Passes and failures of one plan (column `plan_pos` of the checks).
pub fn tally(checks: &[Check], plan_pos: usize) -> (usize, usize) {
    let mut pass = 0;
    let mut fail = 0;
    for c in checks {
        match c.cells.get(plan_pos).map(|c| c.outcome) {
            Some(Outcome::Pass) => pass += 1,
            Some(Outcome::Fail) => fail += 1,
            _ => {}
        }
    }
    (pass, fail)
}

fn cell(pass: bool, measured: String) -> Cell {
    Cell {
        outcome: if pass { Outcome::Pass } else { Outcome::Fail },
        measured,
    }
}

fn no_data(why: &str) -> Cell {
    Cell {
        outcome: Outcome::NoData,
        measured: why.to_string(),
    }
}
