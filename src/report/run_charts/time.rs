//! The run's charts over time: p99 latency, origin load, evictions, memory against
//! maxmemory and shard load per window, with the timeline's events and faults marked.

use super::*;
use crate::metrics::Window;

pub(super) fn latency_p99_spec(scn: &Scenario, results: &[PlanResult]) -> LineChart {
    let facets: Vec<Panel> = results
        .iter()
        .map(|res| Panel {
            title: plan_name(scn, res),
            series: scn
                .keyspaces
                .iter()
                .enumerate()
                .map(|(ki, k)| Series {
                    name: k.name.clone(),
                    points: with_time_bounds(
                        scn,
                        (0..res.windows.len())
                            .map(|wi| {
                                let w = &res.windows[wi];
                                let req = w.keyspace_requests.get(ki).copied().unwrap_or(0);
                                let p99 = w.keyspace_p99_us.get(ki).copied().unwrap_or(0);
                                let y = if req > 0 && p99 > 0 {
                                    p99 as f64 / 1000.0
                                } else {
                                    f64::NAN
                                };
                                (window_mid_s(scn, res, wi), y)
                            })
                            .collect(),
                    ),
                    highlight: k.criticality == Criticality::Critical,
                    color: Some(series_color(ki)),
                    dashed: false,
                })
                .collect(),
            h_lines: Vec::new(),
            markers: fault_markers(scn, res),
        })
        .collect();
    let (size, columns) = facet_layout(facets.len(), 1);
    LineChart {
        title: "End-to-end p99 latency over simulated time per plan, faults shaded".into(),
        x_label: "simulated time (s)".into(),
        y_label: "p99 latency (ms, log scale)".into(),
        y_scale: Scale::Log,
        facets,
        columns,
        shared_y: true,
        markers: timeline_markers(scn),
        size,
    }
}

/// Timeline events, keyspace bursts and the warm-up as chart markers (x in seconds).
pub(super) fn timeline_markers(scn: &Scenario) -> Vec<EventMarker> {
    let mut markers = Vec::new();
    if scn.warmup.as_ns() > 0 {
        markers.push(EventMarker::Interval {
            from: 0.0,
            to: scn.warmup.as_secs_f64(),
            label: "warm-up".into(),
        });
    }
    let mut bursts: Vec<(u64, u64, String)> = Vec::new();
    for k in &scn.keyspaces {
        for b in &k.bursts {
            let key = (b.start.as_ns(), b.end.as_ns());
            match bursts.iter_mut().find(|e| (e.0, e.1) == key) {
                Some(e) => e.2.push_str(&format!(", {}", k.name)),
                None => bursts.push((
                    key.0,
                    key.1,
                    format!("×{} burst: {}", short_num(b.multiplier), k.name),
                )),
            }
        }
    }
    for (from, to, label) in bursts {
        markers.push(EventMarker::Interval {
            from: SimTime::from_ns(from).as_secs_f64(),
            to: SimTime::from_ns(to).as_secs_f64(),
            label,
        });
    }
    for e in &scn.events {
        markers.push(EventMarker::Instant {
            at: e.at.as_secs_f64(),
            label: e.name.clone(),
        });
    }
    markers
}

pub(super) fn origin_load_spec(scn: &Scenario, results: &[PlanResult]) -> LineChart {
    // SLO lines, one per distinct limit, naming the origins that share it.
    let mut limits: Vec<(f64, Vec<&str>)> = Vec::new();
    for (oi, o) in scn.origins.iter().enumerate() {
        if let Some(max) = scn.slo.origin_peak_per_s_max.get(oi).copied().flatten() {
            match limits.iter_mut().find(|l| l.0 == max) {
                Some(l) => l.1.push(&o.name),
                None => limits.push((max, vec![&o.name])),
            }
        }
    }
    let h_lines: Vec<RefLine> = limits
        .iter()
        .map(|(v, names)| {
            RefLine::new(
                *v,
                format!("SLO peak {}/s: {}", short_num(*v), names.join(", ")),
            )
        })
        .collect();
    let facets: Vec<Panel> = results
        .iter()
        .map(|res| Panel {
            title: plan_name(scn, res),
            series: scn
                .origins
                .iter()
                .enumerate()
                .map(|(oi, o)| Series {
                    name: o.name.clone(),
                    points: per_second(scn, res, |w| w.origin_loads.get(oi).copied()),
                    color: Some(series_color(oi)),
                    ..Series::default()
                })
                .collect(),
            h_lines: h_lines.clone(),
            markers: fault_markers(scn, res),
        })
        .collect();
    let (size, columns) = facet_layout(facets.len(), 1);
    LineChart {
        title: "Origin load over simulated time per plan".into(),
        x_label: "simulated time (s)".into(),
        y_label: "origin loads (req/s)".into(),
        y_scale: Scale::Linear,
        facets,
        columns,
        shared_y: true,
        markers: timeline_markers(scn),
        size,
    }
}

pub(super) fn evictions_spec(scn: &Scenario, results: &[PlanResult]) -> LineChart {
    // Only keyspaces that lost keys in some plan: the rest would be flat lines at zero.
    let kss: Vec<usize> = (0..scn.keyspaces.len())
        .filter(|&ki| {
            results
                .iter()
                .any(|r| r.keyspace_evictions.get(ki).is_some_and(|&e| e > 0))
        })
        .collect();
    let critical: Vec<bool> = kss
        .iter()
        .map(|&ki| scn.keyspaces[ki].criticality == Criticality::Critical)
        .collect();
    let colors = emphasis_colors(&critical);
    let facets: Vec<Panel> = results
        .iter()
        .map(|res| Panel {
            title: plan_name(scn, res),
            series: kss
                .iter()
                .enumerate()
                .map(|(i, &ki)| {
                    let k = &scn.keyspaces[ki];
                    let critical = k.criticality == Criticality::Critical;
                    Series {
                        name: if critical {
                            format!("{} (critical)", k.name)
                        } else {
                            k.name.clone()
                        },
                        points: per_second(scn, res, |w| w.keyspace_evictions.get(ki).copied()),
                        highlight: critical,
                        color: Some(colors[i]),
                        dashed: false,
                    }
                })
                .collect(),
            h_lines: Vec::new(),
            markers: Vec::new(),
        })
        .collect();
    let (size, columns) = facet_layout(facets.len(), 1);
    LineChart {
        title: if kss.is_empty() {
            "Evictions per keyspace: no key was evicted in any plan".into()
        } else {
            "Evictions per keyspace over simulated time (critical keyspaces thick)".into()
        },
        x_label: "simulated time (s)".into(),
        y_label: "evicted keys (keys/s)".into(),
        y_scale: Scale::Linear,
        facets,
        columns,
        shared_y: true,
        markers: timeline_markers(scn)
            .into_iter()
            .filter(|m| matches!(m, EventMarker::Instant { .. }))
            .collect(),
        size,
    }
}

/// Bytes as MB (2^20) for chart axes.
/// A per-window count of `res` as a rate: (window middle s, count / window length s), NaN
/// for an empty window, with the run's time bounds.
fn per_second(
    scn: &Scenario,
    res: &PlanResult,
    count: impl Fn(&Window) -> Option<u64>,
) -> Vec<(f64, f64)> {
    with_time_bounds(
        scn,
        (0..res.windows.len())
            .map(|wi| {
                let len = window_len_s(scn, res, wi);
                let n = count(&res.windows[wi]).unwrap_or(0);
                let y = if len > 0.0 { n as f64 / len } else { f64::NAN };
                (window_mid_s(scn, res, wi), y)
            })
            .collect(),
    )
}

pub(super) fn mb(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// The memory chart's reference lines: maxmemory (none when unlimited) and the closed-form
/// steady-state projection (`shards.csv` `steady_state_used_memory_bytes`).
fn memory_ref_lines(maxmemory_bytes: u64, projected_bytes: u64) -> Vec<RefLine> {
    let mut lines = Vec::new();
    if maxmemory_bytes > 0 {
        lines.push(RefLine::new(
            mb(maxmemory_bytes),
            format!("maxmemory {} MB", short_num(mb(maxmemory_bytes))),
        ));
    }
    if projected_bytes > 0 {
        lines.push(RefLine::new(
            mb(projected_bytes),
            format!("steady state {:.0} MB", mb(projected_bytes)),
        ));
    }
    lines
}

pub(super) fn memory_spec(scn: &Scenario, results: &[PlanResult]) -> LineChart {
    let mut facets = Vec::new();
    for res in results {
        // Clusters in the order the plan's shards list them.
        let mut clusters: Vec<usize> = Vec::new();
        for s in &res.shards {
            if !clusters.contains(&s.cluster) {
                clusters.push(s.cluster);
            }
        }
        for ci in clusters {
            let Some(c) = scn.clusters.get(ci) else {
                continue;
            };
            // Every shard of a cluster has the same projection.
            let projected = res
                .shards
                .iter()
                .find(|s| s.cluster == ci)
                .map_or(0, |s| s.projected_used_memory_bytes);
            let series = res
                .shards
                .iter()
                .enumerate()
                .filter(|(_, s)| s.cluster == ci)
                .map(|(si, s)| Series {
                    name: format!("shard {}", s.shard),
                    // used_memory is sampled at each window's end.
                    points: with_time_bounds(
                        scn,
                        (0..res.windows.len())
                            .map(|wi| {
                                let used = res.windows[wi].shard_used_memory.get(si).copied();
                                (window_end_s(scn, res, wi), used.map(mb).unwrap_or(f64::NAN))
                            })
                            .collect(),
                    ),
                    color: Some(series_color(s.shard)),
                    ..Series::default()
                })
                .collect();
            facets.push(Panel {
                title: format!(
                    "{}: {} ({})",
                    plan_name(scn, res),
                    c.name,
                    c.redis.maxmemory_policy.as_str()
                ),
                series,
                h_lines: memory_ref_lines(c.redis.maxmemory_bytes, projected),
                markers: Vec::new(),
            });
        }
    }
    let (size, columns) = facet_layout(facets.len(), 3);
    LineChart {
        title: "used_memory per shard against maxmemory".into(),
        x_label: "simulated time (s)".into(),
        y_label: "used_memory (MB)".into(),
        y_scale: Scale::Linear,
        facets,
        columns,
        shared_y: false,
        markers: Vec::new(),
        size,
    }
}

pub(super) fn shard_load_spec(scn: &Scenario, results: &[PlanResult]) -> LineChart {
    let measured = measured_s(scn);
    let mut peak_util = f64::NAN;
    for res in results {
        for s in &res.shards {
            if measured > 0.0 {
                let u = s.busy_ns as f64 / 1e9 / measured;
                peak_util = if peak_util.is_nan() {
                    u
                } else {
                    peak_util.max(u)
                };
            }
        }
    }
    // Colour per cluster/shard label across plans, by first appearance.
    let mut labels: Vec<String> = Vec::new();
    let facets: Vec<Panel> = results
        .iter()
        .map(|res| Panel {
            title: plan_name(scn, res),
            series: res
                .shards
                .iter()
                .enumerate()
                .map(|(si, s)| {
                    let cluster = scn
                        .clusters
                        .get(s.cluster)
                        .map(|c| c.name.as_str())
                        .unwrap_or("?");
                    let name = format!("{cluster}/{}", s.shard);
                    let color = match labels.iter().position(|l| *l == name) {
                        Some(i) => i,
                        None => {
                            labels.push(name.clone());
                            labels.len() - 1
                        }
                    };
                    Series {
                        name,
                        points: per_second(scn, res, |w| w.shard_commands.get(si).copied()),
                        color: Some(series_color(color)),
                        ..Series::default()
                    }
                })
                .collect(),
            h_lines: Vec::new(),
            markers: Vec::new(),
        })
        .collect();
    let util = match (peak_util.is_finite(), scn.slo.shard_utilization_max) {
        (true, Some(max)) => format!(
            " (peak utilization {:.1}%, SLO ≤ {}%)",
            peak_util * 100.0,
            short_num(max * 100.0)
        ),
        (true, None) => format!(" (peak utilization {:.1}%)", peak_util * 100.0),
        _ => String::new(),
    };
    let (size, columns) = facet_layout(facets.len(), 1);
    LineChart {
        title: format!("Commands per shard over simulated time{util}"),
        x_label: "simulated time (s)".into(),
        y_label: "commands per shard (ops/s)".into(),
        y_scale: Scale::Linear,
        facets,
        columns,
        shared_y: true,
        markers: timeline_markers(scn)
            .into_iter()
            .filter(|m| matches!(m, EventMarker::Instant { .. }))
            .collect(),
        size,
    }
}
