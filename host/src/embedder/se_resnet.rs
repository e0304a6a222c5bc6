//! The convolutional stem shared by both architectures: a residual network whose blocks
//! optionally carry squeeze-and-excitation (SE). With SE off it is the plain residual CNN
//! baseline, so the ablation changes exactly one thing at a time.
//!
//! Every op is an ONNX primitive (Conv, BatchNormalization, Relu, GlobalAveragePool, Gemm,
//! Sigmoid, Mul, Add), so the export issue can emit it layer by layer.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation::{relu, sigmoid};

/// Squeeze-and-excitation: rescales each channel by a gate computed from the whole map,
/// `x * sigmoid(W2 relu(W1 mean_hw(x)))` — lets the stem emphasise garment texture channels
/// over background ones at the cost of two tiny matmuls.
#[derive(Module, Debug)]
pub struct SqueezeExcite {
    pub reduce: Linear,
    pub expand: Linear,
}

impl SqueezeExcite {
    pub fn new(channels: usize, reduction: usize, device: &Device) -> Self {
        let hidden = (channels / reduction.max(1)).max(1);
        Self {
            reduce: LinearConfig::new(channels, hidden).init(device),
            expand: LinearConfig::new(hidden, channels).init(device),
        }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [b, c, _, _] = x.dims();
        let squeezed = x.clone().mean_dim(3).mean_dim(2).reshape([b, c]);
        let gate = sigmoid(self.expand.forward(relu(self.reduce.forward(squeezed))));
        x * gate.reshape([b, c, 1, 1])
    }
}

/// A basic residual block: `relu(bn(conv(relu(bn(conv(x))))) [· SE] + shortcut(x))`. The
/// shortcut is a strided 1×1 conv + BN when the block changes width or resolution.
#[derive(Module, Debug)]
pub struct ResidualBlock {
    pub conv1: Conv2d,
    pub bn1: BatchNorm,
    pub conv2: Conv2d,
    pub bn2: BatchNorm,
    pub se: Option<SqueezeExcite>,
    pub shortcut: Option<Shortcut>,
}

/// Projection shortcut of a block that changes shape.
#[derive(Module, Debug)]
pub struct Shortcut {
    pub conv: Conv2d,
    pub bn: BatchNorm,
}

fn conv3x3(cin: usize, cout: usize, stride: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new([cin, cout], [3, 3])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .with_bias(false)
        .init(device)
}

impl ResidualBlock {
    pub fn new(
        cin: usize,
        cout: usize,
        stride: usize,
        se_reduction: Option<usize>,
        device: &Device,
    ) -> Self {
        let shortcut = (cin != cout || stride != 1).then(|| Shortcut {
            conv: Conv2dConfig::new([cin, cout], [1, 1])
                .with_stride([stride, stride])
                .with_bias(false)
                .init(device),
            bn: BatchNormConfig::new(cout).init(device),
        });
        Self {
            conv1: conv3x3(cin, cout, stride, device),
            bn1: BatchNormConfig::new(cout).init(device),
            conv2: conv3x3(cout, cout, 1, device),
            bn2: BatchNormConfig::new(cout).init(device),
            se: se_reduction.map(|r| SqueezeExcite::new(cout, r, device)),
            shortcut,
        }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let y = relu(self.bn1.forward(self.conv1.forward(x.clone())));
        let mut y = self.bn2.forward(self.conv2.forward(y));
        if let Some(se) = &self.se {
            y = se.forward(y);
        }
        let skip = match &self.shortcut {
            Some(s) => s.bn.forward(s.conv.forward(x)),
            None => x,
        };
        relu(y + skip)
    }
}

/// Stem conv (3×3) then one stage per entry of `widths`; every stage after the first halves
/// the resolution. On pictures the stem conv takes the 3 colour channels at stride 2 (a 64 px
/// input with three stages ends at 8×8); on a pretrained backbone's feature map it takes that
/// map's channels at stride 1.
#[derive(Module, Debug)]
pub struct ResNetStem {
    pub conv: Conv2d,
    pub bn: BatchNorm,
    pub blocks: Vec<ResidualBlock>,
}

/// What the stem's first conv reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StemInput {
    pub channels: usize,
    pub stride: usize,
}

impl StemInput {
    /// RGB pictures, halved by the stem conv.
    pub const PICTURE: Self = Self {
        channels: 3,
        stride: 2,
    };
}

impl ResNetStem {
    pub fn new(
        input: StemInput,
        stem_width: usize,
        widths: &[usize],
        blocks_per_stage: usize,
        se_reduction: Option<usize>,
        device: &Device,
    ) -> Self {
        let mut blocks = Vec::new();
        let mut cin = stem_width;
        for (stage, &width) in widths.iter().enumerate() {
            for block in 0..blocks_per_stage.max(1) {
                let stride = if stage > 0 && block == 0 { 2 } else { 1 };
                blocks.push(ResidualBlock::new(cin, width, stride, se_reduction, device));
                cin = width;
            }
        }
        Self {
            conv: conv3x3(input.channels, stem_width, input.stride, device),
            bn: BatchNormConfig::new(stem_width).init(device),
            blocks,
        }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let mut x = relu(self.bn.forward(self.conv.forward(x)));
        for block in &self.blocks {
            x = block.forward(x);
        }
        x
    }
}
