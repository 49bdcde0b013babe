//! The charts' shared look on top of plotters: the Okabe-Ito palette, colours, font sizes,
//! axis ranges, the mesh style, the side legend (plotters' series labels), marker shapes,
//! annotation labels, compact value labels, and the "no data" chart. No file IO.

use super::backend::Chart;
use super::{ChartError, Rendered, Scale, Size};
use plotters::chart::{ChartContext, MeshStyle, SeriesLabelPosition};
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::Shift;
use plotters::element::ComposedElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontDesc, FontFamily, FontStyle, RGBAColor};
use plotters_backend::BackendCoord;

/// Okabe-Ito colours in the order series use them (yellow and black last: weak on white / used
/// for reference lines).
pub(super) const PALETTE: [(u8, u8, u8); 8] = [
    (0x00, 0x72, 0xB2), // blue
    (0xE6, 0x9F, 0x00), // orange
    (0x00, 0x9E, 0x73), // bluish green
    (0xD5, 0x5E, 0x00), // vermillion
    (0x56, 0xB4, 0xE9), // sky blue
    (0xCC, 0x79, 0xA7), // reddish purple
    (0xF0, 0xE4, 0x42), // yellow
    (0x00, 0x00, 0x00), // black
];

/// The palette colour for series index `i` (cycles).
pub(super) fn palette(i: usize) -> RGBAColor {
    let (r, g, b) = PALETTE[i % PALETTE.len()];
    RGBAColor(r, g, b, 1.0)
}

/// An opaque colour from RGB.
pub(super) const fn rgb(r: u8, g: u8, b: u8) -> RGBAColor {
    RGBAColor(r, g, b, 1.0)
}

/// Text colour.
pub(super) const INK: RGBAColor = rgb(0x22, 0x22, 0x22);
/// Secondary text colour.
pub(super) const MUTED: RGBAColor = rgb(0x66, 0x66, 0x66);
/// Grid line colour.
const GRID: RGBAColor = rgb(0xE2, 0xE2, 0xE2);
/// Minor grid line colour.
const GRID_MINOR: RGBAColor = rgb(0xF1, 0xF1, 0xF1);
/// Plot frame colour.
pub(super) const FRAME: RGBAColor = rgb(0x55, 0x55, 0x55);
/// Reference line colour.
pub(super) const REF: RGBAColor = rgb(0x33, 0x33, 0x33);

/// Title size (plotters units: roughly the line height in pixels).
pub(super) const TITLE_SIZE: f64 = 28.0;
/// Axis title size.
pub(super) const AXIS_TITLE_SIZE: f64 = 20.0;
/// Tick label size.
pub(super) const TICK_SIZE: f64 = 17.0;
/// Legend text size.
pub(super) const LEGEND_SIZE: f64 = 17.0;
/// Small annotation size (reference line and marker labels).
pub(super) const NOTE_SIZE: f64 = 15.0;
/// Dash pattern (on, off) in pixels of dashed series and reference lines.
pub(super) const DASH: (u32, u32) = (10, 6);

/// The embedded sans-serif font at `size`.
pub(super) fn font(size: f64, bold: bool) -> FontDesc<'static> {
    let style = if bold {
        FontStyle::Bold
    } else {
        FontStyle::Normal
    };
    FontDesc::new(FontFamily::SansSerif, size, style)
}

/// A text style: the embedded font at `size` in `color`.
pub(super) fn text_style(size: f64, color: RGBAColor) -> TextStyle<'static> {
    font(size, false).color(&color)
}

/// Width of `text` in pixels at `size`.
pub(super) fn text_width(text: &str, size: f64, bold: bool) -> f64 {
    match font(size, bold).layout_box(text) {
        Ok(((x0, _), (x1, _))) => (x1 - x0) as f64,
        Err(_) => size * 0.6 * text.chars().count() as f64,
    }
}

/// `text` shortened with an ellipsis so it fits in `max_w` pixels.
pub(super) fn fit_text(text: &str, size: f64, bold: bool, max_w: f64) -> String {
    if text_width(text, size, bold) <= max_w {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    (0..chars.len())
        .rev()
        .map(|n| chars[..n].iter().collect::<String>() + "…")
        .find(|c| text_width(c, size, bold) <= max_w)
        .unwrap_or_default()
}

/// Draws the chart title (shrunk to fit the width) and returns the area below it.
pub(super) fn titled<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
) -> Result<DrawingArea<DB, Shift>, ChartError> {
    let max_w = root.dim_in_pixel().0 as f64 - 40.0;
    let mut size = TITLE_SIZE;
    while size > 14.0 && text_width(title, size, true) > max_w {
        size -= 1.0;
    }
    let t = fit_text(title, size, true, max_w);
    let below = root.titled(&t, font(size, true).color(&INK))?;
    Ok(below.margin(6, 14, 14, 24))
}

/// Finite values of an iterator, and for log scales only positive ones.
pub(super) fn usable(values: impl IntoIterator<Item = f64>, scale: Scale) -> Vec<f64> {
    values
        .into_iter()
        .filter(|v| v.is_finite() && (scale == Scale::Linear || *v > 0.0))
        .collect()
}

/// The smallest and largest of `values`, if any.
pub(super) fn extent(values: &[f64]) -> Option<(f64, f64)> {
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (lo.is_finite() && hi.is_finite()).then_some((lo, hi))
}

/// The axis range that shows `values` (already filtered with [`usable`]): on a linear axis the
/// data with 5 % room, never below zero for values that are not negative (from zero when
/// `include_zero`), on a log axis whole decades, so plotters'
/// log ticks (at powers of ten) always have two to label. `None` when `values` is empty.
pub(super) fn value_range(values: &[f64], scale: Scale, include_zero: bool) -> Option<(f64, f64)> {
    let (lo, hi) = extent(values)?;
    Some(match scale {
        Scale::Linear => {
            let (lo, hi) = if include_zero {
                (lo.min(0.0), hi.max(0.0))
            } else {
                (lo, hi)
            };
            if lo == hi {
                let d = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
                // Do not invent negative values around a single non-negative one.
                let low = if lo >= 0.0 { (lo - d).max(0.0) } else { lo - d };
                (low, hi + d)
            } else {
                let pad = (hi - lo) * 0.05;
                // Values that are not negative (counts, rates, memory) keep zero at the bottom.
                let low = if lo >= 0.0 {
                    (lo - pad).max(0.0)
                } else {
                    lo - pad
                };
                (low, hi + pad)
            }
        }
        Scale::Log => {
            let a = lo.log10().floor();
            let b = hi.log10().ceil().max(a + 1.0);
            (10f64.powf(a), 10f64.powf(b))
        }
    })
}

/// A numeric axis of plotters for `f64` values (linear or log), as the charts' drawing
/// functions take it.
pub(super) trait ValueAxis: Ranged<ValueType = f64> + ValueFormatter<f64> {}

impl<T> ValueAxis for T where T: Ranged<ValueType = f64> + ValueFormatter<f64> {}

/// Calls `draw` with the plotters axis for `scale` over `lo..hi`: a linear `RangedCoordf64` or
/// a base-10 `LogCoord`.
macro_rules! with_axis {
    ($scale:expr, $range:expr, |$axis:ident| $body:expr) => {{
        let (lo, hi): (f64, f64) = $range;
        match $scale {
            $crate::report::charts::Scale::Linear => {
                let $axis = plotters::coord::types::RangedCoordf64::from(lo..hi);
                $body
            }
            $crate::report::charts::Scale::Log => {
                let $axis = plotters::coord::combinators::LogCoord::<f64>::from(
                    plotters::coord::combinators::IntoLogRange::log_scale(lo..hi),
                );
                $body
            }
        }
    }};
}
pub(super) use with_axis;

/// The shared mesh look: tick labels, axis titles, grid and frame colours, compact labels.
pub(super) fn style_mesh<X, Y, DB>(m: &mut MeshStyle<'_, '_, X, Y, DB>)
where
    X: Ranged,
    Y: Ranged,
    DB: DrawingBackend,
{
    m.label_style(text_style(TICK_SIZE, INK))
        .axis_desc_style(text_style(AXIS_TITLE_SIZE, INK))
        .bold_line_style(GRID)
        .light_line_style(GRID_MINOR)
        .max_light_lines(4)
        .axis_style(FRAME);
}

/// Tick labels of value axes: [`fmt_value`].
pub(super) fn fmt_tick(v: &f64) -> String {
    fmt_value(*v)
}

/// A value formatted for a label: about three significant digits, k/M/G suffix for large
/// values, trailing zeros trimmed. Hand-written: plotters' default formatting prints floats in
/// full ("12000.000000001").
pub(super) fn fmt_value(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".to_string();
    }
    let a = v.abs();
    let (x, suffix) = if a >= 1e10 {
        (v / 1e9, "G")
    } else if a >= 1e7 {
        (v / 1e6, "M")
    } else if a >= 1e4 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let ax = x.abs();
    if ax < 1e-12 {
        return "0".to_string();
    }
    let decimals = if ax >= 100.0 {
        0
    } else {
        (2.0 - ax.log10().floor()).clamp(0.0, 6.0) as usize
    };
    let s = format!("{x:.decimals$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    s + suffix
}

/// Draws a frame around the plotting area (plotters' mesh draws only the left and bottom axes).
pub(super) fn frame<DB: DrawingBackend, CT: CoordTranslate>(
    chart: &ChartContext<'_, DB, CT>,
) -> Result<(), ChartError> {
    let area = chart.plotting_area().strip_coord_spec();
    let (w, h) = area.dim_in_pixel();
    area.draw(&Rectangle::new(
        [(0, 0), (w as i32 - 1, h as i32 - 1)],
        FRAME.stroke_width(1),
    ))?;
    Ok(())
}

/// Marker shapes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Shape {
    Circle,
    Square,
    TriangleUp,
    Diamond,
    TriangleDown,
    Cross,
}

/// Shapes in the order quantiles (or other categorical marks) use them.
pub(super) const SHAPES: [Shape; 6] = [
    Shape::Circle,
    Shape::TriangleUp,
    Shape::Square,
    Shape::Diamond,
    Shape::TriangleDown,
    Shape::Cross,
];

/// A marker drawn at a point: a filled polygon and its outline, in pixels around the point.
pub(super) type Marker<C, DB> =
    ComposedElement<C, DB, Polygon<BackendCoord>, PathElement<BackendCoord>>;

/// A marker of `shape` with radius `r` pixels at `at` (chart or pixel coordinates), filled in
/// `color` with a thin dark outline. Every shape is a polygon so that markers of all shapes
/// are one element type (plotters' dynamic elements need a `'static` backend, and its
/// circle, triangle and cross elements are three types).
pub(super) fn marker<C, DB: DrawingBackend>(
    shape: Shape,
    at: C,
    r: f64,
    color: RGBAColor,
) -> Marker<C, DB> {
    let p = |x: f64, y: f64| (x.round() as i32, y.round() as i32);
    let pts: Vec<(i32, i32)> = match shape {
        Shape::Circle => (0..24)
            .map(|i| {
                let a = i as f64 * std::f64::consts::TAU / 24.0;
                p(r * a.cos(), r * a.sin())
            })
            .collect(),
        Shape::Cross => {
            // The union of two diagonal bars of half-thickness `s`, clipped to |x|, |y| <= d.
            let d = r * 0.85;
            let s = (r * 0.55).max(2.0) * std::f64::consts::FRAC_1_SQRT_2;
            [
                (0.0, -s),
                (d - s, -d),
                (d, -d),
                (d, -d + s),
                (s, 0.0),
                (d, d - s),
                (d, d),
                (d - s, d),
                (0.0, s),
                (-d + s, d),
                (-d, d),
                (-d, d - s),
                (-s, 0.0),
                (-d, -d + s),
                (-d, -d),
                (-d + s, -d),
            ]
            .iter()
            .map(|&(x, y)| p(x, y))
            .collect()
        }
        Shape::Square => {
            let d = r * 0.85;
            vec![p(-d, -d), p(d, -d), p(d, d), p(-d, d)]
        }
        Shape::Diamond => {
            let d = r * 1.2;
            vec![p(0.0, -d), p(d, 0.0), p(0.0, d), p(-d, 0.0)]
        }
        Shape::TriangleUp => {
            let d = r * 1.15;
            vec![p(0.0, -d), p(d, d * 0.8), p(-d, d * 0.8)]
        }
        Shape::TriangleDown => {
            let d = r * 1.15;
            vec![p(0.0, d), p(d, -d * 0.8), p(-d, -d * 0.8)]
        }
    };
    let outline = if shape == Shape::Cross {
        color.stroke_width(1)
    } else {
        RGBAColor(0x22, 0x22, 0x22, 0.9).stroke_width(1)
    };
    let mut closed = pts.clone();
    closed.push(pts[0]);
    EmptyElement::at(at) + Polygon::new(pts, color.filled()) + PathElement::new(closed, outline)
}

/// A label on a white box: see [`label_box`].
pub(super) type LabelBox<C, DB> =
    ComposedElement<C, DB, Rectangle<BackendCoord>, Text<'static, BackendCoord, String>>;

/// `text` at `at` (chart coordinates) moved by `offset` pixels, on a white, slightly
/// transparent box so it stays readable over lines. Hand-written: plotters' text elements have
/// no background.
pub(super) fn label_box<C, DB: DrawingBackend>(
    text: &str,
    at: C,
    offset: (i32, i32),
    anchor: (HPos, VPos),
    color: RGBAColor,
) -> LabelBox<C, DB> {
    let w = text_width(text, NOTE_SIZE, false).ceil() as i32;
    let h = (NOTE_SIZE * 0.9).round() as i32;
    let x0 = match anchor.0 {
        HPos::Left => offset.0,
        HPos::Center => offset.0 - w / 2,
        HPos::Right => offset.0 - w,
    };
    let y0 = match anchor.1 {
        VPos::Top => offset.1,
        VPos::Center => offset.1 - h / 2,
        VPos::Bottom => offset.1 - h,
    };
    let style = text_style(NOTE_SIZE, color).pos(Pos::new(anchor.0, anchor.1));
    EmptyElement::at(at)
        + Rectangle::new(
            [(x0 - 3, y0 - 2), (x0 + w + 3, y0 + h + 2)],
            RGBAColor(255, 255, 255, 0.85).filled(),
        )
        + Text::new(text.to_string(), offset, style)
}

/// What a legend entry shows next to its label.
#[derive(Clone, Debug)]
pub(super) enum Swatch {
    /// A filled box (bars, heatmap).
    Box(RGBAColor),
    /// A line sample, dashed or solid.
    Line {
        color: RGBAColor,
        width: u32,
        dashed: bool,
    },
    /// A marker.
    Marker(Shape, RGBAColor),
    /// A hollow ring (highlighted point).
    Ring(RGBAColor),
    /// Nothing (a "+3 more" line).
    Blank,
}

/// One legend entry.
#[derive(Clone, Debug)]
pub(super) struct LegendEntry {
    /// Label text.
    pub label: String,
    /// Sample.
    pub swatch: Swatch,
}

impl LegendEntry {
    /// An entry labelled `label` showing `swatch`.
    pub fn new(label: impl Into<String>, swatch: Swatch) -> LegendEntry {
        LegendEntry {
            label: label.into(),
            swatch,
        }
    }
}

/// Length of a legend swatch in pixels.
const SWATCH_W: i32 = 30;

/// Width of the side legend for `entries` (labels longer than `max_w` are shortened).
fn legend_width(entries: &[LegendEntry], max_w: f64) -> u32 {
    let widest = entries
        .iter()
        .map(|e| text_width(&fit_label(&e.label, max_w), LEGEND_SIZE, false))
        .fold(0.0, f64::max);
    (widest + LEGEND_PAD).ceil() as u32
}

/// Room a legend entry needs beside its label: the swatch, margins and a gap.
const LEGEND_PAD: f64 = SWATCH_W as f64 + 8.0 + 2.0 * 6.0 + 6.0;

fn fit_label(label: &str, max_w: f64) -> String {
    fit_text(label, LEGEND_SIZE, false, max_w - LEGEND_PAD)
}

/// Splits a side legend strip off the right of `area` when there are `entries`: returns the
/// area left for the plot and the strip.
pub(super) fn split_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[LegendEntry],
) -> (DrawingArea<DB, Shift>, Option<DrawingArea<DB, Shift>>) {
    if entries.is_empty() {
        return (area.clone(), None);
    }
    let (w, _) = area.dim_in_pixel();
    let (plot, strip) = area.split_horizontally(w - legend_width(entries, legend_max(w)));
    (plot, Some(strip))
}

/// The widest a side legend may be on an area `w` pixels wide.
fn legend_max(w: u32) -> f64 {
    (w as f64 * 0.3).max(150.0)
}

/// Draws `entries` as plotters' series labels of a chart of its own on the legend strip
/// `area` (plotters keeps an element's anchor inside its drawing area, so a legend beside the
/// plot cannot belong to the plot's chart). Each entry is registered on an empty series, so
/// the legend can name things that are not series (reference lines, targets, marker shapes).
pub(super) fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[LegendEntry],
) -> Result<(), ChartError> {
    if entries.is_empty() {
        return Ok(());
    }
    // The strip is as wide as its longest (shortened) label needs.
    let max_w = area.dim_in_pixel().0 as f64 + 1.0;
    let mut chart = ChartBuilder::on(area).build_cartesian_2d(0.0..1.0, 0.0..1.0)?;
    for e in entries {
        let anno = chart
            .draw_series(std::iter::empty::<EmptyElement<(f64, f64), DB>>())?
            .label(fit_label(&e.label, max_w));
        match e.swatch {
            Swatch::Box(c) => anno.legend(move |p| {
                EmptyElement::at(p) + Rectangle::new([(6, -8), (SWATCH_W - 6, 8)], c.filled())
            }),
            Swatch::Line {
                color,
                width,
                dashed: false,
            } => anno.legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + SWATCH_W, y)], color.stroke_width(width))
            }),
            Swatch::Line {
                color,
                width,
                dashed: true,
            } => anno.legend(move |p| {
                let style = color.stroke_width(width);
                EmptyElement::at(p)
                    + PathElement::new(vec![(0, 0), (10, 0)], style)
                    + PathElement::new(vec![(16, 0), (SWATCH_W, 0)], style)
            }),
            Swatch::Marker(shape, c) => {
                anno.legend(move |(x, y)| marker(shape, (x + SWATCH_W / 2, y), 6.0, c))
            }
            Swatch::Ring(c) => anno.legend(move |p| {
                EmptyElement::at(p) + Circle::new((SWATCH_W / 2, 0), 9, c.stroke_width(3))
            }),
            Swatch::Blank => anno.legend(EmptyElement::at),
        };
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .legend_area_size(SWATCH_W + 8)
        .margin(6)
        .label_font(text_style(LEGEND_SIZE, INK))
        .draw()?;
    Ok(())
}

/// Renders a chart of `size` with only `title` and a framed "no data" message saying `why`.
pub(super) fn no_data(size: Size, title: &str, why: &str) -> Result<Rendered, ChartError> {
    super::backend::render(size, &NoData { title, why })
}

/// A chart with only a title and a framed "no data" message.
struct NoData<'a> {
    /// The chart's title.
    pub title: &'a str,
    /// Why there is nothing to show.
    pub why: &'a str,
}

impl Chart for NoData<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ChartError> {
        let area = titled(root, self.title)?;
        let (w, h) = area.dim_in_pixel();
        let (w, h) = (w as i32, h as i32);
        area.draw(&Rectangle::new([(40, 10), (w - 40, h - 40)], GRID))?;
        let center = Pos::new(HPos::Center, VPos::Center);
        area.draw(&Text::new(
            "no data",
            (w / 2, h / 2),
            text_style(TITLE_SIZE, MUTED).pos(center),
        ))?;
        area.draw(&Text::new(
            self.why.to_string(),
            (w / 2, h / 2 + 36),
            text_style(LEGEND_SIZE, MUTED).pos(center),
        ))?;
        Ok(())
    }
}
