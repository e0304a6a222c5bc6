//! The trained embedder as one ONNX graph: `image [N, 3, S, S]` → `embedding [N, dim]`,
//! built from the burn module's own weights with the emitters in [`super::emit`].

use super::builder::{GraphBuilder, OnnxError, encode};
use super::emit::{self, EmitError};
use crate::embedder::model::{Arch, Embedder, EmbedderConfig};
use capsule_device::bundle::{Dim, TensorSpec};
use capsule_device::contract::embedder;
pub use capsule_device::contract::embedder::{BATCH_SYMBOL, INPUT_NAME, OUTPUT_NAME};
use std::path::{Path, PathBuf};
use tract_onnx::pb;

/// Export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Emit(#[from] EmitError),
    #[error(transparent)]
    Graph(#[from] OnnxError),
    #[error("export: {0}")]
    Config(String),
    #[error("export: cannot write {path}: {reason}")]
    Write {
        path: PathBuf,
        reason: std::io::Error,
    },
}

/// The input the exported graph declares: the contract's `image [N, 3, S, S]`.
pub fn input_spec(config: &EmbedderConfig) -> TensorSpec {
    embedder::input_spec(config.input_size as u32)
}

/// Builds the ONNX graph of `model` (an inference-mode module; batch norms are folded with
/// their running statistics).
pub fn export_embedder(
    model: &Embedder,
    config: &EmbedderConfig,
) -> Result<pb::ModelProto, ExportError> {
    config
        .validate()
        .map_err(|e| ExportError::Config(e.to_string()))?;
    let mut g = GraphBuilder::new(&format!("capsule-embedder-{:?}", config.arch).to_lowercase());
    let spec = input_spec(config);
    let x = g.input(&spec.name, &spec.shape);
    let x = match &model.backbone {
        Some(backbone) => emit::efficientnet(&mut g, "backbone", &x, backbone)?,
        None => x,
    };
    let features = emit::resnet_stem(&mut g, "stem", &x, &model.stem)?;
    let raw = match (config.arch, &model.capsules, &model.projection) {
        (Arch::Capsnet, Some(head), _) => {
            let u =
                emit::primary_capsules(&mut g, "capsules", &features, head, config.feature_size())?;
            let u_hat = emit::capsule_predictions(&mut g, "capsules", &u, head)?;
            emit::routing(&mut g, "capsules.routing", &u_hat, head)
        }
        (Arch::Cnn, _, Some(linear)) => {
            let pooled = emit::global_average(&mut g, "head", &features);
            emit::linear(&mut g, "projection", &pooled, linear)?
        }
        (arch, _, _) => {
            return Err(ExportError::Config(format!(
                "config says {arch:?} but the module has no matching head"
            )));
        }
    };
    emit::l2_normalize(&mut g, "normalize", &raw, OUTPUT_NAME);
    g.output(
        OUTPUT_NAME,
        &[
            Dim::Symbol(BATCH_SYMBOL.into()),
            Dim::Fixed(config.embedding_dim),
        ],
    );
    Ok(g.finish("capsule-host")?)
}

/// Exports `model` to `path` (parent directories are created). Returns the bytes written.
pub fn write_embedder(
    model: &Embedder,
    config: &EmbedderConfig,
    path: &Path,
) -> Result<Vec<u8>, ExportError> {
    let bytes = encode(&export_embedder(model, config)?);
    let write = |path: &Path| -> std::io::Result<()> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, &bytes)
    };
    write(path).map_err(|reason| ExportError::Write {
        path: path.to_path_buf(),
        reason,
    })?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embedder::backbone::BackboneConfig;
    use burn::module::Module;
    use burn::prelude::*;
    use burn::tensor::Distribution;
    use capsule_device::engine::{InputShape, OnnxModel};
    use tract_onnx::prelude::{Tensor as TractTensor, tvec};

    /// The capsule embedder on a (random, two-stage) EfficientNet backbone: the exported
    /// graph computes what burn computes, and says so at batch 2.
    #[test]
    fn an_embedder_on_the_backbone_exports_with_parity() {
        let device = Device::flex();
        device.seed(5);
        let config = EmbedderConfig {
            stem_width: 8,
            backbone: Some(BackboneConfig::new(2)),
            ..EmbedderConfig::tiny(Arch::Capsnet)
        };
        config.validate().unwrap();
        assert_eq!(
            config.feature_size(),
            4,
            "32 px: 8×8 after the backbone, halved once"
        );
        let model = config.init(&device).unwrap().valid();
        let proto = export_embedder(&model, &config).unwrap();
        let graph = proto.graph.as_ref().unwrap();
        assert!(
            graph.node.iter().any(|n| n.op_type == "Clip"),
            "ReLU6 of the backbone"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("embedder.onnx");
        std::fs::write(&path, encode(&proto)).unwrap();
        let shape = [2, 3, config.input_size, config.input_size];
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
        let expected: Vec<f32> = model.forward(x).into_data().try_to_vec().unwrap();
        let (got_shape, got) = onnx
            .run_f32(tvec!(
                TractTensor::from_shape(&shape, &input).unwrap().into()
            ))
            .unwrap();
        assert_eq!(got_shape, vec![2, config.embedding_dim]);
        let max_err = got
            .iter()
            .zip(&expected)
            .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
        assert!(max_err <= 1e-4, "max |tract − burn| = {max_err}");
    }
}
