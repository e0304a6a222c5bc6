//! The int8 rewrite: `Conv` → `QLinearConv`, constant-weight `MatMul`/`Gemm` →
//! `MatMulInteger`, with per-channel int8 weights and calibrated uint8 activations.

use super::calibration::Ranges;
use super::{
    QuantizeError, finish_like, float_attr, float_initializer, graph, int_attr, node_error,
};
use crate::onnx::builder::{Attr, GraphBuilder};
use std::collections::{HashMap, HashSet};
use tract_onnx::pb;
use tract_onnx::pb::tensor_proto::DataType;

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
    /// The int8 weight constant of the rewritten node writing `at`.
    fn int8_weight(&mut self, at: &str, shape: &[usize], wq: &[i8]) -> String {
        self.g.constant(
            &format!("{at}.int8.weight"),
            shape,
            wq.len(),
            DataType::Int8,
            wq.iter().map(|&v| v as u8).collect(),
        )
    }

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
        let wn = self.int8_weight(at, &shape, &wq);
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
        let wn = self.int8_weight(at, &shape, &wq);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::onnx::quantize::calibrate;
    use crate::onnx::quantize::test_net::{max_err, run, sample_input, small_net};
    use crate::onnx::quantize::weight_bytes;

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
    fn the_int8_variant_runs_in_tract_close_to_float_and_smaller() {
        let model = small_net();
        let shape = [4, 3, 8, 8];
        let x = sample_input();
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
