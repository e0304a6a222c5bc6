//! Inference with tract: ONNX models from the active bundle, loaded once, and the golden
//! check a bundle passes before a board runs it.

pub mod embedder;
pub mod golden;
pub mod model;
#[cfg(test)]
mod vendored_kernels;

pub use embedder::{Embedder, normalize};
pub use golden::{GoldenError, check_bundle};
pub use model::{EngineError, InputShape, OnnxModel};
