//! The Linux framebuffer (`/dev/fb0`) as a display: draw into an in-memory canvas, then
//! `flush` converts it to the framebuffer's pixel format and writes it in one go. Pure std
//! (sizes come from sysfs), so it needs no feature flag and is tested against plain files.

use super::canvas::{RgbCanvas, rgb565};
use embedded_graphics::pixelcolor::{Rgb888, RgbColor};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The framebuffer could not be used.
#[derive(Debug, thiserror::Error)]
pub enum FramebufferError {
    #[error("framebuffer {path}: {problem}")]
    Setup { path: PathBuf, problem: String },
    #[error("framebuffer {path}: write failed: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// An open framebuffer.
pub struct Framebuffer {
    device: PathBuf,
    file: std::fs::File,
    width: u32,
    height: u32,
    bits_per_pixel: u32,
    /// One framebuffer row (`stride` bytes, padding included).
    canvas: RgbCanvas,
    row: Vec<u8>,
}

impl Framebuffer {
    /// Opens `/dev/fbN`, reading its geometry from `/sys/class/graphics/fbN`.
    pub fn open(device: &Path) -> Result<Self, FramebufferError> {
        let name = device
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Self::open_with_sysfs(device, &Path::new("/sys/class/graphics").join(name))
    }

    /// Opens `device` with geometry from `sysfs` (`virtual_size`, `bits_per_pixel`, `stride`).
    pub fn open_with_sysfs(device: &Path, sysfs: &Path) -> Result<Self, FramebufferError> {
        let setup = |problem: String| FramebufferError::Setup {
            path: device.to_path_buf(),
            problem,
        };
        let read = |name: &str| {
            std::fs::read_to_string(sysfs.join(name))
                .map(|s| s.trim().to_string())
                .map_err(|e| setup(format!("cannot read {}: {e}", sysfs.join(name).display())))
        };
        let size = read("virtual_size")?;
        let (w, h) = size
            .split_once(',')
            .ok_or_else(|| setup(format!("virtual_size {size:?} is not `W,H`")))?;
        let parse = |s: &str, what: &str| {
            s.trim()
                .parse::<u32>()
                .map_err(|_| setup(format!("{what} {s:?} is not a number")))
        };
        let (width, height) = (parse(w, "width")?, parse(h, "height")?);
        let bits_per_pixel = parse(&read("bits_per_pixel")?, "bits_per_pixel")?;
        if !matches!(bits_per_pixel, 16 | 32) {
            return Err(setup(format!(
                "{bits_per_pixel} bits per pixel; only 16 (RGB565) and 32 (XRGB8888) are supported"
            )));
        }
        let stride = parse(&read("stride")?, "stride")? as usize;
        if width == 0
            || height == 0
            || width > 8192
            || height > 8192
            || stride < width as usize * bits_per_pixel as usize / 8
        {
            return Err(setup(format!(
                "implausible geometry {width}x{height}, stride {stride}"
            )));
        }
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(device)
            .map_err(|e| setup(format!("cannot open: {e}")))?;
        Ok(Self {
            device: device.to_path_buf(),
            file,
            width,
            height,
            bits_per_pixel,
            canvas: RgbCanvas::new(width, height, Rgb888::BLACK),
            row: vec![0; stride],
        })
    }

    /// The canvas to draw the next picture on.
    pub fn canvas(&mut self) -> &mut RgbCanvas {
        &mut self.canvas
    }

    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// Writes the canvas to the screen.
    pub fn flush(&mut self) -> Result<(), FramebufferError> {
        let fail = |source| FramebufferError::Write {
            path: self.device.clone(),
            source,
        };
        self.file.seek(SeekFrom::Start(0)).map_err(fail)?;
        let image = self.canvas.image();
        for y in 0..self.height {
            for x in 0..self.width {
                let rgb = image.get_pixel(x, y).0;
                let [r, g, b] = rgb;
                let x = x as usize;
                if self.bits_per_pixel == 16 {
                    let v = rgb565(rgb);
                    self.row[2 * x..2 * x + 2].copy_from_slice(&v.to_le_bytes());
                } else {
                    self.row[4 * x..4 * x + 4].copy_from_slice(&[b, g, r, 0xFF]);
                }
            }
            let fail = |source| FramebufferError::Write {
                path: self.device.clone(),
                source,
            };
            self.file.write_all(&self.row).map_err(fail)?;
        }
        self.file.flush().map_err(|source| FramebufferError::Write {
            path: self.device.clone(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use embedded_graphics::prelude::*;

    fn fake(dir: &Path, bpp: u32, size: &str, stride: usize) -> (PathBuf, PathBuf) {
        let sysfs = dir.join("sys");
        std::fs::create_dir_all(&sysfs).unwrap();
        std::fs::write(sysfs.join("virtual_size"), format!("{size}\n")).unwrap();
        std::fs::write(sysfs.join("bits_per_pixel"), format!("{bpp}\n")).unwrap();
        std::fs::write(sysfs.join("stride"), format!("{stride}\n")).unwrap();
        let dev = dir.join("fb0");
        std::fs::write(&dev, b"").unwrap();
        (dev, sysfs)
    }

    #[test]
    fn writes_xrgb8888_and_rgb565_rows_with_stride() {
        let dir = tempfile::tempdir().unwrap();
        let (dev, sysfs) = fake(dir.path(), 32, "4,2", 20);
        let mut fb = Framebuffer::open_with_sysfs(&dev, &sysfs).unwrap();
        fb.canvas().clear(Rgb888::new(10, 20, 30)).unwrap();
        fb.flush().unwrap();
        let bytes = std::fs::read(&dev).unwrap();
        assert_eq!(bytes.len(), 40);
        assert_eq!(&bytes[..4], &[30, 20, 10, 255]);

        let dir = tempfile::tempdir().unwrap();
        let (dev, sysfs) = fake(dir.path(), 16, "2,2", 4);
        let mut fb = Framebuffer::open_with_sysfs(&dev, &sysfs).unwrap();
        fb.canvas().clear(Rgb888::new(255, 0, 0)).unwrap();
        fb.flush().unwrap();
        assert_eq!(&std::fs::read(&dev).unwrap()[..2], &0xF800u16.to_le_bytes());
    }

    #[test]
    fn odd_geometry_is_refused_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        for (bpp, size, stride, needle) in [
            (24, "4,2", 12, "bits per pixel"),
            (32, "4x2", 16, "virtual_size"),
            (32, "4,2", 8, "implausible"),
        ] {
            let (dev, sysfs) = fake(dir.path(), bpp, size, stride);
            let err = Framebuffer::open_with_sysfs(&dev, &sysfs).err().unwrap();
            assert!(err.to_string().contains(needle), "{err}");
        }
        assert!(Framebuffer::open(Path::new("/nonexistent/fb9")).is_err());
    }
}
