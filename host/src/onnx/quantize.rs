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

use super::builder::{Attr, GraphBuilder, OnnxError};
use std::collections::{BTreeMap, HashMap, HashSet};
use tract_onnx::pb;
use tract_onnx::pb::tensor_proto::DataType;
use tract_onnx::prelude::*;

/// Min and max of each named tensor over the calibration sample.
pub type Ranges = BTreeMap<String, (f32, f32)>;

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
    #[error("quantize: calibration: {0}")]
    Calibration(String),
}

/// `(node name, problem)` → [`QuantizeError::Node`].
fn node_error(node: &pb::NodeProto, problem: impl Into<String>) -> QuantizeError {
    QuantizeError::Node {
        node: node.name.clone(),
        problem: problem.into(),
    }
}

fn graph(model: &pb::ModelProto) -> Result<&pb::GraphProto, QuantizeError> {
    model.graph.as_ref().ok_or(QuantizeError::NoGraph)
}

/// A float initializer's shape and values, if `name` is one.
fn float_initializer(graph: &pb::GraphProto, name: &str) -> Option<(Vec<usize>, Vec<f32>)> {
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

fn int_attr(node: &pb::NodeProto, name: &str) -> Option<i64> {
    node.attribute.iter().find(|a| a.name == name).map(|a| a.i)
}

fn float_attr(node: &pb::NodeProto, name: &str) -> Option<f32> {
    node.attribute.iter().find(|a| a.name == name).map(|a| a.f)
}

/// What the int8 rewrite does with one node.
enum Plan {
    Conv,
    MatMul,
    Keep,
}

fn plan(graph: &pb::GraphProto, node: &pb::NodeProto) -> Plan {
    let constant = |i: usize| {
        node.input
            .get(i)
            .is_some_and(|n| float_initializer(graph, n).is_some())
    };
    match node.op_type.as_str() {
        "Conv" if constant(1) && int_attr(node, "group").unwrap_or(1) == 1 => Plan::Conv,
        "MatMul" if constant(1) => Plan::MatMul,
        // Only the plain form our writer emits: y = x·W + b.
        "Gemm"
            if constant(1)
                && int_attr(node, "transA").unwrap_or(0) == 0
                && int_attr(node, "transB").unwrap_or(0) == 0
                && float_attr(node, "alpha").unwrap_or(1.0) == 1.0
                && float_attr(node, "beta").unwrap_or(1.0) == 1.0
                && (node.input.len() < 3 || constant(2)) =>
        {
            Plan::MatMul
        }
        _ => Plan::Keep,
    }
}

/// The tensors whose ranges [`quantize_int8`] needs: the activation input of every node it
/// rewrites, and the output of every convolution (`QLinearConv` writes uint8).
pub fn calibration_targets(model: &pb::ModelProto) -> Result<Vec<String>, QuantizeError> {
    let graph = graph(model)?;
    let mut targets = Vec::new();
    for node in &graph.node {
        match plan(graph, node) {
            Plan::Conv => {
                targets.push(node.input[0].clone());
                targets.push(node.output[0].clone());
            }
            Plan::MatMul => targets.push(node.input[0].clone()),
            Plan::Keep => {}
        }
    }
    let mut seen = HashSet::new();
    targets.retain(|t| seen.insert(t.clone()));
    Ok(targets)
}

/// Runs the float `model` in tract on each batch (`(shape, values)` of its single input) and
/// records the min and max of every tensor in `targets`.
pub fn calibrate(
    model: &pb::ModelProto,
    batches: &[(Vec<usize>, Vec<f32>)],
    targets: &[String],
) -> Result<Ranges, QuantizeError> {
    let g = graph(model)?;
    let input = g
        .input
        .first()
        .ok_or_else(|| QuantizeError::Calibration("the graph has no input".into()))?
        .name
        .clone();
    // The graph input is read straight from the batches; every other target becomes an
    // extra graph output.
    let probes: Vec<&String> = targets.iter().filter(|t| **t != input).collect();
    let mut probed = model.clone();
    if let Some(graph) = probed.graph.as_mut() {
        graph
            .output
            .extend(probes.iter().map(|name| pb::ValueInfoProto {
                name: name.to_string(),
                r#type: Some(pb::TypeProto {
                    value: Some(pb::type_proto::Value::TensorType(pb::type_proto::Tensor {
                        elem_type: DataType::Float as i32,
                        shape: None,
                    })),
                    ..Default::default()
                }),
                ..Default::default()
            }));
    }
    let bytes = super::builder::encode(&probed);
    let first_output = g.output.len();
    let mut ranges = Ranges::new();
    let mut widen = |name: &str, values: &mut dyn Iterator<Item = f32>| {
        let entry = ranges
            .entry(name.to_string())
            .or_insert((f32::INFINITY, f32::NEG_INFINITY));
        for v in values {
            entry.0 = entry.0.min(v);
            entry.1 = entry.1.max(v);
        }
    };
    let mut plans: HashMap<Vec<usize>, std::sync::Arc<TypedRunnableModel>> = HashMap::new();
    for (shape, values) in batches {
        if targets.contains(&input) {
            widen(&input, &mut values.iter().copied());
        }
        if !plans.contains_key(shape) {
            let plan = (|| -> TractResult<_> {
                tract_onnx::onnx()
                    .model_for_read(&mut &bytes[..])?
                    .with_input_fact(0, f32::fact(shape).into())?
                    .into_optimized()?
                    .into_runnable()
            })()
            .map_err(|e| QuantizeError::Calibration(format!("cannot load the graph: {e:#}")))?;
            plans.insert(shape.clone(), plan);
        }
        let tensor = Tensor::from_shape(shape, values)
            .map_err(|e| QuantizeError::Calibration(format!("batch of shape {shape:?}: {e}")))?;
        let outputs = plans[shape]
            .run(tvec!(tensor.into()))
            .map_err(|e| QuantizeError::Calibration(format!("run: {e:#}")))?;
        for (name, value) in probes.iter().zip(outputs.iter().skip(first_output)) {
            let view = value.to_plain_array_view::<f32>().map_err(|e| {
                QuantizeError::Calibration(format!("tensor {name:?} is not f32: {e}"))
            })?;
            widen(name, &mut view.iter().copied());
        }
    }
    if let Some((name, _)) = ranges
        .iter()
        .find(|(_, (lo, hi))| !(lo.is_finite() && hi.is_finite()))
    {
        return Err(QuantizeError::Calibration(format!(
            "tensor {name:?} saw no finite values"
        )));
    }
    Ok(ranges)
}

/// Scale and zero point mapping `[min, max]` (widened to include 0, so zero is exact) onto
/// the uint8 range.
pub fn uint8_params(min: f32, max: f32) -> (f32, u8) {
    let (lo, hi) = (min.min(0.0), max.max(0.0));
    let scale = if hi > lo { (hi - lo) / 255.0 } else { 1.0 };
    let zero = (-lo / scale).round().clamp(0.0, 255.0) as u8;
    (scale, zero)
}

/// Symmetric int8 values and one scale per group of `values` (`group_of(i)` says which).
fn symmetric_int8(
    values: &[f32],
    groups: usize,
    group_of: impl Fn(usize) -> usize,
) -> (Vec<i8>, Vec<f32>) {
    let mut max_abs = vec![0.0f32; groups];
    for (i, v) in values.iter().enumerate() {
        let g = group_of(i);
        max_abs[g] = max_abs[g].max(v.abs());
    }
    let scales: Vec<f32> = max_abs
        .iter()
        .map(|&m| if m > 0.0 { m / 127.0 } else { 1.0 })
        .collect();
    let q = values
        .iter()
        .enumerate()
        .map(|(i, v)| (v / scales[group_of(i)]).round().clamp(-127.0, 127.0) as i8)
        .collect();
    (q, scales)
}

/// An activation after `QuantizeLinear`: the names of the uint8 tensor, its scale and zero
/// point, and the scale's value.
#[derive(Clone)]
struct Quantized {
    q: String,
    scale_name: String,
    zero_name: String,
    scale: f32,
}

/// Graph-wide int8 constants, shared between the nodes that read the same activation.
struct Int8Rewriter<'a> {
    g: GraphBuilder,
    source: &'a pb::GraphProto,
    ranges: &'a Ranges,
    /// Activation name → its quantized form.
    quantized: HashMap<String, Quantized>,
    options: Int8Options,
}

/// Choices of the int8 rewrite.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Int8Options {
    /// int8 activations with zero point 0 (scale from max |x|) instead of uint8 with a
    /// calibrated zero point: one bit less resolution for post-ReLU tensors, but no
    /// zero-point corrections for the runtime to compute.
    pub symmetric_activations: bool,
}

impl Int8Rewriter<'_> {
    fn range(&self, name: &str) -> Result<(f32, f32), QuantizeError> {
        self.ranges
            .get(name)
            .copied()
            .ok_or_else(|| QuantizeError::NoRange(name.to_string()))
    }

    fn only_relu_reads(&self, tensor: &str) -> bool {
        let mut readers = self
            .source
            .node
            .iter()
            .filter(|n| n.input.iter().any(|i| i == tensor))
            .peekable();
        readers.peek().is_some()
            && readers.all(|n| n.op_type == "Relu")
            && !self.source.output.iter().any(|o| o.name == tensor)
    }

    /// Scale and zero point of an activation seen in `[min, max]`, and the zero point as a
    /// constant named `name` of the activation's element type.
    fn activation_params(&mut self, name: &str, min: f32, max: f32) -> (f32, String) {
        if self.options.symmetric_activations {
            let m = min.abs().max(max.abs());
            let scale = if m > 0.0 { m / 127.0 } else { 1.0 };
            (
                scale,
                self.g.constant(name, &[], 1, DataType::Int8, vec![0]),
            )
        } else {
            let (scale, zero) = uint8_params(min, max);
            (
                scale,
                self.g.constant(name, &[], 1, DataType::Uint8, vec![zero]),
            )
        }
    }

    /// `QuantizeLinear(x)` to uint8 with the calibrated range of `x`, once per tensor.
    fn quantize_activation(&mut self, x: &str) -> Result<Quantized, QuantizeError> {
        if let Some(q) = self.quantized.get(x) {
            return Ok(q.clone());
        }
        let (min, max) = self.range(x)?;
        let (scale, z) = self.activation_params(&format!("{x}.int8.act_zero_point"), min, max);
        let s = self
            .g
            .initializer(&format!("{x}.int8.act_scale"), &[], &[scale]);
        let q = self.g.node(
            "QuantizeLinear",
            &format!("{x}.int8.act"),
            &[x, &s, &z],
            vec![],
        );
        let entry = Quantized {
            q,
            scale_name: s,
            zero_name: z,
            scale,
        };
        self.quantized.insert(x.to_string(), entry.clone());
        Ok(entry)
    }

    fn conv(&mut self, node: &pb::NodeProto) -> Result<(), QuantizeError> {
        let (shape, w) = float_initializer(self.source, &node.input[1])
            .ok_or_else(|| node_error(node, "weight is not a float initializer"))?;
        let cout = *shape
            .first()
            .ok_or_else(|| node_error(node, "weight has no output-channel axis"))?;
        let per_out = w.len() / cout.max(1);
        let bias = match node.input.get(2).filter(|b| !b.is_empty()) {
            Some(b) => {
                float_initializer(self.source, b)
                    .ok_or_else(|| node_error(node, "bias is not a float initializer"))?
                    .1
            }
            None => vec![0.0; cout],
        };
        let x = self.quantize_activation(&node.input[0])?;
        let x_scale = x.scale;
        let (wq, w_scales) = symmetric_int8(&w, cout, |i| i / per_out);
        let at = &node.output[0];
        let wn = self.g.constant(
            &format!("{at}.int8.weight"),
            &shape,
            wq.len(),
            DataType::Int8,
            wq.iter().map(|&v| v as u8).collect(),
        );
        let ws = self
            .g
            .initializer(&format!("{at}.int8.weight_scale"), &[cout], &w_scales);
        let wz = self.g.constant(
            &format!("{at}.int8.weight_zero_point"),
            &[cout],
            cout,
            DataType::Int8,
            vec![0; cout],
        );
        // The bias is added to the int32 accumulator, whose unit is x_scale · w_scale.
        let bq: Vec<u8> = bias
            .iter()
            .zip(&w_scales)
            .flat_map(|(b, s)| {
                let v = (*b as f64 / (x_scale as f64 * *s as f64)).round();
                (v.clamp(i32::MIN as f64, i32::MAX as f64) as i32).to_le_bytes()
            })
            .collect();
        let bn = self.g.constant(
            &format!("{at}.int8.bias"),
            &[cout],
            cout,
            DataType::Int32,
            bq,
        );
        let (mut ymin, ymax) = self.range(at)?;
        // Read only by ReLUs, the negative half would be thrown away: spend all 256 levels
        // on [0, max] (the ReLU after the DequantizeLinear is then exact and stays).
        if self.only_relu_reads(at) {
            ymin = 0.0;
        }
        let (y_scale, yz) =
            self.activation_params(&format!("{at}.int8.out_zero_point"), ymin, ymax);
        let ys = self
            .g
            .initializer(&format!("{at}.int8.out_scale"), &[], &[y_scale]);
        let y = self.g.node(
            "QLinearConv",
            &format!("{at}.int8.conv"),
            &[
                &x.q,
                &x.scale_name,
                &x.zero_name,
                &wn,
                &ws,
                &wz,
                &ys,
                &yz,
                &bn,
            ],
            vec![],
        );
        // Same attributes as the float Conv (kernel, strides, pads, dilations, group).
        if let Some(last) = self.g.last_node_mut() {
            last.attribute = node.attribute.clone();
        }
        self.g.node_with_outputs(
            "DequantizeLinear",
            &format!("{at}.int8.dequantize"),
            &[&y, &ys, &yz],
            &[at],
            vec![],
        );
        Ok(())
    }

    fn matmul(&mut self, node: &pb::NodeProto) -> Result<(), QuantizeError> {
        let (shape, w) = float_initializer(self.source, &node.input[1])
            .ok_or_else(|| node_error(node, "weight is not a float initializer"))?;
        if shape.len() < 2 {
            return Err(node_error(node, "weight must have at least 2 axes"));
        }
        let (k, n) = (shape[shape.len() - 2], shape[shape.len() - 1]);
        let batches = w.len() / (k * n).max(1);
        // One scale per column of each matrix in the (possibly batched) weight.
        let (wq, w_scales) = symmetric_int8(&w, batches * n, |i| (i / (k * n)) * n + i % n);
        let x = self.quantize_activation(&node.input[0])?;
        let at = &node.output[0];
        let wn = self.g.constant(
            &format!("{at}.int8.weight"),
            &shape,
            wq.len(),
            DataType::Int8,
            wq.iter().map(|&v| v as u8).collect(),
        );
        let wz = self.g.constant(
            &format!("{at}.int8.weight_zero_point"),
            &[],
            1,
            DataType::Int8,
            vec![0],
        );
        let acc = self.g.node(
            "MatMulInteger",
            &format!("{at}.int8.matmul"),
            &[&x.q, &wn, &x.zero_name, &wz],
            vec![],
        );
        let acc = self.g.node(
            "Cast",
            &format!("{at}.int8.to_float"),
            &[&acc],
            vec![("to", Attr::Int(DataType::Float as i64))],
        );
        let scales: Vec<f32> = w_scales.iter().map(|s| s * x.scale).collect();
        // `[B.., 1, n]` broadcasts over the rows of each product.
        let mut scale_shape = shape[..shape.len() - 2].to_vec();
        scale_shape.extend([1, n]);
        if shape.len() == 2 {
            scale_shape = vec![n];
        }
        let sn = self
            .g
            .initializer(&format!("{at}.int8.rescale_factor"), &scale_shape, &scales);
        match node.input.get(2).filter(|b| !b.is_empty()) {
            Some(b) => {
                let scaled =
                    self.g
                        .node("Mul", &format!("{at}.int8.rescale"), &[&acc, &sn], vec![]);
                let (bshape, bias) = float_initializer(self.source, b)
                    .ok_or_else(|| node_error(node, "bias is not a float initializer"))?;
                let bn = self
                    .g
                    .initializer(&format!("{at}.int8.bias"), &bshape, &bias);
                self.g.node_with_outputs(
                    "Add",
                    &format!("{at}.int8.add_bias"),
                    &[&scaled, &bn],
                    &[at],
                    vec![],
                );
            }
            None => self.g.node_with_outputs(
                "Mul",
                &format!("{at}.int8.rescale"),
                &[&acc, &sn],
                &[at],
                vec![],
            ),
        }
        Ok(())
    }
}

/// The int8 variant of `model` (see the module notes), with activation ranges from
/// [`calibrate`] on the tensors [`calibration_targets`] names.
pub fn quantize_int8(
    model: &pb::ModelProto,
    ranges: &Ranges,
) -> Result<pb::ModelProto, QuantizeError> {
    quantize_int8_with(model, ranges, Int8Options::default())
}

/// [`quantize_int8`] with explicit [`Int8Options`].
pub fn quantize_int8_with(
    model: &pb::ModelProto,
    ranges: &Ranges,
    options: Int8Options,
) -> Result<pb::ModelProto, QuantizeError> {
    let source = graph(model)?;
    let plans: Vec<Plan> = source.node.iter().map(|n| plan(source, n)).collect();
    // Initializers still read by a node that stays float (or by nobody we rewrite) are kept.
    let mut still_read: HashSet<&str> = HashSet::new();
    for (node, plan) in source.node.iter().zip(&plans) {
        match plan {
            Plan::Keep => still_read.extend(node.input.iter().map(String::as_str)),
            // A rewritten node reads its activation; its weights are replaced.
            _ => still_read.extend(node.input.first().map(String::as_str)),
        }
    }
    let mut r = Int8Rewriter {
        g: GraphBuilder::new(&format!("{}-int8", source.name)),
        source,
        ranges,
        quantized: HashMap::new(),
        options,
    };
    for info in &source.input {
        r.g.push_input(info.clone());
    }
    for t in &source.initializer {
        if still_read.contains(t.name.as_str()) {
            r.g.push_initializer(t.clone());
        }
    }
    for (node, plan) in source.node.iter().zip(&plans) {
        match plan {
            Plan::Conv => r.conv(node)?,
            Plan::MatMul => r.matmul(node)?,
            Plan::Keep => r.g.push_node(node.clone()),
        }
    }
    for info in &source.output {
        r.g.push_output(info.clone());
    }
    finish_like(r.g, model)
}

/// The f16-weights variant of `model` (see the module notes).
pub fn f16_weights(model: &pb::ModelProto) -> Result<pb::ModelProto, QuantizeError> {
    let source = graph(model)?;
    let weights: HashSet<&str> = source
        .node
        .iter()
        .filter(|n| matches!(n.op_type.as_str(), "Conv" | "Gemm" | "MatMul"))
        .flat_map(|n| n.input.iter().skip(1).map(String::as_str))
        .collect();
    let mut g = GraphBuilder::new(&format!("{}-f16", source.name));
    for info in &source.input {
        g.push_input(info.clone());
    }
    let mut casts = Vec::new();
    for t in &source.initializer {
        match float_initializer(source, &t.name).filter(|_| weights.contains(t.name.as_str())) {
            Some((shape, values)) => {
                let half_name = format!("{}.f16", t.name);
                let raw: Vec<u8> = values
                    .iter()
                    .flat_map(|v| half::f16::from_f32(*v).to_le_bytes())
                    .collect();
                g.constant(&half_name, &shape, values.len(), DataType::Float16, raw);
                casts.push((half_name, t.name.clone()));
            }
            None => g.push_initializer(t.clone()),
        }
    }
    for (half_name, name) in &casts {
        g.node_with_outputs(
            "Cast",
            &format!("{name}.to_float"),
            &[half_name],
            &[name],
            vec![("to", Attr::Int(DataType::Float as i64))],
        );
    }
    for node in &source.node {
        g.push_node(node.clone());
    }
    for info in &source.output {
        g.push_output(info.clone());
    }
    finish_like(g, model)
}

fn finish_like(g: GraphBuilder, model: &pb::ModelProto) -> Result<pb::ModelProto, QuantizeError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::onnx::builder::encode;
    use capsule_device::bundle::Dim;

    fn weights(n: usize, salt: u32) -> Vec<f32> {
        (0..n as u32)
            .map(|i| (((i * 7919 + salt * 104_729) % 1000) as f32 / 1000.0 - 0.5) * 0.6)
            .collect()
    }

    /// Conv → Relu → Conv → global pool → Gemm → MatMul: every rewritten op kind.
    fn small_net() -> pb::ModelProto {
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

    fn run(model: &pb::ModelProto, shape: &[usize], x: &[f32]) -> Vec<f32> {
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

    fn max_err(a: &[f32], b: &[f32]) -> f32 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max)
    }

    #[test]
    fn uint8_params_keep_zero_exact_and_cover_the_range() {
        let (s, z) = uint8_params(-1.0, 3.0);
        assert!((s - 4.0 / 255.0).abs() < 1e-7);
        assert_eq!((0.0 / s + z as f32).round() as u8, z);
        assert!((((-1.0 / s) + z as f32).round()) >= 0.0);
        assert!((((3.0 / s) + z as f32).round()) <= 255.0);
        // A range that excludes zero is widened to include it.
        assert_eq!(uint8_params(2.0, 5.0).1, 0);
        assert_eq!(uint8_params(-5.0, -2.0).1, 255);
    }

    #[test]
    fn per_channel_weights_use_each_channels_own_scale() {
        let (q, s) = symmetric_int8(&[1.0, -0.5, 0.005, -0.02], 2, |i| i / 2);
        assert_eq!(q, vec![127, -64, 32, -127]);
        assert!((s[0] - 1.0 / 127.0).abs() < 1e-9 && (s[1] - 0.02 / 127.0).abs() < 1e-9);
    }

    #[test]
    fn int8_and_f16_variants_run_in_tract_close_to_float_and_smaller() {
        let model = small_net();
        let shape = [4, 3, 8, 8];
        let x = weights(4 * 3 * 64, 9)
            .iter()
            .map(|v| v * 4.0)
            .collect::<Vec<_>>();
        let expected = run(&model, &shape, &x);
        let scale = expected.iter().fold(0.0f32, |m, v| m.max(v.abs()));

        let targets = calibration_targets(&model).unwrap();
        // x, c1 out, relu out, c2 out, flat (Gemm input), fc out (MatMul input).
        assert_eq!(targets.len(), 6, "{targets:?}");
        let ranges = calibrate(&model, &[(shape.to_vec(), x.clone())], &targets).unwrap();
        for symmetric_activations in [false, true] {
            let options = Int8Options {
                symmetric_activations,
            };
            let int8 = quantize_int8_with(&model, &ranges, options).unwrap();
            let ops: Vec<&str> = int8
                .graph
                .as_ref()
                .unwrap()
                .node
                .iter()
                .map(|n| n.op_type.as_str())
                .collect();
            assert!(
                !ops.contains(&"Conv") && !ops.contains(&"Gemm") && !ops.contains(&"MatMul"),
                "{ops:?}"
            );
            assert_eq!(ops.iter().filter(|o| **o == "QLinearConv").count(), 2);
            assert_eq!(ops.iter().filter(|o| **o == "MatMulInteger").count(), 2);
            let got = run(&int8, &shape, &x);
            let err = max_err(&got, &expected);
            assert!(
                err < 0.05 * scale,
                "{options:?}: int8 error {err} vs output scale {scale}"
            );
            assert!(
                err > 0.0,
                "int8 output identical to float: nothing was quantized"
            );
            assert!(weight_bytes(&int8) * 2 < weight_bytes(&model));
        }

        let f16 = f16_weights(&model).unwrap();
        let err = max_err(&run(&f16, &shape, &x), &expected);
        assert!(err < 2e-3 * scale.max(1.0), "f16 error {err}");
        assert!(weight_bytes(&f16) * 10 < weight_bytes(&model) * 6);
    }

    #[test]
    fn broken_ranges_are_refused_or_visible() {
        let model = small_net();
        assert!(matches!(
            quantize_int8(&model, &Ranges::new()),
            Err(QuantizeError::NoRange(_))
        ));
    }
}
