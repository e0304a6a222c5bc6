//! Display: embedded-graphics draw targets (in-memory canvas for PNG files, the Linux
//! framebuffer, SPI panels with feature `spi`), the screens drawn on them, and the
//! [`ScreenSink`] seam the frame loop draws through.

pub mod canvas;
pub mod framebuffer;
pub mod outfit;
pub mod screens;
pub mod sink;
#[cfg(feature = "spi")]
pub mod spi;

pub use canvas::RgbCanvas;
pub use framebuffer::{Framebuffer, FramebufferError};
pub use outfit::{ShownGarment, ShownOutfit};
pub use screens::{Hit, Press, Screen, draw, hits, press_at};
pub use sink::{PngSequenceSink, PngSink, ScreenSink, SinkError};
