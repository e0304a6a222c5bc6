//! The kernels of the vendored tract-core (vendor/README.md) against direct loops, through the
//! engine's own loading path, at odd sizes, strides and paddings, on 1 and 2 threads. The
//! graphs are written here, one operator each, so every case is a line of the table.

use super::{InputShape, OnnxModel};
use prost::Message;
use tract_onnx::pb;
use tract_onnx::prelude::*;

/// One depthwise convolution: `channels` planes of `h × w`, a `k_h × k_w` kernel.
#[derive(Debug, Clone, Copy)]
struct Depthwise {
    batch: usize,
    channels: usize,
    h: usize,
    w: usize,
    k_h: usize,
    k_w: usize,
    stride: [usize; 2],
    /// ONNX order: top, left, bottom, right.
    pads: [usize; 4],
}

impl Depthwise {
    fn out_hw(&self) -> [usize; 2] {
        let out = |size: usize, k: usize, s: usize, before: usize, after: usize| {
            (size + before + after - k) / s + 1
        };
        [
            out(self.h, self.k_h, self.stride[0], self.pads[0], self.pads[2]),
            out(self.w, self.k_w, self.stride[1], self.pads[1], self.pads[3]),
        ]
    }

    fn weight(&self, c: usize, ky: usize, kx: usize) -> f32 {
        ((c * 7 + ky * 5 + kx * 3) % 17) as f32 / 8.0 - 1.0
    }

    fn bias(&self, c: usize) -> f32 {
        (c % 5) as f32 / 10.0 - 0.2
    }

    fn input(&self) -> Vec<f32> {
        (0..self.batch * self.channels * self.h * self.w)
            .map(|i| ((i * 37) % 101) as f32 / 50.0 - 1.0)
            .collect()
    }

    /// The convolution as plain loops: the bias, then the taps in kernel order, skipping
    /// those on the padding -- the order tract's own walk adds them in.
    fn direct(&self, input: &[f32]) -> Vec<f32> {
        let [oh, ow] = self.out_hw();
        let mut out = Vec::with_capacity(self.batch * self.channels * oh * ow);
        for n in 0..self.batch {
            for c in 0..self.channels {
                let plane = &input[(n * self.channels + c) * self.h * self.w..];
                for oy in 0..oh {
                    for ox in 0..ow {
                        let mut sum = self.bias(c);
                        for ky in 0..self.k_h {
                            for kx in 0..self.k_w {
                                let y = (oy * self.stride[0] + ky).checked_sub(self.pads[0]);
                                let x = (ox * self.stride[1] + kx).checked_sub(self.pads[1]);
                                if let (Some(y), Some(x)) = (y, x)
                                    && y < self.h
                                    && x < self.w
                                {
                                    sum += self.weight(c, ky, kx) * plane[y * self.w + x];
                                }
                            }
                        }
                        out.push(sum);
                    }
                }
            }
        }
        out
    }

    /// The ONNX file: `Conv` with `group = channels`, then `Clip(lower, upper)` if asked.
    fn onnx(&self, clip: Option<(f32, f32)>) -> Vec<u8> {
        use pb::attribute_proto::AttributeType;
        let ints = |name: &str, ints: Vec<i64>| pb::AttributeProto {
            name: name.into(),
            r#type: AttributeType::Ints as i32,
            ints,
            ..Default::default()
        };
        let dims = |d: &[usize]| d.iter().map(|&d| d as i64).collect::<Vec<_>>();
        let float = |name: &str, shape: &[usize], values: Vec<f32>| pb::TensorProto {
            name: name.into(),
            dims: dims(shape),
            data_type: pb::tensor_proto::DataType::Float as i32,
            float_data: values,
            ..Default::default()
        };
        let weights = (0..self.channels)
            .flat_map(|c| {
                (0..self.k_h).flat_map(move |ky| (0..self.k_w).map(move |kx| (c, ky, kx)))
            })
            .map(|(c, ky, kx)| self.weight(c, ky, kx))
            .collect();
        let conv = pb::NodeProto {
            input: vec!["x".into(), "w".into(), "b".into()],
            output: vec![if clip.is_some() { "conv" } else { "y" }.into()],
            op_type: "Conv".into(),
            attribute: vec![
                pb::AttributeProto {
                    name: "group".into(),
                    r#type: AttributeType::Int as i32,
                    i: self.channels as i64,
                    ..Default::default()
                },
                ints("kernel_shape", dims(&[self.k_h, self.k_w])),
                ints("strides", dims(&self.stride)),
                ints("pads", dims(&self.pads)),
            ],
            ..Default::default()
        };
        let float_value = |name: &str, shape: &[usize]| pb::ValueInfoProto {
            name: name.into(),
            r#type: Some(pb::TypeProto {
                value: Some(pb::type_proto::Value::TensorType(pb::type_proto::Tensor {
                    elem_type: pb::tensor_proto::DataType::Float as i32,
                    shape: Some(pb::TensorShapeProto {
                        dim: dims(shape)
                            .into_iter()
                            .map(|d| pb::tensor_shape_proto::Dimension {
                                value: Some(pb::tensor_shape_proto::dimension::Value::DimValue(d)),
                                ..Default::default()
                            })
                            .collect(),
                    }),
                })),
                ..Default::default()
            }),
            ..Default::default()
        };
        let [oh, ow] = self.out_hw();
        let mut node = vec![conv];
        let mut initializer = vec![
            float("w", &[self.channels, 1, self.k_h, self.k_w], weights),
            float(
                "b",
                &[self.channels],
                (0..self.channels).map(|c| self.bias(c)).collect(),
            ),
        ];
        if let Some((lower, upper)) = clip {
            node.push(pb::NodeProto {
                input: vec!["conv".into(), "lower".into(), "upper".into()],
                output: vec!["y".into()],
                op_type: "Clip".into(),
                ..Default::default()
            });
            initializer.push(float("lower", &[], vec![lower]));
            initializer.push(float("upper", &[], vec![upper]));
        }
        let graph = pb::GraphProto {
            name: "depthwise".into(),
            node,
            input: vec![float_value(
                "x",
                &[self.batch, self.channels, self.h, self.w],
            )],
            output: vec![float_value("y", &[self.batch, self.channels, oh, ow])],
            initializer,
            ..Default::default()
        };
        pb::ModelProto {
            ir_version: 8,
            opset_import: vec![pb::OperatorSetIdProto {
                domain: String::new(),
                version: 17,
            }],
            graph: Some(graph),
            ..Default::default()
        }
        .encode_to_vec()
    }
}

/// The shapes of the shipped embedder's backbone (3×3 and 5×5, strides 1 and 2, the
/// asymmetric padding of its stride-2 layers) at odd sizes, plus a 3×5 kernel, stride 3 and
/// a batch of two. The last case is large enough to be split across two threads.
const CASES: [Depthwise; 9] = [
    dw(1, 3, 13, 11, 3, 3, [1, 1], [1, 1, 1, 1]),
    dw(1, 5, 17, 9, 5, 5, [2, 2], [2, 2, 2, 2]),
    dw(1, 4, 12, 12, 3, 3, [2, 2], [0, 0, 1, 1]),
    dw(1, 6, 8, 8, 5, 5, [1, 1], [2, 2, 2, 2]),
    dw(1, 2, 7, 19, 3, 3, [3, 3], [1, 0, 1, 2]),
    dw(1, 3, 10, 9, 3, 5, [2, 1], [1, 2, 1, 2]),
    dw(2, 3, 9, 10, 3, 3, [1, 2], [0, 1, 2, 0]),
    dw(1, 7, 5, 3, 5, 5, [1, 1], [2, 2, 2, 2]),
    dw(1, 24, 33, 31, 3, 3, [2, 2], [1, 1, 1, 1]),
];

#[allow(clippy::too_many_arguments)]
const fn dw(
    batch: usize,
    channels: usize,
    h: usize,
    w: usize,
    k_h: usize,
    k_w: usize,
    stride: [usize; 2],
    pads: [usize; 4],
) -> Depthwise {
    Depthwise {
        batch,
        channels,
        h,
        w,
        k_h,
        k_w,
        stride,
        pads,
    }
}

/// The vendored direct planar path (`depth_wise_planar.rs`) takes every case and gives what
/// the direct loops give, exactly: it adds the same products in the same order. With a ReLU6
/// after it (`Clip(0, 6)`, as the backbone has), the clip is fused into its store: no
/// separate pass is left in the plan, and the values are the direct loops' clamped.
#[test]
fn depthwise_convolutions_match_direct_loops_exactly() {
    // ok: this module is test code (`#[cfg(test)]` in engine/mod.rs).
    let dir = tempfile::tempdir().expect("temporary directory");
    for (i, case) in CASES.iter().enumerate() {
        for clip in [None, Some((0.0f32, 6.0f32)), Some((-0.5, 0.25))] {
            let path = dir.path().join(format!("depthwise-{i}.onnx"));
            std::fs::write(&path, case.onnx(clip)).expect("write the graph"); // ok: test code
            let input = case.input();
            let mut want = case.direct(&input);
            if let Some((lower, upper)) = clip {
                want.iter_mut().for_each(|v| *v = v.max(lower).min(upper));
            }
            let shape = [case.batch, case.channels, case.h, case.w];
            for threads in [1, 2] {
                let model = OnnxModel::load(&path, &[InputShape::Fixed(shape.to_vec())], threads)
                    .unwrap_or_else(|e| panic!("{case:?}: {e:?}"));
                let ops = model.plan_ops();
                let planar = ops.iter().any(|(op, info)| {
                    op == "DepthWiseConv"
                        && info.iter().any(|l| {
                            l.starts_with("direct planes")
                                && (clip.is_none() || l.contains("clamped"))
                        })
                });
                assert!(
                    planar,
                    "{case:?} {clip:?}: not on the direct planar path: {ops:?}"
                );
                let clip_ops = ["Max", "Min", "Clip", "BinChain", "ByScalar"];
                assert!(
                    ops.iter()
                        .all(|(op, _)| !clip_ops.iter().any(|c| op.contains(c))),
                    "{case:?} {clip:?}: the clip is left as its own pass: {ops:?}"
                );
                let x = Tensor::from_shape(&shape, &input).expect("input tensor"); // ok: test code
                let (out_shape, got) = model.run_f32(tvec!(x.into())).expect("runs"); // ok: test code
                let [oh, ow] = case.out_hw();
                assert_eq!(out_shape, [case.batch, case.channels, oh, ow], "{case:?}");
                for (j, (g, w)) in got.iter().zip(&want).enumerate() {
                    assert!(
                        g == w,
                        "{case:?} {clip:?}, {threads} threads, value {j}: tract {g}, direct {w}"
                    );
                }
            }
        }
    }
}
