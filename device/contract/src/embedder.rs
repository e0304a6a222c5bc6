//! The embedder's ONNX interface: `image [N, 3, S, S]` (the preprocessed picture, `S` the
//! preprocessing spec's size) → `embedding [N, D]`, unit length. The host's exporter writes
//! these names and the board feeds them; the manifest's model entry must say the same.

use crate::tensor::{Dim, TensorSpec};

/// Name of the graph input.
pub const INPUT_NAME: &str = "image";
/// Name of the graph output.
pub const OUTPUT_NAME: &str = "embedding";
/// The symbolic batch axis.
pub const BATCH_SYMBOL: &str = "N";

/// The input an embedder for `size`-pixel pictures declares: `image [N, 3, size, size]`.
pub fn input_spec(size: u32) -> TensorSpec {
    let side = size as usize;
    TensorSpec {
        name: INPUT_NAME.into(),
        shape: vec![
            Dim::Symbol(BATCH_SYMBOL.into()),
            Dim::Fixed(3),
            Dim::Fixed(side),
            Dim::Fixed(side),
        ],
        dtype: "float".into(),
    }
}
