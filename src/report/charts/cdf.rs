//! Cumulative distribution charts (latency CDF per plan): step lines over a log or linear x,
//! cumulative fraction 0..1 on y, percentile guides and vertical reference lines. Layout only;
//! no file IO.

use super::axis::{usable, Axis, Frame, XyPlot};
use super::canvas::{no_data, palette, Anchor, Canvas, LegendEntry, Swatch, MUTED, NOTE_SIZE, REF};
use super::{CdfChart, ChartError, Rendered, Scale};

/// The step path of a CDF in pixels; within one pixel column only the first and last points
/// are kept (the curve is monotone, so nothing visible is lost).
fn step_path(f: &Frame, points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut pts: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(x, y)| f.x.accepts(*x) && y.is_finite())
        .map(|(x, y)| (x, y.clamp(0.0, 1.0)))
        .collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    let Some(first) = pts.first().copied() else {
        return Vec::new();
    };
    let mut raw: Vec<(f64, f64)> = vec![(f.px(first.0), f.py(0.0)), (f.px(first.0), f.py(first.1))];
    let mut prev_y = first.1;
    for (x, y) in pts.iter().skip(1) {
        let px = f.px(*x);
        raw.push((px, f.py(prev_y)));
        raw.push((px, f.py(*y)));
        prev_y = *y;
    }
    raw.push((f.right, f.py(prev_y)));
    let mut out: Vec<(f64, f64)> = Vec::with_capacity(raw.len().min(4 * 2000));
    let mut i = 0;
    while i < raw.len() {
        let col = raw[i].0.round();
        let mut j = i;
        while j + 1 < raw.len() && raw[j + 1].0.round() == col {
            j += 1;
        }
        out.push(raw[i]);
        if j > i {
            out.push(raw[j]);
        }
        i = j + 1;
    }
    out
}

/// "p99" for 0.99, "p99.9" for 0.999, "p50" for 0.5.
fn percentile_name(q: f64) -> String {
    let p = q * 100.0;
    let s = format!("{p:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("p{s}")
}

pub(super) fn cdf(spec: &CdfChart) -> Result<Rendered, ChartError> {
    let xs = usable(
        spec.curves
            .iter()
            .flat_map(|cv| cv.points.iter().filter(|p| p.1.is_finite()).map(|p| p.0)),
        spec.x_scale,
    );
    if xs.is_empty() {
        return no_data(spec.size, &spec.title, "no curve has a value on this axis");
    }
    let mut all = xs;
    all.extend(usable(spec.ref_lines.iter().map(|r| r.value), spec.x_scale));
    let x = Axis::for_values(&all, spec.x_scale, spec.x_scale == Scale::Linear, 10)
        .expect("non-empty values give an axis");
    let y = Axis::linear_tight(0.0, 1.0);
    let mut c = Canvas::new(spec.size)?;
    let legend: Vec<LegendEntry> = if spec.curves.len() > 1 {
        spec.curves
            .iter()
            .enumerate()
            .map(|(i, cv)| LegendEntry {
                label: cv.name.clone(),
                swatch: Swatch::Line {
                    color: palette(i),
                    width: 3,
                    dash: None,
                },
            })
            .collect()
    } else {
        Vec::new()
    };
    let f = XyPlot {
        title: &spec.title,
        legend: &legend,
        x,
        y,
        x_label: &spec.x_label,
        y_label: "cumulative fraction",
        integer_x: false,
        y_ticks: 10,
    }
    .draw(&mut c);
    for q in &spec.quantile_guides {
        if q.is_finite() && (0.0..=1.0).contains(q) {
            let py = f.py(*q);
            c.dashed(&[(f.left, py), (f.right, py)], MUTED, 1, 2.0, 4.0);
            // Labels sit above their line, except near the top where they would hit the frame.
            let ly = if py - f.top < 24.0 {
                py + 11.0
            } else {
                py - 11.0
            };
            c.label_box(
                &percentile_name(*q),
                (f.left + 8.0, ly),
                NOTE_SIZE,
                MUTED,
                Anchor::LEFT,
            );
        }
    }
    for r in &spec.ref_lines {
        if f.x_contains(r.value) {
            let px = f.px(r.value);
            c.dashed(&[(px, f.top), (px, f.bottom)], REF, 2, 10.0, 6.0);
            c.label_box(
                &r.label,
                (px + 6.0, f.top + 14.0),
                NOTE_SIZE,
                REF,
                Anchor::LEFT,
            );
        }
    }
    for (i, cv) in spec.curves.iter().enumerate() {
        let path = step_path(&f, &cv.points);
        c.line(&path, palette(i), 3);
    }
    c.render()
}
