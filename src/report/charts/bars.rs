//! Category charts: grouped bars (with error bars and reference lines) and quantile markers
//! (several quantiles per category and group on one range stick). Layout only; no file IO.

use super::axis::{tick_label_width, usable, Axis, CategoryLabels, Frame};
use super::canvas::{
    draw_title, no_data, palette, rgb, Anchor, Canvas, LegendEntry, Swatch, TopLegend,
    AXIS_TITLE_SIZE, INK, MUTED, NOTE_SIZE, REF, SHAPES,
};
use super::{BarChart, CategoryTargets, ChartError, QuantileChart, RefLine, Rendered, Scale};

/// Band colour behind every other category.
const BAND: plotters::style::RGBAColor = rgb(0xF6, 0xF6, 0xF6);

/// The shared frame of a category chart after the axes are drawn.
struct CategoryPlot {
    frame: Frame,
    centers: Vec<f64>,
    slot: f64,
}

struct CategorySpec<'a> {
    title: &'a str,
    categories: &'a [String],
    legend: Vec<LegendEntry>,
    x_label: &'a str,
    y_label: &'a str,
    y: Axis,
}

/// Title, legend, y grid, category bands and labels, axis titles; returns the frame to draw
/// data into.
fn category_plot(c: &mut Canvas, spec: &CategorySpec<'_>) -> CategoryPlot {
    let (w, h) = (c.w as f64, c.h as f64);
    let mut top = draw_title(c, spec.title);
    if !spec.legend.is_empty() {
        let legend = TopLegend::layout(c, &spec.legend, w - 80.0);
        legend.draw(c, w / 2.0, top);
        top += legend.height();
    }
    top += 14.0;
    let ticks = spec.y.ticks(8, false);
    let left = 24.0 + AXIS_TITLE_SIZE + 12.0 + tick_label_width(c, &ticks) + 12.0;
    let right = w - 30.0;
    let n = spec.categories.len().max(1);
    let slot = (right - left) / n as f64;
    let labels = CategoryLabels::layout(c, spec.categories, slot, h * 0.3);
    let x_title_h = if spec.x_label.is_empty() { 0.0 } else { 34.0 };
    let bottom = h - 16.0 - x_title_h - labels.height(c);
    let frame = Frame {
        left,
        top,
        right,
        bottom,
        x: Axis::linear_tight(0.0, n as f64),
        y: spec.y,
    };
    let centers: Vec<f64> = (0..n).map(|i| left + slot * (i as f64 + 0.5)).collect();
    for i in (1..n).step_by(2) {
        let x0 = left + slot * i as f64;
        c.fill_rect((x0, top), (x0 + slot, bottom), BAND);
    }
    frame.y_grid(c, &ticks, true);
    frame.border(c);
    labels.draw(c, &centers, bottom);
    c.vtext(
        spec.y_label,
        (24.0 + AXIS_TITLE_SIZE / 2.0, (top + bottom) / 2.0),
        AXIS_TITLE_SIZE,
        INK,
        Anchor::CENTER,
    );
    if !spec.x_label.is_empty() {
        c.text(
            spec.x_label,
            ((left + right) / 2.0, h - 16.0 - x_title_h / 2.0),
            AXIS_TITLE_SIZE,
            INK,
            Anchor::CENTER,
        );
    }
    CategoryPlot {
        frame,
        centers,
        slot,
    }
}

/// Dash patterns of reference lines, so several can be told apart in a legend.
const REF_DASHES: [(f64, f64); 3] = [(10.0, 6.0), (3.0, 4.0), (18.0, 5.0)];

/// Dashed horizontal reference lines with their labels at the right end.
pub(super) fn draw_h_refs(c: &mut Canvas, f: &Frame, refs: &[RefLine]) {
    for r in refs {
        if !f.y_contains(r.value) {
            continue;
        }
        let y = f.py(r.value);
        c.dashed(&[(f.left, y), (f.right, y)], REF, 2, 10.0, 6.0);
        // Above the line, unless that would cross the frame's top (facet titles sit there).
        let label_y = if y - 13.0 - NOTE_SIZE / 2.0 < f.top {
            y + 13.0
        } else {
            y - 13.0
        };
        c.label_box(
            &r.label,
            (f.right - 8.0, label_y),
            NOTE_SIZE,
            REF,
            Anchor::RIGHT,
        );
    }
}

/// Reference lines labelled through the legend (no text over the bars).
fn draw_h_refs_plain(c: &mut Canvas, f: &Frame, refs: &[RefLine]) {
    for (i, r) in refs.iter().enumerate() {
        if f.y_contains(r.value) {
            let y = f.py(r.value);
            let (on, off) = REF_DASHES[i % REF_DASHES.len()];
            c.dashed(&[(f.left, y), (f.right, y)], REF, 2, on, off);
        }
    }
}

/// Legend entries for reference lines.
fn ref_legend(refs: &[RefLine]) -> impl Iterator<Item = LegendEntry> + '_ {
    refs.iter().enumerate().map(|(i, r)| LegendEntry {
        label: r.label.clone(),
        swatch: Swatch::Line {
            color: REF,
            width: 2,
            dash: Some(REF_DASHES[i % REF_DASHES.len()]),
        },
    })
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

/// The y axis for category charts; `None` when no value can be placed.
fn y_axis(values: Vec<f64>, refs: &[RefLine], scale: Scale) -> Option<Axis> {
    let data = usable(values, scale);
    if data.is_empty() {
        return None;
    }
    let mut all = data;
    all.extend(usable(refs.iter().map(|r| r.value), scale));
    Axis::for_values(&all, scale, scale == Scale::Linear, 8)
}

/// "n/a" at the base of a missing bar.
fn missing(c: &mut Canvas, x: f64, base: f64, bar_w: f64) {
    if c.text_width("n/a", NOTE_SIZE, false) + 2.0 <= bar_w {
        c.text("n/a", (x, base - 12.0), NOTE_SIZE, MUTED, Anchor::CENTER);
    } else {
        c.vtext("n/a", (x, base - 4.0), NOTE_SIZE, MUTED, Anchor::LEFT);
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
    if n == 0 || spec.groups.is_empty() {
        return no_data(spec.size, &spec.title, "no categories or no groups");
    }
    let mut values: Vec<f64> = Vec::new();
    for g in &spec.groups {
        values.extend(&g.values);
        for e in g.errors.iter().flatten().flatten() {
            values.push(e.low);
            values.push(e.high);
        }
    }
    values.extend(target_values(targets));
    let Some(y) = y_axis(values, &spec.ref_lines, spec.y_scale) else {
        return no_data(spec.size, &spec.title, "no value can be shown on this axis");
    };
    let mut c = Canvas::new(spec.size)?;
    let mut legend: Vec<LegendEntry> = Vec::new();
    if spec.groups.len() > 1 {
        legend.extend(spec.groups.iter().enumerate().map(|(i, g)| LegendEntry {
            label: g.name.clone(),
            swatch: Swatch::Box(palette(i)),
        }));
    }
    legend.extend(ref_legend(&spec.ref_lines));
    legend.extend(target_legend(targets));
    let plot = category_plot(
        &mut c,
        &CategorySpec {
            title: &spec.title,
            categories: &spec.categories,
            legend,
            x_label: &spec.x_label,
            y_label: &spec.y_label,
            y,
        },
    );
    let f = plot.frame;
    let base = match y.scale {
        Scale::Linear => f.py_in(0.0),
        Scale::Log => f.bottom,
    };
    let inner = plot.slot * 0.8;
    let bar_w = inner / spec.groups.len() as f64;
    let gap = if bar_w > 8.0 { 2.0 } else { 0.0 };
    for (gi, g) in spec.groups.iter().enumerate() {
        let col = palette(gi);
        for (ci, v) in g.values.iter().enumerate() {
            let x0 = plot.centers[ci] - inner / 2.0 + gi as f64 * bar_w;
            let xm = x0 + bar_w / 2.0;
            if !y.accepts(*v) {
                missing(&mut c, xm, base, bar_w);
                continue;
            }
            // A zero bar still shows as a 2-pixel sliver so it is not mistaken for "missing".
            let top = f.py_in(*v);
            let top = if (base - top).abs() < 2.0 {
                base - 2.0
            } else {
                top
            };
            c.fill_rect((x0 + gap / 2.0, top), (x0 + bar_w - gap / 2.0, base), col);
            let err = g.errors.as_ref().and_then(|e| e[ci]);
            if let Some(e) = err {
                if y.accepts(e.low) && y.accepts(e.high) {
                    let (ylo, yhi) = (f.py_in(e.low), f.py_in(e.high));
                    let cap = (bar_w * 0.25).clamp(2.0, 8.0);
                    c.line(&[(xm, ylo), (xm, yhi)], INK, 2);
                    c.line(&[(xm - cap, ylo), (xm + cap, ylo)], INK, 2);
                    c.line(&[(xm - cap, yhi), (xm + cap, yhi)], INK, 2);
                }
            }
        }
    }
    draw_h_refs_plain(&mut c, &f, &spec.ref_lines);
    draw_targets(&mut c, &plot, targets);
    c.render()
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
                    "quantile group '{}' category {} has {} values for {} quantiles",
                    g.name,
                    ci,
                    row.len(),
                    nq
                )));
            }
        }
    }
    if n == 0 || nq == 0 || spec.groups.is_empty() {
        return no_data(spec.size, &spec.title, "no categories, quantiles or groups");
    }
    let values: Vec<f64> = spec
        .groups
        .iter()
        .flat_map(|g| g.values.iter().flatten().copied())
        .chain(target_values(targets))
        .collect();
    let Some(y) = y_axis(values, &spec.ref_lines, spec.y_scale) else {
        return no_data(spec.size, &spec.title, "no value can be shown on this axis");
    };
    let mut c = Canvas::new(spec.size)?;
    let mut legend: Vec<LegendEntry> = Vec::new();
    if spec.groups.len() > 1 {
        legend.extend(spec.groups.iter().enumerate().map(|(i, g)| LegendEntry {
            label: g.name.clone(),
            swatch: Swatch::Box(palette(i)),
        }));
    }
    legend.extend(spec.quantiles.iter().enumerate().map(|(i, q)| LegendEntry {
        label: q.clone(),
        swatch: Swatch::Marker(SHAPES[i % SHAPES.len()], rgb(0xBB, 0xBB, 0xBB)),
    }));
    legend.extend(ref_legend(&spec.ref_lines));
    legend.extend(target_legend(targets));
    let plot = category_plot(
        &mut c,
        &CategorySpec {
            title: &spec.title,
            categories: &spec.categories,
            legend,
            x_label: &spec.x_label,
            y_label: &spec.y_label,
            y,
        },
    );
    let f = plot.frame;
    let inner = plot.slot * 0.8;
    let col_w = inner / spec.groups.len() as f64;
    let r = (col_w * 0.28).clamp(3.0, 8.0);
    for (gi, g) in spec.groups.iter().enumerate() {
        let col = palette(gi);
        for (ci, row) in g.values.iter().enumerate() {
            let x = plot.centers[ci] - inner / 2.0 + (gi as f64 + 0.5) * col_w;
            let ys: Vec<f64> = row.iter().copied().filter(|v| y.accepts(*v)).collect();
            if ys.is_empty() {
                missing(&mut c, x, f.bottom, col_w);
                continue;
            }
            let lo = ys.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = ys.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            c.line(&[(x, f.py_in(lo)), (x, f.py_in(hi))], col, 3);
            for (qi, v) in row.iter().enumerate() {
                if y.accepts(*v) {
                    c.marker(SHAPES[qi % SHAPES.len()], (x, f.py_in(*v)), r, col);
                }
            }
        }
    }
    draw_h_refs_plain(&mut c, &f, &spec.ref_lines);
    draw_targets(&mut c, &plot, targets);
    c.render()
}

/// Colour of per-category targets (black: reference lines are dark grey, series use colours).
const TARGET: plotters::style::RGBAColor = rgb(0x00, 0x00, 0x00);

fn check_targets(targets: Option<&CategoryTargets>, n: usize) -> Result<(), ChartError> {
    match targets {
        Some(t) => check_len("targets", &t.label, t.values.len(), n),
        None => Ok(()),
    }
}

fn target_values(targets: Option<&CategoryTargets>) -> Vec<f64> {
    targets
        .map(|t| t.values.iter().flatten().copied().collect())
        .unwrap_or_default()
}

fn target_legend(targets: Option<&CategoryTargets>) -> Option<LegendEntry> {
    let t = targets?;
    t.values.iter().any(Option::is_some).then(|| LegendEntry {
        label: t.label.clone(),
        swatch: Swatch::Line {
            color: TARGET,
            width: 3,
            dash: Some((8.0, 4.0)),
        },
    })
}

/// A dashed black bar across each category's slot at its target.
fn draw_targets(c: &mut Canvas, plot: &CategoryPlot, targets: Option<&CategoryTargets>) {
    let Some(t) = targets else {
        return;
    };
    let f = &plot.frame;
    let half = plot.slot * 0.46;
    for (ci, v) in t.values.iter().enumerate() {
        let Some(v) = v else {
            continue;
        };
        if !f.y_contains(*v) {
            continue;
        }
        let y = f.py_in(*v);
        let x = plot.centers[ci];
        c.line(&[(x - half, y), (x + half, y)], rgb(0xFF, 0xFF, 0xFF), 6);
        c.dashed(&[(x - half, y), (x + half, y)], TARGET, 3, 8.0, 4.0);
    }
}
