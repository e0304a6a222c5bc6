//! Polyvore Outfits.

pub mod format;
mod loader;

pub use format::{Split, Variant};
pub use loader::*;
