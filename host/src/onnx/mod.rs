//! ONNX files written from our own weights: a checked graph builder over tract's protobuf
//! types, one emitter per layer kind, and the embedder, backbone and stylist exports built
//! from them.

pub mod backbone;
pub mod builder;
pub mod embedder;
pub mod emit;
pub mod quantize;
pub mod stylist;

pub use builder::{Attr, GraphBuilder, OPSET, OnnxError, encode, parameter_count};
pub use embedder::{ExportError, export_embedder, write_embedder};
pub use stylist::{export_stylist_decoder, export_stylist_encoder};
