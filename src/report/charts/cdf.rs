//! Cumulative distribution charts (latency CDF per plan) drawn with plotters' chart building:
//! step lines over a log or linear x, cumulative fraction 0..1 on y, percentile guides,
//! vertical reference lines, the curves named in plotters' series labels. No file IO.

use super::backend::{render, Chart};
use super::style::{
    fmt_tick, frame, label_box, no_data, palette, style_mesh, text_style, titled, usable,
    value_range, with_axis, ValueAxis, DASH, INK, LEGEND_SIZE, MUTED, REF,
};
use super::{CdfChart, ChartError, Rendered, Scale};
use plotters::chart::SeriesLabelPosition;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

/// A CDF chart ready to draw.
struct Cdf<'a> {
    spec: &'a CdfChart,
    x: (f64, f64),
}

/// "p99" for 0.99, "p99.9" for 0.999, "p50" for 0.5.
fn percentile_name(q: f64) -> String {
    let s = format!("{:.3}", q * 100.0);
    format!("p{}", s.trim_end_matches('0').trim_end_matches('.'))
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
    let x = value_range(&all, spec.x_scale, spec.x_scale == Scale::Linear)
        .expect("non-empty values give a range");
    render(spec.size, &Cdf { spec, x })
}

impl Chart for Cdf<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ChartError> {
        with_axis!(self.spec.x_scale, self.x, |x| self.draw_on(root, x))
    }
}

impl Cdf<'_> {
    fn draw_on<DB: DrawingBackend, X: ValueAxis>(
        &self,
        root: &DrawingArea<DB, Shift>,
        x: X,
    ) -> Result<(), ChartError> {
        let spec = self.spec;
        let area = titled(root, &spec.title)?;
        let mut chart = ChartBuilder::on(&area)
            .margin_right(20)
            .x_label_area_size(64)
            .y_label_area_size(84)
            .build_cartesian_2d(x, RangedCoordf64::from(0.0..1.0))?;
        let mut mesh = chart.configure_mesh();
        style_mesh(&mut mesh);
        mesh.x_labels(10)
            .y_labels(11)
            .x_label_formatter(&fmt_tick)
            .y_label_formatter(&fmt_tick)
            .x_desc(spec.x_label.as_str())
            .y_desc("cumulative fraction")
            .draw()?;
        let (x_lo, x_hi) = self.x;
        for q in spec
            .quantile_guides
            .iter()
            .filter(|q| (0.0..=1.0).contains(*q))
        {
            chart.draw_series(DashedLineSeries::new(
                [(x_lo, *q), (x_hi, *q)],
                2,
                4,
                MUTED.stroke_width(1),
            ))?;
            // Labels sit above their line, except near the top where they would hit the frame.
            let dy = if *q > 0.96 { 11 } else { -11 };
            chart.draw_series([label_box(
                &percentile_name(*q),
                (x_lo, *q),
                (8, dy),
                (HPos::Left, VPos::Center),
                MUTED,
            )])?;
        }
        for r in &spec.ref_lines {
            if r.value.is_finite() && (x_lo..=x_hi).contains(&r.value) {
                chart.draw_series(DashedLineSeries::new(
                    [(r.value, 0.0), (r.value, 1.0)],
                    DASH.0,
                    DASH.1,
                    REF.stroke_width(2),
                ))?;
                chart.draw_series([label_box(
                    &r.label,
                    (r.value, 1.0),
                    (6, 14),
                    (HPos::Left, VPos::Center),
                    REF,
                )])?;
            }
        }
        for (i, cv) in spec.curves.iter().enumerate() {
            let color = palette(i);
            let path = step_path(&chart, &cv.points, spec.x_scale, x_hi);
            chart
                .draw_series(LineSeries::new(path, color.stroke_width(3)))?
                .label(cv.name.clone())
                .legend(move |(px, py)| {
                    PathElement::new(vec![(px, py), (px + 30, py)], color.stroke_width(3))
                });
        }
        frame(&chart)?;
        if spec.curves.len() > 1 {
            // A CDF's lower right is empty: every curve is near 1 at large values.
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::LowerRight)
                .legend_area_size(38)
                .margin(10)
                .background_style(WHITE.mix(0.9))
                .border_style(MUTED)
                .label_font(text_style(LEGEND_SIZE, INK))
                .draw()?;
        }
        Ok(())
    }
}

/// The step path of a CDF in data coordinates, from 0 at the first value to the right end;
/// within one pixel column only the first and last points are kept (the curve is monotone,
/// so nothing visible is lost, and 20 000 samples do not make a 20 000-point path).
fn step_path<DB: DrawingBackend, X: ValueAxis>(
    chart: &ChartContext<'_, DB, Cartesian2d<X, RangedCoordf64>>,
    points: &[(f64, f64)],
    scale: Scale,
    x_end: f64,
) -> Vec<(f64, f64)> {
    let mut pts: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(x, y)| x.is_finite() && (scale == Scale::Linear || *x > 0.0) && y.is_finite())
        .map(|(x, y)| (x, y.clamp(0.0, 1.0)))
        .collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    let Some(first) = pts.first().copied() else {
        return Vec::new();
    };
    let mut raw: Vec<(f64, f64)> = vec![(first.0, 0.0), first];
    let mut prev_y = first.1;
    for &(x, y) in pts.iter().skip(1) {
        raw.push((x, prev_y));
        raw.push((x, y));
        prev_y = y;
    }
    raw.push((x_end, prev_y));
    let column = |p: &(f64, f64)| chart.backend_coord(p).0;
    let mut out: Vec<(f64, f64)> = Vec::new();
    let mut i = 0;
    while i < raw.len() {
        let col = column(&raw[i]);
        let mut j = i;
        while j + 1 < raw.len() && column(&raw[j + 1]) == col {
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
