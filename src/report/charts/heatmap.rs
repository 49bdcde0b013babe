//! Heatmaps over two parameters drawn with plotters' chart building: a viridis colour scale
//! (sequential, colour-blind safe), the value printed in each cell, "n/a" for missing cells,
//! and a colour bar built as a second plotters chart beside the first. No file IO.

use super::backend::{render, Chart};
use super::bars::CategoryLabels;
use super::style::{
    extent, fit_text, fmt_tick, frame, no_data, rgb, style_mesh, text_style, text_width, titled,
    value_range, AXIS_TITLE_SIZE, INK, MUTED, TICK_SIZE,
};
use super::{ChartError, Heatmap, Rendered, Scale};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::RGBAColor;

/// Viridis sampled at nine evenly spaced stops. Hand-written: plotters' `ViridisRGB` colour
/// map is behind its `colormaps` feature, and nine stops with linear mixing are all we need.
const VIRIDIS: [(u8, u8, u8); 9] = [
    (0x44, 0x01, 0x54),
    (0x47, 0x2D, 0x7B),
    (0x3B, 0x52, 0x8B),
    (0x2C, 0x72, 0x8E),
    (0x21, 0x91, 0x8C),
    (0x28, 0xAE, 0x80),
    (0x5E, 0xC9, 0x62),
    (0xAD, 0xDC, 0x30),
    (0xFD, 0xE7, 0x25),
];

/// Missing-cell colour.
const NA: RGBAColor = rgb(0xE4, 0xE4, 0xE4);

/// The viridis colour at `t` in 0..=1.
fn viridis(t: f64) -> RGBAColor {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let pos = t * (VIRIDIS.len() - 1) as f64;
    let i = (pos.floor() as usize).min(VIRIDIS.len() - 2);
    let u = pos - i as f64;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    let mix = |p: u8, q: u8| (p as f64 + (q as f64 - p as f64) * u).round() as u8;
    rgb(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Dark text on light cells, white on dark ones.
fn text_on(bg: RGBAColor) -> RGBAColor {
    let lum = 0.2126 * bg.0 as f64 + 0.7152 * bg.1 as f64 + 0.0722 * bg.2 as f64;
    if lum > 140.0 {
        INK
    } else {
        rgb(0xFF, 0xFF, 0xFF)
    }
}

/// A heatmap ready to draw.
struct Map<'a> {
    spec: &'a Heatmap,
    /// Smallest and largest finite value; `None` when every cell is missing.
    range: Option<(f64, f64)>,
}

impl Map<'_> {
    /// Position of `v` on the colour scale (0..=1, reversed when asked).
    fn scale(&self, v: f64) -> f64 {
        let Some((lo, hi)) = self.range else {
            return 0.5;
        };
        let t = if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
        if self.spec.reverse {
            1.0 - t
        } else {
            t
        }
    }
}

pub(super) fn heatmap(spec: &Heatmap) -> Result<Rendered, ChartError> {
    let (nx, ny) = (spec.x_values.len(), spec.y_values.len());
    if spec.values.len() != ny {
        return Err(ChartError::InvalidSpec(format!(
            "heatmap has {} value rows for {ny} y values",
            spec.values.len(),
        )));
    }
    for (i, row) in spec.values.iter().enumerate() {
        if row.len() != nx {
            return Err(ChartError::InvalidSpec(format!(
                "heatmap row {i} has {} values for {nx} x values",
                row.len()
            )));
        }
    }
    if nx == 0 || ny == 0 {
        return no_data(spec.size, &spec.title, "empty parameter grid");
    }
    let finite: Vec<f64> = spec
        .values
        .iter()
        .flatten()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    render(
        spec.size,
        &Map {
            spec,
            range: extent(&finite),
        },
    )
}

impl Chart for Map<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ChartError> {
        let spec = self.spec;
        let (nx, ny) = (spec.x_values.len(), spec.y_values.len());
        let area = titled(root, &spec.title)?;
        let (w, _) = area.dim_in_pixel();
        let bar_range = self
            .range
            .and_then(|(lo, hi)| value_range(&[lo, hi], Scale::Linear, false));
        let bar_ticks_w = bar_range.map_or(0.0, |(lo, hi)| {
            [lo, hi, (lo + hi) / 2.0]
                .iter()
                .map(|v| text_width(&fmt_tick(v), TICK_SIZE, false) + 12.0)
                .fold(0.0, f64::max)
        });
        let bar_w = if bar_range.is_some() {
            (16.0 + 22.0 + 10.0 + bar_ticks_w + AXIS_TITLE_SIZE + 14.0) as u32
        } else {
            0
        };
        let (main, bar_area) = area.split_horizontally(w - bar_w);

        let y_labels: Vec<String> = spec
            .y_values
            .iter()
            .map(|l| fit_text(l, TICK_SIZE, false, w as f64 * 0.22))
            .collect();
        let y_label_w = y_labels
            .iter()
            .map(|l| text_width(l, TICK_SIZE, false))
            .fold(0.0, f64::max);
        let y_area = (y_label_w + 18.0 + AXIS_TITLE_SIZE + 14.0).ceil() as u32;
        let plot_w = main.dim_in_pixel().0 as f64 - y_area as f64 - 10.0;
        let x_labels = CategoryLabels::wrap(&spec.x_values, plot_w / nx as f64);
        let x_area = x_labels.height() + if spec.x_label.is_empty() { 0 } else { 34 };
        // Rows and columns are plotters' segmented integer coordinates: cell (c, r) spans
        // Exact(c)..Exact(c + 1), its label sits at CenterOf(r).
        let mut chart = ChartBuilder::on(&main)
            .margin_right(10)
            .x_label_area_size(x_area)
            .y_label_area_size(y_area)
            .build_cartesian_2d(
                (0..nx as i32 - 1).into_segmented(),
                (0..ny as i32 - 1).into_segmented(),
            )?;
        let row_label = |v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(r) | SegmentValue::Exact(r) => {
                y_labels[(*r).clamp(0, ny as i32 - 1) as usize].clone()
            }
            SegmentValue::Last => String::new(),
        };
        let mut mesh = chart.configure_mesh();
        style_mesh(&mut mesh);
        mesh.disable_mesh()
            .x_label_formatter(&|_| String::new())
            .y_labels(ny)
            .y_label_formatter(&row_label)
            .x_desc(spec.x_label.as_str())
            .y_desc(spec.y_label.as_str())
            .draw()?;

        let decimals = spec.decimals.min(6);
        let cell =
            |c: usize, r: usize| (SegmentValue::Exact(c as i32), SegmentValue::Exact(r as i32));
        let cell_px = {
            let a = chart.backend_coord(&cell(0, 0));
            let b = chart.backend_coord(&cell(1, 1));
            ((b.0 - a.0) as f64, (a.1 - b.1) as f64)
        };
        for (ri, row) in spec.values.iter().enumerate() {
            for (ci, v) in row.iter().enumerate() {
                let (bg, text) = if v.is_finite() {
                    (viridis(self.scale(*v)), format!("{v:.decimals$}"))
                } else {
                    (NA, "n/a".to_string())
                };
                let corners = [cell(ci, ri), cell(ci + 1, ri + 1)];
                chart.draw_series([
                    Rectangle::new(corners.clone(), bg.filled()),
                    Rectangle::new(corners, WHITE.stroke_width(2)),
                ])?;
                let mut size = TICK_SIZE;
                while size > 10.0
                    && (text_width(&text, size, false) > cell_px.0 - 6.0 || size > cell_px.1 * 0.8)
                {
                    size -= 1.0;
                }
                if text_width(&text, size, false) <= cell_px.0 - 4.0 && size <= cell_px.1 * 0.9 {
                    let color = if bg == NA { MUTED } else { text_on(bg) };
                    let center = (
                        SegmentValue::CenterOf(ci as i32),
                        SegmentValue::CenterOf(ri as i32),
                    );
                    chart.draw_series([Text::new(
                        text,
                        center,
                        text_style(size, color).pos(Pos::new(HPos::Center, VPos::Center)),
                    )])?;
                }
            }
        }
        frame(&chart)?;
        let centers: Vec<i32> = (0..nx)
            .map(|c| {
                let (a, b) = (
                    chart.backend_coord(&cell(c, 0)),
                    chart.backend_coord(&cell(c + 1, 0)),
                );
                (a.0 + b.0) / 2
            })
            .collect();
        x_labels.draw(root, &centers, chart.backend_coord(&cell(0, 0)).1)?;

        if let Some((lo, hi)) = bar_range {
            let mut bar = ChartBuilder::on(&bar_area)
                .margin_left(16)
                .margin_right(10)
                .x_label_area_size(x_area)
                .right_y_label_area_size(bar_w - 16 - 22 - 10)
                .build_cartesian_2d(0.0..1.0, lo..hi)?;
            let mut mesh = bar.configure_mesh();
            style_mesh(&mut mesh);
            mesh.disable_mesh()
                .disable_x_axis()
                .y_labels(6)
                .y_label_formatter(&fmt_tick)
                .y_desc(spec.value_label.as_str())
                .draw()?;
            let steps = 128;
            bar.draw_series((0..steps).map(|i| {
                let (a, b) = (i as f64 / steps as f64, (i + 1) as f64 / steps as f64);
                let (va, vb) = (lo + (hi - lo) * a, lo + (hi - lo) * b);
                Rectangle::new(
                    [(0.0, va), (1.0, vb)],
                    viridis(self.scale((va + vb) / 2.0)).filled(),
                )
            }))?;
            frame(&bar)?;
        }
        Ok(())
    }
}
