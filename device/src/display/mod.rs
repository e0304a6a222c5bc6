//! Display: embedded-graphics draw targets (in-memory canvas for PNG files, the Linux
//! framebuffer, SPI panels with feature `spi`) and the screens drawn on them.

pub mod canvas;
pub mod framebuffer;
pub mod screens;
#[cfg(feature = "spi")]
pub mod spi;

pub use canvas::RgbCanvas;
pub use framebuffer::{Framebuffer, FramebufferError};
pub use screens::{OutfitCard, Screen, draw};
