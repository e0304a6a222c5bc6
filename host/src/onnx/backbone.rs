//! The EfficientNet-Lite0 backbone on its own as an ONNX graph: `image [N, 3, S, S]` →
//! `features [N, C, s, s]`, built with the emitters in [`super::emit`]. What checks the
//! backbone's layers in tract before the embedder export puts its head on top.

use super::builder::{GraphBuilder, OnnxError};
use super::emit::{self, EmitError};
use crate::embedder::backbone::{BackboneConfig, EfficientNetLite0};
use capsule_device::bundle::Dim;
use capsule_device::contract::embedder::{self, BATCH_SYMBOL};
use tract_onnx::pb;

/// Name of the graph output.
pub const FEATURES_NAME: &str = "features";

/// The backbone could not be exported.
#[derive(Debug, thiserror::Error)]
pub enum BackboneExportError {
    #[error(transparent)]
    Emit(#[from] EmitError),
    #[error(transparent)]
    Graph(#[from] OnnxError),
    #[error("export: {0}")]
    Config(#[from] crate::embedder::backbone::BackboneConfigError),
    #[error("export: the backbone has {module} blocks, its config {config}")]
    Blocks { module: usize, config: usize },
}

/// The ONNX graph of `model` (an inference-mode module; batch norms are folded with their
/// running statistics) for `input_size`-pixel squares and any batch size.
pub fn export_backbone(
    model: &EfficientNetLite0,
    config: &BackboneConfig,
    input_size: usize,
) -> Result<pb::ModelProto, BackboneExportError> {
    config.validate()?;
    let blocks = config.blocks().len();
    if model.blocks.len() != blocks {
        return Err(BackboneExportError::Blocks {
            module: model.blocks.len(),
            config: blocks,
        });
    }
    let mut g = GraphBuilder::new("capsule-backbone-efficientnet-lite0");
    let spec = embedder::input_spec(input_size as u32);
    let x = g.input(&spec.name, &spec.shape);
    let y = emit::efficientnet(&mut g, "backbone", &x, model)?;
    g.node_with_outputs("Identity", FEATURES_NAME, &[&y], &[FEATURES_NAME], vec![]);
    let side = config.feature_size(input_size);
    g.output(
        FEATURES_NAME,
        &[
            Dim::Symbol(BATCH_SYMBOL.into()),
            Dim::Fixed(config.channels()),
            Dim::Fixed(side),
            Dim::Fixed(side),
        ],
    );
    Ok(g.finish("capsule-host")?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::onnx::encode;
    use burn::module::RunningState;
    use burn::nn::BatchNorm;
    use burn::prelude::*;
    use burn::tensor::Distribution;
    use capsule_device::engine::{InputShape, OnnxModel};
    use tract_onnx::prelude::{Tensor as TractTensor, tvec};

    /// Batch norms that are not the identity, so the fold is exercised.
    fn jitter(bn: &mut BatchNorm, device: &Device) {
        let [c] = bn.gamma.val().dims();
        let uniform = |lo, hi| Tensor::<1>::random([c], Distribution::Uniform(lo, hi), device);
        bn.gamma = burn::module::Param::from_tensor(uniform(0.5, 1.5));
        bn.beta = burn::module::Param::from_tensor(uniform(-0.2, 0.2));
        bn.running_mean = RunningState::new(uniform(-0.2, 0.2));
        bn.running_var = RunningState::new(uniform(0.5, 2.0));
    }

    /// Random weights, every stage, an odd input (so "SAME" pads differ from symmetric ones
    /// at every stride-2 layer): burn and tract agree to 1e-4 at batch 2.
    #[test]
    fn exported_backbone_matches_burn_at_an_odd_input_size() {
        let device = Device::flex();
        let config = BackboneConfig::new(7);
        let mut model = config.init(&device).unwrap();
        jitter(&mut model.stem.bn, &device);
        for block in &mut model.blocks {
            if let Some(e) = &mut block.expand {
                jitter(&mut e.bn, &device);
            }
            jitter(&mut block.depthwise.bn, &device);
            jitter(&mut block.project.bn, &device);
        }
        let model = model.valid();
        let size = 75;
        let proto = export_backbone(&model, &config, size).unwrap();
        let graph = proto.graph.as_ref().unwrap();
        assert!(graph.node.iter().all(|n| n.op_type != "BatchNormalization"));
        assert!(graph.node.iter().any(|n| n.op_type == "Clip"));

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("backbone.onnx");
        std::fs::write(&path, encode(&proto)).unwrap();
        let shape = [2, 3, size, size];
        let onnx = OnnxModel::load(
            &path,
            &[InputShape::SymbolicFirst(
                BATCH_SYMBOL.into(),
                shape[1..].to_vec(),
            )],
            1,
        )
        .unwrap();
        let x = Tensor::<4>::random(shape, Distribution::Normal(0.0, 1.0), &device);
        let input: Vec<f32> = x.clone().into_data().try_to_vec().unwrap();
        let expected = model.forward(x);
        let side = config.feature_size(size);
        assert_eq!(expected.dims(), [2, 320, side, side]);
        let expected: Vec<f32> = expected.into_data().try_to_vec().unwrap();
        let (got_shape, got) = onnx
            .run_f32(tvec!(
                TractTensor::from_shape(&shape, &input).unwrap().into()
            ))
            .unwrap();
        assert_eq!(got_shape, vec![2, 320, side, side]);
        let scale = expected.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let max_err = got
            .iter()
            .zip(&expected)
            .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
        println!(
            "random backbone at {size} px: max |tract − burn| = {max_err:.2e}, max |y| = {scale:.2}"
        );
        assert!(scale > 0.1, "features too small to compare: {scale}");
        assert!(max_err <= 1e-4, "max error {max_err}");
    }

    /// Batch-1 latency in tract, one thread, of the backbone cut after the 40-, 80- and
    /// 112-channel stages. Run with `cargo test --release -p capsule-host -- --ignored
    /// --nocapture backbone_latency_in_tract`.
    #[test]
    #[ignore = "a measurement, not a check"]
    fn backbone_latency_in_tract() {
        let device = Device::flex();
        let dir = tempfile::tempdir().unwrap();
        for stages in [3, 4, 5] {
            let config = BackboneConfig::new(stages);
            let model = config.init(&device).unwrap().valid();
            for side in [128, 160] {
                let path = dir.path().join(format!("backbone-{stages}-{side}.onnx"));
                let proto = export_backbone(&model, &config, side).unwrap();
                std::fs::write(&path, encode(&proto)).unwrap();
                let shape = [1, 3, side, side];
                let onnx = OnnxModel::load(&path, &[InputShape::Fixed(shape.to_vec())], 1).unwrap();
                let input = || tvec!(TractTensor::zero::<f32>(&shape).unwrap().into());
                onnx.run(input()).unwrap();
                let runs = 20;
                let start = std::time::Instant::now();
                for _ in 0..runs {
                    onnx.run(input()).unwrap();
                }
                let ms = start.elapsed().as_secs_f64() * 1e3 / runs as f64;
                println!(
                    "{} channels at {side} px: {ms:.2} ms per picture in tract (1 thread)",
                    config.channels()
                );
            }
        }
    }
}
