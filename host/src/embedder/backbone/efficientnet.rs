//! EfficientNet-Lite0 (Tan & Le 2019; the "Lite" variant for mobile accelerators) as a burn
//! module, and the config that says how much of it the embedder keeps.
//!
//! Lite differs from EfficientNet-B0 in what makes it cheap to run and to quantize: ReLU6
//! everywhere instead of swish, no squeeze-and-excitation, and a stem and head that are not
//! scaled. Every convolution pads the TensorFlow way ("SAME": `ceil(in / stride)` outputs,
//! the odd pixel of padding at the bottom and right), because the weights were trained so;
//! burn's [`PaddingConfig2d::Same`] computes exactly that.
//!
//! The network is a stem (3×3 conv, stride 2), seven stages of MBConv blocks and a head
//! (1×1 conv to 1280 channels, global average pool, 1000-way linear). The embedder cuts it
//! after a chosen stage ([`BackboneConfig::stages`]) and puts its own blocks on the map;
//! the head is kept only to check the ImageNet weights ([`BackboneConfig::classifier`]).
//!
//! Left out on purpose: drop-connect (stochastic depth) and the dropout before the
//! classifier. They are training regularisers of the original ImageNet run; a frozen or
//! fine-tuned backbone under our own head does not need them, and the inference graph is
//! the same without them.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

/// One stage of MBConv blocks, as the TensorFlow builder lists it (`r1_k3_s11_e1_i32_o16`
/// and so on): the first block of a stage strides and changes the width, the others repeat
/// it at stride 1 with an identity skip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StageSpec {
    pub repeats: usize,
    pub kernel: usize,
    pub stride: usize,
    /// Width of the inverted bottleneck as a multiple of the block's input width.
    pub expand: usize,
    pub channels: usize,
}

const fn stage(
    repeats: usize,
    kernel: usize,
    stride: usize,
    expand: usize,
    channels: usize,
) -> StageSpec {
    StageSpec {
        repeats,
        kernel,
        stride,
        expand,
        channels,
    }
}

/// The seven stages of EfficientNet-Lite0 (width and depth multipliers 1.0, so the numbers
/// are the builder's own).
pub const LITE0_STAGES: [StageSpec; 7] = [
    stage(1, 3, 1, 1, 16),
    stage(2, 3, 2, 6, 24),
    stage(2, 5, 2, 6, 40),
    stage(3, 3, 2, 6, 80),
    stage(3, 5, 1, 6, 112),
    stage(4, 5, 2, 6, 192),
    stage(1, 3, 1, 6, 320),
];

/// Output channels of the stem convolution.
pub const STEM_CHANNELS: usize = 32;
/// Channels of the head's 1×1 convolution.
pub const HEAD_CHANNELS: usize = 1280;
/// ImageNet classes of the classifier.
pub const CLASSES: usize = 1000;
/// Batch-norm ε of the TensorFlow model (burn's default is 1e-5; the folded export reads
/// this one from the module, so both agree).
pub const BN_EPSILON: f64 = 1e-3;
/// Batch-norm momentum in burn's (and PyTorch's) sense: TensorFlow's decay 0.99.
pub const BN_MOMENTUM: f64 = 0.01;

/// How much of EfficientNet-Lite0 to build, and whether it trains. Saved with the embedder
/// config, so a checkpoint can be rebuilt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackboneConfig {
    /// Stages kept, 1 to 7; the feature map is the output of the last one. Its channels and
    /// resolution: 1 → 16 at 1/2, 2 → 24 at 1/4, 3 → 40 at 1/8, 4 → 80 at 1/16,
    /// 5 → 112 at 1/16, 6 → 192 at 1/32, 7 → 320 at 1/32.
    pub stages: usize,
    /// No gradients for the backbone and its batch norms on their running statistics, so
    /// only the layers above it train ([`Module::freeze`]).
    pub frozen: bool,
    /// Keep the ImageNet head (1×1 conv to 1280, pool, 1000-way linear); needs all seven
    /// stages. Only for checking the imported weights: the embedder never uses it.
    pub classifier: bool,
}

/// A config that cannot build a backbone.
#[derive(Debug, thiserror::Error)]
#[error("backbone config: {0}")]
pub struct BackboneConfigError(pub String);

impl BackboneConfig {
    /// The backbone cut after `stages` stages, trainable, without the classifier.
    pub fn new(stages: usize) -> Self {
        Self {
            stages,
            frozen: false,
            classifier: false,
        }
    }

    /// The whole ImageNet classifier, frozen: what checks the imported weights.
    pub fn imagenet() -> Self {
        Self {
            stages: LITE0_STAGES.len(),
            frozen: true,
            classifier: true,
        }
    }

    /// Checks that the numbers fit together.
    pub fn validate(&self) -> Result<(), BackboneConfigError> {
        if !(1..=LITE0_STAGES.len()).contains(&self.stages) {
            return Err(BackboneConfigError(format!(
                "stages is {}; EfficientNet-Lite0 has stages 1 to {}",
                self.stages,
                LITE0_STAGES.len()
            )));
        }
        if self.classifier && self.stages != LITE0_STAGES.len() {
            return Err(BackboneConfigError(format!(
                "the classifier needs all {} stages, not {}",
                LITE0_STAGES.len(),
                self.stages
            )));
        }
        Ok(())
    }

    /// Channels of the feature map.
    pub fn channels(&self) -> usize {
        LITE0_STAGES[self.stages.clamp(1, LITE0_STAGES.len()) - 1].channels
    }

    /// Side of the feature map for an `input`-pixel square: every stride-2 layer rounds up,
    /// as "SAME" padding does.
    pub fn feature_size(&self, input: usize) -> usize {
        LITE0_STAGES[..self.stages.min(LITE0_STAGES.len())]
            .iter()
            .fold(input.div_ceil(2), |side, s| side.div_ceil(s.stride))
    }

    /// Every block kept, in order, with its input width: the layout of `_blocks.{i}` in
    /// the checkpoint.
    pub fn blocks(&self) -> Vec<BlockSpec> {
        let mut blocks = Vec::new();
        let mut input = STEM_CHANNELS;
        for stage in &LITE0_STAGES[..self.stages.min(LITE0_STAGES.len())] {
            for repeat in 0..stage.repeats {
                blocks.push(BlockSpec {
                    input,
                    output: stage.channels,
                    kernel: stage.kernel,
                    stride: if repeat == 0 { stage.stride } else { 1 },
                    expand: stage.expand,
                });
                input = stage.channels;
            }
        }
        blocks
    }

    /// Builds a freshly initialised backbone (random weights; the importer beside this file
    /// loads the ImageNet ones). Frozen if the config says so.
    pub fn init(&self, device: &Device) -> Result<EfficientNetLite0, BackboneConfigError> {
        self.validate()?;
        let model = EfficientNetLite0 {
            stem: ConvBn::new([3, STEM_CHANNELS], 3, 2, 1, device),
            blocks: self
                .blocks()
                .iter()
                .map(|b| MbConv::new(b, device))
                .collect(),
            classifier: self.classifier.then(|| ClassifierHead {
                conv: ConvBn::new([LITE0_STAGES[6].channels, HEAD_CHANNELS], 1, 1, 1, device),
                fc: LinearConfig::new(HEAD_CHANNELS, CLASSES).init(device),
            }),
        };
        Ok(self.apply_frozen(model))
    }

    /// The module as the config wants it trained: frozen or not.
    pub fn apply_frozen(&self, model: EfficientNetLite0) -> EfficientNetLite0 {
        if self.frozen { model.freeze() } else { model }
    }
}

/// One MBConv block's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockSpec {
    pub input: usize,
    pub output: usize,
    pub kernel: usize,
    pub stride: usize,
    pub expand: usize,
}

impl BlockSpec {
    /// Width inside the inverted bottleneck.
    pub fn hidden(&self) -> usize {
        self.input * self.expand
    }
}

/// A bias-free convolution and its batch norm (the pattern of every conv in the network).
#[derive(Module, Debug)]
pub struct ConvBn {
    pub conv: Conv2d,
    pub bn: BatchNorm,
}

impl ConvBn {
    /// `groups == channels[0]` makes it depthwise.
    pub fn new(
        channels: [usize; 2],
        kernel: usize,
        stride: usize,
        groups: usize,
        device: &Device,
    ) -> Self {
        Self {
            conv: Conv2dConfig::new(channels, [kernel, kernel])
                .with_stride([stride, stride])
                .with_padding(PaddingConfig2d::Same)
                .with_groups(groups)
                .with_bias(false)
                .init(device),
            bn: BatchNormConfig::new(channels[1])
                .with_epsilon(BN_EPSILON)
                .with_momentum(BN_MOMENTUM)
                .init(device),
        }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.bn.forward(self.conv.forward(x))
    }
}

/// `min(max(x, 0), 6)`: bounded so that int8 quantization has a fixed range to cover.
pub fn relu6<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    x.clamp(0.0, 6.0)
}

/// Mobile inverted bottleneck: 1×1 expand (absent when the ratio is 1) → depthwise k×k →
/// 1×1 project, batch norm after each and ReLU6 after the first two; the projection stays
/// linear. The input is added back when the block keeps the shape.
#[derive(Module, Debug)]
pub struct MbConv {
    pub expand: Option<ConvBn>,
    pub depthwise: ConvBn,
    pub project: ConvBn,
}

impl MbConv {
    pub fn new(spec: &BlockSpec, device: &Device) -> Self {
        let hidden = spec.hidden();
        Self {
            expand: (spec.expand != 1).then(|| ConvBn::new([spec.input, hidden], 1, 1, 1, device)),
            depthwise: ConvBn::new([hidden, hidden], spec.kernel, spec.stride, hidden, device),
            project: ConvBn::new([hidden, spec.output], 1, 1, 1, device),
        }
    }

    /// Whether the input is added to the output: stride 1 and the same width in and out.
    pub fn has_skip(&self) -> bool {
        let [out, ..] = self.project.conv.weight.val().dims();
        let input = match &self.expand {
            Some(e) => e.conv.weight.val().dims()[1],
            None => self.depthwise.conv.weight.val().dims()[0],
        };
        self.depthwise.conv.stride == [1, 1] && input == out
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let y = match &self.expand {
            Some(e) => relu6(e.forward(x.clone())),
            None => x.clone(),
        };
        let y = relu6(self.depthwise.forward(y));
        let y = self.project.forward(y);
        if self.has_skip() { y + x } else { y }
    }
}

/// The ImageNet head: 1×1 conv + BN + ReLU6, global average pool, linear to the classes.
#[derive(Module, Debug)]
pub struct ClassifierHead {
    pub conv: ConvBn,
    pub fc: Linear,
}

/// EfficientNet-Lite0 up to the configured stage: images `[B, 3, S, S]`, normalised with
/// the backbone's `PIXEL_MEAN` and `PIXEL_STD`, → features `[B, C, s, s]`.
///
/// Parameter paths (what the exporter and the importer name): `stem.{conv,bn}`,
/// `blocks.{i}.{expand,depthwise,project}.{conv,bn}` with `i` the checkpoint's `_blocks.{i}`,
/// and `classifier.{conv.{conv,bn},fc}` when kept.
#[derive(Module, Debug)]
pub struct EfficientNetLite0 {
    pub stem: ConvBn,
    pub blocks: Vec<MbConv>,
    pub classifier: Option<ClassifierHead>,
}

impl EfficientNetLite0 {
    /// The feature map after the last kept stage.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<4> {
        let mut x = relu6(self.stem.forward(images));
        for block in &self.blocks {
            x = block.forward(x);
        }
        x
    }

    /// ImageNet logits `[B, 1000]`, or `None` without the classifier.
    pub fn logits(&self, images: Tensor<4>) -> Option<Tensor<2>> {
        let head = self.classifier.as_ref()?;
        let x = relu6(head.conv.forward(self.forward(images)));
        let [b, c, _, _] = x.dims();
        Some(head.fc.forward(x.mean_dim(3).mean_dim(2).reshape([b, c])))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;

    #[test]
    fn every_cut_has_the_channels_and_resolution_its_doc_says() {
        let device = Device::flex();
        let expected = [
            (16, 112),
            (24, 56),
            (40, 28),
            (80, 14),
            (112, 14),
            (192, 7),
            (320, 7),
        ];
        for (stages, (channels, side)) in (1..=7).zip(expected) {
            let config = BackboneConfig::new(stages);
            assert_eq!(config.channels(), channels);
            assert_eq!(config.feature_size(224), side);
            if stages <= 3 {
                let model = config.init(&device).unwrap();
                let x = Tensor::<4>::zeros([1, 3, 65, 65], &device);
                let side = config.feature_size(65);
                assert_eq!(model.forward(x).dims(), [1, channels, side, side]);
            }
        }
    }

    #[test]
    fn lite0_has_sixteen_blocks_and_skips_only_where_the_shape_is_kept() {
        let config = BackboneConfig::imagenet();
        let model = config.init(&Device::flex()).unwrap();
        assert_eq!(model.blocks.len(), 16);
        let skips: Vec<usize> = (0..16).filter(|&i| model.blocks[i].has_skip()).collect();
        assert_eq!(skips, [2, 4, 6, 7, 9, 10, 12, 13, 14]);
        assert!(model.blocks[0].expand.is_none());
        // EfficientNet-Lite0's published size: 4.65 M weights; ours counts the same.
        let params = model.num_params();
        assert!((4_600_000..4_700_000).contains(&params), "{params} params");
    }

    #[test]
    fn a_config_out_of_range_is_refused() {
        assert!(BackboneConfig::new(0).validate().is_err());
        assert!(BackboneConfig::new(8).validate().is_err());
        let mut half = BackboneConfig::new(4);
        half.classifier = true;
        assert!(
            half.validate()
                .unwrap_err()
                .to_string()
                .contains("classifier")
        );
    }

    /// Frozen: the batch norms read their running statistics on the training device and no
    /// parameter asks for a gradient.
    #[test]
    fn a_frozen_backbone_has_no_gradients_and_normalises_with_running_statistics() {
        let device = Device::flex().autodiff();
        let mut config = BackboneConfig::new(2);
        config.frozen = true;
        let frozen = config.init(&device).unwrap();
        let x = Tensor::<4>::random([2, 3, 33, 33], Distribution::Normal(0.0, 1.0), &device);
        let before = frozen.stem.bn.running_mean.value().into_data();
        let train_out = frozen.forward(x.clone()).into_data();
        let valid_out = frozen.valid().forward(x.inner()).into_data();
        train_out.assert_approx_eq::<f32>(&valid_out, burn::tensor::Tolerance::absolute(1e-6));
        frozen
            .stem
            .bn
            .running_mean
            .value()
            .into_data()
            .assert_eq(&before, true);
        assert!(!frozen.stem.conv.weight.val().is_require_grad());
        assert!(!frozen.blocks[1].project.bn.gamma.val().is_require_grad());

        let trainable = BackboneConfig::new(2).init(&device).unwrap();
        assert!(trainable.stem.conv.weight.val().is_require_grad());
    }

    /// Forward throughput of the backbone cut after the 40-, 80- and 112-channel stages on
    /// the flex backend, in batches of 32 without gradients. Run with
    /// `RAYON_NUM_THREADS=2 cargo test --release -p capsule-host -- --ignored --nocapture
    /// backbone_throughput`.
    #[test]
    #[ignore = "a measurement, not a check"]
    fn backbone_throughput() {
        let device = Device::flex();
        let batch = 32;
        for stages in [3, 4, 5] {
            let config = BackboneConfig::new(stages);
            let model = config.init(&device).unwrap().valid();
            for side in [128, 160] {
                let x = Tensor::<4>::zeros([batch, 3, side, side], &device);
                let _ = model.forward(x.clone()).into_data();
                let runs = 3;
                let start = std::time::Instant::now();
                for _ in 0..runs {
                    let _ = model.forward(x.clone()).into_data();
                }
                let seconds = start.elapsed().as_secs_f64();
                println!(
                    "{} channels at {side} px: {:.1} pictures/s ({} params)",
                    config.channels(),
                    (runs * batch) as f64 / seconds,
                    model.num_params()
                );
            }
        }
    }
}
