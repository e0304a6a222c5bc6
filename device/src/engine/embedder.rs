//! The garment embedder on the board: garment view → preprocessing contract → ONNX model →
//! unit-length embedding.

use super::model::{EngineError, InputShape, OnnxModel};
use crate::preprocess::{GarmentView, PreprocessSpec, WHOLE_PICTURE};
use image::RgbImage;
use std::path::Path;
use tract_onnx::prelude::*;

/// A loaded embedder with its input buffer, reused frame after frame.
pub struct Embedder {
    model: OnnxModel,
    spec: PreprocessSpec,
    input: Vec<f32>,
}

impl Embedder {
    /// Loads the model at `path` for single pictures of the size `spec` gives.
    pub fn load(path: &Path, spec: &PreprocessSpec, threads: usize) -> Result<Self, EngineError> {
        spec.validate()?;
        let shape = InputShape::Fixed(spec.input_shape(1).to_vec());
        let model = OnnxModel::load(path, &[shape], threads)?;
        Ok(Self {
            model,
            spec: spec.clone(),
            input: vec![0.0; spec.input_len()],
        })
    }

    pub fn spec(&self) -> &PreprocessSpec {
        &self.spec
    }

    /// The garment in `picture` as this model's preprocessing cuts it out: the region of
    /// interest `roi`, then the spec's garment crop.
    pub fn view(&self, picture: &RgbImage, roi: [f32; 4]) -> GarmentView {
        self.spec.garment_view(picture, roi)
    }

    /// The embedding of a photo of one garment: [`Self::view`] of the whole picture, then
    /// [`Self::embed`].
    pub fn embed_picture(&mut self, picture: &RgbImage) -> Result<Vec<f32>, EngineError> {
        let view = self.view(picture, WHOLE_PICTURE);
        self.embed(&view)
    }

    /// The embedding of one garment view, scaled to unit length (cosine similarity is then
    /// a dot product, whatever the model's last layer did).
    pub fn embed(&mut self, view: &GarmentView) -> Result<Vec<f32>, EngineError> {
        self.spec.tensor_into(view, &mut self.input)?;
        let shape = self.spec.input_shape(1);
        let tensor = Tensor::from_shape(&shape, &self.input).map_err(|e| EngineError::Run {
            path: self.model.path().to_path_buf(),
            source: e.into(),
        })?;
        let (_, mut embedding) = self.model.run_f32(tvec!(tensor.into()))?;
        if embedding.is_empty() || embedding.iter().any(|v| !v.is_finite()) {
            return Err(EngineError::Output {
                path: self.model.path().to_path_buf(),
                problem: "embedding is empty or not finite".into(),
            });
        }
        normalize(&mut embedding);
        Ok(embedding)
    }
}

/// Scales a vector to unit length (a zero vector stays zero).
pub fn normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}
