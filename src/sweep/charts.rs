//! The sweep's charts, as specs for `report::charts` (which owns their look): for a grid of
//! two parameter axes, heatmaps (one per plan and metric: hit ratio, p99 latency, origin peak);
//! for one axis, a metric against the parameter with one line per plan (numeric values) or
//! grouped bars (other values), with 95% confidence intervals (mean ± 1.96·sd/√n over the
//! seeds) when seeds are replicated. Other grids get no charts. The metrics are those of the
//! *focus keyspace*, the first keyspace a parameter path names (`keyspaces.<name>....`), or
//! without one: the request-weighted hit ratio of all keyspaces with a hit ratio, the highest
//! keyspace p99 and the highest origin peak. Pure.

use super::assemble::{by_point, mean_ci95};
use super::cell::{histogram_from_pairs, CellRecord};
use super::grid::{value_text, CellSpec, Grid};
use crate::metrics::summary::{quantile_ms, ratio};
use crate::report::charts::{
    self, BarChart, BarGroup, ChartError, ErrorBar, Heatmap, LineChart, Panel, Rendered, Scale,
    Series, Size,
};
use crate::scenario::units::{parse_bytes, parse_duration_ms};

/// A rendered sweep chart: `charts/<name>.png` and `.svg`.
#[derive(Clone, Debug)]
pub struct SweepChart {
    /// File stem.
    pub name: String,
    /// The picture.
    pub rendered: Rendered,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Metric {
    HitRatio,
    P99,
    OriginPeak,
}

impl Metric {
    const ALL: [Metric; 3] = [Metric::HitRatio, Metric::P99, Metric::OriginPeak];

    fn stem(self) -> &'static str {
        match self {
            Metric::HitRatio => "hit_ratio",
            Metric::P99 => "latency_p99",
            Metric::OriginPeak => "origin_peak",
        }
    }

    fn label(self, focus: Option<&str>) -> String {
        match (self, focus) {
            (Metric::HitRatio, Some(k)) => format!("{k} hit ratio"),
            (Metric::HitRatio, None) => "hit ratio (all keyspaces)".into(),
            (Metric::P99, Some(k)) => format!("{k} p99 latency (ms)"),
            (Metric::P99, None) => "highest keyspace p99 latency (ms)".into(),
            (Metric::OriginPeak, Some(k)) => format!("{k}'s origin peak load (loads/s)"),
            (Metric::OriginPeak, None) => "highest origin peak load (loads/s)".into(),
        }
    }
}

/// The focus keyspace: the first keyspace named by a parameter path.
pub fn focus_keyspace(grid: &Grid) -> Option<String> {
    grid.params().iter().find_map(|p| {
        let mut segs = p.split('.');
        (segs.next() == Some("keyspaces"))
            .then(|| segs.next().map(String::from))
            .flatten()
    })
}

/// A metric of one point and plan: the value (mean over seeds, or the pooled p99) and the
/// 95% CI half-width when there are several seeds.
fn point_metric(
    group: &[(CellSpec, CellRecord)],
    plan: usize,
    focus: Option<usize>,
    metric: Metric,
) -> (f64, Option<f64>) {
    let plans = || group.iter().map(|(_, r)| &r.plans[plan]);
    match metric {
        Metric::P99 => {
            let first = &group[0].1.plans[plan];
            let kis: Vec<usize> = match focus {
                Some(k) => vec![k],
                None => (0..first.keyspaces.len()).collect(),
            };
            let worst = kis
                .iter()
                .filter_map(|&ki| {
                    let mut h = histogram_from_pairs(&first.keyspaces[ki].latency_us);
                    for p in plans().skip(1) {
                        h.add(histogram_from_pairs(&p.keyspaces[ki].latency_us))
                            .expect("latency histograms share their bounds");
                    }
                    quantile_ms(&h, 0.99)
                })
                .fold(f64::NAN, f64::max);
            (worst, None)
        }
        Metric::HitRatio | Metric::OriginPeak => {
            let values: Vec<f64> = plans()
                .filter_map(|p| match metric {
                    Metric::HitRatio => {
                        let ks: Vec<_> = match focus {
                            Some(k) => vec![&p.keyspaces[k]],
                            None => p.keyspaces.iter().collect(),
                        };
                        let (hits, reqs) = ks
                            .iter()
                            .filter(|k| k.has_hit_ratio)
                            .fold((0u64, 0u64), |(h, r), k| (h + k.redis_hits, r + k.requests));
                        ratio(hits, reqs)
                    }
                    _ => match focus {
                        Some(k) => p.keyspaces[k].origin.map(|o| p.origin_peaks_per_s[o]),
                        None => p.origin_peaks_per_s.iter().cloned().reduce(f64::max),
                    },
                })
                .collect();
            match mean_ci95(&values) {
                Some((m, ci)) => (m, ci),
                None => (f64::NAN, None),
            }
        }
    }
}

fn axis_labels(grid: &Grid, axis: usize) -> Vec<String> {
    grid.axes[axis]
        .values
        .iter()
        .map(|row| row.iter().map(value_text).collect::<Vec<_>>().join(" / "))
        .collect()
}

fn axis_title(grid: &Grid, axis: usize) -> String {
    grid.axes[axis].params.join(" / ")
}

/// Numeric x values of a one-parameter axis (durations in ms, sizes in MB), if all are.
fn numeric_axis(grid: &Grid, axis: usize) -> Option<(Vec<f64>, String)> {
    let a = &grid.axes[axis];
    let path = &a.params[0];
    let mut unit = String::new();
    let xs: Option<Vec<f64>> = a
        .values
        .iter()
        .map(|row| {
            let v = &row[0];
            if let Some(f) = v.as_float().or_else(|| v.as_integer().map(|i| i as f64)) {
                if path.ends_with("_bytes") {
                    unit = " (MB)".into();
                    return Some(f / 1_048_576.0);
                }
                return Some(f);
            }
            let s = v.as_str()?;
            if path.ends_with("_ms") {
                unit = " (ms)".into();
                parse_duration_ms(s).ok()
            } else if path.ends_with("_bytes") {
                unit = " (MB)".into();
                parse_bytes(s).ok().map(|b| b as f64 / 1_048_576.0)
            } else {
                s.parse::<f64>().ok()
            }
        })
        .collect();
    let title = format!("{}{unit}", axis_title(grid, axis));
    xs.map(|x| (x, title))
}

/// A name as a file-name part: ASCII letters, digits and '-' kept, anything else '_'.
pub fn slug(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Every chart of a sweep, in a fixed order.
pub fn sweep_charts(
    grid: &Grid,
    cells: &[(CellSpec, CellRecord)],
) -> Result<Vec<SweepChart>, (String, ChartError)> {
    let Some((_, first)) = cells.first() else {
        return Ok(Vec::new());
    };
    let focus_name = focus_keyspace(grid);
    let focus = focus_name
        .as_ref()
        .and_then(|n| first.keyspaces.iter().position(|k| k == n));
    let focus_label = focus.map(|k| first.keyspaces[k].as_str());
    let groups = by_point(grid, cells);
    let seeds = grid.seeds.len();
    let mut out = Vec::new();
    let mut push = |name: String, r: Result<Rendered, ChartError>| match r {
        Ok(rendered) => {
            out.push(SweepChart { name, rendered });
            Ok(())
        }
        Err(e) => Err((name, e)),
    };
    match grid.axes.len() {
        2 => {
            let xs = axis_labels(grid, 1);
            let ys = axis_labels(grid, 0);
            for (pi, plan) in first.plans.iter().enumerate() {
                for metric in Metric::ALL {
                    let values: Vec<Vec<f64>> = (0..ys.len())
                        .map(|yi| {
                            (0..xs.len())
                                .map(|xi| {
                                    point_metric(groups[yi * xs.len() + xi], pi, focus, metric).0
                                })
                                .collect()
                        })
                        .collect();
                    let spec = Heatmap {
                        title: format!(
                            "{} — plan {}{}",
                            metric.label(focus_label),
                            plan.plan,
                            if seeds > 1 {
                                format!(
                                    " ({} over {seeds} seeds)",
                                    if metric == Metric::P99 {
                                        "pooled"
                                    } else {
                                        "mean"
                                    }
                                )
                            } else {
                                String::new()
                            }
                        ),
                        x_label: axis_title(grid, 1),
                        y_label: axis_title(grid, 0),
                        x_values: xs.clone(),
                        y_values: ys.clone(),
                        values,
                        value_label: metric.label(focus_label),
                        decimals: if metric == Metric::HitRatio { 3 } else { 1 },
                        reverse: metric != Metric::HitRatio,
                        size: Size::default(),
                    };
                    push(
                        format!("heatmap_{}_{}", metric.stem(), slug(&plan.plan)),
                        charts::heatmap(&spec),
                    )?;
                }
            }
        }
        1 => {
            let ci_note = if seeds > 1 {
                format!("; mean over {seeds} seeds, dashed: 95% CI (mean ± 1.96·sd/√n)")
            } else {
                String::new()
            };
            for metric in Metric::ALL {
                let title = format!(
                    "{} against {}{}",
                    metric.label(focus_label),
                    axis_title(grid, 0),
                    if metric == Metric::P99 && seeds > 1 {
                        format!("; p99 of the {seeds} seeds' histograms added")
                    } else if metric == Metric::P99 {
                        String::new()
                    } else {
                        ci_note.clone()
                    }
                );
                let per_plan: Vec<Vec<(f64, Option<f64>)>> = (0..first.plans.len())
                    .map(|pi| {
                        groups
                            .iter()
                            .map(|g| point_metric(g, pi, focus, metric))
                            .collect()
                    })
                    .collect();
                let name = format!("lines_{}", metric.stem());
                if let Some((xs, x_title)) = numeric_axis(grid, 0) {
                    let mut series = Vec::new();
                    for (pi, plan) in first.plans.iter().enumerate() {
                        let vals = &per_plan[pi];
                        series.push(Series {
                            name: plan.plan.clone(),
                            points: xs.iter().zip(vals).map(|(x, v)| (*x, v.0)).collect(),
                            color: Some(pi),
                            ..Series::default()
                        });
                        if vals.iter().any(|v| v.1.is_some()) {
                            for (sign, label) in [(-1.0, "low"), (1.0, "high")] {
                                series.push(Series {
                                    name: format!("{} 95% CI {label}", plan.plan),
                                    points: xs
                                        .iter()
                                        .zip(vals)
                                        .map(|(x, v)| (*x, v.0 + sign * v.1.unwrap_or(f64::NAN)))
                                        .collect(),
                                    dashed: true,
                                    color: Some(pi),
                                    ..Series::default()
                                });
                            }
                        }
                    }
                    let spec = LineChart {
                        title,
                        x_label: x_title,
                        y_label: metric.label(focus_label),
                        y_scale: Scale::Linear,
                        facets: vec![Panel {
                            series,
                            ..Panel::default()
                        }],
                        columns: 1,
                        shared_y: true,
                        markers: Vec::new(),
                        size: Size::default(),
                    };
                    push(name, charts::time_lines(&spec))?;
                } else {
                    let spec = BarChart {
                        title,
                        categories: axis_labels(grid, 0),
                        groups: first
                            .plans
                            .iter()
                            .enumerate()
                            .map(|(pi, plan)| BarGroup {
                                name: plan.plan.clone(),
                                values: per_plan[pi].iter().map(|v| v.0).collect(),
                                errors: (seeds > 1).then(|| {
                                    per_plan[pi]
                                        .iter()
                                        .map(|v| {
                                            v.1.map(|ci| ErrorBar {
                                                low: v.0 - ci,
                                                high: v.0 + ci,
                                            })
                                        })
                                        .collect()
                                }),
                            })
                            .collect(),
                        x_label: axis_title(grid, 0),
                        y_label: metric.label(focus_label),
                        y_scale: Scale::Linear,
                        ref_lines: Vec::new(),
                        size: Size::default(),
                    };
                    push(name, charts::grouped_bars(&spec))?;
                }
            }
        }
        _ => {}
    }
    Ok(out)
}
