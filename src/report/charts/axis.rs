//! Axes for the charts: value ranges, "nice" tick positions (linear 1-2-5 steps, log decades),
//! compact tick labels, plot frames with grids, and category labels that wrap or turn
//! vertical when they do not fit. Pure layout on a [`Canvas`]; no file IO.

use super::canvas::{Anchor, Canvas, FRAME, GRID, GRID_MINOR, INK, TICK_SIZE};
use super::Scale;

/// A numeric axis range with its scale. For [`Scale::Log`] both ends are positive.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Axis {
    pub scale: Scale,
    pub min: f64,
    pub max: f64,
}

/// One tick: where, and its label (minor ticks have none and draw a fainter grid line).
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Tick {
    pub value: f64,
    pub label: Option<String>,
}

/// Finite values of an iterator, and for log scales only positive ones.
pub(super) fn usable(values: impl IntoIterator<Item = f64>, scale: Scale) -> Vec<f64> {
    values
        .into_iter()
        .filter(|v| v.is_finite() && (scale == Scale::Linear || *v > 0.0))
        .collect()
}

/// The smallest and largest of `values`, if any.
pub(super) fn extent(values: &[f64]) -> Option<(f64, f64)> {
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (lo.is_finite() && hi.is_finite()).then_some((lo, hi))
}

/// A 1, 2 or 5 times a power of ten close to `raw`.
pub(super) fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let mag = 10f64.powf(raw.log10().floor());
    let r = raw / mag;
    let m = if r <= 1.0 {
        1.0
    } else if r <= 2.0 {
        2.0
    } else if r <= 5.0 {
        5.0
    } else {
        10.0
    };
    m * mag
}

impl Axis {
    /// A linear axis covering `lo..hi` extended outward to nice tick steps, optionally forced
    /// to include zero (bars).
    pub fn linear_nice(lo: f64, hi: f64, include_zero: bool, ticks: usize) -> Axis {
        let (mut lo, mut hi) = (lo, hi);
        if include_zero {
            lo = lo.min(0.0);
            hi = hi.max(0.0);
        }
        if lo == hi {
            if lo == 0.0 {
                hi = 1.0;
            } else {
                let d = lo.abs() * 0.1;
                if lo > 0.0 && include_zero {
                    hi += d;
                } else {
                    lo -= d;
                    hi += d;
                }
            }
        }
        let step = nice_step((hi - lo) / ticks.max(1) as f64);
        let min = (lo / step + 1e-9).floor() * step;
        let max = (hi / step - 1e-9).ceil() * step;
        Axis {
            scale: Scale::Linear,
            min,
            max,
        }
    }

    /// A linear axis exactly `lo..hi` (time axes), widened if degenerate.
    pub fn linear_tight(lo: f64, hi: f64) -> Axis {
        if lo == hi {
            let d = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
            // Do not invent negative time (or counts) around a single non-negative value.
            let min = if lo >= 0.0 { (lo - d).max(0.0) } else { lo - d };
            return Axis {
                scale: Scale::Linear,
                min,
                max: hi + d,
            };
        }
        Axis {
            scale: Scale::Linear,
            min: lo,
            max: hi,
        }
    }

    /// A log axis over `lo..hi` (both positive): whole decades when the data spans three or
    /// more, otherwise the 1-2-5 values at or just outside the data.
    pub fn log(lo: f64, hi: f64) -> Axis {
        let a = lo.log10().floor();
        let mut b = hi.log10().ceil();
        if b <= a {
            b = a + 1.0;
        }
        if (hi / lo).log10() >= 3.0 {
            return Axis {
                scale: Scale::Log,
                min: 10f64.powf(a),
                max: 10f64.powf(b),
            };
        }
        let steps = |d: f64| [1.0, 2.0, 5.0, 10.0].map(|m| m * 10f64.powf(d));
        let min = steps(a)
            .into_iter()
            .filter(|v| *v <= lo * (1.0 + 1e-9))
            .fold(10f64.powf(a), f64::max);
        let max = steps(b - 1.0)
            .into_iter()
            .filter(|v| *v >= hi * (1.0 - 1e-9))
            .fold(10f64.powf(b), f64::min);
        Axis {
            scale: Scale::Log,
            min,
            max,
        }
    }

    /// An axis of `scale` for `values` (already filtered with [`usable`]); `None` if empty.
    pub fn for_values(
        values: &[f64],
        scale: Scale,
        include_zero: bool,
        ticks: usize,
    ) -> Option<Axis> {
        let (lo, hi) = extent(values)?;
        Some(match scale {
            Scale::Linear => Axis::linear_nice(lo, hi, include_zero, ticks),
            Scale::Log => Axis::log(lo, hi),
        })
    }

    /// Position of `v` as a fraction of the axis (0 at min, 1 at max; not clamped).
    pub fn frac(&self, v: f64) -> f64 {
        match self.scale {
            Scale::Linear => (v - self.min) / (self.max - self.min),
            Scale::Log => (v.log10() - self.min.log10()) / (self.max.log10() - self.min.log10()),
        }
    }

    /// Whether `v` can be placed on this axis.
    pub fn accepts(&self, v: f64) -> bool {
        v.is_finite() && (self.scale == Scale::Linear || v > 0.0)
    }

    /// Tick positions and labels, about `target` labelled ones.
    pub fn ticks(&self, target: usize, integer_only: bool) -> Vec<Tick> {
        match self.scale {
            Scale::Linear => {
                let mut step = nice_step((self.max - self.min) / target.max(1) as f64);
                if integer_only {
                    step = step.max(1.0);
                }
                let fmt = Formatter::new(self.min.abs().max(self.max.abs()), step);
                let first = (self.min / step - 1e-9).ceil() as i64;
                let last = (self.max / step + 1e-9).floor() as i64;
                (first..=last)
                    .map(|k| {
                        let v = k as f64 * step;
                        Tick {
                            value: v,
                            label: Some(fmt.format(v)),
                        }
                    })
                    .collect()
            }
            Scale::Log => {
                let a = (self.min.log10() + 1e-9).floor() as i32;
                let b = (self.max.log10() - 1e-9).ceil() as i32;
                let span = (self.max / self.min).log10();
                let every =
                    ((span.round().max(1.0) as usize).div_ceil(target.max(1))).max(1) as i32;
                let inside = |v: f64| v >= self.min * (1.0 - 1e-9) && v <= self.max * (1.0 + 1e-9);
                let mut out = Vec::new();
                for d in a..=b {
                    let base = 10f64.powi(d);
                    for m in 1..=9 {
                        let v = base * m as f64;
                        if !inside(v) {
                            continue;
                        }
                        let labelled = if m == 1 {
                            (d - a) % every == 0
                        } else {
                            span < 2.5 && (m == 2 || m == 5)
                        };
                        out.push(Tick {
                            value: v,
                            label: labelled.then(|| fmt_log(v)),
                        });
                    }
                }
                out
            }
        }
    }
}

/// Formats a log tick value (a 1-9 multiple of a power of ten).
fn fmt_log(v: f64) -> String {
    Formatter::new(v, 10f64.powf(v.log10().floor())).format(v)
}

/// Formats tick values with just enough decimals for the step, switching to k/M suffixes for
/// large magnitudes.
pub(super) struct Formatter {
    div: f64,
    suffix: &'static str,
    decimals: usize,
}

impl Formatter {
    /// A formatter for values up to `absmax` spaced `step` apart.
    pub fn new(absmax: f64, step: f64) -> Formatter {
        let (div, suffix) = if absmax >= 1e10 {
            (1e9, "G")
        } else if absmax >= 1e7 {
            (1e6, "M")
        } else if absmax >= 1e4 {
            (1e3, "k")
        } else {
            (1.0, "")
        };
        let s = step / div;
        let decimals = if s > 0.0 && s.is_finite() {
            // Enough decimals that consecutive ticks differ (0.25 -> 2, 0.5 -> 1, 2 -> 0).
            let mut d = 0usize;
            while d < 6
                && ((s * 10f64.powi(d as i32)).round() - s * 10f64.powi(d as i32)).abs() > 1e-6
            {
                d += 1;
            }
            d
        } else {
            0
        };
        Formatter {
            div,
            suffix,
            decimals,
        }
    }

    /// The label for `v`.
    pub fn format(&self, v: f64) -> String {
        let x = v / self.div;
        if x.abs() < 1e-12 {
            return "0".to_string();
        }
        format!("{:.*}{}", self.decimals, x, self.suffix)
    }
}

/// A value formatted for an annotation: about three significant digits, k/M suffix for large
/// values, trailing zeros trimmed.
pub(super) fn fmt_value(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".to_string();
    }
    let a = v.abs();
    let (x, suffix) = if a >= 1e7 {
        (v / 1e6, "M")
    } else if a >= 1e4 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let ax = x.abs();
    let decimals = if ax == 0.0 || ax >= 100.0 {
        0
    } else {
        (2.0 - ax.log10().floor()).clamp(0.0, 6.0) as usize
    };
    let s = format!("{x:.decimals$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    s + suffix
}

/// A plot rectangle in pixels with its two axes.
#[derive(Clone, Copy, Debug)]
pub(super) struct Frame {
    pub left: f64,
    pub top: f64,
    pub right: f64,
    pub bottom: f64,
    pub x: Axis,
    pub y: Axis,
}

impl Frame {
    /// Pixel x of value `v` (clamped to a little outside the frame).
    pub fn px(&self, v: f64) -> f64 {
        let f = self.x.frac(v).clamp(-0.02, 1.02);
        self.left + f * (self.right - self.left)
    }

    /// Pixel y of value `v` (clamped to a little outside the frame).
    pub fn py(&self, v: f64) -> f64 {
        let f = self.y.frac(v).clamp(-0.02, 1.02);
        self.bottom - f * (self.bottom - self.top)
    }

    /// Pixel y clamped into the frame.
    pub fn py_in(&self, v: f64) -> f64 {
        self.py(v).clamp(self.top, self.bottom)
    }

    /// Pixel x clamped into the frame.
    pub fn px_in(&self, v: f64) -> f64 {
        self.px(v).clamp(self.left, self.right)
    }

    /// Whether value `v` lies on the y axis range.
    pub fn y_contains(&self, v: f64) -> bool {
        self.y.accepts(v) && (-1e-9..=1.0 + 1e-9).contains(&self.y.frac(v))
    }

    /// Whether value `v` lies on the x axis range.
    pub fn x_contains(&self, v: f64) -> bool {
        self.x.accepts(v) && (-1e-9..=1.0 + 1e-9).contains(&self.x.frac(v))
    }

    /// Horizontal grid lines at `ticks`, with labels left of the frame if `labels`.
    pub fn y_grid(&self, c: &mut Canvas, ticks: &[Tick], labels: bool) {
        for t in ticks {
            if !self.y_contains(t.value) {
                continue;
            }
            let y = self.py(t.value);
            let col = if t.label.is_some() { GRID } else { GRID_MINOR };
            c.line(&[(self.left, y), (self.right, y)], col, 1);
            if let (true, Some(l)) = (labels, &t.label) {
                c.line(&[(self.left - 5.0, y), (self.left, y)], FRAME, 1);
                c.text(l, (self.left - 8.0, y), TICK_SIZE, INK, Anchor::RIGHT);
            }
        }
    }

    /// Vertical grid lines at `ticks`, with labels below the frame if `labels`.
    pub fn x_grid(&self, c: &mut Canvas, ticks: &[Tick], labels: bool) {
        for t in ticks {
            if !self.x_contains(t.value) {
                continue;
            }
            let x = self.px(t.value);
            let col = if t.label.is_some() { GRID } else { GRID_MINOR };
            c.line(&[(x, self.top), (x, self.bottom)], col, 1);
            if let (true, Some(l)) = (labels, &t.label) {
                c.line(&[(x, self.bottom), (x, self.bottom + 5.0)], FRAME, 1);
                c.text(l, (x, self.bottom + 17.0), TICK_SIZE, INK, Anchor::CENTER);
            }
        }
    }

    /// The frame outline.
    pub fn border(&self, c: &mut Canvas) {
        c.stroke_rect((self.left, self.top), (self.right, self.bottom), FRAME);
    }
}

/// Width of the widest labelled tick.
pub(super) fn tick_label_width(c: &Canvas, ticks: &[Tick]) -> f64 {
    ticks
        .iter()
        .filter_map(|t| t.label.as_deref())
        .map(|l| c.text_width(l, TICK_SIZE, false))
        .fold(0.0, f64::max)
}

/// How category labels are drawn under a plot.
#[derive(Clone, Debug)]
pub(super) enum CategoryLabels {
    /// Horizontal, each label as one or more lines.
    Lines(Vec<Vec<String>>),
    /// Vertical (reading bottom to top), one line each.
    Vertical(Vec<String>),
}

/// Line height of category labels.
const CAT_LINE_H: f64 = 19.0;

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

/// Greedy wrap of `label` into lines at most `max_w` wide; `None` if a token does not fit.
fn wrap(c: &Canvas, label: &str, max_w: f64) -> Option<Vec<String>> {
    let mut lines: Vec<String> = Vec::new();
    for tok in tokens(label) {
        if c.text_width(&tok, TICK_SIZE, false) > max_w {
            return None;
        }
        let joined = match lines.last() {
            Some(last) if last.ends_with(['-', '_', '/', '.']) => format!("{last}{tok}"),
            Some(last) => format!("{last} {tok}"),
            None => tok.clone(),
        };
        if !lines.is_empty() && c.text_width(&joined, TICK_SIZE, false) <= max_w {
            *lines.last_mut().expect("non-empty") = joined;
        } else {
            lines.push(tok);
        }
    }
    Some(lines)
}

impl CategoryLabels {
    /// Chooses a layout for `labels` with `slot_w` pixels per category: one line if all fit,
    /// else wrapped into at most 3 lines, else vertical (long labels truncated to `max_vertical`).
    pub fn layout(c: &Canvas, labels: &[String], slot_w: f64, max_vertical: f64) -> CategoryLabels {
        let avail = slot_w - 6.0;
        if labels
            .iter()
            .all(|l| c.text_width(l, TICK_SIZE, false) <= avail)
        {
            return CategoryLabels::Lines(labels.iter().map(|l| vec![l.clone()]).collect());
        }
        let wrapped: Option<Vec<Vec<String>>> = labels.iter().map(|l| wrap(c, l, avail)).collect();
        match wrapped {
            Some(w) if w.iter().all(|lines| lines.len() <= 3) => CategoryLabels::Lines(w),
            _ => CategoryLabels::Vertical(
                labels
                    .iter()
                    .map(|l| c.fit_text(l, TICK_SIZE, false, max_vertical))
                    .collect(),
            ),
        }
    }

    /// Height in pixels below the frame.
    pub fn height(&self, c: &Canvas) -> f64 {
        match self {
            CategoryLabels::Lines(ls) => {
                let n = ls.iter().map(|l| l.len()).max().unwrap_or(1) as f64;
                8.0 + n * CAT_LINE_H
            }
            CategoryLabels::Vertical(ls) => {
                10.0 + ls
                    .iter()
                    .map(|l| c.text_width(l, TICK_SIZE, false))
                    .fold(0.0, f64::max)
            }
        }
    }

    /// Draws the labels centred on `centers`, starting just below `top`.
    pub fn draw(&self, c: &mut Canvas, centers: &[f64], top: f64) {
        match self {
            CategoryLabels::Lines(ls) => {
                for (lines, x) in ls.iter().zip(centers) {
                    for (i, line) in lines.iter().enumerate() {
                        let y = top + 8.0 + CAT_LINE_H * (i as f64 + 0.5);
                        c.text(line, (*x, y), TICK_SIZE, INK, Anchor::CENTER);
                    }
                }
            }
            CategoryLabels::Vertical(ls) => {
                for (l, x) in ls.iter().zip(centers) {
                    c.vtext(l, (*x, top + 8.0), TICK_SIZE, INK, Anchor::RIGHT);
                }
            }
        }
    }
}

/// A plain x/y plot laid out and drawn: title, optional top legend, grids, frame and axis
/// titles. Returns the frame to draw data into.
pub(super) struct XyPlot<'a> {
    pub title: &'a str,
    pub legend: &'a [super::canvas::LegendEntry],
    pub x: Axis,
    pub y: Axis,
    pub x_label: &'a str,
    pub y_label: &'a str,
    pub integer_x: bool,
    pub y_ticks: usize,
}

impl XyPlot<'_> {
    /// Draws the scaffolding and returns the data frame.
    pub fn draw(&self, c: &mut Canvas) -> Frame {
        use super::canvas::{draw_title, TopLegend, AXIS_TITLE_SIZE};
        let (w, h) = (c.w as f64, c.h as f64);
        let mut top = draw_title(c, self.title);
        if !self.legend.is_empty() {
            let legend = TopLegend::layout(c, self.legend, w - 80.0);
            legend.draw(c, w / 2.0, top);
            top += legend.height();
        }
        top += 14.0;
        let y_ticks = self.y.ticks(self.y_ticks, false);
        let left = 24.0 + AXIS_TITLE_SIZE + 12.0 + tick_label_width(c, &y_ticks) + 12.0;
        let right = w - 36.0;
        let x_title_h = if self.x_label.is_empty() { 0.0 } else { 34.0 };
        let bottom = h - 14.0 - x_title_h - 30.0;
        let target = (((right - left) / 90.0).floor() as usize).clamp(2, 12);
        let x_ticks = self.x.ticks(target, self.integer_x);
        let f = Frame {
            left,
            top,
            right,
            bottom,
            x: self.x,
            y: self.y,
        };
        f.y_grid(c, &y_ticks, true);
        f.x_grid(c, &x_ticks, true);
        f.border(c);
        c.vtext(
            self.y_label,
            (24.0 + AXIS_TITLE_SIZE / 2.0, (top + bottom) / 2.0),
            AXIS_TITLE_SIZE,
            INK,
            Anchor::CENTER,
        );
        c.text(
            self.x_label,
            ((left + right) / 2.0, h - 14.0 - x_title_h / 2.0),
            AXIS_TITLE_SIZE,
            INK,
            Anchor::CENTER,
        );
        f
    }
}
