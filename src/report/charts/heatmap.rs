//! Heatmaps over two parameters: a viridis colour scale (sequential, colour-blind safe), the
//! value printed in each cell, "n/a" for missing cells, and a colour bar. Layout only; no file
//! IO.

use super::axis::{Axis, CategoryLabels, Formatter};
use super::canvas::{
    draw_title, no_data, rgb, Anchor, Canvas, AXIS_TITLE_SIZE, FRAME, INK, MUTED, TICK_SIZE,
};
use super::{ChartError, Heatmap, Rendered};
use plotters::style::RGBAColor;

/// Viridis sampled at nine evenly spaced stops.
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

pub(super) fn heatmap(spec: &Heatmap) -> Result<Rendered, ChartError> {
    let (nx, ny) = (spec.x_values.len(), spec.y_values.len());
    if spec.values.len() != ny {
        return Err(ChartError::InvalidSpec(format!(
            "heatmap has {} value rows for {} y values",
            spec.values.len(),
            ny
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
    let range = super::axis::extent(&finite);

    let mut c = Canvas::new(spec.size)?;
    let (w, h) = (c.w as f64, c.h as f64);
    let top = draw_title(&mut c, &spec.title) + 16.0;

    // Colour bar on the right: bar, tick labels, rotated title.
    let bar_axis = range.map(|(lo, hi)| Axis::linear_tight(lo, hi));
    let bar_ticks = bar_axis.map(|a| a.ticks(6, false)).unwrap_or_default();
    let bar_tick_w = super::axis::tick_label_width(&c, &bar_ticks);
    let bar_w = 22.0;
    let colorbar_w = if range.is_some() {
        20.0 + bar_w + 8.0 + bar_tick_w + 14.0 + AXIS_TITLE_SIZE + 18.0
    } else {
        20.0
    };
    let right = w - colorbar_w;

    // Row labels on the left.
    let y_labels: Vec<String> = spec
        .y_values
        .iter()
        .map(|l| c.fit_text(l, TICK_SIZE, false, w * 0.22))
        .collect();
    let y_label_w = y_labels
        .iter()
        .map(|l| c.text_width(l, TICK_SIZE, false))
        .fold(0.0, f64::max);
    let left = 24.0 + AXIS_TITLE_SIZE + 12.0 + y_label_w + 10.0;
    let cell_w = (right - left) / nx as f64;
    let x_labels = CategoryLabels::layout(&c, &spec.x_values, cell_w, h * 0.25);
    let x_title_h = if spec.x_label.is_empty() { 0.0 } else { 34.0 };
    let bottom = h - 14.0 - x_title_h - x_labels.height(&c);
    let cell_h = (bottom - top) / ny as f64;

    let decimals = spec.decimals.min(6);
    for (ri, row) in spec.values.iter().enumerate() {
        let y1 = bottom - ri as f64 * cell_h;
        let y0 = y1 - cell_h;
        for (ci, v) in row.iter().enumerate() {
            let x0 = left + ci as f64 * cell_w;
            let (bg, text) = match (v.is_finite(), range) {
                (true, Some((lo, hi))) => {
                    let mut t = if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
                    if spec.reverse {
                        t = 1.0 - t;
                    }
                    (viridis(t), format!("{v:.decimals$}"))
                }
                _ => (NA, "n/a".to_string()),
            };
            c.fill_rect((x0 + 1.0, y0 + 1.0), (x0 + cell_w - 1.0, y1 - 1.0), bg);
            let mut size = TICK_SIZE;
            while size > 10.0
                && (c.text_width(&text, size, false) > cell_w - 6.0 || size > cell_h * 0.8)
            {
                size -= 1.0;
            }
            if c.text_width(&text, size, false) <= cell_w - 4.0 && size <= cell_h * 0.9 {
                let col = if bg == NA { MUTED } else { text_on(bg) };
                c.text(
                    &text,
                    (x0 + cell_w / 2.0, (y0 + y1) / 2.0),
                    size,
                    col,
                    Anchor::CENTER,
                );
            }
        }
    }
    c.stroke_rect((left, top), (right, bottom), FRAME);

    for (ri, l) in y_labels.iter().enumerate() {
        let yc = bottom - (ri as f64 + 0.5) * cell_h;
        c.text(l, (left - 8.0, yc), TICK_SIZE, INK, Anchor::RIGHT);
    }
    let centers: Vec<f64> = (0..nx).map(|i| left + (i as f64 + 0.5) * cell_w).collect();
    x_labels.draw(&mut c, &centers, bottom);
    c.vtext(
        &spec.y_label,
        (24.0 + AXIS_TITLE_SIZE / 2.0, (top + bottom) / 2.0),
        AXIS_TITLE_SIZE,
        INK,
        Anchor::CENTER,
    );
    c.text(
        &spec.x_label,
        ((left + right) / 2.0, h - 14.0 - x_title_h / 2.0),
        AXIS_TITLE_SIZE,
        INK,
        Anchor::CENTER,
    );

    if let (Some(axis), Some((lo, hi))) = (bar_axis, range) {
        let bx = right + 20.0;
        let (bt, bb) = (top, bottom);
        let steps = 128;
        for i in 0..steps {
            let t0 = i as f64 / steps as f64;
            let t1 = (i + 1) as f64 / steps as f64;
            let tc = if spec.reverse { 1.0 - t0 } else { t0 };
            let ya = bb - t0 * (bb - bt);
            let yb = bb - t1 * (bb - bt);
            c.fill_rect((bx, yb.floor()), (bx + bar_w, ya.ceil()), viridis(tc));
        }
        c.stroke_rect((bx, bt), (bx + bar_w, bb), FRAME);
        let fmt_ticks: Vec<(f64, String)> = if hi > lo {
            bar_ticks
                .iter()
                .filter_map(|t| t.label.clone().map(|l| (t.value, l)))
                .collect()
        } else {
            let f = Formatter::new(lo.abs(), 10f64.powi(-(decimals as i32)));
            vec![(lo, f.format(lo))]
        };
        for (v, label) in fmt_ticks {
            let frac = if hi > lo { axis.frac(v) } else { 0.5 };
            if !(-1e-9..=1.0 + 1e-9).contains(&frac) {
                continue;
            }
            let y = bb - frac * (bb - bt);
            c.line(&[(bx + bar_w, y), (bx + bar_w + 5.0, y)], FRAME, 1);
            c.text(&label, (bx + bar_w + 8.0, y), TICK_SIZE, INK, Anchor::LEFT);
        }
        c.vtext(
            &spec.value_label,
            (
                bx + bar_w + 8.0 + bar_tick_w + 14.0 + AXIS_TITLE_SIZE / 2.0,
                (bt + bb) / 2.0,
            ),
            AXIS_TITLE_SIZE,
            INK,
            Anchor::CENTER,
        );
    }
    c.render()
}
