//! Training curves as a PNG: one panel per metric, drawn with embedded-graphics on the same
//! canvas type the device display uses.

use capsule_device::display::RgbCanvas;
use capsule_device::fsutil::{AtomicWriteError, write_atomic};
use embedded_graphics::mono_font::{MonoTextStyle, ascii::FONT_6X10};
use embedded_graphics::pixelcolor::Rgb888;
use embedded_graphics::prelude::*;
use embedded_graphics::primitives::{Line, PrimitiveStyle, Rectangle};
use embedded_graphics::text::Text;
use std::path::{Path, PathBuf};

/// One line of a panel.
#[derive(Debug, Clone)]
pub struct Series {
    pub label: String,
    /// (x, y) points; non-finite values are skipped.
    pub points: Vec<(f64, f64)>,
}

/// One chart.
#[derive(Debug, Clone)]
pub struct Panel {
    pub title: String,
    pub series: Vec<Series>,
}

const PANEL_W: u32 = 360;
const PANEL_H: u32 = 240;
const MARGIN: i32 = 40;
const COLOURS: [Rgb888; 4] = [
    Rgb888::new(31, 119, 180),
    Rgb888::new(255, 127, 14),
    Rgb888::new(44, 160, 44),
    Rgb888::new(214, 39, 40),
];

/// Draws the panels side by side.
pub fn render(panels: &[Panel]) -> image::RgbImage {
    let mut canvas = RgbCanvas::new(PANEL_W * panels.len().max(1) as u32, PANEL_H, Rgb888::WHITE);
    for (i, panel) in panels.iter().enumerate() {
        draw_panel(&mut canvas, panel, i as i32 * PANEL_W as i32);
    }
    canvas.into_image()
}

/// A plot could not be written.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    #[error("cannot encode the plot {path} as PNG: {source}")]
    Encode {
        path: PathBuf,
        #[source]
        source: image::ImageError,
    },
    #[error(transparent)]
    Write(#[from] AtomicWriteError),
}

/// Draws the panels and writes them as a PNG, atomically.
pub fn save(path: &Path, panels: &[Panel]) -> Result<(), PlotError> {
    let image = render(panels);
    let mut bytes = Vec::new();
    image
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .map_err(|source| PlotError::Encode {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(write_atomic(path, &bytes)?)
}

fn draw_panel(canvas: &mut RgbCanvas, panel: &Panel, left: i32) {
    let text = MonoTextStyle::new(&FONT_6X10, Rgb888::BLACK);
    let grey = PrimitiveStyle::with_stroke(Rgb888::new(150, 150, 150), 1);
    let (x0, y0) = (left + MARGIN, 20);
    let (w, h) = (PANEL_W as i32 - MARGIN - 12, PANEL_H as i32 - 20 - 36);
    let _ = Text::new(&panel.title, Point::new(left + MARGIN, 12), text).draw(canvas);
    let _ = Rectangle::new(Point::new(x0, y0), Size::new(w as u32, h as u32))
        .into_styled(grey)
        .draw(canvas);

    let points: Vec<(f64, f64)> = panel
        .series
        .iter()
        .flat_map(|s| s.points.iter().copied())
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    if points.is_empty() {
        let _ = Text::new("no data yet", Point::new(x0 + 10, y0 + h / 2), text).draw(canvas);
        return;
    }
    let (mut xmin, mut xmax) = min_max(points.iter().map(|p| p.0));
    let (mut ymin, mut ymax) = min_max(points.iter().map(|p| p.1));
    if xmax - xmin < 1e-12 {
        xmin -= 0.5;
        xmax += 0.5;
    }
    if ymax - ymin < 1e-12 {
        ymin -= 0.5;
        ymax += 0.5;
    }
    let to_px = |(x, y): (f64, f64)| {
        Point::new(
            x0 + ((x - xmin) / (xmax - xmin) * w as f64).round() as i32,
            y0 + h - ((y - ymin) / (ymax - ymin) * h as f64).round() as i32,
        )
    };
    let _ = Text::new(&format_number(ymax), Point::new(left + 2, y0 + 8), text).draw(canvas);
    let _ = Text::new(&format_number(ymin), Point::new(left + 2, y0 + h), text).draw(canvas);
    let _ = Text::new(&format_number(xmin), Point::new(x0, y0 + h + 12), text).draw(canvas);
    let _ = Text::new(
        &format_number(xmax),
        Point::new(x0 + w - 30, y0 + h + 12),
        text,
    )
    .draw(canvas);

    for (k, series) in panel.series.iter().enumerate() {
        let colour = COLOURS[k % COLOURS.len()];
        let style = PrimitiveStyle::with_stroke(colour, 2);
        let finite: Vec<Point> = series
            .points
            .iter()
            .copied()
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .map(to_px)
            .collect();
        for pair in finite.windows(2) {
            let _ = Line::new(pair[0], pair[1]).into_styled(style).draw(canvas);
        }
        if let [only] = finite[..] {
            let _ = Rectangle::with_center(only, Size::new(4, 4))
                .into_styled(PrimitiveStyle::with_fill(colour))
                .draw(canvas);
        }
        let label = Point::new(left + MARGIN + 120 * k as i32, PANEL_H as i32 - 6);
        let _ =
            Text::new(&series.label, label, MonoTextStyle::new(&FONT_6X10, colour)).draw(canvas);
    }
}

fn min_max(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    })
}

fn format_number(v: f64) -> String {
    if v.abs() >= 1000.0 || (v != 0.0 && v.abs() < 0.01) {
        format!("{v:.1e}")
    } else {
        format!("{v:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_lines_in_series_colours() {
        let panels = [
            Panel {
                title: "loss".into(),
                series: vec![Series {
                    label: "train".into(),
                    points: vec![(1.0, 2.0), (2.0, 1.0), (3.0, f64::NAN)],
                }],
            },
            Panel {
                title: "empty".into(),
                series: vec![],
            },
        ];
        let image = render(&panels);
        assert_eq!(image.dimensions(), (2 * PANEL_W, PANEL_H));
        assert!(image.pixels().any(|p| p.0 == [31, 119, 180]));
        let dir = tempfile::tempdir().unwrap();
        save(&dir.path().join("curves.png"), &panels).unwrap();
        assert!(image::open(dir.path().join("curves.png")).is_ok());
    }
}
