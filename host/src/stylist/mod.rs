//! The stylist: outfit compatibility as link prediction on a garment graph (a graph
//! auto-encoder after Cucurull et al., CVPR 2019, with a type-aware decoder).
//!
//! - [`graph`]: items and their co-occurrence edges; message-passing structure.
//! - [`features`]: the node feature file, hand-made appearance features, z-scoring.
//! - [`model`]: GCN encoder and pair decoders (type-aware / shared rows; distance or
//!   distance + product form).
//! - [`training`]: `capsule-host train stylist` — edge splits, negatives, checkpoints (the
//!   last epoch's and the best on validation).
//! - [`context`]: leak-free test-time context graphs of K neighbours per item.
//! - [`inference`]: a trained stylist loaded from its run directory (the library API the
//!   device and ONNX export build on).
//! - [`evaluate`]: FITB and compatibility AUC with context, through `crate::eval`.

pub mod context;
pub mod evaluate;
pub mod features;
pub mod graph;
pub mod inference;
pub mod model;
pub mod training;

pub use evaluate::{StylistScores, evaluate};
pub use features::{FeatureFile, Standardizer};
pub use graph::{ItemGraph, MessageEdges, TYPE_PAIRS, type_pair_index};
pub use inference::TrainedStylist;
pub use model::{DecoderForm, DecoderKind, Stylist, StylistConfig};
pub use training::{Checkpoint, TrainConfig, train};

use std::path::PathBuf;

/// Something the stylist could not do, with the file it concerns.
#[derive(Debug, thiserror::Error)]
pub enum StylistError {
    #[error(transparent)]
    Features(#[from] features::FeatureError),
    #[error(transparent)]
    Run(#[from] crate::training::RunError),
    #[error(transparent)]
    Backend(#[from] crate::training::backend::BackendUnavailable),
    #[error("checkpoint {path}: {message}")]
    Checkpoint { path: PathBuf, message: String },
    #[error("{path}: {message}")]
    Config { path: PathBuf, message: String },
    #[error("item {id} of a {context} is not in the dataset's item list")]
    UnknownItem { id: String, context: &'static str },
    #[error("writing {path}: {message}")]
    Output { path: PathBuf, message: String },
}
