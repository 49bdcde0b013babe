//! Backend-neutral drawing for the charts: a display list in pixel coordinates that is laid out
//! once and replayed onto the SVG and bitmap backends of plotters, so both encodings show the
//! same picture. Also the embedded font, text measurement, marker shapes, legends, the palette
//! and the PNG encoder. No file IO.

use super::{ChartError, Rendered, Size};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontDesc, FontFamily, FontStyle, FontTransform, RGBAColor};
use std::sync::Once;

/// Okabe-Ito colours in the order series use them (yellow and black last: weak on white / used
/// for reference lines).
pub(super) const PALETTE: [(u8, u8, u8); 8] = [
    (0x00, 0x72, 0xB2), // blue
    (0xE6, 0x9F, 0x00), // orange
    (0x00, 0x9E, 0x73), // bluish green
    (0xD5, 0x5E, 0x00), // vermillion
    (0x56, 0xB4, 0xE9), // sky blue
    (0xCC, 0x79, 0xA7), // reddish purple
    (0xF0, 0xE4, 0x42), // yellow
    (0x00, 0x00, 0x00), // black
];

/// The palette colour for series index `i` (cycles).
pub(super) fn palette(i: usize) -> RGBAColor {
    let (r, g, b) = PALETTE[i % PALETTE.len()];
    RGBAColor(r, g, b, 1.0)
}

/// An opaque colour from RGB.
pub(super) const fn rgb(r: u8, g: u8, b: u8) -> RGBAColor {
    RGBAColor(r, g, b, 1.0)
}

/// Text colour.
pub(super) const INK: RGBAColor = rgb(0x22, 0x22, 0x22);
/// Secondary text colour.
pub(super) const MUTED: RGBAColor = rgb(0x66, 0x66, 0x66);
/// Grid line colour.
pub(super) const GRID: RGBAColor = rgb(0xE2, 0xE2, 0xE2);
/// Minor grid line colour.
pub(super) const GRID_MINOR: RGBAColor = rgb(0xF1, 0xF1, 0xF1);
/// Plot frame colour.
pub(super) const FRAME: RGBAColor = rgb(0x55, 0x55, 0x55);
/// Reference line colour.
pub(super) const REF: RGBAColor = rgb(0x33, 0x33, 0x33);

/// Font sizes (plotters units: roughly the line height in pixels).
pub(super) const TITLE_SIZE: f64 = 28.0;
/// Axis title size.
pub(super) const AXIS_TITLE_SIZE: f64 = 20.0;
/// Tick label size.
pub(super) const TICK_SIZE: f64 = 17.0;
/// Legend text size.
pub(super) const LEGEND_SIZE: f64 = 17.0;
/// Small annotation size (reference line and marker labels).
pub(super) const NOTE_SIZE: f64 = 15.0;

static FONTS: Once = Once::new();

/// Registers DejaVu Sans (regular and bold) as plotters' "sans-serif" family, once per process,
/// so text renders on machines without system fonts or fontconfig.
pub(super) fn ensure_fonts() {
    FONTS.call_once(|| {
        // Both fonts are embedded, valid TTF files; if registration ever failed, drawing text
        // would report a font error through `ChartError::Draw` instead of panicking.
        let _ = plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            dejavu::sans::regular(),
        );
        let _ = plotters::style::register_font("sans-serif", FontStyle::Bold, dejavu::sans::bold());
    });
}

/// Font description for a size and weight.
fn font(size: f64, bold: bool) -> FontDesc<'static> {
    let style = if bold {
        FontStyle::Bold
    } else {
        FontStyle::Normal
    };
    FontDesc::new(FontFamily::SansSerif, size, style)
}

/// Text anchor: which point of the text box sits at the given position.
#[derive(Clone, Copy)]
pub(super) struct Anchor(pub HPos, pub VPos);

impl Anchor {
    /// Left edge, vertical centre.
    pub const LEFT: Anchor = Anchor(HPos::Left, VPos::Center);
    /// Right edge, vertical centre.
    pub const RIGHT: Anchor = Anchor(HPos::Right, VPos::Center);
    /// Centre.
    pub const CENTER: Anchor = Anchor(HPos::Center, VPos::Center);
}

/// Marker shapes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Shape {
    Circle,
    Square,
    TriangleUp,
    Diamond,
    TriangleDown,
    Cross,
}

/// Shapes in the order quantiles (or other categorical marks) use them.
pub(super) const SHAPES: [Shape; 6] = [
    Shape::Circle,
    Shape::TriangleUp,
    Shape::Square,
    Shape::Diamond,
    Shape::TriangleDown,
    Shape::Cross,
];

/// One drawing primitive in pixel coordinates.
#[derive(Clone)]
enum Op {
    Rect {
        a: (i32, i32),
        b: (i32, i32),
        color: RGBAColor,
        filled: bool,
    },
    Path {
        points: Vec<(i32, i32)>,
        color: RGBAColor,
        width: u32,
    },
    Polygon {
        points: Vec<(i32, i32)>,
        color: RGBAColor,
    },
    Circle {
        center: (i32, i32),
        radius: u32,
        color: RGBAColor,
        filled: bool,
        width: u32,
    },
    Text {
        text: String,
        pos: (i32, i32),
        size: f64,
        bold: bool,
        color: RGBAColor,
        anchor: Anchor,
        vertical: bool,
    },
}

fn ipt((x, y): (f64, f64)) -> (i32, i32) {
    (x.round() as i32, y.round() as i32)
}

/// A display list plus the canvas size.
pub(super) struct Canvas {
    /// Width in pixels.
    pub w: i32,
    /// Height in pixels.
    pub h: i32,
    ops: Vec<Op>,
}

impl Canvas {
    /// An empty (white) canvas; checks the size.
    pub fn new(size: Size) -> Result<Canvas, ChartError> {
        if !(200..=8000).contains(&size.width) || !(150..=8000).contains(&size.height) {
            return Err(ChartError::InvalidSpec(format!(
                "canvas size {}x{} outside 200x150..8000x8000",
                size.width, size.height
            )));
        }
        ensure_fonts();
        Ok(Canvas {
            w: size.width as i32,
            h: size.height as i32,
            ops: Vec::new(),
        })
    }

    /// Width of `text` in pixels at `size`.
    pub fn text_width(&self, text: &str, size: f64, bold: bool) -> f64 {
        match font(size, bold).layout_box(text) {
            Ok(((x0, _), (x1, _))) => (x1 - x0) as f64,
            Err(_) => size * 0.6 * text.chars().count() as f64,
        }
    }

    /// `text` shortened with an ellipsis so it fits in `max_w` pixels.
    pub fn fit_text(&self, text: &str, size: f64, bold: bool, max_w: f64) -> String {
        if self.text_width(text, size, bold) <= max_w {
            return text.to_string();
        }
        let chars: Vec<char> = text.chars().collect();
        let mut n = chars.len();
        while n > 0 {
            n -= 1;
            let candidate: String = chars[..n].iter().collect::<String>() + "…";
            if self.text_width(&candidate, size, bold) <= max_w {
                return candidate;
            }
        }
        String::new()
    }

    /// A filled rectangle between two corners.
    pub fn fill_rect(&mut self, a: (f64, f64), b: (f64, f64), color: RGBAColor) {
        self.ops.push(Op::Rect {
            a: ipt(a),
            b: ipt(b),
            color,
            filled: true,
        });
    }

    /// A 1-pixel rectangle outline.
    pub fn stroke_rect(&mut self, a: (f64, f64), b: (f64, f64), color: RGBAColor) {
        self.ops.push(Op::Rect {
            a: ipt(a),
            b: ipt(b),
            color,
            filled: false,
        });
    }

    /// A solid polyline.
    pub fn line(&mut self, points: &[(f64, f64)], color: RGBAColor, width: u32) {
        if points.len() < 2 {
            return;
        }
        self.ops.push(Op::Path {
            points: points.iter().map(|p| ipt(*p)).collect(),
            color,
            width,
        });
    }

    /// A dashed polyline: `on` pixels drawn, `off` pixels skipped.
    pub fn dashed(
        &mut self,
        points: &[(f64, f64)],
        color: RGBAColor,
        width: u32,
        on: f64,
        off: f64,
    ) {
        let period = on + off;
        let mut phase = 0.0f64; // distance into the current period
        let mut current: Vec<(f64, f64)> = Vec::new();
        for pair in points.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            let len = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
            if len == 0.0 || !len.is_finite() {
                continue;
            }
            let mut t = 0.0;
            while t < len {
                let at = |d: f64| (a.0 + (b.0 - a.0) * d / len, a.1 + (b.1 - a.1) * d / len);
                if phase < on {
                    if current.is_empty() {
                        current.push(at(t));
                    }
                    let step = (on - phase).min(len - t);
                    t += step;
                    phase += step;
                    current.push(at(t));
                    if phase >= on {
                        let done = std::mem::take(&mut current);
                        self.line(&done, color, width);
                    }
                } else {
                    let step = (period - phase).min(len - t);
                    t += step;
                    phase += step;
                    if phase >= period {
                        phase = 0.0;
                    }
                }
            }
        }
        let rest = std::mem::take(&mut current);
        self.line(&rest, color, width);
    }

    /// A filled polygon.
    pub fn polygon(&mut self, points: &[(f64, f64)], color: RGBAColor) {
        if points.len() < 3 {
            return;
        }
        self.ops.push(Op::Polygon {
            points: points.iter().map(|p| ipt(*p)).collect(),
            color,
        });
    }

    /// A circle, filled or outlined.
    pub fn circle(&mut self, c: (f64, f64), r: f64, color: RGBAColor, filled: bool, width: u32) {
        self.ops.push(Op::Circle {
            center: ipt(c),
            radius: r.round().max(1.0) as u32,
            color,
            filled,
            width,
        });
    }

    /// Horizontal text.
    pub fn text(
        &mut self,
        text: &str,
        pos: (f64, f64),
        size: f64,
        color: RGBAColor,
        anchor: Anchor,
    ) {
        self.push_text(text, pos, size, false, color, anchor, false);
    }

    /// Bold horizontal text.
    pub fn bold(
        &mut self,
        text: &str,
        pos: (f64, f64),
        size: f64,
        color: RGBAColor,
        anchor: Anchor,
    ) {
        self.push_text(text, pos, size, true, color, anchor, false);
    }

    /// Text rotated to read bottom to top; the anchor applies before rotation.
    pub fn vtext(
        &mut self,
        text: &str,
        pos: (f64, f64),
        size: f64,
        color: RGBAColor,
        anchor: Anchor,
    ) {
        self.push_text(text, pos, size, false, color, anchor, true);
    }

    #[allow(clippy::too_many_arguments)]
    fn push_text(
        &mut self,
        text: &str,
        pos: (f64, f64),
        size: f64,
        bold: bool,
        color: RGBAColor,
        anchor: Anchor,
        vertical: bool,
    ) {
        if text.is_empty() {
            return;
        }
        self.ops.push(Op::Text {
            text: text.to_string(),
            pos: ipt(pos),
            size,
            bold,
            color,
            anchor,
            vertical,
        });
    }

    /// Text on a white, slightly transparent box so it stays readable over lines.
    pub fn label_box(
        &mut self,
        text: &str,
        pos: (f64, f64),
        size: f64,
        color: RGBAColor,
        anchor: Anchor,
    ) {
        let w = self.text_width(text, size, false);
        let h = size * 0.9;
        let x0 = match anchor.0 {
            HPos::Left => pos.0,
            HPos::Center => pos.0 - w / 2.0,
            HPos::Right => pos.0 - w,
        };
        let y0 = match anchor.1 {
            VPos::Top => pos.1,
            VPos::Center => pos.1 - h / 2.0,
            VPos::Bottom => pos.1 - h,
        };
        self.fill_rect(
            (x0 - 3.0, y0 - 2.0),
            (x0 + w + 3.0, y0 + h + 2.0),
            RGBAColor(255, 255, 255, 0.85),
        );
        self.text(text, pos, size, color, anchor);
    }

    /// A marker of `shape` centred at `c` with radius `r`, with a thin darker outline.
    pub fn marker(&mut self, shape: Shape, c: (f64, f64), r: f64, color: RGBAColor) {
        let outline = RGBAColor(0x22, 0x22, 0x22, 0.9);
        let (x, y) = c;
        let poly: Vec<(f64, f64)> = match shape {
            Shape::Circle => {
                self.circle(c, r, color, true, 1);
                self.circle(c, r, outline, false, 1);
                return;
            }
            Shape::Cross => {
                let d = r * 0.85;
                let w = (r * 0.55).round().max(2.0) as u32;
                self.line(&[(x - d, y - d), (x + d, y + d)], color, w);
                self.line(&[(x - d, y + d), (x + d, y - d)], color, w);
                return;
            }
            Shape::Square => {
                let d = r * 0.85;
                vec![
                    (x - d, y - d),
                    (x + d, y - d),
                    (x + d, y + d),
                    (x - d, y + d),
                ]
            }
            Shape::Diamond => {
                let d = r * 1.2;
                vec![(x, y - d), (x + d, y), (x, y + d), (x - d, y)]
            }
            Shape::TriangleUp => {
                let d = r * 1.15;
                vec![(x, y - d), (x + d, y + d * 0.8), (x - d, y + d * 0.8)]
            }
            Shape::TriangleDown => {
                let d = r * 1.15;
                vec![(x, y + d), (x + d, y - d * 0.8), (x - d, y - d * 0.8)]
            }
        };
        self.polygon(&poly, color);
        let mut closed = poly.clone();
        closed.push(poly[0]);
        self.line(&closed, outline, 1);
    }

    /// Replays the display list onto both backends and encodes the PNG.
    pub fn render(&self) -> Result<Rendered, ChartError> {
        let (w, h) = (self.w as u32, self.h as u32);
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
            replay(&root, &self.ops, false)?;
        }
        let mut rgb = vec![0u8; w as usize * h as usize * 3];
        {
            let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
            replay(&root, &self.ops, true)?;
        }
        let png = encode_png(&rgb, w, h)?;
        Ok(Rendered { svg, png })
    }
}

fn draw_err<E: std::fmt::Debug>(e: E) -> ChartError {
    ChartError::Draw(format!("{e:?}"))
}

/// Horizontal ink extent (first and last covered pixel column) of one glyph as plotters
/// rasterises it, relative to where plotters puts it.
fn ink_extent(f: &FontDesc<'_>, ch: char) -> Option<(i32, i32)> {
    let mut ext: Option<(i32, i32)> = None;
    let mut buf = [0u8; 4];
    let drawn = f.draw(ch.encode_utf8(&mut buf), (0, 0), |x, _, a| {
        if a > 0.0 {
            ext = Some(ext.map_or((x, x), |(lo, hi)| (lo.min(x), hi.max(x))));
        }
        Ok::<(), ()>(())
    });
    drawn.ok()?.ok()?;
    ext
}

/// Draws text one glyph at a time. plotters' ab_glyph rasteriser places each glyph's ink at
/// the pen position, ignoring the glyph's left side bearing, which makes letter spacing
/// uneven ("b y"). Here each glyph goes at the pen position of its prefix (so kerning and
/// advances come from the font) plus an estimated bearing: the glyph's ink centred in its
/// advance. The SVG backend keeps whole strings.
#[allow(clippy::too_many_arguments)]
fn draw_glyphs<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    pos: (i32, i32),
    size: f64,
    bold: bool,
    color: &RGBAColor,
    anchor: Anchor,
    vertical: bool,
) -> Result<(), ChartError> {
    let f = font(size, bold);
    // plotters truncates layout widths to whole pixels; measuring at 16x keeps 1/16 px.
    let fine = font(size * 16.0, bold);
    let width = |t: &str| -> f64 {
        fine.layout_box(t)
            .map(|((x0, _), (x1, _))| (x1 - x0) as f64 / 16.0)
            .unwrap_or(0.0)
    };
    let total = width(text);
    let start = match anchor.0 {
        HPos::Left => 0.0,
        HPos::Center => -total / 2.0,
        HPos::Right => -total,
    };
    let mut glyph_font = f.clone();
    if vertical {
        glyph_font = glyph_font.transform(FontTransform::Rotate270);
    }
    let style = glyph_font.color(color).pos(Pos::new(HPos::Left, anchor.1));
    for (i, ch) in text.char_indices() {
        if ch.is_whitespace() {
            continue;
        }
        let pen = width(&text[..i]);
        let advance = width(&text[i..i + ch.len_utf8()]);
        let Some((lo, hi)) = ink_extent(&f, ch) else {
            continue;
        };
        let ink = (hi - lo + 1) as f64;
        let off = (start + pen + (advance - ink) / 2.0 - lo as f64).round() as i32;
        let p = if vertical {
            (pos.0, pos.1 - off)
        } else {
            (pos.0 + off, pos.1)
        };
        let mut buf = [0u8; 4];
        area.draw(&Text::new(
            ch.encode_utf8(&mut buf).to_string(),
            p,
            style.clone(),
        ))
        .map_err(draw_err)?;
    }
    Ok(())
}

fn replay<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    ops: &[Op],
    per_glyph: bool,
) -> Result<(), ChartError> {
    area.fill(&WHITE).map_err(draw_err)?;
    for op in ops {
        match op {
            Op::Rect {
                a,
                b,
                color,
                filled,
            } => {
                let style = if *filled {
                    color.filled()
                } else {
                    color.stroke_width(1)
                };
                area.draw(&Rectangle::new([*a, *b], style))
            }
            Op::Path {
                points,
                color,
                width,
            } => area.draw(&PathElement::new(
                points.clone(),
                color.stroke_width(*width),
            )),
            Op::Polygon { points, color } => {
                area.draw(&Polygon::new(points.clone(), color.filled()))
            }
            Op::Circle {
                center,
                radius,
                color,
                filled,
                width,
            } => {
                let style = if *filled {
                    color.filled()
                } else {
                    color.stroke_width(*width)
                };
                area.draw(&Circle::new(*center, *radius, style))
            }
            Op::Text {
                text,
                pos,
                size,
                bold,
                color,
                anchor,
                vertical,
            } if per_glyph => {
                draw_glyphs(area, text, *pos, *size, *bold, color, *anchor, *vertical)?;
                Ok(())
            }
            Op::Text {
                text,
                pos,
                size,
                bold,
                color,
                anchor,
                vertical,
            } => {
                let mut f = font(*size, *bold);
                if *vertical {
                    f = f.transform(FontTransform::Rotate270);
                }
                let style = f.color(color).pos(Pos::new(anchor.0, anchor.1));
                area.draw(&Text::new(text.clone(), *pos, style))
            }
        }
        .map_err(draw_err)?;
    }
    area.present().map_err(draw_err)
}

fn encode_png(rgb: &[u8], w: u32, h: u32) -> Result<Vec<u8>, ChartError> {
    let enc_err = |e: png::EncodingError| ChartError::Encode(e.to_string());
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Fast);
        let mut writer = enc.write_header().map_err(enc_err)?;
        writer.write_image_data(rgb).map_err(enc_err)?;
        writer.finish().map_err(enc_err)?;
    }
    Ok(out)
}

/// What a legend entry shows next to its label.
#[derive(Clone, Debug)]
pub(super) enum Swatch {
    /// A filled box (bars, heatmap).
    Box(RGBAColor),
    /// A line sample.
    Line {
        color: RGBAColor,
        width: u32,
        /// Dash pattern (on, off) in pixels; `None` for solid.
        dash: Option<(f64, f64)>,
    },
    /// A marker.
    Marker(Shape, RGBAColor),
    /// A hollow ring (highlighted point).
    Ring(RGBAColor),
}

/// One legend entry.
#[derive(Clone, Debug)]
pub(super) struct LegendEntry {
    /// Label text.
    pub label: String,
    /// Sample.
    pub swatch: Swatch,
}

const SWATCH_W: f64 = 30.0;
const LEGEND_ROW_H: f64 = 26.0;
const LEGEND_GAP: f64 = 26.0;

fn draw_swatch(c: &mut Canvas, s: &Swatch, x: f64, y: f64) {
    match s {
        Swatch::Box(col) => {
            c.fill_rect((x + 6.0, y - 8.0), (x + SWATCH_W - 6.0, y + 8.0), *col);
        }
        Swatch::Line { color, width, dash } => {
            let pts = [(x, y), (x + SWATCH_W, y)];
            if let Some((on, off)) = dash {
                c.dashed(&pts, *color, *width, *on, *off);
            } else {
                c.line(&pts, *color, *width);
            }
        }
        Swatch::Marker(shape, col) => c.marker(*shape, (x + SWATCH_W / 2.0, y), 6.0, *col),
        Swatch::Ring(col) => c.circle((x + SWATCH_W / 2.0, y), 9.0, *col, false, 3),
    }
}

/// A horizontal legend flowed into rows (placed under the title).
pub(super) struct TopLegend {
    rows: Vec<Vec<(LegendEntry, f64)>>,
}

impl TopLegend {
    /// Lays entries out in rows no wider than `max_w`.
    pub fn layout(c: &Canvas, entries: &[LegendEntry], max_w: f64) -> TopLegend {
        let mut rows: Vec<Vec<(LegendEntry, f64)>> = Vec::new();
        let mut row_w = 0.0;
        for e in entries {
            let label = c.fit_text(&e.label, LEGEND_SIZE, false, max_w - SWATCH_W - 8.0);
            let w = SWATCH_W + 8.0 + c.text_width(&label, LEGEND_SIZE, false);
            let entry = LegendEntry {
                label,
                swatch: e.swatch.clone(),
            };
            match rows.last_mut() {
                Some(row) if row_w + LEGEND_GAP + w <= max_w => {
                    row_w += LEGEND_GAP + w;
                    row.push((entry, w));
                }
                _ => {
                    rows.push(vec![(entry, w)]);
                    row_w = w;
                }
            }
        }
        TopLegend { rows }
    }

    /// Height in pixels (0 when empty).
    pub fn height(&self) -> f64 {
        self.rows.len() as f64 * LEGEND_ROW_H
    }

    /// Draws the rows centred on `cx`, starting at `top`.
    pub fn draw(&self, c: &mut Canvas, cx: f64, top: f64) {
        for (i, row) in self.rows.iter().enumerate() {
            let total: f64 =
                row.iter().map(|(_, w)| *w).sum::<f64>() + LEGEND_GAP * (row.len() as f64 - 1.0);
            let mut x = cx - total / 2.0;
            let y = top + LEGEND_ROW_H * (i as f64 + 0.5);
            for (e, w) in row {
                draw_swatch(c, &e.swatch, x, y);
                c.text(
                    &e.label,
                    (x + SWATCH_W + 8.0, y),
                    LEGEND_SIZE,
                    INK,
                    Anchor::LEFT,
                );
                x += w + LEGEND_GAP;
            }
        }
    }
}

/// A vertical legend column (placed right of the plots).
pub(super) struct SideLegend {
    entries: Vec<LegendEntry>,
    /// Width including padding.
    pub width: f64,
}

impl SideLegend {
    /// Lays entries out in a column at most `max_w` wide.
    pub fn layout(c: &Canvas, entries: &[LegendEntry], max_w: f64) -> SideLegend {
        let text_max = max_w - SWATCH_W - 8.0 - 16.0;
        let entries: Vec<LegendEntry> = entries
            .iter()
            .map(|e| LegendEntry {
                label: c.fit_text(&e.label, LEGEND_SIZE, false, text_max),
                swatch: e.swatch.clone(),
            })
            .collect();
        let widest = entries
            .iter()
            .map(|e| c.text_width(&e.label, LEGEND_SIZE, false))
            .fold(0.0, f64::max);
        SideLegend {
            entries,
            width: SWATCH_W + 8.0 + widest + 16.0,
        }
    }

    /// Draws the column with its top-left corner at (`x`, `top`).
    pub fn draw(&self, c: &mut Canvas, x: f64, top: f64) {
        for (i, e) in self.entries.iter().enumerate() {
            let y = top + LEGEND_ROW_H * (i as f64 + 0.5);
            draw_swatch(c, &e.swatch, x + 8.0, y);
            c.text(
                &e.label,
                (x + 8.0 + SWATCH_W + 8.0, y),
                LEGEND_SIZE,
                INK,
                Anchor::LEFT,
            );
        }
    }
}

/// Draws the title centred at the top, shrinking it to fit; returns the y below it.
pub(super) fn draw_title(c: &mut Canvas, title: &str) -> f64 {
    let max_w = c.w as f64 - 40.0;
    let mut size = TITLE_SIZE;
    while size > 14.0 && c.text_width(title, size, true) > max_w {
        size -= 1.0;
    }
    let t = c.fit_text(title, size, true, max_w);
    c.bold(&t, (c.w as f64 / 2.0, 26.0), size, INK, Anchor::CENTER);
    50.0
}

/// A chart with only a title and a framed "no data" message.
pub(super) fn no_data(size: Size, title: &str, why: &str) -> Result<Rendered, ChartError> {
    let mut c = Canvas::new(size)?;
    let top = draw_title(&mut c, title);
    let (w, h) = (c.w as f64, c.h as f64);
    c.stroke_rect((60.0, top + 20.0), (w - 60.0, h - 60.0), GRID);
    c.text(
        "no data",
        (w / 2.0, h / 2.0),
        TITLE_SIZE,
        MUTED,
        Anchor::CENTER,
    );
    c.text(
        why,
        (w / 2.0, h / 2.0 + 36.0),
        LEGEND_SIZE,
        MUTED,
        Anchor::CENTER,
    );
    c.render()
}
