//! The kernels of the vendored tract-core (vendor/README.md) against direct loops, through the
//! engine's own loading path, at odd sizes, strides and paddings, on 1 and 2 threads. The
//! graphs are written here, one operator each, so every case is a line of the table.

use super::{InputShape, OnnxModel};
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
        let weights = (0..self.channels)
            .flat_map(|c| {
                (0..self.k_h).flat_map(move |ky| (0..self.k_w).map(move |kx| (c, ky, kx)))
            })
            .map(|(c, ky, kx)| self.weight(c, ky, kx))
            .collect();
        let conv = onnx::conv(self.channels, [self.k_h, self.k_w], self.stride, self.pads);
        let [oh, ow] = self.out_hw();
        onnx::model(
            conv,
            vec![
                onnx::float("w", &[self.channels, 1, self.k_h, self.k_w], weights),
                onnx::float(
                    "b",
                    &[self.channels],
                    (0..self.channels).map(|c| self.bias(c)).collect(),
                ),
            ],
            &[self.batch, self.channels, self.h, self.w],
            &[self.batch, self.channels, oh, ow],
            clip,
        )
    }
}

/// One-convolution ONNX graphs, reading `x` and writing `y`.
mod onnx {
    use super::pb;
    use pb::attribute_proto::AttributeType;
    use prost::Message;

    fn dims(d: &[usize]) -> Vec<i64> {
        d.iter().map(|&d| d as i64).collect()
    }

    fn ints(name: &str, ints: Vec<i64>) -> pb::AttributeProto {
        pb::AttributeProto {
            name: name.into(),
            r#type: AttributeType::Ints as i32,
            ints,
            ..Default::default()
        }
    }

    pub(super) fn float(name: &str, shape: &[usize], values: Vec<f32>) -> pb::TensorProto {
        pb::TensorProto {
            name: name.into(),
            dims: dims(shape),
            data_type: pb::tensor_proto::DataType::Float as i32,
            float_data: values,
            ..Default::default()
        }
    }

    fn float_value(name: &str, shape: &[usize]) -> pb::ValueInfoProto {
        pb::ValueInfoProto {
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
        }
    }

    /// `Conv(x, w, b)` with these attributes; ONNX pads are top, left, bottom, right.
    pub(super) fn conv(
        group: usize,
        kernel: [usize; 2],
        strides: [usize; 2],
        pads: [usize; 4],
    ) -> pb::NodeProto {
        pb::NodeProto {
            input: vec!["x".into(), "w".into(), "b".into()],
            output: vec!["conv".into()],
            op_type: "Conv".into(),
            attribute: vec![
                pb::AttributeProto {
                    name: "group".into(),
                    r#type: AttributeType::Int as i32,
                    i: group as i64,
                    ..Default::default()
                },
                ints("kernel_shape", dims(&kernel)),
                ints("strides", dims(&strides)),
                ints("pads", dims(&pads)),
            ],
            ..Default::default()
        }
    }

    /// The model of `conv` (writing `conv`), then `Clip(lower, upper)` if asked.
    pub(super) fn model(
        mut conv: pb::NodeProto,
        mut initializer: Vec<pb::TensorProto>,
        x_shape: &[usize],
        y_shape: &[usize],
        clip: Option<(f32, f32)>,
    ) -> Vec<u8> {
        let mut node = vec![];
        if let Some((lower, upper)) = clip {
            node.push(pb::NodeProto {
                input: vec!["conv".into(), "lower".into(), "upper".into()],
                output: vec!["y".into()],
                op_type: "Clip".into(),
                ..Default::default()
            });
            initializer.push(float("lower", &[], vec![lower]));
            initializer.push(float("upper", &[], vec![upper]));
        } else {
            conv.output = vec!["y".into()];
        }
        node.insert(0, conv);
        let graph = pb::GraphProto {
            name: "convolution".into(),
            node,
            input: vec![float_value("x", x_shape)],
            output: vec![float_value("y", y_shape)],
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

/// The plan of `file` on `threads`, with its output on `input`: the ops (name, info lines) and
/// the output shape and values.
type Ran = (Vec<(String, Vec<String>)>, Vec<usize>, Vec<f32>);

fn run(file: &[u8], name: &str, shape: &[usize], input: &[f32], threads: usize) -> Ran {
    // ok: this module is test code (`#[cfg(test)]` in engine/mod.rs).
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join(format!("{name}.onnx"));
    std::fs::write(&path, file).expect("write the graph"); // ok: test code
    let model = OnnxModel::load(&path, &[InputShape::Fixed(shape.to_vec())], threads)
        .unwrap_or_else(|e| panic!("{name}: {e:?}"));
    let x = Tensor::from_shape(shape, input).expect("input tensor"); // ok: test code
    let (out_shape, got) = model.run_f32(tvec!(x.into())).expect("runs"); // ok: test code
    (model.plan_ops(), out_shape, got)
}

/// Ops a clip after a convolution becomes when it is not fused.
fn clip_passes(ops: &[(String, Vec<String>)]) -> Vec<&String> {
    let clip_ops = ["Max", "Min", "Clip", "BinChain", "ByScalar"];
    ops.iter()
        .map(|(op, _)| op)
        .filter(|op| clip_ops.iter().any(|c| op.contains(c)))
        .collect()
}

fn clamped(mut values: Vec<f32>, clip: Option<(f32, f32)>) -> Vec<f32> {
    if let Some((lower, upper)) = clip {
        values.iter_mut().for_each(|v| *v = v.max(lower).min(upper));
    }
    values
}

/// The vendored direct planar path (`depth_wise_planar.rs`) takes every case and gives what
/// the direct loops give, exactly: it adds the same products in the same order. With a ReLU6
/// after it (`Clip(0, 6)`, as the backbone has), the clip is fused into its store: no
/// separate pass is left in the plan, and the values are the direct loops' clamped.
#[test]
fn depthwise_convolutions_match_direct_loops_exactly() {
    for (i, case) in CASES.iter().enumerate() {
        for clip in [None, Some((0.0f32, 6.0f32)), Some((-0.5, 0.25))] {
            let input = case.input();
            let want = clamped(case.direct(&input), clip);
            let shape = [case.batch, case.channels, case.h, case.w];
            for threads in [1, 2] {
                let (ops, out_shape, got) = run(
                    &case.onnx(clip),
                    &format!("depthwise-{i}"),
                    &shape,
                    &input,
                    threads,
                );
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
                assert!(
                    clip_passes(&ops).is_empty(),
                    "{case:?} {clip:?}: the clip is left as its own pass: {ops:?}"
                );
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

/// One 1×1 convolution, stride 1, no padding: `inputs` planes of `h × w` to `outputs`.
#[derive(Debug, Clone, Copy)]
struct Pointwise {
    batch: usize,
    inputs: usize,
    outputs: usize,
    h: usize,
    w: usize,
}

impl Pointwise {
    // Weights and biases are multiples of 1/8 in [-1, 1], inputs multiples of 1/64 in
    // [-1, 1]: every product is a multiple of 1/512 of at most 1, and every partial sum of
    // the widest case's 1,025 terms a multiple of 1/512 below 1,026, which needs 19 bits: each
    // is exact in f32 in any order, fused or not. Any difference from the direct loops is then
    // a wrong element, never rounding.
    fn weight(&self, o: usize, i: usize) -> f32 {
        ((o * 7 + i * 5) % 17) as f32 / 8.0 - 1.0
    }

    fn bias(&self, o: usize) -> f32 {
        (o % 5) as f32 / 8.0 - 0.25
    }

    fn input(&self) -> Vec<f32> {
        (0..self.batch * self.inputs * self.h * self.w)
            .map(|i| ((i * 37) % 129) as f32 / 64.0 - 1.0)
            .collect()
    }

    fn direct(&self, input: &[f32]) -> Vec<f32> {
        let points = self.h * self.w;
        let mut out = Vec::with_capacity(self.batch * self.outputs * points);
        for n in 0..self.batch {
            for o in 0..self.outputs {
                for p in 0..points {
                    let mut sum = self.bias(o);
                    for i in 0..self.inputs {
                        sum += self.weight(o, i) * input[(n * self.inputs + i) * points + p];
                    }
                    out.push(sum);
                }
            }
        }
        out
    }

    fn onnx(&self, clip: Option<(f32, f32)>) -> Vec<u8> {
        let weights = (0..self.outputs)
            .flat_map(|o| (0..self.inputs).map(move |i| (o, i)))
            .map(|(o, i)| self.weight(o, i))
            .collect();
        onnx::model(
            onnx::conv(1, [1, 1], [1, 1], [0; 4]),
            vec![
                onnx::float("w", &[self.outputs, self.inputs, 1, 1], weights),
                onnx::float(
                    "b",
                    &[self.outputs],
                    (0..self.outputs).map(|o| self.bias(o)).collect(),
                ),
            ],
            &[self.batch, self.inputs, self.h, self.w],
            &[self.batch, self.outputs, self.h, self.w],
            clip,
        )
    }
}

const fn pw(batch: usize, inputs: usize, outputs: usize, h: usize, w: usize) -> Pointwise {
    Pointwise {
        batch,
        inputs,
        outputs,
        h,
        w,
    }
}

/// 1×1 shapes at odd sizes: a plane that is not a whole number of the kernel's 16-point
/// steps, one shorter than a block and one of many blocks, a batch of two, 48 inputs on a
/// large plane and 672 on a small one (the embedder's widest), and one large enough for two
/// threads.
const POINTWISE: [Pointwise; 8] = [
    pw(1, 3, 4, 5, 7),
    pw(1, 16, 24, 9, 13),
    pw(2, 5, 8, 6, 6),
    pw(1, 24, 12, 17, 19),
    pw(1, 48, 8, 33, 33),
    pw(1, 672, 8, 8, 8),
    pw(1, 32, 20, 33, 31),
    pw(1, 16, 96, 64, 64),
];

/// Convolutions the planar pointwise path leaves to the matrix product (`planar_pointwise_pays`
/// in conv.rs): more than 48 inputs on more than 1024 points, weights past 320 KiB, output
/// channels not in fours, fewer than 16 points.
const POINTWISE_ELSEWHERE: [Pointwise; 4] = [
    pw(1, 49, 8, 33, 33),
    pw(1, 1024, 84, 4, 4),
    pw(1, 8, 6, 8, 8),
    pw(1, 8, 8, 3, 3),
];

/// The vendored planar pointwise path (`pointwise_planar.rs`) takes every case and gives the
/// direct loops' values, clamped when a clip follows (fused: no separate pass left), on 1 and
/// 2 threads; the cases it must not take still give them, elsewhere.
#[test]
fn pointwise_convolutions_match_direct_loops() {
    let cases = POINTWISE.iter().map(|c| (c, true));
    let cases = cases.chain(POINTWISE_ELSEWHERE.iter().map(|c| (c, false)));
    for (i, (case, on_path)) in cases.enumerate() {
        for clip in [None, Some((0.0f32, 6.0f32)), Some((-0.5, 0.25))] {
            let input = case.input();
            let want = clamped(case.direct(&input), clip);
            let shape = [case.batch, case.inputs, case.h, case.w];
            for threads in [1, 2] {
                let (ops, out_shape, got) = run(
                    &case.onnx(clip),
                    &format!("pointwise-{i}"),
                    &shape,
                    &input,
                    threads,
                );
                let planar = ops.iter().any(|(op, info)| {
                    op == "PointwisePlanarConv"
                        && info.iter().any(|l| clip.is_none() || l.contains("clamped"))
                });
                assert_eq!(
                    planar, on_path,
                    "{case:?} {clip:?}: on the planar pointwise path should be {on_path}: {ops:?}"
                );
                if on_path {
                    assert!(
                        clip_passes(&ops).is_empty(),
                        "{case:?} {clip:?}: the clip is left as its own pass: {ops:?}"
                    );
                }
                assert_eq!(
                    out_shape,
                    [case.batch, case.outputs, case.h, case.w],
                    "{case:?}"
                );
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

/// A ReLU6 left as its own pass (after a matrix-product convolution, as the stem's is) runs
/// the vendored by-scalar `max`/`min` on x86-64 (`ops/clamp_f32.rs`) and gives `f32::max`
/// then `f32::min` of every value, NaN, signed zeros and infinities included, on 1 and 2
/// threads; on other targets, where linalg has its own kernel, every value but NaN. The plan
/// must keep it as that pass.
#[test]
fn clip_pass_equals_f32_max_then_min() {
    let specials = [
        f32::NAN,
        -0.0,
        0.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        6.0,
        -7.5,
    ];
    let input: Vec<f32> = (0..3 * 37 * 41 - specials.len())
        .map(|i| ((i * 53) % 211) as f32 / 12.0 - 8.0)
        .chain(specials)
        .collect();
    let shape = [1, 3, 37, 41];
    let pass = pb::NodeProto {
        input: vec!["x".into()],
        output: vec!["conv".into()],
        op_type: "Identity".into(),
        ..Default::default()
    };
    for (lower, upper) in [(0.0f32, 6.0f32), (-0.5, 0.25)] {
        let file = onnx::model(pass.clone(), vec![], &shape, &shape, Some((lower, upper)));
        let want = clamped(input.clone(), Some((lower, upper)));
        for threads in [1, 2] {
            let (ops, out_shape, got) = run(&file, "clip", &shape, &input, threads);
            assert!(
                !clip_passes(&ops).is_empty(),
                "no clip pass in the plan: {ops:?}"
            );
            assert_eq!(out_shape, shape);
            for (j, (g, w)) in got.iter().zip(&want).enumerate() {
                // Elsewhere the pass is linalg's own kernel (arm64's `fmax` keeps a NaN).
                if input[j].is_nan() && !cfg!(target_arch = "x86_64") {
                    continue;
                }
                assert!(
                    g == w,
                    "[{lower}, {upper}], {threads} threads, value {j} ({}): tract {g}, f32 {w}",
                    input[j]
                );
            }
        }
    }
}
