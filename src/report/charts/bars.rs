//! Category charts drawn with plotters' chart building: grouped bars (with error bars and
//! reference lines) and quantile markers (several quantiles per category and group on one
//! range stick), with per-category targets. The category labels under the plot are wrapped by
//! hand (see [`CategoryLabels`]). No file IO.

use super::backend::{render, Chart};
use super::style::{
    fit_text, fmt_tick, frame, label_box, legend, marker, no_data, palette, rgb, split_legend,
    style_mesh, text_style, text_width, titled, usable, value_range, with_axis, LabelBox,
    LegendEntry, Swatch, ValueAxis, AXIS_TITLE_SIZE, DASH, INK, MUTED, REF, SHAPES, TICK_SIZE,
};
use super::{BarChart, CategoryTargets, ChartError, QuantileChart, RefLine, Rendered, Scale};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::RGBAColor;

/// Band colour behind every other category.
const BAND: RGBAColor = rgb(0xF6, 0xF6, 0xF6);
/// Colour of per-category targets (black: reference lines are dark grey, series use colours).
const TARGET: RGBAColor = rgb(0x00, 0x00, 0x00);

/// The x axis of category charts: 0..n, category i in i..i+1, no ticks (labels by hand).
type CategoryAxis = RangedCoordf64;

/// What a category chart shares: title, categories, axis titles, legend, reference lines and
/// targets.
struct Frame<'a> {
    title: &'a str,
    categories: &'a [String],
    x_label: &'a str,
    y_label: &'a str,
    legend: Vec<LegendEntry>,
    ref_lines: &'a [RefLine],
    targets: Option<&'a CategoryTargets>,
}

/// Category labels under a plot, one or more lines each. Hand-written because plotters' mesh
/// draws each tick label as one line and cannot wrap a long keyspace name into its slot.
pub(super) struct CategoryLabels(Vec<Vec<String>>);

/// Line height of category labels.
const CAT_LINE_H: i32 = 19;

impl CategoryLabels {
    /// Each label split after `-`, `_`, `/`, `.` or at spaces into lines at most `slot_w`
    /// pixels wide (at most 3 lines; a piece wider than the slot is shortened).
    pub(super) fn wrap(labels: &[String], slot_w: f64) -> CategoryLabels {
        let avail = (slot_w - 6.0).max(20.0);
        let wrap_one = |label: &str| -> Vec<String> {
            let mut lines: Vec<String> = Vec::new();
            for tok in tokens(label) {
                let joined = match lines.last() {
                    Some(last) if last.ends_with(['-', '_', '/', '.']) => format!("{last}{tok}"),
                    Some(last) => format!("{last} {tok}"),
                    None => tok.clone(),
                };
                if !lines.is_empty() && text_width(&joined, TICK_SIZE, false) <= avail {
                    *lines.last_mut().expect("non-empty") = joined;
                } else {
                    lines.push(tok);
                }
            }
            if lines.len() > 3 {
                let rest = lines.split_off(2).concat();
                lines.push(rest);
            }
            lines
                .iter()
                .map(|l| fit_text(l, TICK_SIZE, false, avail))
                .collect()
        };
        CategoryLabels(labels.iter().map(|l| wrap_one(l)).collect())
    }

    /// Height in pixels below the plot.
    pub(super) fn height(&self) -> i32 {
        let lines = self.0.iter().map(Vec::len).max().unwrap_or(1) as i32;
        10 + lines * CAT_LINE_H
    }

    /// Draws label i centred under `x[i]` (pixels), starting at pixel row `top`.
    pub(super) fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        x: &[i32],
        top: i32,
    ) -> Result<(), ChartError> {
        let style = text_style(TICK_SIZE, INK).pos(Pos::new(HPos::Center, VPos::Center));
        for (lines, x) in self.0.iter().zip(x) {
            for (i, line) in lines.iter().enumerate() {
                let y = top + 8 + CAT_LINE_H * i as i32 + CAT_LINE_H / 2;
                root.draw(&Text::new(line.clone(), (*x, y), style.clone()))?;
            }
        }
        Ok(())
    }
}

/// Splits a label after `-`, `_`, `/`, `.` and at spaces.
fn tokens(label: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for ch in label.chars() {
        if ch == ' ' {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        cur.push(ch);
        if matches!(ch, '-' | '_' | '/' | '.') {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Builds the category chart: title, side legend, y mesh, bands behind every other category,
/// category labels, reference lines; returns the chart to draw data into.
fn category_chart<'a, DB: DrawingBackend, Y: ValueAxis>(
    root: &'a DrawingArea<DB, Shift>,
    f: &Frame<'_>,
    y: Y,
) -> Result<ChartContext<'a, DB, Cartesian2d<CategoryAxis, Y>>, ChartError> {
    let n = f.categories.len();
    let area = titled(root, f.title)?;
    let (area, legend_area) = split_legend(&area, &f.legend);
    let (w, _) = area.dim_in_pixel();
    let tick_w = y
        .key_points(8usize)
        .iter()
        .map(|v| text_width(&fmt_tick(v), TICK_SIZE, false))
        .fold(0.0, f64::max);
    let y_area = (tick_w + 18.0 + AXIS_TITLE_SIZE + 14.0).ceil() as u32;
    let plot_w = w as f64 - y_area as f64 - 8.0;
    let labels = CategoryLabels::wrap(f.categories, plot_w / n as f64);
    let x_title_h = if f.x_label.is_empty() { 0 } else { 34 };
    let x_axis = RangedCoordf64::from(0.0..n as f64);
    let mut chart = ChartBuilder::on(&area)
        .margin_right(8)
        .x_label_area_size(labels.height() + x_title_h)
        .y_label_area_size(y_area)
        .build_cartesian_2d(x_axis, y)?;
    let (y_lo, y_hi) = {
        let r = chart.y_range();
        (r.start, r.end)
    };
    chart.draw_series(
        (1..n)
            .step_by(2)
            .map(|i| Rectangle::new([(i as f64, y_lo), (i as f64 + 1.0, y_hi)], BAND.filled())),
    )?;
    let mut mesh = chart.configure_mesh();
    style_mesh(&mut mesh);
    mesh.disable_x_mesh()
        .x_labels(0)
        .y_labels(8)
        .y_label_formatter(&fmt_tick)
        .y_desc(f.y_label);
    if !f.x_label.is_empty() {
        mesh.x_desc(f.x_label);
    }
    mesh.draw()?;
    frame(&chart)?;
    let centers: Vec<i32> = (0..n)
        .map(|i| chart.backend_coord(&(i as f64 + 0.5, y_lo)).0)
        .collect();
    let bottom = chart.backend_coord(&(0.0, y_lo)).1;
    labels.draw(root, &centers, bottom)?;
    for r in f.ref_lines {
        if r.value.is_finite() && (y_lo..=y_hi).contains(&r.value) {
            chart.draw_series(DashedLineSeries::new(
                [(0.0, r.value), (n as f64, r.value)],
                DASH.0,
                DASH.1,
                REF.stroke_width(2),
            ))?;
        }
    }
    if let Some(strip) = legend_area {
        legend(&strip, &f.legend)?;
    }
    Ok(chart)
}

/// Renders a bar or quantile chart (both specs name these fields alike) showing `$marks`:
/// the legend names the groups (when there are several), then `$extra`, reference lines and
/// the target.
macro_rules! render_category {
    ($spec:expr, $targets:expr, $range:expr, $extra:expr, $marks:expr) => {{
        let spec = $spec;
        let mut frame = Frame {
            title: &spec.title,
            categories: &spec.categories,
            x_label: &spec.x_label,
            y_label: &spec.y_label,
            legend: Vec::new(),
            ref_lines: &spec.ref_lines,
            targets: $targets,
        };
        if spec.groups.len() > 1 {
            let names = spec.groups.iter().map(|g| g.name.clone());
            frame.legend.extend(
                names
                    .enumerate()
                    .map(|(i, name)| LegendEntry::new(name, Swatch::Box(palette(i)))),
            );
        }
        frame.legend.extend($extra);
        frame.legend.extend(frame_legend(&frame));
        let chart = Category {
            frame,
            scale: spec.y_scale,
            range: $range,
            marks: $marks,
        };
        render(spec.size, &chart)
    }};
}

/// Legend entries shared by both category charts: reference lines and the target.
fn frame_legend(f: &Frame<'_>) -> Vec<LegendEntry> {
    let mut out: Vec<LegendEntry> = f
        .ref_lines
        .iter()
        .map(|r| {
            LegendEntry::new(
                r.label.clone(),
                Swatch::Line {
                    color: REF,
                    width: 2,
                    dashed: true,
                },
            )
        })
        .collect();
    if let Some(t) = f.targets {
        if t.values.iter().any(Option::is_some) {
            out.push(LegendEntry::new(
                t.label.clone(),
                Swatch::Line {
                    color: TARGET,
                    width: 3,
                    dashed: true,
                },
            ));
        }
    }
    out
}

/// A dashed black bar across each category's slot at its target.
fn draw_targets<DB: DrawingBackend, Y: ValueAxis>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<CategoryAxis, Y>>,
    targets: Option<&CategoryTargets>,
) -> Result<(), ChartError> {
    let Some(t) = targets else {
        return Ok(());
    };
    let r = chart.y_range();
    for (ci, v) in t.values.iter().enumerate() {
        let Some(v) = v.filter(|v| v.is_finite() && (r.start..=r.end).contains(v)) else {
            continue;
        };
        let ends = [(ci as f64 + 0.04, v), (ci as f64 + 0.96, v)];
        chart.draw_series(LineSeries::new(ends, rgb(0xFF, 0xFF, 0xFF).stroke_width(6)))?;
        chart.draw_series(DashedLineSeries::new(ends, 8, 4, TARGET.stroke_width(3)))?;
    }
    Ok(())
}

/// "n/a" at the base of a missing bar.
fn missing<DB: DrawingBackend>(x: f64, base: f64) -> LabelBox<(f64, f64), DB> {
    label_box(
        "n/a",
        (x, base),
        (0, -12),
        (HPos::Center, VPos::Center),
        MUTED,
    )
}

fn check_len(what: &str, name: &str, got: usize, want: usize) -> Result<(), ChartError> {
    if got == want {
        Ok(())
    } else {
        Err(ChartError::InvalidSpec(format!(
            "{what} '{name}' has {got} values for {want} categories"
        )))
    }
}

fn check_targets(targets: Option<&CategoryTargets>, n: usize) -> Result<(), ChartError> {
    match targets {
        Some(t) => check_len("targets", &t.label, t.values.len(), n),
        None => Ok(()),
    }
}

/// The y range of a category chart: values, reference lines and targets; `None` when no value
/// can be placed.
fn y_range(
    values: Vec<f64>,
    refs: &[RefLine],
    targets: Option<&CategoryTargets>,
    scale: Scale,
) -> Option<(f64, f64)> {
    let mut all = usable(values, scale);
    if all.is_empty() {
        return None;
    }
    all.extend(usable(refs.iter().map(|r| r.value), scale));
    if let Some(t) = targets {
        all.extend(usable(t.values.iter().flatten().copied(), scale));
    }
    value_range(&all, scale, scale == Scale::Linear)
}

/// A category chart ready to draw: its frame, y range and what goes in it.
struct Category<'a> {
    frame: Frame<'a>,
    scale: Scale,
    range: (f64, f64),
    marks: Marks<'a>,
}

/// What a category chart shows per category and group.
enum Marks<'a> {
    Bars(&'a BarChart),
    Quantiles(&'a QuantileChart),
}

impl Chart for Category<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ChartError> {
        with_axis!(self.scale, self.range, |y| self.draw_on(root, y))
    }
}

impl Category<'_> {
    fn draw_on<DB: DrawingBackend, Y: ValueAxis>(
        &self,
        root: &DrawingArea<DB, Shift>,
        y: Y,
    ) -> Result<(), ChartError> {
        let mut chart = category_chart(root, &self.frame, y)?;
        match self.marks {
            Marks::Bars(spec) => draw_bars(&mut chart, spec)?,
            Marks::Quantiles(spec) => draw_quantiles(&mut chart, spec)?,
        }
        draw_targets(&mut chart, self.frame.targets)
    }
}

pub(super) fn grouped_bars(
    spec: &BarChart,
    targets: Option<&CategoryTargets>,
) -> Result<Rendered, ChartError> {
    let n = spec.categories.len();
    check_targets(targets, n)?;
    for g in &spec.groups {
        check_len("bar group", &g.name, g.values.len(), n)?;
        if let Some(e) = &g.errors {
            check_len("error bars of group", &g.name, e.len(), n)?;
        }
    }
    let no_data = |why| no_data(spec.size, &spec.title, why);
    if n == 0 || spec.groups.is_empty() {
        return no_data("no categories or no groups");
    }
    let mut values: Vec<f64> = Vec::new();
    for g in &spec.groups {
        values.extend(&g.values);
        for e in g.errors.iter().flatten().flatten() {
            values.extend([e.low, e.high]);
        }
    }
    let Some(range) = y_range(values, &spec.ref_lines, targets, spec.y_scale) else {
        return no_data("no value can be shown on this axis");
    };
    render_category!(spec, targets, range, [], Marks::Bars(spec))
}

/// Grouped bars with their error bars.
fn draw_bars<DB: DrawingBackend, Y: ValueAxis>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<CategoryAxis, Y>>,
    spec: &BarChart,
) -> Result<(), ChartError> {
    let r = chart.y_range();
    let base = if spec.y_scale == Scale::Linear {
        0.0f64.clamp(r.start, r.end)
    } else {
        r.start
    };
    let inner = 0.8;
    let bar_w = inner / spec.groups.len() as f64;
    let gap = bar_w * 0.06;
    for (gi, g) in spec.groups.iter().enumerate() {
        let color = palette(gi);
        for (ci, v) in g.values.iter().enumerate() {
            let x0 = ci as f64 + 0.5 - inner / 2.0 + gi as f64 * bar_w;
            let xm = x0 + bar_w / 2.0;
            if !(v.is_finite() && (spec.y_scale == Scale::Linear || *v > 0.0)) {
                chart.draw_series([missing(xm, base)])?;
                continue;
            }
            let v = v.clamp(r.start, r.end);
            // A zero bar still shows as a 2-pixel sliver so it is not mistaken for "missing".
            let height_px = chart.backend_coord(&(xm, base)).1 - chart.backend_coord(&(xm, v)).1;
            if height_px.abs() < 2 {
                let w_px = chart.backend_coord(&(x0 + bar_w - gap, base)).0
                    - chart.backend_coord(&(x0 + gap, base)).0;
                chart.draw_series([EmptyElement::at((x0 + gap, base))
                    + Rectangle::new([(0, -2), (w_px, 0)], color.filled())])?;
            } else {
                chart.draw_series([Rectangle::new(
                    [(x0 + gap, base), (x0 + bar_w - gap, v)],
                    color.filled(),
                )])?;
            }
            let err = g.errors.as_ref().and_then(|e| e[ci]);
            if let Some(e) = err.filter(|e| {
                [e.low, e.high]
                    .iter()
                    .all(|b| b.is_finite() && (spec.y_scale == Scale::Linear || *b > 0.0))
            }) {
                let cap =
                    chart.backend_coord(&(x0 + bar_w, base)).0 - chart.backend_coord(&(x0, base)).0;
                let (lo, hi) = (e.low.clamp(r.start, r.end), e.high.clamp(r.start, r.end));
                // Hand-written caps: plotters' ErrorBar element always marks the mean with
                // a circle, which reads as one more data point on top of the bar.
                let cap = (cap / 4).clamp(2, 8);
                let style = INK.stroke_width(2);
                chart.draw_series(LineSeries::new([(xm, lo), (xm, hi)], style))?;
                chart.draw_series([lo, hi].map(|end| {
                    EmptyElement::at((xm, end)) + PathElement::new(vec![(-cap, 0), (cap, 0)], style)
                }))?;
            }
        }
    }
    Ok(())
}

pub(super) fn quantile_markers(
    spec: &QuantileChart,
    targets: Option<&CategoryTargets>,
) -> Result<Rendered, ChartError> {
    let n = spec.categories.len();
    check_targets(targets, n)?;
    let nq = spec.quantiles.len();
    for g in &spec.groups {
        check_len("quantile group", &g.name, g.values.len(), n)?;
        for (ci, row) in g.values.iter().enumerate() {
            if row.len() != nq {
                return Err(ChartError::InvalidSpec(format!(
                    "quantile group '{}' category {ci} has {} values for {nq} quantiles",
                    g.name,
                    row.len(),
                )));
            }
        }
    }
    let no_data = |why| no_data(spec.size, &spec.title, why);
    if n == 0 || nq == 0 || spec.groups.is_empty() {
        return no_data("no categories, quantiles or groups");
    }
    let values: Vec<f64> = spec
        .groups
        .iter()
        .flat_map(|g| g.values.iter().flatten().copied())
        .collect();
    let Some(range) = y_range(values, &spec.ref_lines, targets, spec.y_scale) else {
        return no_data("no value can be shown on this axis");
    };
    let shapes = spec.quantiles.iter().enumerate().map(|(i, q)| {
        LegendEntry::new(
            q.clone(),
            Swatch::Marker(SHAPES[i % SHAPES.len()], rgb(0xBB, 0xBB, 0xBB)),
        )
    });
    render_category!(spec, targets, range, shapes, Marks::Quantiles(spec))
}

/// Quantile markers on a range stick per category and group.
fn draw_quantiles<DB: DrawingBackend, Y: ValueAxis>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<CategoryAxis, Y>>,
    spec: &QuantileChart,
) -> Result<(), ChartError> {
    let r = chart.y_range();
    let inner = 0.8;
    let col_w = inner / spec.groups.len() as f64;
    let col_px =
        (chart.backend_coord(&(col_w, r.start)).0 - chart.backend_coord(&(0.0, r.start)).0) as f64;
    let radius = (col_px * 0.28).clamp(3.0, 8.0);
    let shown = |v: &f64| v.is_finite() && (r.start..=r.end).contains(v);
    for (gi, g) in spec.groups.iter().enumerate() {
        let color = palette(gi);
        for (ci, row) in g.values.iter().enumerate() {
            let x = ci as f64 + 0.5 - inner / 2.0 + (gi as f64 + 0.5) * col_w;
            let ys: Vec<f64> = row.iter().copied().filter(shown).collect();
            let Some((lo, hi)) = super::style::extent(&ys) else {
                chart.draw_series([missing(x, r.start)])?;
                continue;
            };
            chart.draw_series(LineSeries::new([(x, lo), (x, hi)], color.stroke_width(3)))?;
            chart.draw_series(
                row.iter()
                    .enumerate()
                    .filter(|(_, v)| shown(v))
                    .map(|(qi, v)| marker(SHAPES[qi % SHAPES.len()], (x, *v), radius, color)),
            )?;
        }
    }
    Ok(())
}
