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

    /// Width and height in pixels: what screens are laid out for, and what touches are
    /// matched against.
    fn size(&self) -> (u32, u32);
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

    fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }
}

/// Writes every screen to its own numbered PNG in a folder (`screen-0001.png`, ...): a
/// record of what a run showed, for tests and for looking at a session afterwards. At most
/// `limit` files are written; later screens are counted, not kept.
pub struct PngSequenceSink {
    dir: PathBuf,
    width: u32,
    height: u32,
    written: usize,
    limit: usize,
}

impl PngSequenceSink {
    pub fn new(dir: &Path, width: u32, height: u32, limit: usize) -> Result<Self, SinkError> {
        std::fs::create_dir_all(dir).map_err(|e| SinkError {
            target: dir.display().to_string(),
            message: format!("creating the folder: {e}"),
        })?;
        Ok(Self {
            dir: dir.to_path_buf(),
            width,
            height,
            written: 0,
            limit,
        })
    }

    /// Screens shown so far (written or not).
    pub fn shown(&self) -> usize {
        self.written
    }
}

impl ScreenSink for PngSequenceSink {
    fn show(&mut self, screen: &Screen<'_>) -> Result<(), SinkError> {
        self.written += 1;
        if self.written > self.limit {
            return Ok(());
        }
        let path = self.dir.join(format!("screen-{:04}.png", self.written));
        PngSink::new(&path, self.width, self.height).show(screen)
    }

    fn size(&self) -> (u32, u32) {
        (self.width, self.height)
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

    fn size(&self) -> (u32, u32) {
        Framebuffer::size(self)
    }
}
