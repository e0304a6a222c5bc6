//! Display: embedded-graphics draw targets (panels and framebuffer come with the runtime).

pub mod canvas;

pub use canvas::RgbCanvas;
