//! The garment embedder (issue #3): an SE-ResNet stem with a capsule head trained with MSML
//! over P×K batches, a plain residual CNN baseline, training with resumable `.bpk` checkpoints
//! and Recall@K evaluation.
//!
//! Layout follows burn's examples: [`model`] (module + config), [`data`] (datasets and
//! batches), [`training`], [`evaluate`] and [`inference`]; the parts are [`se_resnet`],
//! [`capsules`], [`loss`], [`sampler`] and [`augment`].

pub mod augment;
pub mod capsules;
pub mod data;
pub mod error;
pub mod evaluate;
pub mod inference;
pub mod loss;
pub mod mix;
pub mod model;
pub mod sampler;
pub mod se_resnet;
pub mod training;

pub use error::EmbedderError;
pub use evaluate::{RetrievalScores, recall_at_k};
pub use inference::TrainedEmbedder;
pub use model::{Arch, Embedder, EmbedderConfig};
pub use training::{EpochMetrics, TrainConfig, TrainOptions, train};
