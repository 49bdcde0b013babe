//! The capacity-frontier scatter: configurations marked pass (green circle) or fail
//! (vermillion cross), the frontier of smallest passing y per x, and the chosen configuration
//! ringed and annotated. Layout only; no file IO.

use super::axis::{fmt_value, Axis, XyPlot};
use super::canvas::{no_data, rgb, Anchor, Canvas, LegendEntry, Shape, Swatch, INK, LEGEND_SIZE};
use super::{ChartError, PassFailScatter, Rendered};
use plotters::style::RGBAColor;

const PASS: RGBAColor = rgb(0x00, 0x9E, 0x73);
const FAIL: RGBAColor = rgb(0xD5, 0x5E, 0x00);
const FRONTIER: RGBAColor = rgb(0x00, 0x72, 0xB2);

/// An axis over `lo..hi` with 5% padding so points do not sit on the frame.
fn padded(lo: f64, hi: f64, include_zero: bool) -> Axis {
    let pad = if hi > lo {
        (hi - lo) * 0.06
    } else {
        lo.abs().max(1.0) * 0.5
    };
    let lo_p = if include_zero && lo >= 0.0 {
        0.0
    } else {
        lo - pad
    };
    Axis::linear_nice(lo_p, hi + pad, include_zero, 8)
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
    let pts: Vec<(usize, f64, f64, bool)> = spec
        .points
        .iter()
        .enumerate()
        .filter(|(_, p)| p.x.is_finite() && p.y.is_finite())
        .map(|(i, p)| (i, p.x, p.y, p.pass))
        .collect();
    let xs: Vec<f64> = pts.iter().map(|p| p.1).collect();
    let ys: Vec<f64> = pts.iter().map(|p| p.2).collect();
    let (Some((x_lo, x_hi)), Some((y_lo, y_hi))) =
        (super::axis::extent(&xs), super::axis::extent(&ys))
    else {
        return no_data(
            spec.size,
            &spec.title,
            "no configuration with finite coordinates",
        );
    };
    let x = padded(x_lo, x_hi, false);
    let y = padded(y_lo, y_hi, true);

    // Frontier: the smallest passing y at each x.
    let mut frontier: Vec<(f64, f64)> = Vec::new();
    if spec.frontier {
        let mut passing: Vec<(f64, f64)> = pts.iter().filter(|p| p.3).map(|p| (p.1, p.2)).collect();
        passing.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
        for (px, py) in passing {
            if frontier.last().map(|l| l.0) != Some(px) {
                frontier.push((px, py));
            }
        }
    }
    if spec.pareto {
        frontier = pareto_front(&pts.iter().map(|p| (p.1, p.2)).collect::<Vec<_>>());
    }
    let chosen = spec
        .chosen
        .map(|i| &spec.points[i])
        .filter(|p| p.x.is_finite() && p.y.is_finite());

    let mut legend = Vec::new();
    if pts.iter().any(|p| p.3) {
        legend.push(LegendEntry {
            label: "pass".into(),
            swatch: Swatch::Marker(Shape::Circle, PASS),
        });
    }
    if pts.iter().any(|p| !p.3) {
        legend.push(LegendEntry {
            label: "fail".into(),
            swatch: Swatch::Marker(Shape::Cross, FAIL),
        });
    }
    if frontier.len() > 1 {
        legend.push(LegendEntry {
            label: if spec.pareto {
                "Pareto front (cheapest for its margin)".into()
            } else {
                "frontier (least passing memory)".into()
            },
            swatch: Swatch::Line {
                color: FRONTIER,
                width: 2,
                dash: Some((10.0, 6.0)),
            },
        });
    }
    if chosen.is_some() {
        legend.push(LegendEntry {
            label: "chosen".into(),
            swatch: Swatch::Ring(INK),
        });
    }

    let mut c = Canvas::new(spec.size)?;
    let f = XyPlot {
        title: &spec.title,
        legend: &legend,
        x,
        y,
        x_label: &spec.x_label,
        y_label: &spec.y_label,
        integer_x: spec.integer_x,
        y_ticks: 8,
    }
    .draw(&mut c);
    if frontier.len() > 1 {
        let path: Vec<(f64, f64)> = frontier.iter().map(|(a, b)| (f.px(*a), f.py(*b))).collect();
        c.dashed(&path, FRONTIER, 2, 10.0, 6.0);
    }
    for &(_, px, py, pass) in &pts {
        let (shape, col) = if pass {
            (Shape::Circle, PASS)
        } else {
            (Shape::Cross, FAIL)
        };
        c.marker(shape, (f.px(px), f.py(py)), 7.0, col);
    }
    if let Some(p) = chosen {
        let (cx, cy) = (f.px(p.x), f.py(p.y));
        c.circle((cx, cy), 15.0, INK, false, 3);
        let label = format!("chosen: {} × {}", fmt_value(p.x), fmt_value(p.y));
        let tw = c.text_width(&label, LEGEND_SIZE, false);
        let (pos, anchor) = if cx + 20.0 + tw < f.right {
            ((cx + 20.0, cy - 20.0), Anchor::LEFT)
        } else {
            ((cx - 20.0, cy - 20.0), Anchor::RIGHT)
        };
        let pos = (pos.0, pos.1.max(f.top + 12.0));
        c.label_box(&label, pos, LEGEND_SIZE, INK, anchor);
    }
    c.render()
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
