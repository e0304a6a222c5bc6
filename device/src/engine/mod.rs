//! Inference with tract: ONNX models from the active bundle, loaded once.

pub mod embedder;
pub mod model;

pub use embedder::{Embedder, normalize};
pub use model::{EngineError, InputShape, OnnxModel};
