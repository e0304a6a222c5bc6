//! The embedder module and the serde config saved beside every checkpoint.
//!
//! Both architectures of the ablation live here so they share the stem code: `capsnet` is the
//! SE-ResNet stem with the capsule head, `cnn` is the same residual stem without SE and with
//! global average pooling and one linear layer instead of capsules.

use super::backbone::{BackboneConfig, EfficientNetLite0};
use super::capsules::{CapsuleHead, CapsuleShape, EPS};
use super::se_resnet::{ResNetStem, StemInput};
use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

/// Which network produces the embedding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    /// SE-ResNet stem → primary capsules → dynamic routing → output capsules.
    Capsnet,
    /// Plain residual CNN → global average pool → linear (the baseline).
    Cnn,
}

/// Every number that shapes the network. Saved as part of `config.json` in a run, so a
/// checkpoint can always be rebuilt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbedderConfig {
    pub arch: Arch,
    /// Side of the square input; must match the preprocessing spec of the run.
    pub input_size: usize,
    /// Channels of the first (stride 2) convolution.
    pub stem_width: usize,
    /// Channels of each residual stage; stages after the first halve the resolution.
    pub widths: Vec<usize>,
    pub blocks_per_stage: usize,
    /// SE bottleneck ratio (capsnet only; the CNN baseline has no SE).
    pub se_reduction: usize,
    /// Side of the pooled grid the primary capsules sit on.
    pub primary_grid: usize,
    pub primary_types: usize,
    pub primary_dim: usize,
    pub output_capsules: usize,
    pub output_dim: usize,
    pub routing_iterations: usize,
    /// Length of the L2-normalised embedding. For capsnet it is
    /// `output_capsules × output_dim`.
    pub embedding_dim: usize,
    /// An ImageNet-pretrained EfficientNet-Lite0 under the SE-residual stages: the stem conv
    /// then reads its feature map at stride 1 instead of the picture. `None`: the stages
    /// start from the picture (the compact nets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backbone: Option<BackboneConfig>,
}

/// A config that cannot build a network.
#[derive(Debug, thiserror::Error)]
#[error("embedder config: {0}")]
pub struct ConfigError(pub String);

impl EmbedderConfig {
    /// The default network for `arch`: 64 px input, widths 16/32/64, 128-d embedding; the
    /// capsule head pools the 8×8 stem map to a 4×4 grid of 8 capsule types (128 primary
    /// capsules) routed 3 times into 16 capsules of 8 dimensions.
    pub fn new(arch: Arch) -> Self {
        Self {
            arch,
            input_size: 64,
            stem_width: 16,
            widths: vec![16, 32, 64],
            blocks_per_stage: 1,
            se_reduction: 4,
            primary_grid: 4,
            primary_types: 8,
            primary_dim: 8,
            output_capsules: 16,
            output_dim: 8,
            routing_iterations: 3,
            embedding_dim: 128,
            backbone: None,
        }
    }

    /// The `compact` preset: the default network made smaller where the capsule network pays
    /// for its extras. The last stage narrows from 64 to 48 channels (the two 3×3 convs of
    /// that stage hold most of the stem's weights) and SE squeezes 8× instead of 4×; the
    /// capsule head keeps its shape (4×4 grid, 8 types of 8 dimensions, 16×8 output
    /// capsules, 3 routing iterations), so the embedding stays 128-d. The CNN gets the same
    /// stem widths, so `compact` compares like with like at both sizes.
    pub fn compact(arch: Arch) -> Self {
        Self {
            widths: vec![16, 32, 48],
            se_reduction: 8,
            ..Self::new(arch)
        }
    }

    /// A very small network for tests (32 px input, 32-d embedding).
    pub fn tiny(arch: Arch) -> Self {
        Self {
            arch,
            input_size: 32,
            stem_width: 4,
            widths: vec![8, 8],
            blocks_per_stage: 1,
            se_reduction: 2,
            primary_grid: 2,
            primary_types: 4,
            primary_dim: 4,
            output_capsules: 8,
            output_dim: 4,
            routing_iterations: 3,
            embedding_dim: 32,
            backbone: None,
        }
    }

    /// The `lite0` preset: EfficientNet-Lite0 (ImageNet weights, frozen) cut after its fifth
    /// stage (112 channels at 1/16 of a 128 px input: 8×8), then a 3×3 conv to 96 channels
    /// and one SE-residual stage of 128, then the default capsule head (4×4 grid of 8 capsule
    /// types routed into 16 × 8 output capsules). The backbone to its fifth stage takes
    /// 7.5 ms in tract on one thread of the build machine at 128 px (measured with other
    /// builds running; `backbone_latency_in_tract`), the deepest cut that leaves room for the
    /// head in a 15 ms frame budget.
    pub fn lite0(arch: Arch) -> Self {
        Self {
            input_size: 128,
            stem_width: 96,
            widths: vec![128],
            se_reduction: 8,
            backbone: Some(BackboneConfig {
                frozen: true,
                ..BackboneConfig::new(5)
            }),
            ..Self::new(arch)
        }
    }

    /// `model` as this config trains it: a frozen backbone stays frozen after its weights
    /// were loaded from a checkpoint.
    pub fn prepare(&self, mut model: Embedder) -> Embedder {
        if let (Some(config), Some(backbone)) = (&self.backbone, model.backbone.take()) {
            model.backbone = Some(config.apply_frozen(backbone));
        }
        model
    }

    /// What the stem conv reads: the picture, or the backbone's feature map.
    fn stem_input(&self) -> StemInput {
        match &self.backbone {
            Some(b) => StemInput {
                channels: b.channels(),
                stride: 1,
            },
            None => StemInput::PICTURE,
        }
    }

    /// Side of the stem's output map.
    pub fn feature_size(&self) -> usize {
        let later_stages = self.widths.len().saturating_sub(1);
        match &self.backbone {
            Some(b) => b.feature_size(self.input_size) >> later_stages,
            None => self.input_size >> (1 + later_stages),
        }
    }

    /// Checks that the numbers fit together.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let err = |m: String| Err(ConfigError(m));
        if self.widths.is_empty() || self.widths.contains(&0) || self.stem_width == 0 {
            return err("stem_width and widths must be non-empty and positive".into());
        }
        if let Some(b) = &self.backbone {
            b.validate().map_err(|e| ConfigError(e.to_string()))?;
            if b.classifier {
                return err("the embedder's backbone cannot keep the ImageNet classifier".into());
            }
            let side = b.feature_size(self.input_size);
            let halvings = self.widths.len().saturating_sub(1);
            if side == 0 || !side.is_multiple_of(1 << halvings) {
                return err(format!(
                    "the backbone's {side}×{side} map at input_size {} must halve {halvings} \
                     times evenly",
                    self.input_size
                ));
            }
        } else if !self
            .input_size
            .is_multiple_of(1 << (1 + self.widths.len().saturating_sub(1)))
        {
            return err(format!(
                "input_size {} must be divisible by 2^{} for {} stages",
                self.input_size,
                self.widths.len(),
                self.widths.len()
            ));
        }
        if self.embedding_dim == 0 {
            return err("embedding_dim must be positive".into());
        }
        if self.arch == Arch::Capsnet {
            let f = self.feature_size();
            if self.primary_grid == 0 || !f.is_multiple_of(self.primary_grid) {
                return err(format!(
                    "primary_grid {} must divide the {f}×{f} stem map",
                    self.primary_grid
                ));
            }
            if self.output_capsules * self.output_dim != self.embedding_dim {
                return err(format!(
                    "embedding_dim {} must equal output_capsules {} × output_dim {}",
                    self.embedding_dim, self.output_capsules, self.output_dim
                ));
            }
            if self.routing_iterations == 0 || self.primary_types == 0 || self.primary_dim == 0 {
                return err(
                    "routing_iterations, primary_types, primary_dim must be positive".into(),
                );
            }
        }
        Ok(())
    }

    /// Builds a freshly initialised network (seed the device first for reproducibility).
    pub fn init(&self, device: &Device) -> Result<Embedder, ConfigError> {
        self.validate()?;
        let capsnet = self.arch == Arch::Capsnet;
        let backbone = match &self.backbone {
            Some(b) => Some(b.init(device).map_err(|e| ConfigError(e.to_string()))?),
            None => None,
        };
        let stem = ResNetStem::new(
            self.stem_input(),
            self.stem_width,
            &self.widths,
            self.blocks_per_stage,
            capsnet.then_some(self.se_reduction),
            device,
        );
        let channels = *self.widths.last().expect("validated non-empty");
        Ok(Embedder {
            backbone,
            stem,
            capsules: capsnet.then(|| {
                CapsuleHead::new(
                    CapsuleShape {
                        in_channels: channels,
                        grid: self.primary_grid,
                        primary_types: self.primary_types,
                        primary_dim: self.primary_dim,
                        output_capsules: self.output_capsules,
                        output_dim: self.output_dim,
                        routing_iterations: self.routing_iterations,
                    },
                    device,
                )
            }),
            projection: (!capsnet)
                .then(|| LinearConfig::new(channels, self.embedding_dim).init(device)),
        })
    }
}

/// The embedder: images `[B, 3, S, S]` (preprocessed by `capsule_device::preprocess`) →
/// unit-length embeddings `[B, embedding_dim]`.
///
/// Parameter paths in a checkpoint (what an exporter reads): `stem.conv.weight`,
/// `stem.bn.{gamma,beta,running_mean,running_var}`, per block `i`
/// `stem.blocks.i.{conv1,bn1,conv2,bn2}`, `stem.blocks.i.se.{reduce,expand}.{weight,bias}`
/// and `stem.blocks.i.shortcut.{conv,bn}`; then `capsules.primary.{weight,bias}` and
/// `capsules.transform` (capsnet) or `projection.{weight,bias}` (cnn). burn stores a
/// `Linear` weight as `[in, out]`, the transpose of ONNX `Gemm`'s default `B`; batch norms
/// use burn's default ε = 1e-5.
#[derive(Module, Debug)]
pub struct Embedder {
    /// Present when the config has one: `backbone.{stem,blocks}` (see
    /// `super::backbone::efficientnet`).
    pub backbone: Option<EfficientNetLite0>,
    pub stem: ResNetStem,
    /// Present for `capsnet`.
    pub capsules: Option<CapsuleHead>,
    /// Present for `cnn`: global average pool → this linear layer.
    pub projection: Option<Linear>,
}

impl Embedder {
    /// The unit-length embeddings of a batch.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        match &self.backbone {
            Some(backbone) => self.embed_features(backbone.forward(images)),
            None => self.embed_features(images),
        }
    }

    /// The embeddings of what the SE-residual stem reads: the backbone's feature map, or the
    /// pictures of a net without a backbone (training on stored features starts here).
    pub fn embed_features(&self, input: Tensor<4>) -> Tensor<2> {
        let features = self.stem.forward(input);
        let raw = match (&self.capsules, &self.projection) {
            (Some(head), _) => head.forward(features),
            (None, Some(linear)) => {
                let [b, c, _, _] = features.dims();
                linear.forward(features.mean_dim(3).mean_dim(2).reshape([b, c]))
            }
            (None, None) => unreachable!("an embedder has a capsule head or a projection"),
        };
        l2_normalize(raw)
    }
}

/// `x / sqrt(max(Σ x², ε))` per row.
pub fn l2_normalize(x: Tensor<2>) -> Tensor<2> {
    // max(Σx², ε) rather than Σx² + ε: rows come out exactly unit length even when an
    // untrained capsule head gives tiny vectors; ε only guards the all-zero row.
    let norm = x.clone().square().sum_dim(1).clamp_min(EPS).sqrt();
    x / norm
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lite0_preset_fits_together() {
        let config = EmbedderConfig::lite0(Arch::Capsnet);
        config.validate().unwrap();
        assert_eq!(config.feature_size(), 8, "128 px at 1/16");
        let mut bad = config.clone();
        bad.input_size = 120;
        assert!(
            bad.validate().is_ok(),
            "SAME padding rounds up: 120 px gives 8×8 too"
        );
        bad.primary_grid = 3;
        assert!(bad.validate().is_err(), "a 3×3 grid does not divide 8×8");
    }

    fn unit_rows(arch: Arch) {
        let device = Device::flex();
        let config = EmbedderConfig::tiny(arch);
        let model = config.init(&device).unwrap();
        let x = Tensor::<4>::random(
            [3, 3, 32, 32],
            burn::tensor::Distribution::Normal(0.0, 1.0),
            &device,
        );
        let out = model.forward(x);
        assert_eq!(out.dims(), [3, config.embedding_dim]);
        let norms: Vec<f32> = out
            .square()
            .sum_dim(1)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        for n in norms {
            assert!((n - 1.0).abs() < 1e-4, "row norm² {n}");
        }
    }

    #[test]
    fn capsnet_and_cnn_emit_unit_embeddings() {
        unit_rows(Arch::Capsnet);
        unit_rows(Arch::Cnn);
    }

    #[test]
    fn default_configs_validate_and_capsnet_grid_must_divide_the_map() {
        EmbedderConfig::new(Arch::Capsnet).validate().unwrap();
        EmbedderConfig::new(Arch::Cnn).validate().unwrap();
        let mut bad = EmbedderConfig::new(Arch::Capsnet);
        bad.primary_grid = 3;
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("primary_grid")
        );
    }

    #[test]
    fn compact_capsnet_has_fewer_params_than_the_default_cnn() {
        let device = Device::flex();
        let params = |c: EmbedderConfig| c.init(&device).unwrap().num_params();
        let compact = EmbedderConfig::compact(Arch::Capsnet);
        assert_eq!(compact.embedding_dim, 128);
        let caps = params(compact);
        let cnn = params(EmbedderConfig::new(Arch::Cnn));
        assert!(caps < cnn, "compact capsnet {caps} vs default cnn {cnn}");
        assert!(
            params(EmbedderConfig::compact(Arch::Cnn)) < cnn,
            "compact narrows the CNN too"
        );
    }

    /// Batch-1 inference latency of the default networks on this machine's flex backend.
    /// Run with `cargo test --release -p capsule-host -- --ignored --nocapture latency`.
    #[test]
    #[ignore = "a measurement, not a check"]
    fn latency_of_default_networks() {
        let device = Device::flex();
        let presets = [
            ("default", EmbedderConfig::new as fn(Arch) -> EmbedderConfig),
            ("compact", EmbedderConfig::compact),
        ];
        for (arch, (preset, config)) in [Arch::Capsnet, Arch::Cnn]
            .into_iter()
            .flat_map(|a| presets.map(|p| (a, p)))
        {
            let model = config(arch).init(&device).unwrap().valid();
            let x = Tensor::<4>::zeros([1, 3, 64, 64], &device);
            let _ = model.forward(x.clone()).into_data();
            let runs = 50;
            let start = std::time::Instant::now();
            for _ in 0..runs {
                let _ = model.forward(x.clone()).into_data();
            }
            let ms = start.elapsed().as_secs_f64() * 1e3 / runs as f64;
            println!(
                "{arch:?} {preset}: {ms:.2} ms per 64 px picture, {} params",
                model.num_params()
            );
        }
    }

    /// Training throughput of the lite0 preset's head alone (what trains on a frozen
    /// backbone's features) against the whole network, P×K = 32, soft-MSML, Adam, flex.
    /// Run with `RAYON_NUM_THREADS=2 cargo test --release -p capsule-host --lib -- --ignored
    /// --nocapture head_training_throughput`.
    #[test]
    #[ignore = "a measurement, not a check"]
    fn head_training_throughput() {
        use burn::optim::{AdamConfig, GradientsParams};
        let device = Device::flex().autodiff();
        let config = EmbedderConfig::lite0(Arch::Capsnet);
        let labels: Vec<u32> = (0..32).map(|i| i / 4).collect();
        let mut model = config.init(&device).unwrap();
        let mut optim = AdamConfig::new().init();
        let runs = 5;
        for (name, head_only) in [("head on cached features", true), ("whole network", false)] {
            let start = std::time::Instant::now();
            for _ in 0..runs {
                let out = if head_only {
                    let x = Tensor::<4>::random(
                        [32, 112, 8, 8],
                        burn::tensor::Distribution::Normal(0.0, 1.0),
                        &device,
                    );
                    let f = model.stem.forward(x);
                    l2_normalize(model.capsules.as_ref().unwrap().forward(f))
                } else {
                    let x = Tensor::<4>::random(
                        [32, 3, 128, 128],
                        burn::tensor::Distribution::Normal(0.0, 1.0),
                        &device,
                    );
                    model.forward(x)
                };
                let loss =
                    crate::embedder::loss::LossKind::SoftMsml.compute(out, &labels, 0.3, 0.1);
                let grads = GradientsParams::from_grads(loss.backward(), &model);
                model = optim.step(1e-3, model, grads);
            }
            let s = start.elapsed().as_secs_f64();
            println!("{name}: {:.0} pictures/s", (runs * 32) as f64 / s);
        }
    }
}
