//! Board profiles: one TOML file per supported board in `boards/`.

pub mod profile;

pub use profile::{
    BoardError, BoardProfile, CameraProfile, DisplayKind, DisplayProfile, PixelFormat, SpiProfile,
};
