//! The f16-weights rewrite: weights stored as f16, each cast back to f32 where it is read.

use super::{QuantizeError, finish_like, float_initializer, graph};
use crate::onnx::builder::{Attr, GraphBuilder};
use std::collections::HashSet;
use tract_onnx::pb;
use tract_onnx::pb::tensor_proto::DataType;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::onnx::quantize::test_net::{max_err, run, sample_input, small_net};
    use crate::onnx::quantize::weight_bytes;

    #[test]
    fn the_f16_variant_runs_in_tract_close_to_float_and_smaller() {
        let model = small_net();
        let shape = [4, 3, 8, 8];
        let x = sample_input();
        let expected = run(&model, &shape, &x);
        let scale = expected.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let f16 = f16_weights(&model).unwrap();
        let err = max_err(&run(&f16, &shape, &x), &expected);
        assert!(err < 2e-3 * scale.max(1.0), "f16 error {err}");
        assert!(weight_bytes(&f16) * 10 < weight_bytes(&model) * 6);
    }
}
