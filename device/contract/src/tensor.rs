//! Tensor declarations as manifests and exporters write them: names, element types and
//! shapes whose axes are fixed or named (batch, node count).

use serde::{Deserialize, Serialize};

/// A tensor dimension: fixed, or named and chosen at run time (batch, node count).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Dim {
    Fixed(usize),
    Symbol(String),
}

/// One named model input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TensorSpec {
    pub name: String,
    pub shape: Vec<Dim>,
    /// Element type as ONNX names it (`float`, `int64`, ...).
    pub dtype: String,
}
