//! Line charts over time drawn with plotters' chart building: named series, instant and
//! interval event markers, horizontal reference lines, highlighted series, and facets (one
//! plotters chart per cell of `split_evenly`) sharing the x axis. No file IO.

use super::backend::{render, Chart};
use super::style::{
    extent, fmt_tick, frame, label_box, legend, no_data, palette, split_legend, style_mesh,
    text_style, text_width, titled, usable, value_range, with_axis, LegendEntry, Swatch, ValueAxis,
    AXIS_TITLE_SIZE, DASH, INK, LEGEND_SIZE, MUTED, NOTE_SIZE, PALETTE, REF, TICK_SIZE,
};
use super::{ChartError, EventMarker, LineChart, Panel, RefLine, Rendered, Scale, Series};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::RGBAColor;

/// Shading of interval markers.
const SHADE: RGBAColor = RGBAColor(0x88, 0x88, 0x88, 0.16);
/// Colour of instant markers.
const EVENT: RGBAColor = RGBAColor(0x44, 0x44, 0x44, 1.0);
/// Height of one row of event labels.
const EVENT_ROW_H: i32 = 20;
/// Height of a facet's title.
const FACET_TITLE_H: u32 = 26;
/// Height of the x axis title row.
const X_TITLE_H: u32 = 34;
/// Height of the tick labels under a plot.
const X_TICKS_H: u32 = 30;

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
            let idx = s.color.unwrap_or_else(|| {
                next += 1;
                next - 1
            });
            // Past the palette, colours cycle but the second round is dashed.
            names.push((
                s.name.clone(),
                idx,
                s.highlight,
                s.dashed || idx >= PALETTE.len(),
            ));
        }
        SeriesStyles { names }
    }

    /// The colour of series `s` and whether it is dashed.
    fn of(&self, s: &Series) -> (RGBAColor, bool) {
        let (idx, dashed) = self
            .names
            .iter()
            .find(|e| e.0 == s.name)
            .map_or((0, false), |e| (e.1, e.3));
        (palette(idx), s.dashed || dashed)
    }

    fn legend(&self) -> Vec<LegendEntry> {
        self.names
            .iter()
            .map(|(name, idx, hl, dashed)| {
                LegendEntry::new(
                    name.clone(),
                    Swatch::Line {
                        color: palette(*idx),
                        width: if *hl { 5 } else { 2 },
                        dashed: *dashed,
                    },
                )
            })
            .collect()
    }
}

/// A line chart ready to draw.
struct Lines<'a> {
    spec: &'a LineChart,
    styles: SeriesStyles,
    x: (f64, f64),
    /// Each facet's y range; `None`: the facet has no value to show.
    y: Vec<Option<(f64, f64)>>,
    columns: usize,
}

/// The y range of facets (of all of them when `panels` holds them all).
fn panel_range(panels: &[&Panel], scale: Scale) -> Option<(f64, f64)> {
    let mut values = usable(
        panels
            .iter()
            .flat_map(|p| p.series.iter().flat_map(|s| s.points.iter().map(|q| q.1))),
        scale,
    );
    if values.is_empty() {
        return None;
    }
    values.extend(usable(
        panels
            .iter()
            .flat_map(|p| p.h_lines.iter().map(|r| r.value)),
        scale,
    ));
    value_range(&values, scale, false)
}

pub(super) fn time_lines(spec: &LineChart) -> Result<Rendered, ChartError> {
    let xs = usable(
        spec.facets
            .iter()
            .flat_map(|p| p.series.iter().flat_map(|s| s.points.iter().map(|q| q.0))),
        Scale::Linear,
    );
    let Some((x_lo, x_hi)) = extent(&xs) else {
        return no_data(spec.size, &spec.title, "no series with points");
    };
    let k = spec.facets.len();
    let columns = spec.columns.clamp(1, k);
    let rows = k.div_ceil(columns) as u32;
    let title_h = if spec.facets.iter().any(|p| !p.title.is_empty()) {
        FACET_TITLE_H
    } else {
        0
    };
    let fixed = 70 + X_TITLE_H + X_TICKS_H + rows * title_h;
    if spec.size.height < fixed + rows * 40 {
        return Err(ChartError::InvalidSpec(format!(
            "{k} facets in {columns} columns do not fit a {}x{} canvas",
            spec.size.width, spec.size.height
        )));
    }
    let x = if x_lo == x_hi {
        let d = if x_lo == 0.0 { 1.0 } else { x_lo.abs() * 0.1 };
        ((x_lo - d).max(0.0f64.min(x_lo)), x_hi + d)
    } else {
        (x_lo, x_hi)
    };
    let all: Vec<&Panel> = spec.facets.iter().collect();
    let shared = if spec.shared_y {
        panel_range(&all, spec.y_scale)
    } else {
        None
    };
    let y = spec
        .facets
        .iter()
        .map(|p| shared.or_else(|| panel_range(&[p], spec.y_scale)))
        .collect();
    render(
        spec.size,
        &Lines {
            spec,
            styles: SeriesStyles::new(&spec.facets),
            x,
            y,
            columns,
        },
    )
}

impl Chart for Lines<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ChartError> {
        let spec = self.spec;
        let area = titled(root, &spec.title)?;
        let (_, h) = area.dim_in_pixel();
        let mut entries = self.styles.legend();
        if entries.len() > 1 {
            let max_rows = ((h as f64 - 20.0) / 26.0).floor().max(1.0) as usize;
            if entries.len() > max_rows {
                let hidden = entries.len() - (max_rows - 1);
                entries.truncate(max_rows - 1);
                entries.push(LegendEntry::new(format!("+{hidden} more"), Swatch::Blank));
            }
        } else {
            entries.clear();
        }
        let (plots, legend_area) = split_legend(&area, &entries);
        let h = plots.dim_in_pixel().1;
        let (plots, x_title) = if spec.x_label.is_empty() {
            (plots.clone(), None)
        } else {
            let (p, t) = plots.split_vertically(h - X_TITLE_H);
            (p, Some(t))
        };
        let (y_title, grid) = plots.split_horizontally(AXIS_TITLE_SIZE as u32 + 14);
        let (yt_w, yt_h) = y_title.dim_in_pixel();
        let vertical = text_style(AXIS_TITLE_SIZE, INK)
            .transform(FontTransform::Rotate270)
            .pos(Pos::new(HPos::Center, VPos::Center));
        y_title.draw(&Text::new(
            spec.y_label.clone(),
            (yt_w as i32 / 2, yt_h as i32 / 2),
            vertical,
        ))?;
        let tick_w = self
            .y
            .iter()
            .map(|r| {
                let r = r.unwrap_or((1.0, 10.0));
                with_axis!(self.spec.y_scale, r, |y| tick_width(&y))
            })
            .fold(0.0, f64::max);
        let y_area = (tick_w + 14.0).ceil() as u32;
        let cells = grid.split_evenly((spec.facets.len().div_ceil(self.columns), self.columns));
        for (i, (panel, cell)) in spec.facets.iter().zip(&cells).enumerate() {
            let facet = Facet {
                panel,
                row: i / self.columns,
                has_below: i + self.columns < spec.facets.len(),
                y_area,
            };
            match self.y[i] {
                Some(r) => with_axis!(spec.y_scale, r, |y| self.facet(cell, &facet, y))?,
                None => self.facet(cell, &facet, RangedCoordf64::from(0.0..1.0))?,
            }
        }
        if let Some(strip) = legend_area {
            legend(&strip, &entries)?;
        }
        if let Some(t) = x_title {
            let (tw, th) = t.dim_in_pixel();
            let left = (AXIS_TITLE_SIZE as u32 + 14 + y_area) as i32;
            t.draw(&Text::new(
                spec.x_label.clone(),
                ((left + tw as i32) / 2, th as i32 / 2),
                text_style(AXIS_TITLE_SIZE, INK).pos(Pos::new(HPos::Center, VPos::Center)),
            ))?;
        }
        Ok(())
    }
}

/// Width of the widest tick label plotters will draw on `axis`.
fn tick_width<Y: ValueAxis>(axis: &Y) -> f64 {
    axis.key_points(8usize)
        .iter()
        .map(|v| text_width(&fmt_tick(v), TICK_SIZE, false))
        .fold(0.0, f64::max)
}

/// One facet's place in the grid.
struct Facet<'a> {
    panel: &'a Panel,
    row: usize,
    has_below: bool,
    y_area: u32,
}

impl Lines<'_> {
    fn facet<DB: DrawingBackend, Y: ValueAxis>(
        &self,
        cell: &DrawingArea<DB, Shift>,
        facet: &Facet<'_>,
        y: Y,
    ) -> Result<(), ChartError> {
        let spec = self.spec;
        let panel = facet.panel;
        let mut builder = ChartBuilder::on(cell);
        builder
            .margin(6)
            .x_label_area_size(if facet.has_below { 0 } else { X_TICKS_H })
            .y_label_area_size(facet.y_area);
        if !panel.title.is_empty() {
            let (cw, _) = cell.dim_in_pixel();
            let t = super::style::fit_text(&panel.title, LEGEND_SIZE, true, cw as f64 - 20.0);
            builder.caption(t, super::style::font(LEGEND_SIZE, true).color(&INK));
        }
        let mut chart = builder.build_cartesian_2d(self.x.0..self.x.1, y)?;
        let mut mesh = chart.configure_mesh();
        style_mesh(&mut mesh);
        mesh.x_labels(((cell.dim_in_pixel().0 as f64 / 110.0) as usize).clamp(2, 10))
            .y_labels(8)
            .x_label_formatter(&fmt_tick)
            .y_label_formatter(&fmt_tick)
            .draw()?;
        let (y_lo, y_hi) = {
            let r = chart.y_range();
            (r.start, r.end)
        };
        let (x_lo, x_hi) = self.x;
        let markers: Vec<&EventMarker> = spec.markers.iter().chain(&panel.markers).collect();
        // Interval shading under the data, instants over it.
        for m in &markers {
            if let EventMarker::Interval { from, to, .. } = m {
                if from.is_finite() && to.is_finite() {
                    let a = from.min(*to).clamp(x_lo, x_hi);
                    let b = from.max(*to).clamp(x_lo, x_hi);
                    chart.draw_series([Rectangle::new([(a, y_lo), (b, y_hi)], SHADE.filled())])?;
                }
            }
        }
        if panel_is_empty(panel, spec.y_scale) {
            let center = chart.backend_coord(&((x_lo + x_hi) / 2.0, y_lo));
            let mid_y = (center.1 + chart.backend_coord(&(x_lo, y_hi)).1) / 2;
            cell.draw(&Text::new(
                "no data",
                (
                    center.0 - cell.get_pixel_range().0.start,
                    mid_y - cell.get_pixel_range().1.start,
                ),
                text_style(LEGEND_SIZE, MUTED).pos(Pos::new(HPos::Center, VPos::Center)),
            ))?;
        }
        let mut order: Vec<&Series> = panel.series.iter().filter(|s| !s.highlight).collect();
        order.extend(panel.series.iter().filter(|s| s.highlight));
        for s in order {
            let (color, dashed) = self.styles.of(s);
            let style = color.stroke_width(if s.highlight { 5 } else { 2 });
            for run in thinned_runs(&chart, &s.points, spec.y_scale) {
                if let [p] = run[..] {
                    let r = if s.highlight { 5 } else { 4 };
                    chart.draw_series([Circle::new(p, r, color.filled())])?;
                } else if dashed {
                    chart.draw_series(DashedLineSeries::new(run, DASH.0, DASH.1, style))?;
                } else {
                    chart.draw_series(LineSeries::new(run, style))?;
                }
            }
        }
        for m in &markers {
            if let EventMarker::Instant { at, .. } = m {
                if at.is_finite() && (x_lo..=x_hi).contains(at) {
                    chart.draw_series(DashedLineSeries::new(
                        [(*at, y_lo), (*at, y_hi)],
                        6,
                        4,
                        EVENT.stroke_width(2),
                    ))?;
                }
            }
        }
        draw_h_lines(&mut chart, &panel.h_lines, self.x)?;
        frame(&chart)?;
        // Chart-wide event labels only in the top row; a facet's own markers in that facet.
        let labelled: Vec<&EventMarker> = if facet.row == 0 {
            markers
        } else {
            panel.markers.iter().collect()
        };
        draw_event_labels(&mut chart, &labelled, self.x)?;
        Ok(())
    }
}

/// Whether a facet has no value to show on `scale`.
fn panel_is_empty(panel: &Panel, scale: Scale) -> bool {
    usable(
        panel
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|q| q.1)),
        scale,
    )
    .is_empty()
}

/// Dashed horizontal reference lines with their labels at the right end: above the line
/// unless that would cross the plot's top or another line's label, else below it.
fn draw_h_lines<DB: DrawingBackend, Y: ValueAxis>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, Y>>,
    refs: &[RefLine],
    (x_lo, x_hi): (f64, f64),
) -> Result<(), ChartError> {
    let r = chart.y_range();
    let mut placed: Vec<i32> = Vec::new();
    for line in refs {
        if !(line.value.is_finite() && (r.start..=r.end).contains(&line.value)) {
            continue;
        }
        chart.draw_series(DashedLineSeries::new(
            [(x_lo, line.value), (x_hi, line.value)],
            DASH.0,
            DASH.1,
            REF.stroke_width(2),
        ))?;
        let top = chart.backend_coord(&(x_hi, r.end)).1;
        let py = chart.backend_coord(&(x_hi, line.value)).1;
        let clear = |dy: i32| {
            let y = py + dy;
            y - NOTE_SIZE as i32 / 2 >= top
                && placed.iter().all(|p| (p - y).abs() > NOTE_SIZE as i32 + 4)
        };
        let dy = [-13, 13].into_iter().find(|dy| clear(*dy)).unwrap_or(13);
        placed.push(py + dy);
        chart.draw_series([label_box(
            &line.label,
            (x_hi, line.value),
            (-8, dy),
            (HPos::Right, VPos::Center),
            REF,
        )])?;
    }
    Ok(())
}

/// Event labels in rows at the top of the plot, placed so they do not overlap each other.
/// Hand-written: plotters draws text where it is told and does not avoid collisions.
fn draw_event_labels<DB: DrawingBackend, Y: ValueAxis>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, Y>>,
    markers: &[&EventMarker],
    (x_lo, x_hi): (f64, f64),
) -> Result<(), ChartError> {
    let y_top = chart.y_range().end;
    let (left, right) = (
        chart.backend_coord(&(x_lo, y_top)).0,
        chart.backend_coord(&(x_hi, y_top)).0,
    );
    let mut rows: Vec<Vec<(i32, i32)>> = Vec::new();
    for m in markers {
        let (x, label) = match m {
            EventMarker::Interval { from, to, label } => {
                let (a, b) = (from.min(*to), from.max(*to));
                // Label an interval only if it overlaps the axis, at its visible start.
                if !(a <= x_hi && b >= x_lo) {
                    continue;
                }
                (a.max(x_lo), label)
            }
            EventMarker::Instant { at, label } => {
                if !(x_lo..=x_hi).contains(at) {
                    continue;
                }
                (*at, label)
            }
        };
        if !x.is_finite() || label.is_empty() {
            continue;
        }
        let px = chart.backend_coord(&(x, y_top)).0;
        let text = super::style::fit_text(label, NOTE_SIZE, false, (right - left) as f64 * 0.45);
        let tw = text_width(&text, NOTE_SIZE, false) as i32;
        let (x0, dx, anchor) = if px + 5 + tw <= right - 4 {
            (px + 5, 5, HPos::Left)
        } else {
            (px - 5 - tw, -5, HPos::Right)
        };
        let free = |row: &Vec<(i32, i32)>| row.iter().all(|(a, b)| x0 + tw + 6 < *a || x0 > *b + 6);
        let row = match rows.iter().position(free) {
            Some(i) => i,
            None if rows.len() < 4 => {
                rows.push(Vec::new());
                rows.len() - 1
            }
            // Out of rows: stack on the last one rather than drop the label.
            None => rows.len() - 1,
        };
        rows[row].push((x0, x0 + tw));
        chart.draw_series([label_box(
            &text,
            (x, y_top),
            (dx, 13 + EVENT_ROW_H * row as i32),
            (anchor, VPos::Center),
            EVENT,
        )])?;
    }
    Ok(())
}

/// A series' points as runs that can be drawn (split where y is not finite or, on a log axis,
/// not positive), each pixel column reduced to its first, lowest, highest and last point.
/// plotters draws every point it is given; a week of one-second windows would make SVGs of
/// megabytes with no visible difference.
fn thinned_runs<DB: DrawingBackend, Y: ValueAxis>(
    chart: &ChartContext<'_, DB, Cartesian2d<RangedCoordf64, Y>>,
    points: &[(f64, f64)],
    scale: Scale,
) -> Vec<Vec<(f64, f64)>> {
    let mut pts: Vec<(f64, f64)> = points.iter().copied().filter(|p| p.0.is_finite()).collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut runs: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut cur: Vec<(f64, f64)> = Vec::new();
    let mut column: Vec<(f64, f64)> = Vec::new();
    let mut column_px = i32::MIN;
    let flush = |column: &mut Vec<(f64, f64)>, cur: &mut Vec<(f64, f64)>| {
        let (Some(first), Some(last)) = (column.first().copied(), column.last().copied()) else {
            return;
        };
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
    for p in pts {
        if !(p.1.is_finite() && (scale == Scale::Linear || p.1 > 0.0)) {
            flush(&mut column, &mut cur);
            if !cur.is_empty() {
                runs.push(std::mem::take(&mut cur));
            }
            continue;
        }
        let px = chart.backend_coord(&p).0;
        if px != column_px {
            flush(&mut column, &mut cur);
            column_px = px;
        }
        column.push(p);
    }
    flush(&mut column, &mut cur);
    if !cur.is_empty() {
        runs.push(cur);
    }
    runs
}
