//! SPI panels (ST7789, ILI9341) through the `mipidsi` driver (feature `spi`).
//!
//! A screen is drawn into an in-memory [`RgbCanvas`] first and then sent as one RGB565
//! window write, so the panel never shows a half-drawn screen and the drawing code is the
//! same as for PNG files and the framebuffer. [`SpiPanel`] works over any embedded-hal 1.0
//! SPI device and pins (tests drive the real driver with a recording bus);
//! [`open_spi_panel`] wires it to Linux `spidev` and a GPIO character device from the board
//! profile.

use super::canvas::{RgbCanvas, rgb565};
use crate::board::{DisplayKind, DisplayProfile};
use embedded_graphics::pixelcolor::raw::RawU16;
use embedded_graphics::pixelcolor::{Rgb565, Rgb888, RgbColor};
use embedded_hal::delay::DelayNs;
use embedded_hal::digital::OutputPin;
use mipidsi::interface::Interface;
use mipidsi::models::Model;
use mipidsi::options::{ColorInversion, ColorOrder, Orientation, Rotation};
use mipidsi::{Builder, Display, NoResetPin};
use std::fmt::Debug;

/// Bytes per SPI transfer: Linux spidev refuses transfers above its `bufsiz` module
/// parameter, 4096 by default.
pub const SPI_CHUNK: usize = 4096;

/// An SPI panel could not be set up or written.
#[derive(Debug, thiserror::Error)]
pub enum SpiPanelError {
    #[error("SPI panel {device}: {step} failed: {message}")]
    Setup {
        device: String,
        step: &'static str,
        message: String,
    },
    #[error("SPI panel {device}: sending the picture failed: {message}")]
    Write { device: String, message: String },
}

/// Panel settings resolved from the board profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PanelSettings {
    /// Size as the viewer sees it (after rotation).
    pub width: u16,
    pub height: u16,
    /// Clockwise rotation: 0, 90, 180 or 270.
    pub rotation: u16,
    pub invert: bool,
    pub bgr: bool,
}

impl PanelSettings {
    /// Reads the settings of an ST7789 or ILI9341 profile, filling in the model's defaults.
    pub fn from_profile(profile: &DisplayProfile) -> Result<Self, SpiPanelError> {
        let setup = |message: String| SpiPanelError::Setup {
            device: profile.path.clone(),
            step: "reading the board profile",
            message,
        };
        let st7789 = match profile.kind {
            DisplayKind::St7789 => true,
            DisplayKind::Ili9341 => false,
            other => return Err(setup(format!("display kind {other:?} is not an SPI panel"))),
        };
        let side = |v: u32| {
            u16::try_from(v).map_err(|_| setup(format!("display size {v} is out of range")))
        };
        Ok(Self {
            width: side(profile.width)?,
            height: side(profile.height)?,
            rotation: profile.spi_rotation(),
            invert: profile.spi.invert.unwrap_or(st7789),
            bgr: profile.spi.bgr.unwrap_or(!st7789),
        })
    }

    /// A builder for `model` over `di` with these settings (no reset pin yet).
    fn builder<DI, M>(&self, model: M, di: DI) -> Result<Builder<DI, M, NoResetPin>, String>
    where
        DI: Interface<Word = u8>,
        M: Model<ColorFormat = Rgb565>,
    {
        let rotation = Rotation::try_from_degree(i32::from(self.rotation))
            .map_err(|_| format!("rotation {} is not a multiple of 90", self.rotation))?;
        // mipidsi takes the size in the panel's native (unrotated) orientation.
        let (native_w, native_h) = if rotation.is_horizontal() {
            (self.width, self.height)
        } else {
            (self.height, self.width)
        };
        Ok(Builder::new(model, di)
            .display_size(native_w, native_h)
            .orientation(Orientation::new().rotate(rotation))
            .invert_colors(if self.invert {
                ColorInversion::Inverted
            } else {
                ColorInversion::Normal
            })
            .color_order(if self.bgr {
                ColorOrder::Bgr
            } else {
                ColorOrder::Rgb
            }))
    }
}

/// An initialised panel and the canvas the next screen is drawn on.
pub struct SpiPanel<DI, M, RST>
where
    DI: Interface<Word = u8>,
    M: Model<ColorFormat = Rgb565>,
    RST: OutputPin,
{
    device: String,
    display: Display<DI, M, RST>,
    canvas: RgbCanvas,
}

impl<DI, M> SpiPanel<DI, M, NoResetPin>
where
    DI: Interface<Word = u8>,
    DI::Error: Debug,
    M: Model<ColorFormat = Rgb565>,
{
    /// Initialises a panel without a reset line (it gets a software reset). `device` names
    /// the panel in errors.
    pub fn init(
        device: &str,
        model: M,
        di: DI,
        settings: &PanelSettings,
        delay: &mut impl DelayNs,
    ) -> Result<Self, SpiPanelError> {
        let builder = settings
            .builder(model, di)
            .map_err(|message| init_error(device, message))?;
        let display = builder
            .init(delay)
            .map_err(|e| init_error(device, format!("{e:?}")))?;
        Ok(Self::new(device, display, settings))
    }
}

impl<DI, M, RST> SpiPanel<DI, M, RST>
where
    DI: Interface<Word = u8>,
    DI::Error: Debug,
    M: Model<ColorFormat = Rgb565>,
    RST: OutputPin,
    RST::Error: Debug,
{
    /// Initialises a panel, pulsing its reset line first.
    pub fn init_with_reset(
        device: &str,
        model: M,
        di: DI,
        reset: RST,
        settings: &PanelSettings,
        delay: &mut impl DelayNs,
    ) -> Result<Self, SpiPanelError> {
        let builder = settings
            .builder(model, di)
            .map_err(|message| init_error(device, message))?;
        let display = builder
            .reset_pin(reset)
            .init(delay)
            .map_err(|e| init_error(device, format!("{e:?}")))?;
        Ok(Self::new(device, display, settings))
    }

    fn new(device: &str, display: Display<DI, M, RST>, settings: &PanelSettings) -> Self {
        Self {
            device: device.to_string(),
            display,
            canvas: RgbCanvas::new(
                u32::from(settings.width),
                u32::from(settings.height),
                Rgb888::BLACK,
            ),
        }
    }

    /// The canvas to draw the next picture on.
    pub fn canvas(&mut self) -> &mut RgbCanvas {
        &mut self.canvas
    }

    /// Sends the whole canvas to the panel as one window write.
    pub fn flush(&mut self) -> Result<(), SpiPanelError> {
        let image = self.canvas.image();
        let (w, h) = image.dimensions();
        // The canvas was made from u16 sides, so these cannot overflow; a zero side never
        // reaches here (profiles need 128 pixels).
        let (right, bottom) = ((w.saturating_sub(1)) as u16, (h.saturating_sub(1)) as u16);
        let pixels = image
            .pixels()
            .map(|p| Rgb565::from(RawU16::new(rgb565(p.0))));
        self.display
            .set_pixels(0, 0, right, bottom, pixels)
            .map_err(|e| SpiPanelError::Write {
                device: self.device.clone(),
                message: format!("{e:?}"),
            })
    }
}

fn init_error(device: &str, message: String) -> SpiPanelError {
    SpiPanelError::Setup {
        device: device.to_string(),
        step: "panel initialisation",
        message,
    }
}

impl<DI, M, RST> super::ScreenSink for SpiPanel<DI, M, RST>
where
    DI: Interface<Word = u8>,
    DI::Error: Debug,
    M: Model<ColorFormat = Rgb565>,
    RST: OutputPin,
    RST::Error: Debug,
{
    fn show(&mut self, screen: &super::Screen<'_>) -> Result<(), super::SinkError> {
        let Ok(()) = super::draw(screen, self.canvas());
        self.flush().map_err(|e| super::SinkError {
            target: self.device.clone(),
            message: e.to_string(),
        })
    }

    fn size(&self) -> (u32, u32) {
        self.canvas.image().dimensions()
    }
}

/// Opens the panel a board profile describes: `spidev` at `profile.path`, D/C (and reset)
/// lines on `profile.spi.gpio_chip`, then the controller's init sequence.
pub fn open_spi_panel(
    profile: &DisplayProfile,
) -> Result<Box<dyn super::ScreenSink>, SpiPanelError> {
    use linux_embedded_hal::gpio_cdev::{Chip, LineRequestFlags};
    use linux_embedded_hal::spidev::{SpiModeFlags, SpidevOptions};
    use linux_embedded_hal::{CdevPin, Delay, SpidevDevice};
    use mipidsi::interface::SpiInterface;
    use mipidsi::models::{ILI9341Rgb565, ST7789};

    let device = profile.path.clone();
    let settings = PanelSettings::from_profile(profile)?;
    let setup = |step: &'static str, message: String| SpiPanelError::Setup {
        device: device.clone(),
        step,
        message,
    };
    let mut spi = SpidevDevice::open(&profile.path).map_err(|e| {
        setup(
            "opening the SPI device",
            format!("{e} (is SPI enabled, e.g. `dtparam=spi=on` on a Raspberry Pi, and may this user open it?)"),
        )
    })?;
    let options = SpidevOptions::new()
        .bits_per_word(8)
        .max_speed_hz(profile.spi.hz)
        .mode(SpiModeFlags::SPI_MODE_0)
        .build();
    spi.configure(&options)
        .map_err(|e| setup("configuring SPI mode 0, 8 bits", e.to_string()))?;

    let chip_path = &profile.spi.gpio_chip;
    let mut chip = Chip::new(chip_path)
        .map_err(|e| setup("opening the GPIO chip", format!("{chip_path}: {e}")))?;
    let mut output = |line: u32, role: &str| {
        chip.get_line(line)
            .and_then(|l| l.request(LineRequestFlags::OUTPUT, 1, &format!("capsule {role}")))
            .map_err(|e| e.to_string())
            .and_then(|handle| CdevPin::new(handle).map_err(|e| e.to_string()))
            .map_err(|e| {
                setup(
                    "claiming a GPIO line",
                    format!("{role} line {line} on {chip_path}: {e}"),
                )
            })
    };
    let dc = output(profile.spi.dc_pin, "D/C")?;
    let reset = profile
        .spi
        .reset_pin
        .map(|line| output(line, "reset"))
        .transpose()?;

    // The panel lives as long as the process; its transfer buffer does too.
    let buffer: &'static mut [u8] = Box::leak(vec![0u8; SPI_CHUNK].into_boxed_slice());
    let di = SpiInterface::new(spi, dc, buffer);
    let mut delay = Delay;
    let st7789 = profile.kind == DisplayKind::St7789;
    Ok(match (st7789, reset) {
        (true, None) => Box::new(SpiPanel::init(&device, ST7789, di, &settings, &mut delay)?),
        (true, Some(reset)) => Box::new(SpiPanel::init_with_reset(
            &device, ST7789, di, reset, &settings, &mut delay,
        )?),
        (false, None) => Box::new(SpiPanel::init(
            &device,
            ILI9341Rgb565,
            di,
            &settings,
            &mut delay,
        )?),
        (false, Some(reset)) => Box::new(SpiPanel::init_with_reset(
            &device,
            ILI9341Rgb565,
            di,
            reset,
            &settings,
            &mut delay,
        )?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::display::Screen;
    use crate::display::ScreenSink;
    use embedded_graphics::draw_target::DrawTarget;
    use embedded_hal::spi::{ErrorType, Operation, SpiDevice};
    use mipidsi::interface::SpiInterface;
    use mipidsi::models::{ILI9341Rgb565, ST7789};
    use std::cell::RefCell;
    use std::convert::Infallible;
    use std::rc::Rc;

    /// What went over the wire: a command byte (D/C low) or data bytes (D/C high).
    #[derive(Debug, Clone, PartialEq)]
    enum Sent {
        Command(u8),
        Data(Vec<u8>),
    }

    #[derive(Default)]
    struct Wire {
        dc_high: bool,
        sent: Vec<Sent>,
        /// Largest single SPI transfer.
        largest: usize,
    }

    /// A bus that records every write, split by the D/C line's level at that moment.
    struct RecordingBus(Rc<RefCell<Wire>>);
    struct DcPin(Rc<RefCell<Wire>>);
    struct NoDelay;

    impl ErrorType for RecordingBus {
        type Error = Infallible;
    }

    impl SpiDevice for RecordingBus {
        fn transaction(&mut self, operations: &mut [Operation<'_, u8>]) -> Result<(), Infallible> {
            let mut wire = self.0.borrow_mut();
            for op in operations {
                let Operation::Write(bytes) = op else {
                    panic!("the panel driver only writes, got {op:?}");
                };
                wire.largest = wire.largest.max(bytes.len());
                if !wire.dc_high {
                    assert_eq!(bytes.len(), 1, "a command is one byte");
                    wire.sent.push(Sent::Command(bytes[0]));
                } else if let Some(Sent::Data(data)) = wire.sent.last_mut() {
                    data.extend_from_slice(bytes);
                } else {
                    wire.sent.push(Sent::Data(bytes.to_vec()));
                }
            }
            Ok(())
        }
    }

    impl embedded_hal::digital::ErrorType for DcPin {
        type Error = Infallible;
    }

    impl OutputPin for DcPin {
        fn set_low(&mut self) -> Result<(), Infallible> {
            self.0.borrow_mut().dc_high = false;
            Ok(())
        }
        fn set_high(&mut self) -> Result<(), Infallible> {
            self.0.borrow_mut().dc_high = true;
            Ok(())
        }
    }

    impl DelayNs for NoDelay {
        fn delay_ns(&mut self, _: u32) {}
    }

    /// The command bytes sent, and the data that followed each.
    fn commands(sent: &[Sent]) -> Vec<(u8, Vec<u8>)> {
        let mut out: Vec<(u8, Vec<u8>)> = Vec::new();
        for s in sent {
            match s {
                Sent::Command(c) => out.push((*c, Vec::new())),
                Sent::Data(d) => out
                    .last_mut()
                    .expect("data before any command")
                    .1
                    .extend_from_slice(d),
            }
        }
        out
    }

    fn settings(width: u16, height: u16, rotation: u16) -> PanelSettings {
        PanelSettings {
            width,
            height,
            rotation,
            invert: true,
            bgr: false,
        }
    }

    const SWRESET: u8 = 0x01;
    const SLPOUT: u8 = 0x11;
    const NORON: u8 = 0x13;
    const INVON: u8 = 0x21;
    const DISPON: u8 = 0x29;
    const CASET: u8 = 0x2A;
    const RASET: u8 = 0x2B;
    const RAMWR: u8 = 0x2C;
    const MADCTL: u8 = 0x36;
    const COLMOD: u8 = 0x3A;

    #[test]
    fn st7789_gets_its_init_sequence_and_a_screen_as_rgb565_in_one_window() {
        let wire = Rc::new(RefCell::new(Wire::default()));
        let mut buffer = [0u8; SPI_CHUNK];
        let di = SpiInterface::new(RecordingBus(wire.clone()), DcPin(wire.clone()), &mut buffer);
        let mut panel =
            SpiPanel::init("fake-spi", ST7789, di, &settings(240, 240, 0), &mut NoDelay).unwrap();

        let init = commands(&wire.borrow().sent);
        let codes: Vec<u8> = init.iter().map(|(c, _)| *c).collect();
        assert_eq!(
            codes,
            [SWRESET, SLPOUT, MADCTL, INVON, COLMOD, NORON, DISPON],
            "{init:x?}"
        );
        let colmod = &init.iter().find(|(c, _)| *c == COLMOD).unwrap().1;
        assert_eq!(
            colmod,
            &[0x55],
            "16 bits per pixel for RGB and the interface"
        );
        wire.borrow_mut().sent.clear();

        let screen = Screen::Message {
            title: "No camera",
            detail: "/dev/video0 is missing",
        };
        panel.show(&screen).unwrap();

        // What the same screen looks like on a PNG, converted by hand to RGB565.
        let mut expected = RgbCanvas::new(240, 240, Rgb888::BLACK);
        let Ok(()) = crate::display::draw(&screen, &mut expected);
        let mut expected_bytes = Vec::new();
        for p in expected.image().pixels() {
            let [r, g, b] = p.0.map(u16::from);
            let v = ((r >> 3) << 11) | ((g >> 2) << 5) | (b >> 3);
            expected_bytes.extend_from_slice(&v.to_be_bytes());
        }
        let distinct: std::collections::HashSet<_> = expected.image().pixels().collect();
        assert!(
            distinct.len() > 2,
            "the screen has a header, text and background"
        );

        let sent = commands(&wire.borrow().sent);
        assert_eq!(
            sent,
            [
                (CASET, vec![0, 0, 0, 239]),
                (RASET, vec![0, 0, 0, 239]),
                (RAMWR, expected_bytes),
            ]
        );
        assert!(
            wire.borrow().largest <= SPI_CHUNK,
            "spidev's default bufsiz"
        );
    }

    #[test]
    fn landscape_ili9341_turns_a_quarter_and_addresses_320_by_240() {
        let wire = Rc::new(RefCell::new(Wire::default()));
        let mut buffer = [0u8; 64];
        let di = SpiInterface::new(RecordingBus(wire.clone()), DcPin(wire.clone()), &mut buffer);
        let mut panel = SpiPanel::init(
            "fake-spi",
            ILI9341Rgb565,
            di,
            &settings(320, 240, 90),
            &mut NoDelay,
        )
        .unwrap();
        let init = commands(&wire.borrow().sent);
        let madctl = &init.iter().find(|(c, _)| *c == MADCTL).unwrap().1;
        assert_eq!(madctl.len(), 1);
        assert_ne!(
            madctl[0] & 0x20,
            0,
            "row/column exchange for a quarter turn"
        );
        wire.borrow_mut().sent.clear();

        panel.canvas().clear(Rgb888::new(255, 0, 0)).unwrap();
        panel.flush().unwrap();
        let sent = commands(&wire.borrow().sent);
        assert_eq!(sent[0], (CASET, vec![0, 0, 0x01, 0x3F]), "columns 0..=319");
        assert_eq!(sent[1], (RASET, vec![0, 0, 0, 0xEF]), "rows 0..=239");
        assert_eq!(sent[2].0, RAMWR);
        assert_eq!(sent[2].1.len(), 320 * 240 * 2);
        assert!(sent[2].1.chunks(2).all(|p| p == [0xF8, 0x00]), "pure red");
    }

    #[test]
    fn a_panel_too_big_for_the_controller_is_refused_by_name() {
        let wire = Rc::new(RefCell::new(Wire::default()));
        let mut buffer = [0u8; 64];
        let di = SpiInterface::new(RecordingBus(wire.clone()), DcPin(wire), &mut buffer);
        let err = SpiPanel::init("fake-spi", ST7789, di, &settings(480, 320, 0), &mut NoDelay)
            .err()
            .unwrap();
        assert!(err.to_string().contains("fake-spi"), "{err}");
        assert!(err.to_string().contains("InvalidDisplaySize"), "{err}");
    }

    fn profile(kind: &str, path: &str) -> DisplayProfile {
        let text = format!("kind = \"{kind}\"\nwidth = 320\nheight = 240\npath = \"{path}\"\n");
        toml::from_str(&text).unwrap()
    }

    #[test]
    fn a_missing_spidev_is_named_in_the_error() {
        let err = open_spi_panel(&profile("ili9341", "/dev/spidev9.9"))
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("/dev/spidev9.9"), "{err}");
        assert!(err.contains("opening the SPI device"), "{err}");
        assert!(err.contains("dtparam=spi=on"), "{err}");
    }

    #[test]
    fn defaults_follow_the_controller() {
        let ili = PanelSettings::from_profile(&profile("ili9341", "x")).unwrap();
        assert_eq!((ili.rotation, ili.invert, ili.bgr), (90, false, true));
        let st = PanelSettings::from_profile(&profile("st7789", "x")).unwrap();
        assert_eq!((st.invert, st.bgr), (true, false));
        assert!(PanelSettings::from_profile(&profile("png", "x")).is_err());
    }
}
