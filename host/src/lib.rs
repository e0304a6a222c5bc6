//! capsule on the workstation: datasets, synthetic garments and outfits, training,
//! evaluation, export, bundling and flashing.
//!
//! Every contract shared with the board (garment types, preprocessing, bundle manifest,
//! wardrobe records) comes from `capsule_device`; nothing here redefines them.

pub mod bundle;
pub mod cli;
pub mod data;
pub mod embedder;
pub mod eval;
pub mod flash;
pub mod golden;
pub mod onnx;
pub mod pipeline;
pub mod quantize;
pub mod stylist;
pub mod synth;
pub mod training;
