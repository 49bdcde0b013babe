//! The verdict of a run: every service-level objective of the scenario (`scn.slo`) checked
//! against every plan's result, with the measured value. Pure computation over a resolved
//! [`Scenario`] and its [`PlanResult`]s; it owns no formatting beyond the short measured-value
//! text and must not touch files (the HTML report renders these checks).

use super::run_charts::short_num;
use crate::engine::SimTime;
use crate::metrics::summary::{hit_ratio, measured_s, origin_peaks_per_s, quantile_ms};
use crate::metrics::{Invariant, PlanResult};
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
/// ratios and p99s by keyspace order, error ratios (errors + OOM rejections per request) by
/// keyspace order, duplicate executions and lock overlaps where monitored, the projected fill
/// of shards whose fill is harmful (`noeviction` and `volatile-*` refuse writes, `allkeys-*`
/// holding critical keys evict them) within `fill_horizon`, origin peaks by origin order,
/// critical evictions, shard utilization.
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
    for (ki, k) in scn.keyspaces.iter().enumerate() {
        if let Some(max) = scn.slo.error_ratio_max.get(ki).copied().flatten() {
            out.push(Check {
                metric: "errors + OOM rejections / requests".into(),
                subject: k.name.clone(),
                target: format!("≤ {}", short_num(max)),
                cells: results
                    .iter()
                    .map(|res| {
                        let m = &res.keyspaces[ki];
                        match crate::metrics::summary::error_ratio(m) {
                            Some(ratio) => {
                                let text = if m.oom_errors > 0 {
                                    format!("{ratio:.4} ({} OOM rejections)", group(m.oom_errors))
                                } else {
                                    format!("{ratio:.4}")
                                };
                                cell(ratio <= max, text)
                            }
                            None => no_data("no requests"),
                        }
                    })
                    .collect(),
            });
        }
    }
    for (inv, metric) in [
        (Invariant::DuplicateExecution, "duplicate executions"),
        (Invariant::LockOverlap, "lock overlaps"),
    ] {
        for (ki, k) in scn.keyspaces.iter().enumerate() {
            let monitored = |res: &PlanResult| {
                res.invariants
                    .monitored
                    .get(ki)
                    .is_some_and(|m| m[inv as usize])
            };
            if !results.iter().any(monitored) {
                continue;
            }
            out.push(Check {
                metric: metric.into(),
                subject: k.name.clone(),
                target: "= 0".into(),
                cells: results
                    .iter()
                    .map(|res| {
                        if !monitored(res) {
                            return no_data("not monitored");
                        }
                        let n = res.invariants.tallies[0][ki][inv as usize].violations;
                        cell(n == 0, group(n))
                    })
                    .collect(),
            });
        }
    }
    let horizon = scn.slo.fill_horizon;
    out.push(Check {
        metric: "projected fill".into(),
        subject: "OOM-prone or critical shards".into(),
        target: format!("none within {}", human_duration(horizon)),
        cells: results
            .iter()
            .map(|res| {
                // The earliest fill among shards whose policy makes a fill harmful: OOM
                // rejections, or critical keys evicted.
                let first = res
                    .shards
                    .iter()
                    .filter_map(|s| {
                        let at = s.fills_at?;
                        let harm = crate::metrics::summary::when_full(scn, res, s.cluster);
                        crate::metrics::summary::fill_is_harmful(scn, res, s.cluster)
                            .then_some((at, s, harm))
                    })
                    .min_by_key(|(at, s, _)| (*at, s.cluster, s.shard));
                match first {
                    Some((at, s, harm)) => {
                        let cluster = &scn.clusters[s.cluster].name;
                        let when = if at == SimTime::ZERO {
                            "full from the start".to_string()
                        } else {
                            format!("fills at {}", human_duration(at))
                        };
                        cell(
                            at > horizon,
                            format!("{cluster}/{} {when}: {harm}", s.shard),
                        )
                    }
                    None => cell(true, "none fills".into()),
                }
            })
            .collect(),
    });
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
    out.extend(super::hotspots::checks(scn, results));
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

/// A count with thousands separators: 1203362 → "1,203,362".
fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A duration as people say it: "23.6 min", "24 h", "40 s".
fn human_duration(t: SimTime) -> String {
    let s = t.as_secs_f64();
    if s >= 3600.0 {
        format!("{} h", short_num(s / 3600.0))
    } else if s >= 60.0 {
        format!("{:.1} min", s / 60.0)
    } else {
        format!("{} s", short_num(s))
    }
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
