//! ONNX files written from our own weights: a checked graph builder over tract's protobuf
//! types, and (with the export work) one emitter per layer kind.

pub mod builder;

pub use builder::{Attr, GraphBuilder, OPSET, OnnxError, encode};
