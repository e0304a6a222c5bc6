//! The garment embedder: an SE-ResNet stem with a capsule head trained with MSML over P×K
//! batches, a plain residual CNN baseline, training with resumable checkpoints and Recall@K
//! evaluation.
//!
//! Layout follows burn's examples, each file importing only those before it: [`model`]
//! (module + its config) ← [`data`] (datasets, batches, embedding in batches) ← [`config`]
//! (the training config) ← [`checkpoint`] (a run's saved state) ← [`evaluate`] ←
//! [`training`], and [`inference`] beside them. The parts are [`se_resnet`], [`capsules`],
//! [`loss`], [`sampler`], [`augment`] and [`mix`]; [`backbone`] is the ImageNet-pretrained
//! EfficientNet-Lite0 that a later preset puts under the capsule head. [`feed`] is the
//! training data path (pictures on demand, the decoded cache, batches made by worker
//! threads ahead of the network) and [`step`] one optimisation step on one device or
//! data-parallel over several.

pub mod augment;
pub mod backbone;
pub mod capsules;
pub mod checkpoint;
pub mod config;
pub mod data;
pub mod error;
pub mod evaluate;
pub mod feed;
pub mod frozen;
pub mod inference;
pub mod loss;
pub mod mix;
pub mod model;
pub mod pictures;
pub mod sampler;
pub mod se_resnet;
pub mod step;
pub mod training;

pub use config::TrainConfig;
pub use error::EmbedderError;
pub use evaluate::{RetrievalScores, recall_at_k};
pub use inference::TrainedEmbedder;
pub use model::{Arch, Embedder, EmbedderConfig};
pub use training::{EpochMetrics, TrainOptions, train};
