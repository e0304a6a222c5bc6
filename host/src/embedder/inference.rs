//! Using a trained embedder: load it from a run directory and embed pictures. This is the
//! API the ONNX export, the quantizer and the bundler build on (they need the config, the
//! weights and the forward).

use super::checkpoint::{load_config, load_latest};
use super::config::TrainConfig;
use super::data::{embed_chunks, embed_images, to_vec};
use super::error::EmbedderError;
use super::model::Embedder;
use super::pictures::Pictures;
use crate::training::RunDir;
use burn::prelude::*;
use capsule_device::preprocess::PreprocessSpec;
use image::RgbImage;
use std::path::Path;

/// Pictures per forward pass of [`TrainedEmbedder::embed_images`].
const BATCH: usize = 64;

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
        let config = load_config(&run)?;
        let (epoch, model) = load_latest(&run, &config, device)?;
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
        embed_chunks(
            &self.model,
            images.chunks(BATCH).map(Ok::<_, EmbedderError>),
            self.spec(),
            &self.device,
        )
    }

    /// Embeds a set's pictures, a batch at a time (decoded as they are needed).
    pub fn embed_set(&self, pictures: &Pictures) -> Result<(Vec<f32>, usize), EmbedderError> {
        embed_images(&self.model, pictures, self.spec(), &self.device, BATCH)
    }
}
