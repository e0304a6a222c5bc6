//! Board profiles (`boards/*.toml`): what hardware a board has and how capsule uses it.

use crate::bundle::Precision;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// One supported board.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoardProfile {
    /// Human name, e.g. "Raspberry Pi 5".
    pub name: String,
    /// Rust target triple the device binary is built for.
    pub target: String,
    /// Inference threads for tract.
    pub threads: usize,
    /// Embedder precision this board runs fastest while staying correct.
    pub precision: Precision,
    /// Where the wardrobe store and bundle slots live.
    pub data_dir: PathBuf,
    pub camera: CameraProfile,
    pub display: DisplayProfile,
    /// Hex ed25519 public keys whose signatures this board accepts for bundles.
    #[serde(default)]
    pub trusted_keys: Vec<String>,
}

/// Camera settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CameraProfile {
    /// V4L2 device node, or a file/directory for simulated boards.
    pub device: String,
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    /// Pixel format to ask the camera for.
    pub format: PixelFormat,
    /// Region of interest (x, y, width, height) as fractions of the frame, where the
    /// garment is held up.
    #[serde(deserialize_with = "four_numbers")]
    pub roi: [f32; 4],
}

/// Reads exactly four numbers (serde's array support would ignore a fifth).
fn four_numbers<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<[f32; 4], D::Error> {
    let values = Vec::<f32>::deserialize(deserializer)?;
    <[f32; 4]>::try_from(values.as_slice()).map_err(|_| {
        serde::de::Error::invalid_length(values.len(), &"4 numbers: x, y, width, height")
    })
}

/// Camera pixel formats capsule decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PixelFormat {
    Mjpeg,
    Yuyv,
}

/// Display settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisplayProfile {
    pub kind: DisplayKind,
    pub width: u32,
    pub height: u32,
    /// Framebuffer device, SPI device, or PNG output path, depending on `kind`.
    pub path: String,
}

/// Display back-ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DisplayKind {
    Png,
    Framebuffer,
    St7789,
    Ili9341,
}

/// Why a board profile could not be used.
#[derive(Debug, thiserror::Error)]
pub enum BoardError {
    #[error("cannot read board profile {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("board profile {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("board profile {path}: `{field}` {problem}")]
    Invalid {
        path: PathBuf,
        field: &'static str,
        problem: String,
    },
}

impl BoardProfile {
    /// Reads and checks a profile file.
    pub fn load(path: &Path) -> Result<Self, BoardError> {
        let text = std::fs::read_to_string(path).map_err(|source| BoardError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parses profile text; `path` only names the source in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self, BoardError> {
        let profile: BoardProfile = toml::from_str(text).map_err(|e| BoardError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        profile.validate(path)?;
        Ok(profile)
    }

    fn validate(&self, path: &Path) -> Result<(), BoardError> {
        let invalid = |field, problem: String| {
            Err(BoardError::Invalid {
                path: path.to_path_buf(),
                field,
                problem,
            })
        };
        if !(1..=64).contains(&self.threads) {
            return invalid("threads", format!("is {}, expected 1..=64", self.threads));
        }
        let c = &self.camera;
        if c.width == 0 || c.height == 0 || c.fps == 0 {
            return invalid("camera", "width, height and fps must be positive".into());
        }
        let [x, y, w, h] = c.roi;
        let in_unit = |v: f32| (0.0..=1.0).contains(&v);
        if !(in_unit(x)
            && in_unit(y)
            && w > 0.0
            && h > 0.0
            && x + w <= 1.0 + 1e-6
            && y + h <= 1.0 + 1e-6)
        {
            return invalid(
                "camera.roi",
                format!("{:?} must lie inside the unit square", c.roi),
            );
        }
        if self.display.width < 128 || self.display.height < 128 {
            return invalid("display", "needs at least 128x128 pixels".into());
        }
        for key in &self.trusted_keys {
            if key.len() != 64 || !key.bytes().all(|b| b.is_ascii_hexdigit()) {
                return invalid(
                    "trusted_keys",
                    format!("{key:?} is not a 64-digit hex ed25519 key"),
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boards_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../boards")
    }

    #[test]
    fn every_shipped_profile_loads() {
        let mut count = 0;
        for entry in std::fs::read_dir(boards_dir()).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                BoardProfile::load(&path).unwrap_or_else(|e| panic!("{e}"));
                count += 1;
            }
        }
        assert!(
            count >= 4,
            "expected Pi 4, Pi 5, Jetson and desktop profiles, found {count}"
        );
    }

    #[test]
    fn bad_profiles_say_what_is_wrong() {
        let text = std::fs::read_to_string(boards_dir().join("desktop.toml")).unwrap();
        let p = Path::new("x.toml");
        let err = BoardProfile::parse(&text.replace("threads = 2", "threads = 0"), p).unwrap_err();
        assert!(err.to_string().contains("threads"), "{err}");
        let err = BoardProfile::parse(&text.replace("roi = [", "roi = [0.9, "), p).unwrap_err();
        assert!(err.to_string().contains("4 numbers"), "{err}");
        let roi = text.lines().find(|l| l.starts_with("roi")).unwrap();
        let err =
            BoardProfile::parse(&text.replace(roi, "roi = [0.5, 0.1, 0.6, 0.8]"), p).unwrap_err();
        assert!(
            err.to_string().contains("x.toml") && err.to_string().contains("roi"),
            "{err}"
        );
        let err = BoardProfile::parse("name = 3", p).unwrap_err();
        assert!(err.to_string().contains("x.toml"));
        assert!(BoardProfile::load(Path::new("/nonexistent/b.toml")).is_err());
    }
}
