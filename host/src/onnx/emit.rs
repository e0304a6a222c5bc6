//! One small emitter per layer kind: each reads a burn module's own weights and appends the
//! equivalent ONNX nodes to a [`GraphBuilder`], returning the name of its output.
//!
//! Every emitter keeps the batch axis symbolic: reshapes use `-1` for it, never a number.
//! Initializer names are the checkpoint's parameter paths (the `at` argument), so a reader
//! of the ONNX file can map every weight back to the burn module it came from.

use super::builder::{Attr, GraphBuilder};
use crate::embedder::backbone::efficientnet::{ConvBn, EfficientNetLite0, MbConv};
use crate::embedder::capsules::{CapsuleHead, EPS};
use crate::embedder::se_resnet::{ResNetStem, ResidualBlock, SqueezeExcite};
use burn::nn::conv::Conv2d;
use burn::nn::{BatchNorm, Linear, PaddingConfig2d};
use burn::prelude::*;

/// A module cannot be written as ONNX.
#[derive(Debug, thiserror::Error)]
pub enum EmitError {
    #[error("export: {at}: {problem}")]
    Unsupported { at: String, problem: String },
    #[error("export: {at}: cannot read weights: {message}")]
    Weights { at: String, message: String },
}

fn values<const D: usize>(at: &str, t: Tensor<D>) -> Result<Vec<f32>, EmitError> {
    t.into_data()
        .try_to_vec::<f32>()
        .map_err(|e| EmitError::Weights {
            at: at.to_string(),
            message: format!("{e:?}"),
        })
}

/// An int64 vector constant (shapes, axes).
fn ints(g: &mut GraphBuilder, name: &str, v: &[i64]) -> String {
    g.initializer_i64(name, &[v.len()], v)
}

/// A float scalar constant.
fn scalar(g: &mut GraphBuilder, name: &str, v: f32) -> String {
    g.initializer(name, &[], &[v])
}

/// `Conv` with the following batch norm folded in: `w' = w·γ/√(σ²+ε)` per output channel and
/// `b' = β + (b − μ)·γ/√(σ²+ε)`. One Conv node, no BatchNormalization in the file.
pub fn conv_bn(
    g: &mut GraphBuilder,
    at: &str,
    x: &str,
    conv: &Conv2d,
    bn: Option<&BatchNorm>,
) -> Result<String, EmitError> {
    let unsupported = |problem: String| EmitError::Unsupported {
        at: at.to_string(),
        problem,
    };
    let [cout, cin_g, kh, kw] = conv.weight.val().dims();
    let mut w = values(at, conv.weight.val())?;
    let mut b = match &conv.bias {
        Some(bias) => values(at, bias.val())?,
        None => vec![0.0; cout],
    };
    if let Some(bn) = bn {
        let gamma = values(at, bn.gamma.val())?;
        let beta = values(at, bn.beta.val())?;
        let mean = values(at, bn.running_mean.value())?;
        let var = values(at, bn.running_var.value())?;
        if gamma.len() != cout {
            return Err(unsupported(format!(
                "batch norm has {} channels, the conv {cout}",
                gamma.len()
            )));
        }
        let per_out = cin_g * kh * kw;
        for o in 0..cout {
            // f64 for the fold itself, so it adds no error of its own beyond the final cast.
            let scale = gamma[o] as f64 / (var[o] as f64 + bn.epsilon).sqrt();
            w[o * per_out..(o + 1) * per_out]
                .iter_mut()
                .for_each(|v| *v = (*v as f64 * scale) as f32);
            b[o] = (beta[o] as f64 + (b[o] as f64 - mean[o] as f64) * scale) as f32;
        }
    }
    let padding = match &conv.padding {
        PaddingConfig2d::Valid => ("pads", Attr::Ints(vec![0; 4])),
        // burn's order (top, left, bottom, right) is ONNX's (x1_begin, x2_begin, x1_end, x2_end).
        PaddingConfig2d::Explicit(t, l, b, r) => (
            "pads",
            Attr::Ints([*t, *l, *b, *r].map(|p| p as i64).to_vec()),
        ),
        // burn's `Same` is TensorFlow's "SAME" (`ceil(in / stride)` outputs, the odd pixel
        // of padding at the end), which is ONNX's SAME_UPPER at any input size.
        PaddingConfig2d::Same => ("auto_pad", Attr::Str("SAME_UPPER".into())),
    };
    let wn = g.initializer(&format!("{at}.weight"), &[cout, cin_g, kh, kw], &w);
    let bn_name = g.initializer(&format!("{at}.bias"), &[cout], &b);
    Ok(g.node(
        "Conv",
        at,
        &[x, &wn, &bn_name],
        vec![
            ("kernel_shape", Attr::Ints(vec![kh as i64, kw as i64])),
            (
                "strides",
                Attr::Ints(conv.stride.iter().map(|&s| s as i64).collect()),
            ),
            (
                "dilations",
                Attr::Ints(conv.dilation.iter().map(|&s| s as i64).collect()),
            ),
            ("group", Attr::Int(conv.groups as i64)),
            padding,
        ],
    ))
}

/// `Clip(x, 0, 6)`: ReLU6, with its bounds as inputs (opset ≥ 11).
pub fn relu6(g: &mut GraphBuilder, at: &str, x: &str) -> String {
    let low = scalar(g, &format!("{at}.min"), 0.0);
    let high = scalar(g, &format!("{at}.max"), 6.0);
    g.node("Clip", at, &[x, &low, &high], vec![])
}

/// A conv + BN pair of the backbone (folded), with ReLU6 after it when `activate`.
fn backbone_conv(
    g: &mut GraphBuilder,
    at: &str,
    x: &str,
    layer: &ConvBn,
    activate: bool,
) -> Result<String, EmitError> {
    let y = conv_bn(g, &format!("{at}.conv"), x, &layer.conv, Some(&layer.bn))?;
    Ok(if activate {
        relu6(g, &format!("{at}.relu6"), &y)
    } else {
        y
    })
}

/// MBConv: `[expand → ReLU6] → depthwise → ReLU6 → project [+ x]`. The depthwise conv is an
/// ordinary `Conv` whose `group` is its channel count.
pub fn mbconv(
    g: &mut GraphBuilder,
    at: &str,
    x: &str,
    block: &MbConv,
) -> Result<String, EmitError> {
    let y = match &block.expand {
        Some(e) => backbone_conv(g, &format!("{at}.expand"), x, e, true)?,
        None => x.to_string(),
    };
    let y = backbone_conv(g, &format!("{at}.depthwise"), &y, &block.depthwise, true)?;
    let y = backbone_conv(g, &format!("{at}.project"), &y, &block.project, false)?;
    Ok(if block.has_skip() {
        g.node("Add", &format!("{at}.add"), &[&y, x], vec![])
    } else {
        y
    })
}

/// EfficientNet-Lite0 up to its last kept stage: stem conv + ReLU6, then every block.
pub fn efficientnet(
    g: &mut GraphBuilder,
    at: &str,
    x: &str,
    model: &EfficientNetLite0,
) -> Result<String, EmitError> {
    let mut y = backbone_conv(g, &format!("{at}.stem"), x, &model.stem, true)?;
    for (i, block) in model.blocks.iter().enumerate() {
        y = mbconv(g, &format!("{at}.blocks.{i}"), &y, block)?;
    }
    Ok(y)
}

/// `Gemm` on `[N, in]`; burn's `[in, out]` weight is exactly Gemm's untransposed `B`.
pub fn linear(
    g: &mut GraphBuilder,
    at: &str,
    x: &str,
    layer: &Linear,
) -> Result<String, EmitError> {
    let [fan_in, fan_out] = layer.weight.val().dims();
    let w = values(at, layer.weight.val())?;
    let wn = g.initializer(&format!("{at}.weight"), &[fan_in, fan_out], &w);
    let mut inputs = vec![x.to_string(), wn];
    if let Some(bias) = &layer.bias {
        let b = values(at, bias.val())?;
        inputs.push(g.initializer(&format!("{at}.bias"), &[fan_out], &b));
    }
    let refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    Ok(g.node("Gemm", at, &refs, vec![]))
}

/// `[N, C, H, W]` → `[N, C]` channel means.
pub fn global_average(g: &mut GraphBuilder, at: &str, x: &str) -> String {
    let pooled = g.node("GlobalAveragePool", &format!("{at}.pool"), &[x], vec![]);
    g.node(
        "Flatten",
        &format!("{at}.flatten"),
        &[&pooled],
        vec![("axis", Attr::Int(1))],
    )
}

/// Squeeze-and-excitation: `x · sigmoid(expand(relu(reduce(mean_hw(x)))))`.
pub fn squeeze_excite(
    g: &mut GraphBuilder,
    at: &str,
    x: &str,
    se: &SqueezeExcite,
) -> Result<String, EmitError> {
    let squeezed = global_average(g, at, x);
    let hidden = linear(g, &format!("{at}.reduce"), &squeezed, &se.reduce)?;
    let hidden = g.node("Relu", &format!("{at}.relu"), &[&hidden], vec![]);
    let gate = linear(g, &format!("{at}.expand"), &hidden, &se.expand)?;
    let gate = g.node("Sigmoid", &format!("{at}.sigmoid"), &[&gate], vec![]);
    let axes = ints(g, &format!("{at}.gate_axes"), &[2, 3]);
    let gate = g.node("Unsqueeze", &format!("{at}.gate"), &[&gate, &axes], vec![]);
    Ok(g.node("Mul", &format!("{at}.scale"), &[x, &gate], vec![]))
}

/// `relu(bn2(conv2(relu(bn1(conv1(x))))) [· SE] + shortcut(x))`.
pub fn residual_block(
    g: &mut GraphBuilder,
    at: &str,
    x: &str,
    block: &ResidualBlock,
) -> Result<String, EmitError> {
    let y = conv_bn(g, &format!("{at}.conv1"), x, &block.conv1, Some(&block.bn1))?;
    let y = g.node("Relu", &format!("{at}.relu1"), &[&y], vec![]);
    let mut y = conv_bn(
        g,
        &format!("{at}.conv2"),
        &y,
        &block.conv2,
        Some(&block.bn2),
    )?;
    if let Some(se) = &block.se {
        y = squeeze_excite(g, &format!("{at}.se"), &y, se)?;
    }
    let skip = match &block.shortcut {
        Some(s) => conv_bn(g, &format!("{at}.shortcut.conv"), x, &s.conv, Some(&s.bn))?,
        None => x.to_string(),
    };
    let sum = g.node("Add", &format!("{at}.add"), &[&y, &skip], vec![]);
    Ok(g.node("Relu", &format!("{at}.relu2"), &[&sum], vec![]))
}

/// The stem: conv + BN + ReLU, then every residual block.
pub fn resnet_stem(
    g: &mut GraphBuilder,
    at: &str,
    x: &str,
    stem: &ResNetStem,
) -> Result<String, EmitError> {
    let y = conv_bn(g, &format!("{at}.conv"), x, &stem.conv, Some(&stem.bn))?;
    let mut y = g.node("Relu", &format!("{at}.relu"), &[&y], vec![]);
    for (i, block) in stem.blocks.iter().enumerate() {
        y = residual_block(g, &format!("{at}.blocks.{i}"), &y, block)?;
    }
    Ok(y)
}

/// `Σ x²` over the last axis, kept as a length-1 axis.
fn sum_of_squares(g: &mut GraphBuilder, at: &str, x: &str) -> String {
    let sq = g.node("Mul", &format!("{at}.square"), &[x, x], vec![]);
    let axes = ints(g, &format!("{at}.axes"), &[-1]);
    g.node(
        "ReduceSum",
        &format!("{at}.sum"),
        &[&sq, &axes],
        vec![("keepdims", Attr::Int(1))],
    )
}

/// `squash(s) = s · |s|² / ((1 + |s|²) · √(|s|² + ε))` over the last axis, in the same
/// operation order as [`crate::embedder::capsules::squash`].
pub fn squash(g: &mut GraphBuilder, at: &str, s: &str) -> String {
    let sq = sum_of_squares(g, at, s);
    let one = scalar(g, &format!("{at}.one"), 1.0);
    let eps = scalar(g, &format!("{at}.eps"), EPS);
    let plus_one = g.node("Add", &format!("{at}.plus_one"), &[&sq, &one], vec![]);
    let plus_eps = g.node("Add", &format!("{at}.plus_eps"), &[&sq, &eps], vec![]);
    let root = g.node("Sqrt", &format!("{at}.sqrt"), &[&plus_eps], vec![]);
    let denom = g.node("Mul", &format!("{at}.denom"), &[&plus_one, &root], vec![]);
    let scale = g.node("Div", &format!("{at}.scale"), &[&sq, &denom], vec![]);
    g.node("Mul", &format!("{at}.out"), &[s, &scale], vec![])
}

/// `x / √max(Σ x², ε)` per row, written to the graph output called `output`.
pub fn l2_normalize(g: &mut GraphBuilder, at: &str, x: &str, output: &str) {
    let sq = sum_of_squares(g, at, x);
    let eps = scalar(g, &format!("{at}.eps"), EPS);
    let floored = g.node("Max", &format!("{at}.floor"), &[&sq, &eps], vec![]);
    let norm = g.node("Sqrt", &format!("{at}.sqrt"), &[&floored], vec![]);
    g.node_with_outputs("Div", output, &[x, &norm], &[output], vec![]);
}

fn reshape(g: &mut GraphBuilder, at: &str, x: &str, shape: &[i64]) -> String {
    let shape = ints(g, &format!("{at}.shape"), shape);
    g.node("Reshape", at, &[x, &shape], vec![])
}

fn transpose(g: &mut GraphBuilder, at: &str, x: &str, perm: &[i64]) -> String {
    g.node(
        "Transpose",
        at,
        &[x],
        vec![("perm", Attr::Ints(perm.to_vec()))],
    )
}

/// Primary capsules: `[N, C, H, W]` stem map → squashed `[T, N·G·G, D]` poses (steps 1–3 of
/// the capsule module's forward math).
pub fn primary_capsules(
    g: &mut GraphBuilder,
    at: &str,
    features: &str,
    head: &CapsuleHead,
    feature_size: usize,
) -> Result<String, EmitError> {
    let (gr, t, d) = (head.grid, head.primary_types, head.primary_dim);
    let k = (feature_size / gr).max(1) as i64;
    let pooled = g.node(
        "AveragePool",
        &format!("{at}.pool"),
        &[features],
        vec![
            ("kernel_shape", Attr::Ints(vec![k, k])),
            ("strides", Attr::Ints(vec![k, k])),
        ],
    );
    let q = conv_bn(g, &format!("{at}.primary"), &pooled, &head.primary, None)?;
    let (t, d, gg) = (t as i64, d as i64, (gr * gr) as i64);
    let q = reshape(g, &format!("{at}.primary.split"), &q, &[-1, t, d, gg]);
    let q = transpose(g, &format!("{at}.primary.by_type"), &q, &[1, 0, 3, 2]);
    let u = reshape(g, &format!("{at}.primary.poses"), &q, &[t, -1, d]);
    Ok(squash(g, &format!("{at}.primary.squash"), &u))
}

/// Predictions `û = u · W` per capsule type: `[T, N·G·G, D]` → `[N, T·G·G, J, E]` (step 4).
pub fn capsule_predictions(
    g: &mut GraphBuilder,
    at: &str,
    u: &str,
    head: &CapsuleHead,
) -> Result<String, EmitError> {
    let dims = head.transform.val().dims();
    let w = values(at, head.transform.val())?;
    let wn = g.initializer(&format!("{at}.transform"), &dims, &w);
    let (t, gg) = (head.primary_types as i64, (head.grid * head.grid) as i64);
    let (j, e) = (head.output_capsules as i64, head.output_dim as i64);
    let p = g.node("MatMul", &format!("{at}.predict"), &[u, &wn], vec![]);
    let p = reshape(g, &format!("{at}.predict.split"), &p, &[t, -1, gg, j, e]);
    let p = transpose(g, &format!("{at}.predict.by_batch"), &p, &[1, 0, 2, 3, 4]);
    Ok(reshape(
        g,
        &format!("{at}.predict.flat"),
        &p,
        &[-1, t * gg, j, e],
    ))
}

fn einsum(g: &mut GraphBuilder, at: &str, equation: &str, inputs: &[&str]) -> String {
    g.node(
        "Einsum",
        at,
        inputs,
        vec![("equation", Attr::Str(equation.to_string()))],
    )
}

/// Routing by agreement, unrolled: `[N, I, J, E]` predictions → `[N, J·E]` output capsules
/// (steps 5–6). The logits start at zero, so the first coupling is the constant `1/J`.
///
/// Both sums over the whole `[N, I, J, E]` tensor are `Einsum`s, which tract turns into
/// small matrix products batched over `[N, J]` (`s = Σ_i c·û`, `[1, I] × [I, E]`) and
/// `[N, I, J]` (agreement `Σ_e û·v`), reading `û` in place: no broadcast product of the
/// whole tensor is ever materialised. The logits stay `[N, I, J]` so the softmax runs over
/// the last axis (tract's softmax over an inner axis is ten times slower).
pub fn routing(g: &mut GraphBuilder, at: &str, u_hat: &str, head: &CapsuleHead) -> String {
    let (j, e) = (head.output_capsules, head.output_dim);
    let i = head.primary_types * head.grid * head.grid;
    let mut logits: Option<String> = None;
    let mut v = String::new();
    let iterations = head.routing_iterations.max(1);
    for r in 0..iterations {
        let it = format!("{at}.iter{r}");
        let s = match &logits {
            None => {
                let c = g.initializer(&format!("{it}.uniform"), &[i], &vec![1.0 / j as f32; i]);
                einsum(g, &format!("{it}.sum"), "i,nije->nje", &[&c, u_hat])
            }
            Some(b) => {
                let c = g.node(
                    "Softmax",
                    &format!("{it}.coupling"),
                    &[b],
                    vec![("axis", Attr::Int(2))],
                );
                einsum(g, &format!("{it}.sum"), "nij,nije->nje", &[&c, u_hat])
            }
        };
        v = squash(g, &format!("{it}.squash"), &s);
        if r + 1 < iterations {
            let agreement = einsum(g, &format!("{it}.agreement"), "nije,nje->nij", &[u_hat, &v]);
            logits = Some(match logits {
                None => agreement,
                Some(b) => g.node("Add", &format!("{it}.logits"), &[&b, &agreement], vec![]),
            });
        }
    }
    reshape(g, &format!("{at}.flatten"), &v, &[-1, (j * e) as i64])
}
