//! Chart rendering for run reports. This module owns the look of every chart: layout, axes,
//! the colour-blind-safe palette (Okabe-Ito), the embedded DejaVu Sans font and the SVG and PNG
//! encodings. It is pure: each function takes a plain data spec and returns the rendered chart
//! in memory. It must not touch files (the report writer does that) and must not depend on
//! simulation types: callers convert their results into these specs.
//!
//! Each chart kind (`bars`, `lines`, `cdf`, `heatmap`, `scatter`) is built with plotters'
//! `ChartBuilder` in one drawing function generic over the backend (`backend::Chart`), run once
//! onto the SVG backend and once onto the bitmap backend, so the SVG and the PNG show the same
//! picture. Hand-written drawing is kept only where plotters cannot do the job, and each such
//! place says why.
//!
//! Rendering is deterministic: the same spec gives byte-identical SVG and PNG. Empty or
//! degenerate input (no series, NaN values, a single point) renders a valid chart, at worst one
//! saying "no data"; inconsistent specs (a value row whose length does not match its labels)
//! return [`ChartError::InvalidSpec`].

mod backend;
mod bars;
mod cdf;
mod heatmap;
mod lines;
mod scatter;
mod style;
#[cfg(test)]
mod tests;

use std::fmt;

/// Default canvas width in pixels.
pub const DEFAULT_WIDTH: u32 = 1200;
/// Default canvas height in pixels.
pub const DEFAULT_HEIGHT: u32 = 800;

/// A rendered chart: the same picture as SVG text and as PNG bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    /// The chart as a standalone SVG document.
    pub svg: String,
    /// The chart as a PNG image (8-bit RGB).
    pub png: Vec<u8>,
}

/// Why a chart could not be rendered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChartError {
    /// The spec is inconsistent (for example a value row shorter than its label list).
    InvalidSpec(String),
    /// The drawing backend failed.
    Draw(String),
    /// PNG encoding failed.
    Encode(String),
}

impl fmt::Display for ChartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChartError::InvalidSpec(m) => write!(f, "invalid chart spec: {m}"),
            ChartError::Draw(m) => write!(f, "chart drawing failed: {m}"),
            ChartError::Encode(m) => write!(f, "PNG encoding failed: {m}"),
        }
    }
}

impl std::error::Error for ChartError {}

/// Canvas size in pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Size {
    /// Width in pixels (200..=8000).
    pub width: u32,
    /// Height in pixels (150..=8000).
    pub height: u32,
}

impl Default for Size {
    fn default() -> Self {
        Size {
            width: DEFAULT_WIDTH,
            height: DEFAULT_HEIGHT,
        }
    }
}

/// How a numeric axis maps values to positions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Scale {
    /// Evenly spaced values.
    #[default]
    Linear,
    /// Base-10 logarithmic; values that are not positive are left out.
    Log,
}

/// A labelled reference line across a plot (an SLO target, maxmemory, an SLO latency).
#[derive(Clone, Debug, PartialEq)]
pub struct RefLine {
    /// Where the line sits, in axis units.
    pub value: f64,
    /// Short label printed next to the line, e.g. "target 0.90".
    pub label: String,
}

impl RefLine {
    /// A reference line at `value` labelled `label`.
    pub fn new(value: f64, label: impl Into<String>) -> RefLine {
        RefLine {
            value,
            label: label.into(),
        }
    }
}

/// A two-sided interval drawn as an error bar (absolute bounds, not offsets).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ErrorBar {
    /// Lower bound, in axis units.
    pub low: f64,
    /// Upper bound, in axis units.
    pub high: f64,
}

/// One group of bars in a [`BarChart`]: a plan, say, with one value per category.
#[derive(Clone, Debug, PartialEq)]
pub struct BarGroup {
    /// Legend name, e.g. "separated".
    pub name: String,
    /// One value per category, in category order; NaN marks a missing value ("n/a").
    pub values: Vec<f64>,
    /// Optional confidence intervals, one per category (`None` entries draw no bar).
    pub errors: Option<Vec<Option<ErrorBar>>>,
}

/// Grouped bars: categories along x, one bar per group within each category.
#[derive(Clone, Debug, PartialEq)]
pub struct BarChart {
    /// Chart title.
    pub title: String,
    /// Category labels along x (long labels are wrapped at `-`, `_`, `/`, `.`, spaces or turned
    /// vertical).
    pub categories: Vec<String>,
    /// Bar groups, one colour each (1-6 groups read well).
    pub groups: Vec<BarGroup>,
    /// X axis title, e.g. "keyspace"; empty for none.
    pub x_label: String,
    /// Y axis title with unit, e.g. "hit ratio" or "p99 latency (ms)".
    pub y_label: String,
    /// Linear or log y axis.
    pub y_scale: Scale,
    /// Horizontal reference lines, e.g. an SLO target.
    pub ref_lines: Vec<RefLine>,
    /// Canvas size.
    pub size: Size,
}

/// Several quantiles per category and group, drawn as markers on a shared range stick: one
/// marker shape per quantile, one colour per group. Reads better than five bar panels when
/// values span decades (use [`Scale::Log`]).
#[derive(Clone, Debug, PartialEq)]
pub struct QuantileChart {
    /// Chart title.
    pub title: String,
    /// Category labels along x.
    pub categories: Vec<String>,
    /// Quantile names in increasing order, e.g. `["p50", "p90", "p99", "p99.9", "max"]` (at
    /// most 6 marker shapes; more are drawn with repeated shapes).
    pub quantiles: Vec<String>,
    /// Groups (plans), one colour each.
    pub groups: Vec<QuantileGroup>,
    /// X axis title; empty for none.
    pub x_label: String,
    /// Y axis title with unit, e.g. "latency (ms)".
    pub y_label: String,
    /// Linear or log y axis.
    pub y_scale: Scale,
    /// Horizontal reference lines, e.g. a latency SLO.
    pub ref_lines: Vec<RefLine>,
    /// Canvas size.
    pub size: Size,
}

/// One group of a [`QuantileChart`].
#[derive(Clone, Debug, PartialEq)]
pub struct QuantileGroup {
    /// Legend name, e.g. "one-giant-cluster".
    pub name: String,
    /// `values[category][quantile]`; NaN marks a missing value.
    pub values: Vec<Vec<f64>>,
}

/// One named line of (x, y) points.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    /// Legend name. Series with the same name in different facets share a colour and a
    /// single legend entry.
    pub name: String,
    /// Points in x order; NaN (or, on a log axis, non-positive) y breaks the line.
    pub points: Vec<(f64, f64)>,
    /// Draw thicker and on top (e.g. critical keyspaces).
    pub highlight: bool,
    /// Draw dashed (e.g. to tell plans apart when colour encodes the origin).
    pub dashed: bool,
    /// Palette index to force a colour; `None` assigns colours by first appearance of the name.
    pub color: Option<usize>,
}

/// A vertical event marker on a time axis.
#[derive(Clone, Debug, PartialEq)]
pub enum EventMarker {
    /// An instant event, drawn as a dashed vertical line.
    Instant {
        /// When, in x units (seconds).
        at: f64,
        /// Short label, e.g. "price-book update".
        label: String,
    },
    /// An interval, drawn shaded, e.g. "shard 2 down".
    Interval {
        /// Start, in x units.
        from: f64,
        /// End, in x units.
        to: f64,
        /// Short label.
        label: String,
    },
}

/// One facet (small multiple) of a [`LineChart`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Panel {
    /// Facet title, e.g. the plan or shard name; empty for none.
    pub title: String,
    /// The lines in this facet.
    pub series: Vec<Series>,
    /// Horizontal lines in this facet (e.g. maxmemory).
    pub h_lines: Vec<RefLine>,
    /// Event markers for this facet only (chart-wide markers go in [`LineChart::markers`]).
    pub markers: Vec<EventMarker>,
}

/// Lines over time, optionally as facets sharing the x axis.
#[derive(Clone, Debug, PartialEq)]
pub struct LineChart {
    /// Chart title.
    pub title: String,
    /// X axis title with unit, e.g. "simulated time (s)".
    pub x_label: String,
    /// Y axis title with unit, e.g. "origin load (req/s)".
    pub y_label: String,
    /// Linear or log y axis.
    pub y_scale: Scale,
    /// One or more facets; a single facet is a plain chart.
    pub facets: Vec<Panel>,
    /// Facet grid columns (0 or 1 = stacked vertically).
    pub columns: usize,
    /// Use one y range for all facets (compare magnitudes) instead of one per facet.
    pub shared_y: bool,
    /// Event markers drawn in every facet.
    pub markers: Vec<EventMarker>,
    /// Canvas size.
    pub size: Size,
}

/// One line of a [`CdfChart`].
#[derive(Clone, Debug, PartialEq)]
pub struct CdfCurve {
    /// Legend name, e.g. the plan.
    pub name: String,
    /// (value, cumulative fraction in 0..=1) points, sorted by value. Drawn as a step function.
    pub points: Vec<(f64, f64)>,
}

impl CdfCurve {
    /// The empirical CDF of `samples` (NaN samples are dropped).
    pub fn from_samples(name: impl Into<String>, samples: &[f64]) -> CdfCurve {
        let mut v: Vec<f64> = samples.iter().copied().filter(|x| !x.is_nan()).collect();
        v.sort_by(|a, b| a.total_cmp(b));
        let n = v.len() as f64;
        let mut points: Vec<(f64, f64)> = Vec::with_capacity(v.len());
        for (i, x) in v.iter().enumerate() {
            let f = (i + 1) as f64 / n;
            match points.last_mut() {
                Some(last) if last.0 == *x => last.1 = f,
                _ => points.push((*x, f)),
            }
        }
        CdfCurve {
            name: name.into(),
            points,
        }
    }
}

/// Cumulative distribution lines, e.g. latency per plan for one keyspace.
#[derive(Clone, Debug, PartialEq)]
pub struct CdfChart {
    /// Chart title.
    pub title: String,
    /// X axis title with unit, e.g. "latency (ms)".
    pub x_label: String,
    /// X scale; latency reads best on [`Scale::Log`].
    pub x_scale: Scale,
    /// One curve per plan.
    pub curves: Vec<CdfCurve>,
    /// Dotted horizontal guides at these fractions, labelled as percentiles (e.g. 0.5, 0.99).
    pub quantile_guides: Vec<f64>,
    /// Vertical reference lines, e.g. the latency SLO.
    pub ref_lines: Vec<RefLine>,
    /// Canvas size.
    pub size: Size,
}

/// A matrix of values over two parameters with a sequential (viridis) colour scale.
#[derive(Clone, Debug, PartialEq)]
pub struct Heatmap {
    /// Chart title.
    pub title: String,
    /// X axis title, e.g. "shards".
    pub x_label: String,
    /// Y axis title, e.g. "maxmemory per shard (GB)".
    pub y_label: String,
    /// Column labels, left to right.
    pub x_values: Vec<String>,
    /// Row labels, bottom to top.
    pub y_values: Vec<String>,
    /// `values[row][column]`, rows in `y_values` order; NaN cells show "n/a".
    pub values: Vec<Vec<f64>>,
    /// Colour bar title with unit, e.g. "hit ratio".
    pub value_label: String,
    /// Decimals printed in each cell.
    pub decimals: usize,
    /// Reverse the colour scale (when low values are the good ones, e.g. latency).
    pub reverse: bool,
    /// Canvas size.
    pub size: Size,
}

/// One evaluated configuration in a [`PassFailScatter`].
#[derive(Clone, Debug, PartialEq)]
pub struct ScatterPoint {
    /// X value (shards).
    pub x: f64,
    /// Y value (memory per shard, GB).
    pub y: f64,
    /// Whether the configuration met every SLO.
    pub pass: bool,
}

/// Capacity frontier: configurations marked pass/fail, optionally one highlighted as chosen.
#[derive(Clone, Debug, PartialEq)]
pub struct PassFailScatter {
    /// Chart title.
    pub title: String,
    /// X axis title, e.g. "shards".
    pub x_label: String,
    /// Y axis title with unit, e.g. "memory per shard (GB)".
    pub y_label: String,
    /// The evaluated configurations.
    pub points: Vec<ScatterPoint>,
    /// Index into `points` of the chosen configuration, highlighted and annotated.
    pub chosen: Option<usize>,
    /// Draw the frontier: the smallest passing y at each x.
    pub frontier: bool,
    /// Draw the Pareto front instead (cost on x, margin on y): the points no other point
    /// beats with a lower-or-equal x and a higher-or-equal y.
    pub pareto: bool,
    /// Only integer ticks on x (shard counts).
    pub integer_x: bool,
    /// Canvas size.
    pub size: Size,
}

/// One target per category of a bar or quantile chart (an SLO that differs by keyspace),
/// drawn as a dashed black bar across the category and named once in the legend.
#[derive(Clone, Debug, PartialEq)]
pub struct CategoryTargets {
    /// Legend label, e.g. "SLO minimum".
    pub label: String,
    /// One entry per category, in category order; `None` draws nothing there.
    pub values: Vec<Option<f64>>,
}

/// Renders grouped bars (one bar per group within each category).
pub fn grouped_bars(spec: &BarChart) -> Result<Rendered, ChartError> {
    bars::grouped_bars(spec, None)
}

/// Renders grouped bars with a per-category target (e.g. a hit-ratio SLO per keyspace).
pub fn grouped_bars_with_targets(
    spec: &BarChart,
    targets: &CategoryTargets,
) -> Result<Rendered, ChartError> {
    bars::grouped_bars(spec, Some(targets))
}

/// Renders several quantiles per category and group as markers on range sticks.
pub fn quantile_markers(spec: &QuantileChart) -> Result<Rendered, ChartError> {
    bars::quantile_markers(spec, None)
}

/// Renders quantile markers with a per-category target (e.g. a p99 SLO per keyspace).
pub fn quantile_markers_with_targets(
    spec: &QuantileChart,
    targets: &CategoryTargets,
) -> Result<Rendered, ChartError> {
    bars::quantile_markers(spec, Some(targets))
}

/// Renders named lines over x (time), with event markers and optional facets.
pub fn time_lines(spec: &LineChart) -> Result<Rendered, ChartError> {
    lines::time_lines(spec)
}

/// Renders cumulative distribution curves.
pub fn cdf(spec: &CdfChart) -> Result<Rendered, ChartError> {
    cdf::cdf(spec)
}

/// Renders a heatmap with a colour bar and the value printed in each cell.
pub fn heatmap(spec: &Heatmap) -> Result<Rendered, ChartError> {
    heatmap::heatmap(spec)
}

/// Renders the pass/fail capacity scatter.
pub fn scatter_pass_fail(spec: &PassFailScatter) -> Result<Rendered, ChartError> {
    scatter::scatter_pass_fail(spec)
}
