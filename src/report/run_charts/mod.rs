//! The charts of one run: turns a resolved [`Scenario`] and its per-plan [`PlanResult`]s into
//! chart specs (hit ratio, latency quantiles, origin load, evictions, memory, shard load,
//! latency CDFs) and renders them with [`super::charts`]. Pure: no file IO (the run folder
//! writer in `report::write_visuals` stores the bytes) and no look of its own (layout, palette
//! and fonts belong to `charts`). Odd data (a keyspace without requests, a plan with one
//! cluster, no windows after the warm-up) gives gaps or "no data" charts, never a panic.

use super::charts::{
    self, BarChart, BarGroup, CategoryTargets, CdfChart, CdfCurve, ChartError, EventMarker,
    LineChart, Panel, QuantileChart, QuantileGroup, RefLine, Rendered, Scale, Series, Size,
};
use super::tables::QUANTILES;
use crate::engine::SimTime;
use crate::metrics::summary::{has_hit_ratio, hit_ratio, measured_s, quantile_ms, window_len_s};
use crate::metrics::PlanResult;
use crate::scenario::{Criticality, Scenario};
use hdrhistogram::Histogram;

/// One rendered chart of a run, with the words the HTML report puts around it.
#[derive(Clone, Debug)]
pub struct RunChart {
    /// File stem: the chart is written as `charts/<name>.png` and `charts/<name>.svg`.
    pub name: String,
    /// Caption heading (same as the chart title).
    pub title: String,
    /// One or two sentences saying how to read the chart.
    pub caption: String,
    /// The picture.
    pub rendered: Rendered,
}

/// A chart spec of any kind, before rendering.
#[derive(Clone, Debug)]
pub enum ChartSpec {
    /// Grouped bars, with optional per-category targets.
    Bars(BarChart, Option<CategoryTargets>),
    /// Quantile markers, with optional per-category targets.
    Quantiles(QuantileChart, Option<CategoryTargets>),
    /// Lines over time.
    Lines(LineChart),
    /// Cumulative distributions.
    Cdf(CdfChart),
}

impl ChartSpec {
    /// The chart title.
    pub fn title(&self) -> &str {
        match self {
            ChartSpec::Bars(s, _) => &s.title,
            ChartSpec::Quantiles(s, _) => &s.title,
            ChartSpec::Lines(s) => &s.title,
            ChartSpec::Cdf(s) => &s.title,
        }
    }

    /// Renders the spec.
    pub fn render(&self) -> Result<Rendered, ChartError> {
        match self {
            ChartSpec::Bars(s, None) => charts::grouped_bars(s),
            ChartSpec::Bars(s, Some(t)) => charts::grouped_bars_with_targets(s, t),
            ChartSpec::Quantiles(s, None) => charts::quantile_markers(s),
            ChartSpec::Quantiles(s, Some(t)) => charts::quantile_markers_with_targets(s, t),
            ChartSpec::Lines(s) => charts::time_lines(s),
            ChartSpec::Cdf(s) => charts::cdf(s),
        }
    }
}

/// A named spec with its caption, in report order.
#[derive(Clone, Debug)]
pub struct NamedSpec {
    /// File stem.
    pub name: String,
    /// How to read the chart.
    pub caption: String,
    /// The spec.
    pub spec: ChartSpec,
}

/// Every chart spec of a run, in report order. `latency_cdf_critical` is present only when the
/// scenario has a critical keyspace other than the one `latency_cdf` shows.
pub fn run_chart_specs(scn: &Scenario, results: &[PlanResult]) -> Vec<NamedSpec> {
    let mut out = vec![
        named(
            "hit_ratio",
            "Redis hits / requests after the warm-up, per keyspace and plan. A dashed black \
             bar marks a keyspace's hit-ratio SLO minimum. Rate-limit and lock keyspaces have \
             no hit ratio and are left out.",
            {
                let (spec, targets) = hit_ratio_spec(scn, results);
                ChartSpec::Bars(spec, targets)
            },
        ),
        named(
            "latency_quantiles",
            "End-to-end latency quantiles (p50 to max) per keyspace and plan from the \
             HdrHistograms, log scale. A dashed black bar marks a keyspace's p99 SLO maximum.",
            {
                let (spec, targets) = latency_quantiles_spec(scn, results);
                ChartSpec::Quantiles(spec, targets)
            },
        ),
        named(
            "origin_load",
            "Loads sent to each origin per second, per window, one facet per plan. Dashed \
             lines are timeline events, shaded bands are bursts, the warm-up and the faults \
             (per plan, as they happened); a stampede shows as a spike after an event, a Redis \
             fault as a fallback load inside its band.",
            ChartSpec::Lines(origin_load_spec(scn, results)),
        ),
        named(
            "latency_p99",
            "End-to-end p99 latency per keyspace and window, one facet per plan (log scale). \
             Shaded bands are the faults of the scenario as they happened in that plan, with \
             the warm-up and bursts; a fault that hurts users lifts the lines inside its band.",
            ChartSpec::Lines(latency_p99_spec(scn, results)),
        ),
        named(
            "evictions",
            "Keys evicted per second, per keyspace and window, one facet per plan. Critical \
             keyspaces are drawn thick: any eviction of theirs loses a key the business relies on.",
            ChartSpec::Lines(evictions_spec(scn, results)),
        ),
        named(
            "memory",
            "used_memory of each shard at each window's end against the shard's maxmemory \
             and the closed-form steady-state projection (horizontal lines), one facet per plan \
             and cluster.",
            ChartSpec::Lines(memory_spec(scn, results)),
        ),
        named(
            "shard_load",
            "Commands per second on each shard, per window, one facet per plan; a hot shard \
             stands above its siblings.",
            ChartSpec::Lines(shard_load_spec(scn, results)),
        ),
    ];
    let worst = keyspace_with_highest_p99(scn, results);
    if let Some(ki) = worst {
        out.push(named(
            "latency_cdf",
            "Cumulative distribution of end-to-end latency per plan for the keyspace with the \
             highest p99; dotted guides mark p50, p90 and p99. Where the plans' curves coincide, \
             the last plan's curve covers the others.",
            ChartSpec::Cdf(latency_cdf_spec(scn, results, ki, "highest p99")),
        ));
    }
    let critical = scn
        .keyspaces
        .iter()
        .position(|k| k.criticality == Criticality::Critical);
    if let Some(ki) = critical.filter(|ki| Some(*ki) != worst) {
        out.push(named(
            "latency_cdf_critical",
            "The same distribution for the first critical keyspace.",
            ChartSpec::Cdf(latency_cdf_spec(
                scn,
                results,
                ki,
                "first critical keyspace",
            )),
        ));
    }
    if worst.is_none() {
        out.push(named(
            "latency_cdf",
            "No keyspace recorded a latency in this run.",
            ChartSpec::Cdf(CdfChart {
                title: "End-to-end latency CDF".into(),
                x_label: "latency (ms)".into(),
                x_scale: Scale::Log,
                curves: Vec::new(),
                quantile_guides: Vec::new(),
                ref_lines: Vec::new(),
                size: Size::default(),
            }),
        ));
    }
    out.push(super::hotspots::tenant_chart(scn, results));
    out
}

/// Builds and renders every chart of a run (see [`run_chart_specs`]).
pub fn render_run_charts(
    scn: &Scenario,
    results: &[PlanResult],
) -> Result<Vec<RunChart>, (String, ChartError)> {
    run_chart_specs(scn, results)
        .into_iter()
        .map(|n| {
            let rendered = n.spec.render().map_err(|e| (n.name.clone(), e))?;
            Ok(RunChart {
                title: n.spec.title().to_string(),
                name: n.name,
                caption: n.caption,
                rendered,
            })
        })
        .collect()
}

fn named(name: &str, caption: &str, spec: ChartSpec) -> NamedSpec {
    NamedSpec {
        name: name.to_string(),
        caption: caption.to_string(),
        spec,
    }
}

/// Middle of window `wi` in seconds (where a per-window rate is plotted).
fn window_mid_s(scn: &Scenario, res: &PlanResult, wi: usize) -> f64 {
    res.windows[wi].start.as_secs_f64() + window_len_s(scn, res, wi) / 2.0
}

/// End of window `wi` in seconds (where a value sampled at the window's end is plotted).
fn window_end_s(scn: &Scenario, res: &PlanResult, wi: usize) -> f64 {
    res.windows[wi].start.as_secs_f64() + window_len_s(scn, res, wi)
}

/// Palette index of the `i`-th series: the Okabe-Ito colours without yellow (faint on white),
/// then the renderer's dashed second round.
fn series_color(i: usize) -> usize {
    const SOLID: [usize; 7] = [0, 1, 2, 3, 4, 5, 7];
    SOLID
        .get(i)
        .copied()
        .unwrap_or_else(|| 8 + (i - SOLID.len()))
}

/// Palette indices for series where `emphasised[i]` ones (critical keyspaces) take the strong
/// colours (black, vermillion, reddish purple) and the others the rest, in order.
fn emphasis_colors(emphasised: &[bool]) -> Vec<usize> {
    const STRONG: [usize; 3] = [7, 3, 5];
    const REST: [usize; 5] = [0, 1, 2, 4, 5];
    let mut strong = STRONG.iter().copied();
    let mut used: Vec<usize> = Vec::new();
    let mut out = vec![0; emphasised.len()];
    for (i, e) in emphasised.iter().enumerate() {
        if *e {
            if let Some(c) = strong.next() {
                out[i] = c;
                used.push(c);
            }
        }
    }
    let mut rest = REST.iter().copied().filter(|c| !used.contains(c));
    let mut extra = 8;
    for (i, e) in emphasised.iter().enumerate() {
        if *e && out[i] != 0 {
            continue;
        }
        out[i] = rest.next().unwrap_or_else(|| {
            extra += 1;
            extra - 1
        });
    }
    out
}

/// `points` with (0, NaN) before and (end of the run, NaN) after, so every time axis spans
/// the whole simulated run (NaN draws nothing).
fn with_time_bounds(scn: &Scenario, points: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(points.len() + 2);
    out.push((0.0, f64::NAN));
    out.extend(points);
    out.push((scn.duration.as_secs_f64(), f64::NAN));
    out
}

/// Canvas size and grid columns for `n_facets` small multiples: the default 1200x800 while
/// they fit, taller beyond, so a scenario with many plans or clusters still renders.
fn facet_layout(n_facets: usize, max_columns: usize) -> (Size, usize) {
    let columns = match n_facets {
        0..=2 => 1,
        3..=6 => 2,
        _ => 3,
    }
    .min(max_columns.max(1));
    let rows = n_facets.div_ceil(columns).max(1) as u32;
    let height = (170 + rows * 220).clamp(super::charts::DEFAULT_HEIGHT, 8000);
    (
        Size {
            width: super::charts::DEFAULT_WIDTH,
            height,
        },
        columns,
    )
}

fn plan_name(scn: &Scenario, res: &PlanResult) -> String {
    scn.plans
        .get(res.plan)
        .map(|p| p.name.clone())
        .unwrap_or_else(|| format!("plan {}", res.plan))
}

/// A number without trailing zeros: 0.9 -> "0.9", 50 -> "50", 0.95 -> "0.95".
pub fn short_num(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".to_string();
    }
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

fn hit_ratio_spec(scn: &Scenario, results: &[PlanResult]) -> (BarChart, Option<CategoryTargets>) {
    let kss: Vec<usize> = (0..scn.keyspaces.len())
        .filter(|&ki| has_hit_ratio(&scn.keyspaces[ki]))
        .collect();
    let categories = kss
        .iter()
        .map(|&ki| scn.keyspaces[ki].name.clone())
        .collect();
    let targets: Vec<Option<f64>> = kss
        .iter()
        .map(|&ki| scn.slo.hit_ratio_min.get(ki).copied().flatten())
        .collect();
    let groups = results
        .iter()
        .map(|res| BarGroup {
            name: plan_name(scn, res),
            values: kss
                .iter()
                .map(|&ki| hit_ratio(scn, res, ki).unwrap_or(f64::NAN))
                .collect(),
            errors: None,
        })
        .collect();
    let has_slo = targets.iter().any(Option::is_some);
    let spec = BarChart {
        title: "Hit ratio per keyspace and plan".into(),
        categories,
        groups,
        x_label: "keyspace".into(),
        y_label: "hit ratio (Redis hits / requests)".into(),
        y_scale: Scale::Linear,
        ref_lines: Vec::new(),
        size: Size::default(),
    };
    let targets = has_slo.then(|| CategoryTargets {
        label: "SLO minimum".into(),
        values: targets,
    });
    (spec, targets)
}

fn latency_quantiles_spec(
    scn: &Scenario,
    results: &[PlanResult],
) -> (QuantileChart, Option<CategoryTargets>) {
    let kss: Vec<usize> = (0..scn.keyspaces.len())
        .filter(|&ki| {
            results.iter().any(|r| {
                r.keyspaces
                    .get(ki)
                    .is_some_and(|m| !m.latency_us.is_empty())
            })
        })
        .collect();
    let categories = kss
        .iter()
        .map(|&ki| scn.keyspaces[ki].name.clone())
        .collect();
    let targets: Vec<Option<f64>> = kss
        .iter()
        .map(|&ki| scn.slo.latency_p99_ms_max.get(ki).copied().flatten())
        .collect();
    let groups = results
        .iter()
        .map(|res| QuantileGroup {
            name: plan_name(scn, res),
            values: kss
                .iter()
                .map(|&ki| {
                    QUANTILES
                        .iter()
                        .map(|(q, _)| {
                            res.keyspaces
                                .get(ki)
                                .and_then(|m| quantile_ms(&m.latency_us, *q))
                                .unwrap_or(f64::NAN)
                        })
                        .collect()
                })
                .collect(),
        })
        .collect();
    let has_slo = targets.iter().any(Option::is_some);
    let spec = QuantileChart {
        title: "End-to-end latency quantiles per keyspace and plan".into(),
        categories,
        quantiles: QUANTILES.iter().map(|(_, l)| l.to_string()).collect(),
        groups,
        x_label: "keyspace".into(),
        y_label: "latency (ms, log scale)".into(),
        y_scale: Scale::Log,
        ref_lines: Vec::new(),
        size: Size::default(),
    };
    let targets = has_slo.then(|| CategoryTargets {
        label: "p99 SLO maximum".into(),
        values: targets,
    });
    (spec, targets)
}

/// The faults that hit plan `res` as shaded intervals (x in seconds), as they happened in it
/// (a failover's end is drawn per run). Traffic bursts are left out: they are drawn as
/// keyspace bursts already.
pub fn fault_markers(scn: &Scenario, res: &PlanResult) -> Vec<EventMarker> {
    scn.faults
        .iter()
        .enumerate()
        .filter(|(_, f)| !matches!(f.kind, crate::scenario::FaultKind::TrafficBurst { .. }))
        .filter_map(|(fi, f)| {
            let o = res.faults.get(fi)?;
            o.applied.then(|| EventMarker::Interval {
                from: f.start.as_secs_f64(),
                to: o.end.min(scn.duration).as_secs_f64(),
                label: format!("fault: {}", f.name),
            })
        })
        .collect()
}

/// The keyspace with the highest end-to-end p99 in any plan (first on ties); `None` when no
/// keyspace recorded a latency.
pub fn keyspace_with_highest_p99(scn: &Scenario, results: &[PlanResult]) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for ki in 0..scn.keyspaces.len() {
        for res in results {
            let Some(p99) = res
                .keyspaces
                .get(ki)
                .and_then(|m| quantile_ms(&m.latency_us, 0.99))
            else {
                continue;
            };
            if best.is_none_or(|(_, b)| p99 > b) {
                best = Some((ki, p99));
            }
        }
    }
    best.map(|(ki, _)| ki)
}

/// CDF points (latency ms, cumulative fraction) of a histogram, one per recorded bucket.
pub fn cdf_points(h: &Histogram<u64>) -> Vec<(f64, f64)> {
    if h.is_empty() {
        return Vec::new();
    }
    let total = h.len() as f64;
    let mut seen = 0u64;
    let mut points = Vec::new();
    for v in h.iter_recorded() {
        seen += v.count_at_value();
        let ms = h.highest_equivalent(v.value_iterated_to()) as f64 / 1000.0;
        points.push((ms, (seen as f64 / total).min(1.0)));
    }
    points
}

fn latency_cdf_spec(scn: &Scenario, results: &[PlanResult], ki: usize, why: &str) -> CdfChart {
    let k = &scn.keyspaces[ki];
    let slo = scn.slo.latency_p99_ms_max.get(ki).copied().flatten();
    CdfChart {
        title: format!("End-to-end latency CDF of {} ({why})", k.name),
        x_label: "latency (ms, log scale)".into(),
        x_scale: Scale::Log,
        curves: results
            .iter()
            .map(|res| CdfCurve {
                name: plan_name(scn, res),
                points: res
                    .keyspaces
                    .get(ki)
                    .map(|m| cdf_points(&m.latency_us))
                    .unwrap_or_default(),
            })
            .collect(),
        quantile_guides: vec![0.5, 0.9, 0.99],
        ref_lines: slo
            .map(|v| vec![RefLine::new(v, format!("p99 SLO {} ms", short_num(v)))])
            .unwrap_or_default(),
        size: Size::default(),
    }
}

mod time;
use time::{evictions_spec, latency_p99_spec, memory_spec, origin_load_spec, shard_load_spec};
