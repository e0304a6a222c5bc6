//! capsule on the board: camera, engine, wardrobe, stylist, display, the mirror service and
//! the `capsule` command line.
//!
//! What the host must agree with is defined once in `capsule-contract` (the garment types,
//! preprocessing with the garment crop, the bundle manifest, tensor layouts, wardrobe
//! records, durable writes) and re-exported here under the same module names, so
//! `capsule_device::garment` is `capsule_contract::garment`.

pub mod app;
pub mod board;
pub mod bundle;
pub mod camera;
pub mod cli;
pub mod daemon;
pub mod display;
pub mod engine;
#[cfg(feature = "fuzzing")]
pub mod fuzz_targets;
pub mod identify;
pub mod input;
pub mod memory;
pub mod report;
pub mod runtime;
pub mod stylist;
pub mod suggest;
pub mod update;
pub mod wardrobe;
#[cfg(feature = "web")]
pub mod web;

pub use capsule_contract as contract;
pub use capsule_contract::{formats, fsutil, garment, preprocess};
pub use garment::GarmentType;
pub use preprocess::{PreprocessSpec, preprocess_into};
