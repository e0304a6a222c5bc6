//! The stylist on the board: the wardrobe as a graph, its node embeddings from the
//! bundle's GCN encoder (cached, refreshed only where the graph changed), and pair
//! compatibility from the bundle's type-aware decoder, feeding outfit assembly.
//!
//! - [`contract`]: tensor names and layouts shared with the host's exporter;
//! - [`graph`]: garments, "worn together" edges, capped neighbour lists, encoder inputs;
//! - [`engine`]: the two ONNX models in tract;
//! - [`cache`]: node embeddings of the whole wardrobe with incremental refresh;
//! - [`scorer`]: pair scores around an anchor garment for outfit assembly;
//! - [`suggester`]: all of it over one wardrobe, with the owner's feedback folded in;
//! - [`generated`]: wardrobes of any size for benchmarks.

pub use capsule_contract::stylist as contract;

pub mod cache;
pub mod engine;
pub mod generated;
pub mod graph;
pub mod scorer;
pub mod suggester;

pub use cache::{EncodedWardrobe, Refresh};
pub use engine::StylistModels;
pub use graph::{EncoderInputs, NodeFeatures, WardrobeGraph};
pub use scorer::{Anchor, PoolScores};
pub use suggester::{POOL_PER_TYPE, Suggester};

use crate::engine::EngineError;
use crate::wardrobe::GarmentId;

/// The stylist could not run; says on what.
#[derive(Debug, thiserror::Error)]
pub enum StylistError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(
        "garment {garment} has a {got}-value embedding, the stylist reads {expected}: it was \
         added with another embedder; remove it and add it again"
    )]
    FeatureDim {
        garment: GarmentId,
        got: usize,
        expected: usize,
    },
    #[error(
        "garment {0} has no style statistics, which this bundle's stylist reads: open the \
         wardrobe with `capsule suggest` or `capsule run` once to compute them from its thumbnail"
    )]
    MissingStyle(GarmentId),
    #[error("garment {0} is not in the stylist's wardrobe graph")]
    NotInGraph(GarmentId),
    #[error("a wardrobe of {0} garments is beyond what the stylist's inputs can index")]
    TooLarge(usize),
}
