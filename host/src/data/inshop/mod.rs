//! DeepFashion In-shop Clothes Retrieval.

pub mod format;
mod loader;

pub use format::{EvalStatus, PartitionRow};
pub use loader::*;
