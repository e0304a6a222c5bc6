//! The contracts between capsule's host and its boards, defined once.
//!
//! Everything both sides must agree on lives here, and this crate depends on no other
//! capsule crate, so a contract can never reach up into the camera, the engine or the CLI:
//! - [`garment`]: the garment type list, dataset mappings and the style statistics;
//! - [`preprocess`]: picture → model input, the garment crop included;
//! - [`bundle`]: the manifest, golden files, signatures and precision selection;
//! - [`tensor`], [`embedder`] and [`stylist`]: tensor declarations, and the models' tensor
//!   names and shapes;
//! - [`formats`]: published dataset formats both sides read (Polyvore);
//! - [`wardrobe`]: garment and outfit-edge records;
//! - [`fsutil`]: durable writes.

pub mod bundle;
pub mod embedder;
pub mod formats;
pub mod fsutil;
pub mod garment;
pub mod preprocess;
pub mod stylist;
pub mod tensor;
pub mod wardrobe;

pub use garment::GarmentType;
pub use preprocess::{PreprocessSpec, preprocess, preprocess_into};

/// Seconds since the Unix epoch (0 if the clock is before it): the one clock for records'
/// timestamps on both sides.
pub fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
