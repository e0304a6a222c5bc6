//! capsule on the board — and the contracts the host must agree with.
//!
//! The contracts live here, once: [`garment`] (the garment type list and dataset
//! mappings), [`preprocess`] (picture → model input), [`bundle`] (the signed model bundle's
//! manifest), [`wardrobe`] (garment and outfit-edge records) and [`board`] (board profiles).
//! `capsule-host` depends on this crate for all of them.

pub mod board;
pub mod bundle;
pub mod camera;
pub mod cli;
pub mod display;
pub mod engine;
pub mod formats;
pub mod fsutil;
pub mod fuzz_targets;
pub mod garment;
pub mod identify;
pub mod preprocess;
pub mod runtime;
pub mod stylist;
pub mod suggest;
pub mod wardrobe;

pub use garment::GarmentType;
pub use preprocess::{PreprocessSpec, preprocess, preprocess_into};
