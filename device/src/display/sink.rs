//! Where screens go: a PNG file (desktop, tests) or the Linux framebuffer (a mirror).

use super::{Framebuffer, RgbCanvas, Screen, draw};
use capsule_contract::fsutil::write_atomic;
use embedded_graphics::pixelcolor::{Rgb888, RgbColor};
use std::path::{Path, PathBuf};

/// A screen could not be shown.
#[derive(Debug, thiserror::Error)]
#[error("display {target}: {message}")]
pub struct SinkError {
    pub target: String,
    pub message: String,
}

/// A display screens are drawn on (the frame loop's, the CLI's `--screen` files).
pub trait ScreenSink {
    fn show(&mut self, screen: &Screen<'_>) -> Result<(), SinkError>;
}

/// Writes each screen to a PNG file, replacing it atomically (a viewer never sees half).
pub struct PngSink {
    path: PathBuf,
    width: u32,
    height: u32,
}

impl PngSink {
    pub fn new(path: &Path, width: u32, height: u32) -> Self {
        Self {
            path: path.to_path_buf(),
            width,
            height,
        }
    }
}

impl ScreenSink for PngSink {
    fn show(&mut self, screen: &Screen<'_>) -> Result<(), SinkError> {
        let fail = |message: String| SinkError {
            target: self.path.display().to_string(),
            message,
        };
        let mut canvas = RgbCanvas::new(self.width, self.height, Rgb888::BLACK);
        let Ok(()) = draw(screen, &mut canvas);
        let mut bytes = Vec::new();
        canvas
            .image()
            .write_to(
                &mut std::io::Cursor::new(&mut bytes),
                image::ImageFormat::Png,
            )
            .map_err(|e| fail(e.to_string()))?;
        write_atomic(&self.path, &bytes).map_err(|e| fail(e.to_string()))
    }
}

impl ScreenSink for Framebuffer {
    fn show(&mut self, screen: &Screen<'_>) -> Result<(), SinkError> {
        let Ok(()) = draw(screen, self.canvas());
        self.flush().map_err(|e| SinkError {
            target: "framebuffer".into(),
            message: e.to_string(),
        })
    }
}
