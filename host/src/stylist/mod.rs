//! The stylist: outfit compatibility as link prediction on a garment graph (a graph
//! auto-encoder after Cucurull et al., CVPR 2019, with a type-aware decoder).
//!
//! Each file imports only those before it in this order:
//! - [`graph`]: items and their co-occurrence edges; message-passing structure.
//! - [`features`]: the node feature file, hand-made appearance features, z-scoring.
//! - [`model`]: GCN encoder and pair decoders (type-aware / shared rows; distance or
//!   distance + product form).
//! - [`context`]: leak-free test-time context graphs of K neighbours per item.
//! - [`data`]: the outfit set and the statistics of its training items.
//! - [`config`]: the training config, saved in the run and compared on resume.
//! - [`checkpoint`]: a run's saved state (config, statistics, last and best weights).
//! - [`inference`]: a trained stylist loaded from its run directory (the library API the
//!   device, the ONNX export and the evaluation build on).
//! - [`evaluate`]: FITB and compatibility AUC with context, through `crate::eval`.
//! - [`training`]: `capsule-host train stylist` — edge splits, negatives, checkpoints.

pub mod checkpoint;
pub mod config;
pub mod context;
pub mod data;
pub mod error;
pub mod evaluate;
pub mod features;
pub mod graph;
pub mod inference;
pub mod model;
pub mod training;

pub use checkpoint::Checkpoint;
pub use config::TrainConfig;
pub use error::StylistError;
pub use evaluate::{
    GraphStylist, PairQuery, PairScore, StylistScores, evaluate, evaluate_scored, evaluate_with,
};
pub use features::{FeatureFile, Standardizer};
pub use graph::{ItemGraph, MessageEdges, TYPE_PAIRS, type_pair_index};
pub use inference::TrainedStylist;
pub use model::{DecoderForm, DecoderKind, Stylist, StylistConfig};
pub use training::train;
