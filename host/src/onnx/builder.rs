//! Builds ONNX graphs with tract's own protobuf types (`tract_onnx::pb`), so every file we
//! write is one tract was built to read. Names are checked for uniqueness and every node's
//! inputs must exist before it: the wrong order cannot be written.

use capsule_device::bundle::Dim;
use prost::Message;
use std::collections::HashSet;
use tract_onnx::pb;

/// The ONNX opset our graphs declare.
pub const OPSET: i64 = 17;
/// ONNX IR version matching opset 17.
pub const IR_VERSION: i64 = 8;

/// A graph could not be built as asked.
#[derive(Debug, thiserror::Error)]
pub enum OnnxError {
    #[error("ONNX graph: name {0:?} is used twice")]
    DuplicateName(String),
    #[error("ONNX graph: node {node:?} reads {input:?}, which nothing produced before it")]
    UndefinedInput { node: String, input: String },
    #[error("ONNX graph: initializer {name:?} has {got} values for shape {shape:?}")]
    ShapeMismatch {
        name: String,
        shape: Vec<usize>,
        got: usize,
    },
    #[error("ONNX graph: output {0:?} is not produced by any node")]
    UndefinedOutput(String),
}

/// An ONNX attribute.
pub enum Attr {
    Int(i64),
    Ints(Vec<i64>),
    Float(f32),
    /// A string attribute (e.g. `Einsum`'s equation).
    Str(String),
}

/// Accumulates a graph in execution order.
#[derive(Default)]
pub struct GraphBuilder {
    name: String,
    nodes: Vec<pb::NodeProto>,
    initializers: Vec<pb::TensorProto>,
    inputs: Vec<pb::ValueInfoProto>,
    outputs: Vec<pb::ValueInfoProto>,
    defined: HashSet<String>,
    node_names: HashSet<String>,
    counter: usize,
    error: Option<OnnxError>,
}

impl GraphBuilder {
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_string(),
            ..Self::default()
        }
    }

    fn define(&mut self, name: &str) {
        if !self.defined.insert(name.to_string()) && self.error.is_none() {
            self.error = Some(OnnxError::DuplicateName(name.to_string()));
        }
    }

    /// A float graph input.
    pub fn input(&mut self, name: &str, dims: &[Dim]) -> String {
        self.define(name);
        self.inputs
            .push(value_info(name, dims, pb::tensor_proto::DataType::Float));
        name.to_string()
    }

    /// Declares `name` a graph output.
    pub fn output(&mut self, name: &str, dims: &[Dim]) {
        if !self.defined.contains(name) && self.error.is_none() {
            self.error = Some(OnnxError::UndefinedOutput(name.to_string()));
        }
        self.outputs
            .push(value_info(name, dims, pb::tensor_proto::DataType::Float));
    }

    /// A float constant (weights). Returns its name.
    pub fn initializer(&mut self, name: &str, shape: &[usize], values: &[f32]) -> String {
        let raw = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.constant(
            name,
            shape,
            values.len(),
            pb::tensor_proto::DataType::Float,
            raw,
        )
    }

    /// An int64 constant (shapes, axes, indices). Returns its name.
    pub fn initializer_i64(&mut self, name: &str, shape: &[usize], values: &[i64]) -> String {
        let raw = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.constant(
            name,
            shape,
            values.len(),
            pb::tensor_proto::DataType::Int64,
            raw,
        )
    }

    /// A constant of any element type from its little-endian bytes (`count` elements).
    /// Returns its name.
    pub fn constant(
        &mut self,
        name: &str,
        shape: &[usize],
        count: usize,
        dtype: pb::tensor_proto::DataType,
        raw_data: Vec<u8>,
    ) -> String {
        if shape.iter().product::<usize>() != count && self.error.is_none() {
            self.error = Some(OnnxError::ShapeMismatch {
                name: name.into(),
                shape: shape.to_vec(),
                got: count,
            });
        }
        self.define(name);
        self.initializers.push(pb::TensorProto {
            name: name.to_string(),
            dims: shape.iter().map(|&d| d as i64).collect(),
            data_type: dtype as i32,
            raw_data,
            ..Default::default()
        });
        name.to_string()
    }

    /// Appends a node with one output; returns the output's name (`{hint}_{n}`).
    pub fn node(
        &mut self,
        op: &str,
        hint: &str,
        inputs: &[&str],
        attrs: Vec<(&str, Attr)>,
    ) -> String {
        self.counter += 1;
        let output = format!("{hint}_{}", self.counter);
        self.node_with_outputs(op, &output, inputs, &[&output], attrs);
        output
    }

    /// Appends a node with explicit output names (for ops with several outputs).
    pub fn node_with_outputs(
        &mut self,
        op: &str,
        name: &str,
        inputs: &[&str],
        outputs: &[&str],
        attrs: Vec<(&str, Attr)>,
    ) {
        for input in inputs {
            // ONNX marks an omitted optional input with an empty name.
            if !input.is_empty() && !self.defined.contains(*input) && self.error.is_none() {
                self.error = Some(OnnxError::UndefinedInput {
                    node: name.into(),
                    input: input.to_string(),
                });
            }
        }
        if !self.node_names.insert(name.to_string()) && self.error.is_none() {
            self.error = Some(OnnxError::DuplicateName(name.to_string()));
        }
        for output in outputs {
            self.define(output);
        }
        self.nodes.push(pb::NodeProto {
            name: name.to_string(),
            op_type: op.to_string(),
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: outputs.iter().map(|s| s.to_string()).collect(),
            attribute: attrs.into_iter().map(|(n, a)| attribute(n, a)).collect(),
            ..Default::default()
        });
    }

    /// Copies a node from another graph as it is, with the same checks as [`Self::node`].
    pub fn push_node(&mut self, node: pb::NodeProto) {
        let inputs: Vec<&str> = node.input.iter().map(String::as_str).collect();
        let outputs: Vec<&str> = node.output.iter().map(String::as_str).collect();
        let start = self.nodes.len();
        self.node_with_outputs(&node.op_type, &node.name, &inputs, &outputs, vec![]);
        self.nodes[start].attribute = node.attribute;
        self.nodes[start].domain = node.domain;
    }

    /// The node appended last, to set what the typed helpers cannot (e.g. attributes copied
    /// from another graph).
    pub fn last_node_mut(&mut self) -> Option<&mut pb::NodeProto> {
        self.nodes.last_mut()
    }

    /// Copies an initializer from another graph as it is.
    pub fn push_initializer(&mut self, tensor: pb::TensorProto) {
        self.define(&tensor.name);
        self.initializers.push(tensor);
    }

    /// Copies a graph input declaration from another graph.
    pub fn push_input(&mut self, info: pb::ValueInfoProto) {
        self.define(&info.name);
        self.inputs.push(info);
    }

    /// Copies a graph output declaration from another graph (its producer must exist).
    pub fn push_output(&mut self, info: pb::ValueInfoProto) {
        if !self.defined.contains(&info.name) && self.error.is_none() {
            self.error = Some(OnnxError::UndefinedOutput(info.name.clone()));
        }
        self.outputs.push(info);
    }

    /// The finished model, or the first mistake made while building it.
    pub fn finish(self, producer: &str) -> Result<pb::ModelProto, OnnxError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        Ok(pb::ModelProto {
            ir_version: IR_VERSION,
            opset_import: vec![pb::OperatorSetIdProto {
                domain: String::new(),
                version: OPSET,
            }],
            producer_name: producer.to_string(),
            producer_version: env!("CARGO_PKG_VERSION").to_string(),
            graph: Some(pb::GraphProto {
                name: self.name,
                node: self.nodes,
                initializer: self.initializers,
                input: self.inputs,
                output: self.outputs,
                ..Default::default()
            }),
            ..Default::default()
        })
    }
}

/// Serialises a model to the bytes of an `.onnx` file.
pub fn encode(model: &pb::ModelProto) -> Vec<u8> {
    model.encode_to_vec()
}

/// Parameters of an ONNX model: the values of its initializers (weights, biases, scales;
/// batch norm already folded), whatever their storage type.
pub fn parameter_count(model: &pb::ModelProto) -> usize {
    model.graph.as_ref().map_or(0, |g| {
        g.initializer
            .iter()
            .map(|t| t.dims.iter().map(|&d| d.max(0) as usize).product::<usize>())
            .sum()
    })
}

fn value_info(name: &str, dims: &[Dim], dtype: pb::tensor_proto::DataType) -> pb::ValueInfoProto {
    use pb::tensor_shape_proto::{Dimension, dimension::Value};
    let dim = |d: &Dim| Dimension {
        value: Some(match d {
            Dim::Fixed(n) => Value::DimValue(*n as i64),
            Dim::Symbol(s) => Value::DimParam(s.clone()),
        }),
        ..Default::default()
    };
    pb::ValueInfoProto {
        name: name.to_string(),
        r#type: Some(pb::TypeProto {
            value: Some(pb::type_proto::Value::TensorType(pb::type_proto::Tensor {
                elem_type: dtype as i32,
                shape: Some(pb::TensorShapeProto {
                    dim: dims.iter().map(dim).collect(),
                }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn attribute(name: &str, value: Attr) -> pb::AttributeProto {
    use pb::attribute_proto::AttributeType;
    let mut a = pb::AttributeProto {
        name: name.to_string(),
        ..Default::default()
    };
    match value {
        Attr::Int(i) => {
            a.r#type = AttributeType::Int as i32;
            a.i = i;
        }
        Attr::Ints(v) => {
            a.r#type = AttributeType::Ints as i32;
            a.ints = v;
        }
        Attr::Float(f) => {
            a.r#type = AttributeType::Float as i32;
            a.f = f;
        }
        Attr::Str(text) => {
            a.r#type = AttributeType::String as i32;
            a.s = text.into_bytes();
        }
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catches_wiring_mistakes() {
        let mut g = GraphBuilder::new("g");
        g.input("x", &[Dim::Fixed(1)]);
        g.node("Relu", "r", &["y"], vec![]);
        assert!(matches!(
            g.finish("t"),
            Err(OnnxError::UndefinedInput { .. })
        ));

        let mut g = GraphBuilder::new("g");
        g.input("x", &[Dim::Fixed(1)]);
        g.initializer("x", &[1], &[1.0]);
        assert!(matches!(g.finish("t"), Err(OnnxError::DuplicateName(_))));

        let mut g = GraphBuilder::new("g");
        g.initializer("w", &[2, 2], &[1.0]);
        assert!(matches!(
            g.finish("t"),
            Err(OnnxError::ShapeMismatch { .. })
        ));

        let mut g = GraphBuilder::new("g");
        g.output("nothing", &[]);
        assert!(matches!(g.finish("t"), Err(OnnxError::UndefinedOutput(_))));
    }

    #[test]
    fn a_small_graph_loads_and_runs_in_tract() {
        use tract_onnx::prelude::*;
        let mut g = GraphBuilder::new("affine");
        let x = g.input("x", &[Dim::Symbol("N".into()), Dim::Fixed(2)]);
        let w = g.initializer("w", &[2, 3], &[1.0, 0.0, -1.0, 0.5, 2.0, 0.0]);
        let y = g.node("MatMul", "matmul", &[&x, &w], vec![]);
        let z = g.node("Relu", "relu", &[&y], vec![]);
        g.output(&z, &[Dim::Symbol("N".into()), Dim::Fixed(3)]);
        let bytes = encode(&g.finish("test").unwrap());
        let model = tract_onnx::onnx()
            .model_for_read(&mut &bytes[..])
            .unwrap()
            .into_optimized()
            .unwrap()
            .into_runnable()
            .unwrap();
        let input = tract_ndarray::arr2(&[[1.0f32, 2.0], [-1.0, 0.0]]).into_tensor();
        let out = model.run(tvec!(input.into())).unwrap();
        let out = out[0].to_plain_array_view::<f32>().unwrap();
        assert_eq!(out.as_slice().unwrap(), &[2.0, 4.0, 0.0, 0.0, 0.0, 1.0]);
    }
}
