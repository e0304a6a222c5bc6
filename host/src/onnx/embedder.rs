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
