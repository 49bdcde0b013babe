//! The capacity-frontier scatter drawn with plotters' chart building: configurations marked
//! pass (green circle) or fail (vermillion cross), the frontier of smallest passing y per x,
//! and the chosen configuration ringed and annotated. No file IO.

use super::backend::{render, Chart};
use super::style::{
    extent, fmt_tick, fmt_value, frame, label_box, legend, marker, no_data, rgb, split_legend,
    style_mesh, titled, LegendEntry, Shape, Swatch, DASH, INK,
};
use super::{ChartError, PassFailScatter, Rendered};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use plotters::style::RGBAColor;

const PASS: RGBAColor = rgb(0x00, 0x9E, 0x73);
const FAIL: RGBAColor = rgb(0xD5, 0x5E, 0x00);
const FRONTIER: RGBAColor = rgb(0x00, 0x72, 0xB2);

/// A range over `lo..hi` with 6 % room so points do not sit on the frame (from zero when
/// `from_zero` and the data are not negative).
fn padded(lo: f64, hi: f64, from_zero: bool) -> (f64, f64) {
    let pad = if hi > lo {
        (hi - lo) * 0.06
    } else {
        lo.abs().max(1.0) * 0.5
    };
    let low = if from_zero && lo >= 0.0 {
        0.0
    } else {
        lo - pad
    };
    (low, hi + pad)
}

/// A scatter ready to draw.
struct Scatter<'a> {
    spec: &'a PassFailScatter,
    /// (x, y, pass) of the points with finite coordinates.
    points: Vec<(f64, f64, bool)>,
    frontier: Vec<(f64, f64)>,
    x: (f64, f64),
    y: (f64, f64),
    legend: Vec<LegendEntry>,
}

pub(super) fn scatter_pass_fail(spec: &PassFailScatter) -> Result<Rendered, ChartError> {
    if let Some(i) = spec.chosen {
        if i >= spec.points.len() {
            return Err(ChartError::InvalidSpec(format!(
                "chosen point {i} out of range ({} points)",
                spec.points.len()
            )));
        }
    }
    let points: Vec<(f64, f64, bool)> = spec
        .points
        .iter()
        .filter(|p| p.x.is_finite() && p.y.is_finite())
        .map(|p| (p.x, p.y, p.pass))
        .collect();
    let xs: Vec<f64> = points.iter().map(|p| p.0).collect();
    let ys: Vec<f64> = points.iter().map(|p| p.1).collect();
    let (Some((x_lo, x_hi)), Some((y_lo, y_hi))) = (extent(&xs), extent(&ys)) else {
        return no_data(
            spec.size,
            &spec.title,
            "no configuration with finite coordinates",
        );
    };
    // Frontier: the smallest passing y at each x.
    let mut frontier: Vec<(f64, f64)> = Vec::new();
    if spec.frontier {
        let mut passing: Vec<(f64, f64)> =
            points.iter().filter(|p| p.2).map(|p| (p.0, p.1)).collect();
        passing.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
        for (px, py) in passing {
            if frontier.last().map(|l| l.0) != Some(px) {
                frontier.push((px, py));
            }
        }
    }
    if spec.pareto {
        frontier = pareto_front(&points.iter().map(|p| (p.0, p.1)).collect::<Vec<_>>());
    }
    let mut legend = Vec::new();
    if points.iter().any(|p| p.2) {
        legend.push(LegendEntry::new(
            "pass",
            Swatch::Marker(Shape::Circle, PASS),
        ));
    }
    if points.iter().any(|p| !p.2) {
        legend.push(LegendEntry::new("fail", Swatch::Marker(Shape::Cross, FAIL)));
    }
    if frontier.len() > 1 {
        legend.push(LegendEntry::new(
            if spec.pareto {
                "Pareto front (cheapest for its margin)"
            } else {
                "frontier (least passing memory)"
            },
            Swatch::Line {
                color: FRONTIER,
                width: 2,
                dashed: true,
            },
        ));
    }
    if spec
        .chosen
        .is_some_and(|i| spec.points[i].x.is_finite() && spec.points[i].y.is_finite())
    {
        legend.push(LegendEntry::new("chosen", Swatch::Ring(INK)));
    }
    render(
        spec.size,
        &Scatter {
            spec,
            points,
            frontier,
            x: padded(x_lo, x_hi, false),
            y: padded(y_lo, y_hi, true),
            legend,
        },
    )
}

impl Chart for Scatter<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ChartError> {
        let spec = self.spec;
        let area = titled(root, &spec.title)?;
        let (area, legend_area) = split_legend(&area, &self.legend);
        // Shard counts: plotters' ticks fall on whole numbers once the range spans a few;
        // the others are left unlabelled.
        let integer_tick = |v: &f64| {
            if v.fract().abs() < 1e-9 {
                fmt_value(*v)
            } else {
                String::new()
            }
        };
        let x_format: &dyn Fn(&f64) -> String = if spec.integer_x {
            &integer_tick
        } else {
            &fmt_tick
        };
        let mut chart = ChartBuilder::on(&area)
            .margin_right(8)
            .x_label_area_size(64)
            .y_label_area_size(84)
            .build_cartesian_2d(self.x.0..self.x.1, self.y.0..self.y.1)?;
        let mut mesh = chart.configure_mesh();
        style_mesh(&mut mesh);
        mesh.y_labels(8)
            .x_label_formatter(x_format)
            .y_label_formatter(&fmt_tick)
            .x_desc(spec.x_label.as_str())
            .y_desc(spec.y_label.as_str())
            .draw()?;
        if self.frontier.len() > 1 {
            chart.draw_series(DashedLineSeries::new(
                self.frontier.clone(),
                DASH.0,
                DASH.1,
                FRONTIER.stroke_width(2),
            ))?;
        }
        chart.draw_series(self.points.iter().map(|&(x, y, pass)| {
            let (shape, color) = if pass {
                (Shape::Circle, PASS)
            } else {
                (Shape::Cross, FAIL)
            };
            marker(shape, (x, y), 7.0, color)
        }))?;
        let chosen = spec
            .chosen
            .map(|i| &spec.points[i])
            .filter(|p| p.x.is_finite() && p.y.is_finite());
        if let Some(p) = chosen {
            chart.draw_series([
                EmptyElement::at((p.x, p.y)) + Circle::new((0, 0), 15, INK.stroke_width(3))
            ])?;
            let label = format!("chosen: {} × {}", fmt_value(p.x), fmt_value(p.y));
            let right = chart.backend_coord(&(self.x.1, p.y)).0;
            let at = chart.backend_coord(&(p.x, p.y)).0;
            let width = super::style::text_width(&label, super::style::NOTE_SIZE, false) as i32;
            let (dx, anchor) = if at + 20 + width < right {
                (20, HPos::Left)
            } else {
                (-20, HPos::Right)
            };
            chart.draw_series([label_box(
                &label,
                (p.x, p.y),
                (dx, -20),
                (anchor, VPos::Center),
                INK,
            )])?;
        }
        frame(&chart)?;
        if let Some(strip) = legend_area {
            legend(&strip, &self.legend)?;
        }
        Ok(())
    }
}

/// The Pareto front of (x = cost, y = margin) points: those no other point beats with x ≤ and
/// y ≥ (one strictly), ascending x.
fn pareto_front(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut front: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|&(x, y)| {
            !points
                .iter()
                .any(|&(x2, y2)| x2 <= x && y2 >= y && (x2 < x || y2 > y))
        })
        .collect();
    front.sort_by(|a, b| a.0.total_cmp(&b.0));
    front.dedup();
    front
}
