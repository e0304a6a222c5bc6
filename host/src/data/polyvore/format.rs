//! The Polyvore Outfits file formats: defined once in `capsule_device::formats::polyvore`
//! (the device imports such sets into the wardrobe), used here by the loader and the writer.

pub use capsule_device::formats::polyvore::*;
