//! Activation ranges of a float graph: run it in tract on sample batches and record the min
//! and max of the tensors the int8 rewrite needs.

use super::{QuantizeError, graph};
use std::collections::{BTreeMap, HashMap};
use tract_onnx::pb;
use tract_onnx::pb::tensor_proto::DataType;
use tract_onnx::prelude::*;

/// Min and max of each named tensor over the calibration sample.
pub type Ranges = BTreeMap<String, (f32, f32)>;

fn failed(what: String, source: Option<Box<dyn std::error::Error + Send + Sync>>) -> QuantizeError {
    QuantizeError::Calibration { what, source }
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
        .ok_or_else(|| failed("the graph has no input".into(), None))?
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
    let bytes = crate::onnx::builder::encode(&probed);
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
            .map_err(|e| failed("cannot load the graph".into(), Some(e.into())))?;
            plans.insert(shape.clone(), plan);
        }
        let tensor = Tensor::from_shape(shape, values)
            .map_err(|e| failed(format!("batch of shape {shape:?}"), Some(e.into())))?;
        let outputs = plans[shape]
            .run(tvec!(tensor.into()))
            .map_err(|e| failed("run".into(), Some(e.into())))?;
        for (name, value) in probes.iter().zip(outputs.iter().skip(first_output)) {
            let view = value
                .to_plain_array_view::<f32>()
                .map_err(|e| failed(format!("tensor {name:?} is not f32"), Some(e.into())))?;
            widen(name, &mut view.iter().copied());
        }
    }
    if let Some((name, _)) = ranges
        .iter()
        .find(|(_, (lo, hi))| !(lo.is_finite() && hi.is_finite()))
    {
        return Err(failed(
            format!("tensor {name:?} saw no finite values"),
            None,
        ));
    }
    Ok(ranges)
}
