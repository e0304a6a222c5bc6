//! The garment embedder (issue #3): an SE-ResNet stem with a capsule head trained with MSML
//! over P×K batches, a plain residual CNN baseline, training with resumable `.bpk` checkpoints
//! and Recall@K evaluation.
//!
//! Layout follows burn's examples: [`model`] (module + config), [`data`] (datasets and
//! batches), [`training`], [`evaluate`]; the parts are [`se_resnet`], [`capsules`], [`loss`],
//! [`sampler`] and [`augment`].

pub mod capsules;
pub mod loss;
pub mod model;
pub mod se_resnet;

pub use model::{Arch, Embedder, EmbedderConfig};
