//! Line charts over time: named series, instant and interval event markers, horizontal
//! reference lines, highlighted series, and facets in a grid sharing the x axis. Layout only;
//! no file IO.

use super::axis::{tick_label_width, usable, Axis, Frame};
use super::bars::draw_h_refs;
use super::canvas::{
    draw_title, no_data, palette, Anchor, Canvas, LegendEntry, SideLegend, Swatch, AXIS_TITLE_SIZE,
    INK, LEGEND_SIZE, MUTED, NOTE_SIZE,
};
use super::{ChartError, EventMarker, LineChart, Panel, Rendered, Scale, Series};
use plotters::style::RGBAColor;

/// Shading of interval markers.
const SHADE: RGBAColor = RGBAColor(0x88, 0x88, 0x88, 0.16);
/// Colour of instant markers.
const EVENT: RGBAColor = RGBAColor(0x44, 0x44, 0x44, 1.0);
/// Height of one row of event labels.
const EVENT_ROW_H: f64 = 20.0;

/// Colour and legend assignment by series name, in order of first appearance.
struct SeriesStyles {
    names: Vec<(String, usize, bool, bool)>, // name, palette index, highlight, dashed
}

impl SeriesStyles {
    fn new(facets: &[Panel]) -> SeriesStyles {
        let mut names: Vec<(String, usize, bool, bool)> = Vec::new();
        let mut next = 0usize;
        for s in facets.iter().flat_map(|p| &p.series) {
            if let Some(e) = names.iter_mut().find(|e| e.0 == s.name) {
                e.2 |= s.highlight;
                continue;
            }
            let idx = match s.color {
                Some(i) => i,
                None => {
                    let i = next;
                    next += 1;
                    i
                }
            };
            names.push((s.name.clone(), idx, s.highlight, s.dashed));
        }
        SeriesStyles { names }
    }

    fn color(&self, s: &Series) -> (RGBAColor, bool) {
        let (idx, dashed) = self
            .names
            .iter()
            .find(|e| e.0 == s.name)
            .map(|e| (e.1, e.3))
            .unwrap_or((0, false));
        // Past the palette, cycle colours but dash the second round so lines stay distinct.
        (
            palette(idx),
            s.dashed || dashed || idx >= super::canvas::PALETTE.len(),
        )
    }

    fn legend(&self) -> Vec<LegendEntry> {
        self.names
            .iter()
            .map(|(name, idx, hl, dashed)| LegendEntry {
                label: name.clone(),
                swatch: Swatch::Line {
                    color: palette(*idx),
                    width: if *hl { 5 } else { 2 },
                    dash: (*dashed || *idx >= super::canvas::PALETTE.len()).then_some((10.0, 6.0)),
                },
            })
            .collect()
    }
}

/// Pixel polylines of a series, split where y cannot be drawn, with runs of points on the same
/// pixel column reduced to their first, lowest, highest and last point.
fn pixel_runs(f: &Frame, points: &[(f64, f64)]) -> Vec<Vec<(f64, f64)>> {
    let mut pts: Vec<(f64, f64)> = points.iter().copied().filter(|p| p.0.is_finite()).collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut runs: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut cur: Vec<(f64, f64)> = Vec::new();
    let mut column: Vec<(f64, f64)> = Vec::new();
    let flush_column = |column: &mut Vec<(f64, f64)>, cur: &mut Vec<(f64, f64)>| {
        if column.is_empty() {
            return;
        }
        let first = column[0];
        let last = column[column.len() - 1];
        let lo = column
            .iter()
            .copied()
            .fold(first, |a, b| if b.1 < a.1 { b } else { a });
        let hi = column
            .iter()
            .copied()
            .fold(first, |a, b| if b.1 > a.1 { b } else { a });
        for p in [first, lo, hi, last] {
            if cur.last() != Some(&p) {
                cur.push(p);
            }
        }
        column.clear();
    };
    for (x, y) in pts {
        if !f.y.accepts(y) {
            flush_column(&mut column, &mut cur);
            if !cur.is_empty() {
                runs.push(std::mem::take(&mut cur));
            }
            continue;
        }
        let p = (f.px(x), f.py(y));
        if let Some(c0) = column.first() {
            if c0.0.round() != p.0.round() {
                flush_column(&mut column, &mut cur);
            }
        }
        column.push(p);
    }
    flush_column(&mut column, &mut cur);
    if !cur.is_empty() {
        runs.push(cur);
    }
    runs
}

fn draw_series(c: &mut Canvas, f: &Frame, s: &Series, color: RGBAColor, dashed: bool) {
    let width = if s.highlight { 5 } else { 2 };
    for run in pixel_runs(f, &s.points) {
        if run.len() == 1 {
            c.circle(run[0], if s.highlight { 5.0 } else { 3.5 }, color, true, 1);
        } else if dashed {
            c.dashed(&run, color, width, 10.0, 6.0);
        } else {
            c.line(&run, color, width);
        }
    }
}

/// Places event labels in rows at the top of a frame without overlapping each other.
struct LabelRows {
    rows: Vec<Vec<(f64, f64)>>,
}

impl LabelRows {
    fn place(&mut self, x0: f64, x1: f64) -> usize {
        for (i, row) in self.rows.iter_mut().enumerate() {
            if row.iter().all(|(a, b)| x1 + 6.0 < *a || x0 > *b + 6.0) {
                row.push((x0, x1));
                return i;
            }
        }
        if self.rows.len() < 4 {
            self.rows.push(vec![(x0, x1)]);
            return self.rows.len() - 1;
        }
        // Out of rows: stack on the last one rather than drop the label.
        let last = self.rows.len() - 1;
        self.rows[last].push((x0, x1));
        last
    }
}

fn draw_event_shapes(c: &mut Canvas, f: &Frame, markers: &[&EventMarker]) {
    for m in markers {
        match m {
            EventMarker::Interval { from, to, .. } => {
                if from.is_finite() && to.is_finite() {
                    let (a, b) = (f.px_in(from.min(*to)), f.px_in(from.max(*to)));
                    c.fill_rect((a, f.top + 1.0), (b.max(a + 2.0), f.bottom - 1.0), SHADE);
                }
            }
            EventMarker::Instant { at, .. } => {
                if at.is_finite() && f.x_contains(*at) {
                    let x = f.px(*at);
                    c.dashed(&[(x, f.top), (x, f.bottom)], EVENT, 2, 6.0, 4.0);
                }
            }
        }
    }
}

fn draw_event_labels(c: &mut Canvas, f: &Frame, markers: &[&EventMarker]) {
    let mut rows = LabelRows { rows: Vec::new() };
    for m in markers {
        let (x, label) = match m {
            EventMarker::Interval { from, to, label } => {
                let (a, b) = (from.min(*to), from.max(*to));
                // Label an interval only if it overlaps the axis, at its visible start.
                if !(a <= f.x.max && b >= f.x.min) {
                    continue;
                }
                (a.max(f.x.min), label)
            }
            EventMarker::Instant { at, label } => {
                if !f.x_contains(*at) {
                    continue;
                }
                (*at, label)
            }
        };
        if !x.is_finite() || label.is_empty() {
            continue;
        }
        let px = f.px_in(x);
        let text = c.fit_text(label, NOTE_SIZE, false, (f.right - f.left) * 0.45);
        let tw = c.text_width(&text, NOTE_SIZE, false);
        let (x0, anchor) = if px + 5.0 + tw <= f.right - 4.0 {
            (px + 5.0, Anchor::LEFT)
        } else {
            (px - 5.0 - tw, Anchor::RIGHT)
        };
        let row = rows.place(x0, x0 + tw);
        let y = f.top + 13.0 + EVENT_ROW_H * row as f64;
        let pos = if matches!(anchor, Anchor(plotters::style::text_anchor::HPos::Left, _)) {
            (x0, y)
        } else {
            (x0 + tw, y)
        };
        c.label_box(&text, pos, NOTE_SIZE, EVENT, anchor);
    }
}

/// The y axis of one facet (or of all facets when `panels` holds them all).
fn panel_axis(panels: &[&Panel], scale: Scale, target: usize) -> Option<Axis> {
    let values = usable(
        panels
            .iter()
            .flat_map(|p| p.series.iter().flat_map(|s| s.points.iter().map(|q| q.1))),
        scale,
    );
    if values.is_empty() {
        return None;
    }
    let mut all = values;
    all.extend(usable(
        panels
            .iter()
            .flat_map(|p| p.h_lines.iter().map(|r| r.value)),
        scale,
    ));
    Axis::for_values(&all, scale, false, target)
}

pub(super) fn time_lines(spec: &LineChart) -> Result<Rendered, ChartError> {
    let xs = usable(
        spec.facets
            .iter()
            .flat_map(|p| p.series.iter().flat_map(|s| s.points.iter().map(|q| q.0))),
        Scale::Linear,
    );
    let Some((x_lo, x_hi)) = super::axis::extent(&xs) else {
        return no_data(spec.size, &spec.title, "no series with points");
    };
    let mut c = Canvas::new(spec.size)?;
    let (w, h) = (c.w as f64, c.h as f64);
    let top = draw_title(&mut c, &spec.title) + 8.0;

    let styles = SeriesStyles::new(&spec.facets);
    let mut legend_entries = styles.legend();
    let mut right = w - 24.0;
    if legend_entries.len() > 1 {
        let max_rows = ((h - top - 20.0) / 26.0).floor().max(1.0) as usize;
        if legend_entries.len() > max_rows {
            let hidden = legend_entries.len() - (max_rows - 1);
            legend_entries.truncate(max_rows - 1);
            legend_entries.push(LegendEntry {
                label: format!("+{hidden} more"),
                swatch: Swatch::Box(RGBAColor(255, 255, 255, 0.0)),
            });
        }
        let legend = SideLegend::layout(&c, &legend_entries, w * 0.28);
        right -= legend.width;
        legend.draw(&mut c, right + 10.0, top);
    }

    let k = spec.facets.len();
    let cols = spec.columns.clamp(1, k);
    let rows = k.div_ceil(cols);
    let has_titles = spec.facets.iter().any(|p| !p.title.is_empty());
    let title_h = if has_titles { 26.0 } else { 0.0 };
    let x_title_h = if spec.x_label.is_empty() { 0.0 } else { 32.0 };
    let region_bottom = h - 14.0 - x_title_h - 28.0;
    let row_gap = 14.0;
    let panel_h =
        ((region_bottom - top) - rows as f64 * title_h - (rows - 1) as f64 * row_gap) / rows as f64;
    if panel_h < 40.0 {
        return Err(ChartError::InvalidSpec(format!(
            "{k} facets in {cols} columns do not fit a {}x{} canvas",
            c.w, c.h
        )));
    }
    let target = ((panel_h / 55.0).floor() as usize).clamp(2, 8);

    let x = Axis::linear_tight(x_lo, x_hi);
    let all: Vec<&Panel> = spec.facets.iter().collect();
    let shared = if spec.shared_y {
        panel_axis(&all, spec.y_scale, target)
    } else {
        None
    };
    let axes: Vec<Option<Axis>> = spec
        .facets
        .iter()
        .map(|p| shared.or_else(|| panel_axis(&[p], spec.y_scale, target)))
        .collect();
    let fallback = Axis::linear_nice(0.0, 1.0, true, target);
    let tick_w = axes
        .iter()
        .map(|a| tick_label_width(&c, &a.unwrap_or(fallback).ticks(target, false)))
        .fold(0.0, f64::max);
    let y_title_w = 24.0 + AXIS_TITLE_SIZE + 10.0;
    let col_gap = 16.0;
    let panel_left_pad = tick_w + 12.0;
    let col_w = (right - y_title_w - col_gap * (cols - 1) as f64) / cols as f64;
    let x_ticks = x.ticks(((col_w / 110.0).floor() as usize).clamp(2, 10), false);

    for (i, panel) in spec.facets.iter().enumerate() {
        let (r, col) = (i / cols, i % cols);
        let cell_left = y_title_w + col as f64 * (col_w + col_gap);
        let ptop = top + r as f64 * (title_h + panel_h + row_gap) + title_h;
        let axis = axes[i].unwrap_or(fallback);
        let f = Frame {
            left: cell_left + panel_left_pad,
            top: ptop,
            right: cell_left + col_w,
            bottom: ptop + panel_h,
            x,
            y: axis,
        };
        if !panel.title.is_empty() {
            let t = c.fit_text(&panel.title, LEGEND_SIZE, true, f.right - f.left);
            c.bold(&t, (f.left, ptop - 13.0), LEGEND_SIZE, INK, Anchor::LEFT);
        }
        let markers: Vec<&EventMarker> = spec.markers.iter().chain(&panel.markers).collect();
        f.y_grid(&mut c, &axis.ticks(target, false), true);
        let below_exists = i + cols < k;
        f.x_grid(&mut c, &x_ticks, !below_exists);
        draw_event_shapes(&mut c, &f, &markers);
        if axes[i].is_none() {
            c.text(
                "no data",
                ((f.left + f.right) / 2.0, (f.top + f.bottom) / 2.0),
                LEGEND_SIZE,
                MUTED,
                Anchor::CENTER,
            );
        }
        let mut order: Vec<&Series> = panel.series.iter().filter(|s| !s.highlight).collect();
        order.extend(panel.series.iter().filter(|s| s.highlight));
        for s in order {
            let (color, dashed) = styles.color(s);
            draw_series(&mut c, &f, s, color, dashed);
        }
        draw_h_refs(&mut c, &f, &panel.h_lines);
        f.border(&mut c);
        // Chart-wide event labels only in the top row; a facet's own markers in that facet.
        let labelled: Vec<&EventMarker> = if r == 0 {
            markers
        } else {
            panel.markers.iter().collect()
        };
        draw_event_labels(&mut c, &f, &labelled);
    }

    c.vtext(
        &spec.y_label,
        (24.0 + AXIS_TITLE_SIZE / 2.0, (top + region_bottom) / 2.0),
        AXIS_TITLE_SIZE,
        INK,
        Anchor::CENTER,
    );
    if !spec.x_label.is_empty() {
        c.text(
            &spec.x_label,
            (
                (y_title_w + panel_left_pad + right) / 2.0,
                h - 14.0 - x_title_h / 2.0,
            ),
            AXIS_TITLE_SIZE,
            INK,
            Anchor::CENTER,
        );
    }
    c.render()
}
