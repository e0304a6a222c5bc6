//! Board profiles: one TOML file per supported board in `boards/`; what the board has
//! left (disk, uptime).

pub mod profile;
pub mod resources;

pub use profile::{
    BoardError, BoardProfile, CameraProfile, DisplayKind, DisplayProfile, InputProfile,
    PixelFormat, SpiProfile, WebProfile,
};
