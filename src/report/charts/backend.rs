//! Where a chart meets the drawing backends: every chart kind is one drawing function generic
//! over plotters' `DrawingBackend` ([`Chart::draw`]), run once onto `SVGBackend` (a string) and
//! once onto `BitMapBackend` (an RGB buffer), so the SVG and the PNG show the same picture.
//! Also the embedded font's registration and the PNG encoding. No file IO.

use super::{ChartError, Rendered, Size};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos};
use plotters::style::{FontDesc, FontStyle};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind,
};
use std::sync::Once;

/// A chart ready to draw: one drawing function for any backend.
pub(super) trait Chart {
    /// Draws the whole chart onto `root` (already filled white).
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ChartError>;
}

impl<E: std::error::Error + Send + Sync> From<plotters::drawing::DrawingAreaErrorKind<E>>
    for ChartError
{
    fn from(e: plotters::drawing::DrawingAreaErrorKind<E>) -> ChartError {
        ChartError::Draw(e.to_string())
    }
}

/// Draws `chart` on a canvas of `size` onto both backends and encodes the PNG.
pub(super) fn render(size: Size, chart: &impl Chart) -> Result<Rendered, ChartError> {
    if !(200..=8000).contains(&size.width) || !(150..=8000).contains(&size.height) {
        return Err(ChartError::InvalidSpec(format!(
            "canvas size {}x{} outside 200x150..8000x8000",
            size.width, size.height
        )));
    }
    ensure_fonts();
    let (w, h) = (size.width, size.height);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        root.fill(&WHITE)?;
        chart.draw(&root)?;
        root.present()?;
    }
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    {
        let backend = GlyphSpacing(BitMapBackend::with_buffer(&mut rgb, (w, h)));
        let root = backend.into_drawing_area();
        root.fill(&WHITE)?;
        chart.draw(&root)?;
        root.present()?;
    }
    Ok(Rendered {
        svg,
        png: encode_png(&rgb, w, h)?,
    })
}

static FONTS: Once = Once::new();

/// Registers DejaVu Sans (regular and bold) as plotters' "sans-serif" family, once per process,
/// so text renders on machines without system fonts or fontconfig.
fn ensure_fonts() {
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

/// plotters' bitmap encoder writes only to files, and the report writes every output through
/// `report::files` staging, so the PNG is encoded here from the RGB buffer (the `png` crate).
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

/// The bitmap backend with even letter spacing. Hand-written because plotters cannot do it:
/// its ab_glyph rasteriser (plotters 0.3.7, `style/font/ab_glyph.rs`) puts each glyph's ink at
/// the pen position and ignores the glyph's left side bearing, so bitmap text reads "b y". This
/// wrapper draws text one glyph at a time: each glyph at the pen position of its prefix (so
/// advances and kerning come from the font) plus an estimated bearing (the glyph's ink centred
/// in its advance). Everything else goes to `BitMapBackend` unchanged; the SVG backend keeps
/// whole strings, which the browser lays out itself.
struct GlyphSpacing<'a>(BitMapBackend<'a>);

type BitmapError<'a> = <BitMapBackend<'a> as DrawingBackend>::ErrorType;

impl<'a> DrawingBackend for GlyphSpacing<'a> {
    type ErrorType = BitmapError<'a>;

    fn get_size(&self) -> (u32, u32) {
        self.0.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.present()
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.fill_polygon(vert, style)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        (iw, ih): (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.blit_bitmap(pos, (iw, ih), src)
    }

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let font = FontDesc::new(style.family(), style.size(), style.style());
        // plotters truncates layout widths to whole pixels; measuring at 16x keeps 1/16 px.
        let fine = FontDesc::new(style.family(), style.size() * 16.0, style.style());
        let width = |t: &str| -> f64 {
            fine.layout_box(t)
                .map(|((x0, _), (x1, _))| (x1 - x0) as f64 / 16.0)
                .unwrap_or(0.0)
        };
        let total = width(text);
        let anchor = style.anchor();
        let start = match anchor.h_pos {
            HPos::Left => 0.0,
            HPos::Center => -total / 2.0,
            HPos::Right => -total,
        };
        let transform = style.transform();
        let glyph_style = font
            .clone()
            .transform(transform.clone())
            .color(&RGBAColor(
                color.rgb.0,
                color.rgb.1,
                color.rgb.2,
                color.alpha,
            ))
            .pos(Pos::new(HPos::Left, anchor.v_pos));
        for (i, ch) in text.char_indices() {
            if ch.is_whitespace() {
                continue;
            }
            let Some((lo, hi)) = ink_extent(&font, ch) else {
                continue;
            };
            let pen = width(&text[..i]);
            let advance = width(&text[i..i + ch.len_utf8()]);
            let ink = (hi - lo + 1) as f64;
            let off = (start + pen + (advance - ink) / 2.0 - lo as f64).round() as i32;
            // Move along the text's own direction after its rotation.
            let (dx, dy) = transform.transform(off, 0);
            let mut buf = [0u8; 4];
            self.0.draw_text(
                ch.encode_utf8(&mut buf),
                &glyph_style,
                (pos.0 + dx, pos.1 + dy),
            )?;
        }
        Ok(())
    }
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
