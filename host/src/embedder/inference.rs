//! Using a trained embedder: load it from a run directory and embed pictures. This is the
//! API the ONNX export issue builds on (it needs the config, the weights and the forward).

use super::data::batch_tensor;
use super::error::EmbedderError;
use super::model::Embedder;
use super::training::{TrainConfig, latest_checkpoint};
use crate::training::RunDir;
use crate::training::run::CONFIG_FILE;
use burn::prelude::*;
use capsule_device::preprocess::PreprocessSpec;
use image::RgbImage;
use std::path::Path;

/// A trained embedder ready for inference.
#[derive(Debug)]
pub struct TrainedEmbedder {
    /// The run's whole config: network shape, preprocessing, data, loss.
    pub config: TrainConfig,
    /// Inference-mode module (batch norm uses running statistics).
    pub model: Embedder,
    /// Epoch of the checkpoint that was loaded.
    pub epoch: usize,
    pub device: Device,
}

impl TrainedEmbedder {
    /// Loads the last complete epoch's weights of the run at `run_dir` onto `device`.
    pub fn load(run_dir: &Path, device: &Device) -> Result<Self, EmbedderError> {
        let run = RunDir::open(run_dir)?;
        let config: TrainConfig = run.read_json(CONFIG_FILE)?.ok_or_else(|| {
            EmbedderError::Invalid(format!("{}: missing {CONFIG_FILE}", run_dir.display()))
        })?;
        let (epoch, path) = latest_checkpoint(&run)?.ok_or_else(|| {
            EmbedderError::Invalid(format!(
                "{}: no complete epoch yet; train first (`capsule-host train embedder --out {}`)",
                run_dir.display(),
                run_dir.display()
            ))
        })?;
        let model = config
            .model
            .init(device)?
            .try_load_file(&path)
            .map_err(|e| EmbedderError::Checkpoint {
                path: path.clone(),
                message: e.to_string(),
            })?;
        Ok(Self {
            config,
            model: model.valid(),
            epoch,
            device: device.clone(),
        })
    }

    /// The preprocessing this model was trained with.
    pub fn spec(&self) -> &PreprocessSpec {
        &self.config.preprocess
    }

    /// Embeds a batch already preprocessed into NCHW floats (`n × 3 × S × S`, as
    /// `capsule_device::preprocess::preprocess_into` writes them). Returns `n × dim` floats.
    pub fn embed_preprocessed(&self, input: &[f32], n: usize) -> Result<Vec<f32>, EmbedderError> {
        let shape = self.spec().input_shape(n);
        if input.len() != shape.iter().product::<usize>() {
            return Err(EmbedderError::Invalid(format!(
                "input holds {} floats, {n} pictures of shape {:?} need {}",
                input.len(),
                &shape[1..],
                shape.iter().product::<usize>()
            )));
        }
        let x = Tensor::<4>::from_data(TensorData::new(input.to_vec(), shape), &self.device);
        Ok(to_vec(self.model.forward(x)))
    }

    /// Embeds pictures (preprocessed here by the shared function). Returns `(n × dim, dim)`.
    pub fn embed_images(&self, images: &[RgbImage]) -> Result<(Vec<f32>, usize), EmbedderError> {
        embed_images(&self.model, images, self.spec(), &self.device, 64)
    }
}

/// Embeds `images` in batches of `batch_size`. Returns the row-major embeddings and their
/// dimension.
pub fn embed_images(
    model: &Embedder,
    images: &[RgbImage],
    spec: &PreprocessSpec,
    device: &Device,
    batch_size: usize,
) -> Result<(Vec<f32>, usize), EmbedderError> {
    let mut out = Vec::new();
    let mut dim = 0;
    for chunk in images.chunks(batch_size.max(1)) {
        let refs: Vec<&RgbImage> = chunk.iter().collect();
        let e = model.forward(batch_tensor(&refs, spec, device)?);
        dim = e.dims()[1];
        out.extend(to_vec(e));
    }
    Ok((out, dim))
}

fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .try_to_vec::<f32>()
        .expect("embeddings are f32")
}
