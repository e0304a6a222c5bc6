//! Board profiles (`boards/*.toml`): what hardware a board has and how capsule uses it.

use crate::bundle::Precision;
use crate::input::{Action, ButtonProfile};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One supported board.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoardProfile {
    /// Human name, e.g. "Raspberry Pi 5".
    pub name: String,
    /// Rust target triple the device binary is built for (`capsule board` says whether this
    /// build matches it).
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
    /// The companion web app `capsule run` serves; off when the table is absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web: Option<WebProfile>,
    /// Touch display, keys and buttons the owner uses at the mirror; none when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<InputProfile>,
}

/// The `[input]` table: where the owner's touches and presses come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputProfile {
    /// evdev devices read for touches and keys (feature `evdev`), e.g. the 7" display's
    /// touch controller; a stable `/dev/input/by-path/...` name is better than `eventN`,
    /// and `"auto"` takes every touchscreen and keyboard-like device there is.
    #[serde(default)]
    pub evdev: Vec<String>,
    /// Key names mapped to actions over the defaults (arrows: next/previous, Enter:
    /// accept, Backspace: reject, W: wore, A: add, Esc: back), e.g. `KEY_F1 = "add"`.
    #[serde(default)]
    pub keys: BTreeMap<String, Action>,
    /// GPIO character device the buttons' lines are on (feature `gpio`).
    #[serde(default = "default_gpio_chip")]
    pub gpio_chip: String,
    /// Buttons on GPIO lines, `[[input.buttons]]` tables.
    #[serde(default)]
    pub buttons: Vec<ButtonProfile>,
}

fn default_gpio_chip() -> String {
    "/dev/gpiochip0".into()
}

/// The `[web]` table: where `capsule run` serves the companion web app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebProfile {
    /// Address and port to listen on, e.g. `0.0.0.0:8080` (every interface of the board)
    /// or `127.0.0.1:8080` (only programs on the board).
    pub listen: std::net::SocketAddr,
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
    /// Wiring of an SPI panel (`kind = "st7789"` or `"ili9341"`); ignored by other kinds.
    /// Every field has a default, so `[display.spi]` may be left out.
    #[serde(default)]
    pub spi: SpiProfile,
}

/// How an SPI panel is wired and driven, in the `[display.spi]` table. The defaults fit
/// the common Waveshare/Adafruit wiring on a Raspberry Pi header: data/command on GPIO 25,
/// no reset line (the panel gets a software reset instead).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SpiProfile {
    /// GPIO character device that owns the pins below (`/dev/gpiochip0` on a Pi 4, and on a
    /// Pi 5 with kernel 6.6.45 or later; older Pi 5 kernels call the header `gpiochip4`).
    pub gpio_chip: String,
    /// Line (BCM GPIO number) wired to the panel's D/C pin.
    pub dc_pin: u32,
    /// Line wired to the panel's RESET pin, if any.
    pub reset_pin: Option<u32>,
    /// SPI clock in Hz.
    pub hz: u32,
    /// Clockwise rotation in degrees (0, 90, 180, 270) from the panel's native portrait
    /// 240×320. Default: 0 when `width <= height`, else 90.
    pub rotation: Option<u16>,
    /// Invert colours (INVON). Default: on for ST7789 (IPS panels), off for ILI9341.
    pub invert: Option<bool>,
    /// Blue-green-red subpixel order. Default: off for ST7789, on for ILI9341.
    pub bgr: Option<bool>,
}

impl Default for SpiProfile {
    fn default() -> Self {
        Self {
            gpio_chip: "/dev/gpiochip0".into(),
            dc_pin: 25,
            reset_pin: None,
            hz: 32_000_000,
            rotation: None,
            invert: None,
            bgr: None,
        }
    }
}

impl DisplayProfile {
    /// The SPI panel's rotation in degrees, with the default filled in.
    pub fn spi_rotation(&self) -> u16 {
        self.spi
            .rotation
            .unwrap_or(if self.width <= self.height { 0 } else { 90 })
    }
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
    /// Whether this build of capsule runs on the profile's target (its processor
    /// architecture and operating system).
    pub fn matches_this_build(&self) -> bool {
        let mut parts = self.target.split('-');
        let arch = parts.next().unwrap_or_default();
        arch == std::env::consts::ARCH && self.target.contains(std::env::consts::OS)
    }

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
        if matches!(
            self.display.kind,
            DisplayKind::St7789 | DisplayKind::Ili9341
        ) {
            self.validate_spi(path)?;
        }
        if let Some(input) = &self.input {
            let mut lines = std::collections::BTreeSet::new();
            for b in &input.buttons {
                if !lines.insert(b.line) {
                    return invalid("input.buttons", format!("line {} is given twice", b.line));
                }
                let spi = &self.display.spi;
                let spi_panel = matches!(
                    self.display.kind,
                    DisplayKind::St7789 | DisplayKind::Ili9341
                );
                if spi_panel
                    && input.gpio_chip == spi.gpio_chip
                    && (b.line == spi.dc_pin || Some(b.line) == spi.reset_pin)
                {
                    return invalid(
                        "input.buttons",
                        format!("line {} is wired to the SPI panel", b.line),
                    );
                }
            }
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

    fn validate_spi(&self, path: &Path) -> Result<(), BoardError> {
        let invalid = |field, problem: String| {
            Err(BoardError::Invalid {
                path: path.to_path_buf(),
                field,
                problem,
            })
        };
        let d = &self.display;
        let rotation = d.spi_rotation();
        if !matches!(rotation, 0 | 90 | 180 | 270) {
            return invalid(
                "display.spi.rotation",
                format!("is {rotation}, expected 0, 90, 180 or 270"),
            );
        }
        // Both controllers address a 240×320 portrait frame; a quarter turn swaps the sides.
        let (native_w, native_h) = if rotation.is_multiple_of(180) {
            (d.width, d.height)
        } else {
            (d.height, d.width)
        };
        if native_w > 240 || native_h > 320 {
            return invalid(
                "display",
                format!(
                    "{}x{} at rotation {rotation} does not fit the panel's 240x320 frame",
                    d.width, d.height
                ),
            );
        }
        if !(1_000_000..=125_000_000).contains(&d.spi.hz) {
            return invalid(
                "display.spi.hz",
                format!("is {}, expected 1 to 125 MHz", d.spi.hz),
            );
        }
        if d.spi.reset_pin == Some(d.spi.dc_pin) {
            return invalid(
                "display.spi.reset_pin",
                format!("is the D/C line ({})", d.spi.dc_pin),
            );
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
    fn a_profile_says_whether_this_build_runs_on_it() {
        let load = |name: &str| BoardProfile::load(&boards_dir().join(name)).unwrap();
        let (pi, desktop) = (load("rpi4.toml"), load("desktop.toml"));
        // Exactly one of an aarch64 and an x86-64 Linux profile matches any Linux build.
        if cfg!(target_os = "linux")
            && (cfg!(target_arch = "aarch64") || cfg!(target_arch = "x86_64"))
        {
            assert_ne!(pi.matches_this_build(), desktop.matches_this_build());
            assert_eq!(pi.matches_this_build(), cfg!(target_arch = "aarch64"));
        }
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

    #[test]
    fn input_tables_load_and_are_checked() {
        let hat = BoardProfile::load(&boards_dir().join("rpi-display-hat-mini.toml")).unwrap();
        let input = hat.input.as_ref().unwrap();
        assert_eq!(input.buttons.len(), 4);
        assert_eq!(input.buttons[0].long, Some(Action::Previous));
        assert!(input.buttons.iter().all(|b| b.active_low));
        let pi5 = BoardProfile::load(&boards_dir().join("rpi5.toml")).unwrap();
        assert_eq!(pi5.input.unwrap().evdev, vec!["auto".to_string()]);

        let text = std::fs::read_to_string(boards_dir().join("rpi-display-hat-mini.toml")).unwrap();
        let p = Path::new("x.toml");
        for (from, to, expected) in [
            ("line = 16", "line = 5", "line 5 is given twice"),
            ("line = 16", "line = 9", "line 9 is wired to the SPI panel"),
            ("action = \"add\"", "action = \"jump\"", "jump"),
        ] {
            let err = BoardProfile::parse(&text.replace(from, to), p).unwrap_err();
            assert!(err.to_string().contains(expected), "{err}");
        }
    }

    #[test]
    fn spi_wiring_has_defaults_and_is_checked() {
        let rpi4 = BoardProfile::load(&boards_dir().join("rpi4.toml")).unwrap();
        assert_eq!(rpi4.display.kind, DisplayKind::Ili9341);
        assert_eq!(rpi4.display.spi.reset_pin, Some(27));
        assert_eq!(rpi4.display.spi_rotation(), 90);

        let text = std::fs::read_to_string(boards_dir().join("rpi4.toml")).unwrap();
        let p = Path::new("x.toml");
        let table = text.find("[display.spi]").unwrap();
        let bare = BoardProfile::parse(&text[..table], p).unwrap();
        assert_eq!(bare.display.spi, SpiProfile::default());
        assert_eq!(bare.display.spi_rotation(), 90, "landscape by default");

        for (from, to, field) in [
            ("rotation = 90", "rotation = 45", "display.spi.rotation"),
            ("rotation = 90", "rotation = 0", "240x320"),
            ("hz = 32000000", "hz = 500", "display.spi.hz"),
            ("reset_pin = 27", "reset_pin = 25", "display.spi.reset_pin"),
            ("dc_pin = 25", "dc_pin = 25\nmosi = 10", "mosi"),
        ] {
            let err = BoardProfile::parse(&text.replace(from, to), p).unwrap_err();
            assert!(err.to_string().contains(field), "{from} -> {to}: {err}");
        }
        // A PNG display ignores the SPI table, whatever it says.
        let png = text
            .replace("kind = \"ili9341\"", "kind = \"png\"")
            .replace("rotation = 90", "rotation = 45");
        assert!(BoardProfile::parse(&png, p).is_ok());
    }
}
