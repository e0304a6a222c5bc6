//! Quantized variants of an exported float graph, made by rewriting the graph itself (any of
//! our graphs, not only the embedder):
//!
//! - **int8**: every `Conv` becomes `QuantizeLinear → QLinearConv → DequantizeLinear`, and
//!   every `MatMul`/`Gemm` with a constant weight becomes `QuantizeLinear → MatMulInteger →
//!   Cast → Mul(scale) [→ Add(bias)]`. Weights are int8, symmetric, one scale per output
//!   channel (per column for matrix products); activations are uint8 with a scale and zero
//!   point from the min/max seen on a calibration sample ([`calibrate`]). Biases of
//!   convolutions are int32 in the accumulator's scale. These are ops tract runs with integer
//!   kernels; a `DequantizeLinear` on the weights alone would only shrink the file, because
//!   tract folds it back to f32 when it loads the model.
//! - **f16 weights**: the weights and biases of `Conv`/`Gemm`/`MatMul` are stored as f16
//!   initializers, each followed by a `Cast` to f32. The file halves; compute stays f32 (an
//!   all-f16 graph does not load in tract 0.23: its `Gemm` refuses f16).

//!
//! [`calibration`] measures the activation ranges, [`int8`] and [`f16`] rewrite the graph.

pub mod calibration;
pub mod f16;
pub mod int8;

pub use calibration::{Ranges, calibrate};
pub use f16::f16_weights;
pub use int8::{Int8Options, calibration_targets, quantize_int8, quantize_int8_with, uint8_params};

use super::builder::{GraphBuilder, OnnxError};
use tract_onnx::pb;
use tract_onnx::pb::tensor_proto::DataType;

/// A graph could not be quantized.
#[derive(Debug, thiserror::Error)]
pub enum QuantizeError {
    #[error(transparent)]
    Graph(#[from] OnnxError),
    #[error("quantize: the model has no graph")]
    NoGraph,
    #[error("quantize: node {node:?}: {problem}")]
    Node { node: String, problem: String },
    #[error("quantize: no calibration range for tensor {0:?} (run `calibrate` on this graph)")]
    NoRange(String),
    #[error("quantize: calibration: {what}")]
    Calibration {
        what: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

/// `(node name, problem)` → [`QuantizeError::Node`].
pub(crate) fn node_error(node: &pb::NodeProto, problem: impl Into<String>) -> QuantizeError {
    QuantizeError::Node {
        node: node.name.clone(),
        problem: problem.into(),
    }
}

pub(crate) fn graph(model: &pb::ModelProto) -> Result<&pb::GraphProto, QuantizeError> {
    model.graph.as_ref().ok_or(QuantizeError::NoGraph)
}

/// A float initializer's shape and values, if `name` is one.
pub(crate) fn float_initializer(
    graph: &pb::GraphProto,
    name: &str,
) -> Option<(Vec<usize>, Vec<f32>)> {
    let t = graph.initializer.iter().find(|t| t.name == name)?;
    if t.data_type != DataType::Float as i32 {
        return None;
    }
    let values: Vec<f32> = if !t.raw_data.is_empty() {
        t.raw_data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()
    } else {
        t.float_data.clone()
    };
    let shape: Vec<usize> = t.dims.iter().map(|&d| d.max(0) as usize).collect();
    (shape.iter().product::<usize>() == values.len()).then_some((shape, values))
}

pub(crate) fn int_attr(node: &pb::NodeProto, name: &str) -> Option<i64> {
    node.attribute.iter().find(|a| a.name == name).map(|a| a.i)
}

pub(crate) fn float_attr(node: &pb::NodeProto, name: &str) -> Option<f32> {
    node.attribute.iter().find(|a| a.name == name).map(|a| a.f)
}

/// `g` finished as a model from the same producer as `model`.
pub(crate) fn finish_like(
    g: GraphBuilder,
    model: &pb::ModelProto,
) -> Result<pb::ModelProto, QuantizeError> {
    let mut out = g.finish(&model.producer_name)?;
    out.producer_version = model.producer_version.clone();
    Ok(out)
}

/// Bytes of all initializers (weights, biases, scales, shape constants) as stored.
pub fn weight_bytes(model: &pb::ModelProto) -> usize {
    model.graph.as_ref().map_or(0, |g| {
        g.initializer
            .iter()
            .map(|t| {
                t.raw_data.len()
                    + 4 * t.float_data.len()
                    + 4 * t.int32_data.len()
                    + 8 * t.int64_data.len()
            })
            .sum()
    })
}

/// A small float net and a tract runner, for the rewrites' tests.
#[cfg(test)]
pub(crate) mod test_net {
    use crate::onnx::builder::{Attr, GraphBuilder, encode};
    use capsule_device::bundle::Dim;
    use tract_onnx::pb;
    use tract_onnx::prelude::*;

    pub(super) fn weights(n: usize, salt: u32) -> Vec<f32> {
        (0..n as u32)
            .map(|i| (((i * 7919 + salt * 104_729) % 1000) as f32 / 1000.0 - 0.5) * 0.6)
            .collect()
    }

    /// Conv → Relu → Conv → global pool → Gemm → MatMul: every rewritten op kind.
    pub(super) fn small_net() -> pb::ModelProto {
        let mut g = GraphBuilder::new("small");
        let x = g.input(
            "x",
            &[
                Dim::Symbol("N".into()),
                Dim::Fixed(3),
                Dim::Fixed(8),
                Dim::Fixed(8),
            ],
        );
        let w1 = g.initializer("c1.weight", &[8, 3, 3, 3], &weights(216, 1));
        let b1 = g.initializer("c1.bias", &[8], &weights(8, 2));
        let conv = |g: &mut GraphBuilder, at: &str, inputs: &[&str]| {
            g.node(
                "Conv",
                at,
                inputs,
                vec![
                    ("kernel_shape", Attr::Ints(vec![3, 3])),
                    ("pads", Attr::Ints(vec![1, 1, 1, 1])),
                ],
            )
        };
        let y = conv(&mut g, "c1", &[&x, &w1, &b1]);
        let y = g.node("Relu", "relu", &[&y], vec![]);
        let w2 = g.initializer("c2.weight", &[4, 8, 3, 3], &weights(288, 3));
        let y = conv(&mut g, "c2", &[&y, &w2]);
        let y = g.node("GlobalAveragePool", "pool", &[&y], vec![]);
        let y = g.node("Flatten", "flat", &[&y], vec![("axis", Attr::Int(1))]);
        let w3 = g.initializer("fc.weight", &[4, 6], &weights(24, 4));
        let b3 = g.initializer("fc.bias", &[6], &weights(6, 5));
        let y = g.node("Gemm", "fc", &[&y, &w3, &b3], vec![]);
        let w4 = g.initializer("mm.weight", &[6, 5], &weights(30, 6));
        let y = g.node("MatMul", "mm", &[&y, &w4], vec![]);
        g.output(&y, &[Dim::Symbol("N".into()), Dim::Fixed(5)]);
        g.finish("test").unwrap()
    }

    pub(super) fn run(model: &pb::ModelProto, shape: &[usize], x: &[f32]) -> Vec<f32> {
        let bytes = encode(model);
        let plan = tract_onnx::onnx()
            .model_for_read(&mut &bytes[..])
            .unwrap()
            .with_input_fact(0, f32::fact(shape).into())
            .unwrap()
            .into_optimized()
            .unwrap()
            .into_runnable()
            .unwrap();
        let out = plan
            .run(tvec!(Tensor::from_shape(shape, x).unwrap().into()))
            .unwrap();
        out[0]
            .to_plain_array_view::<f32>()
            .unwrap()
            .iter()
            .copied()
            .collect()
    }

    pub(super) fn max_err(a: &[f32], b: &[f32]) -> f32 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max)
    }

    /// An input batch of shape `[4, 3, 8, 8]` for [`small_net`].
    pub(super) fn sample_input() -> Vec<f32> {
        weights(4 * 3 * 64, 9).iter().map(|v| v * 4.0).collect()
    }
}
