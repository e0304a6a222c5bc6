//! Golden checks: a bundle's models, run in tract on their golden inputs, must reproduce
//! their golden outputs within the manifest's tolerance before a board switches to them. A
//! model that loads but computes differently here (another tract, another CPU) is caught
//! before it runs on camera frames.

use super::{EngineError, InputShape, OnnxModel};
use crate::bundle::VerifiedBundle;
use capsule_contract::bundle::{ModelEntry, NpyArray, NpyError};
use std::path::{Path, PathBuf};
use tract_onnx::prelude::{TValue, TVec, Tensor};

/// A model did not reproduce its golden output, or could not be run on its golden input.
#[derive(Debug, thiserror::Error)]
pub enum GoldenError {
    #[error(transparent)]
    Npy(#[from] NpyError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("bundle {dir}: {file}: golden check failed: {problem}")]
    Mismatch {
        dir: PathBuf,
        file: String,
        problem: String,
    },
}

/// Loads every model of `bundle` in tract and checks it reproduces its golden output.
/// Returns each model's file with its max |output − golden|.
pub fn check_bundle(
    bundle: &VerifiedBundle,
    threads: usize,
) -> Result<Vec<(String, f32)>, GoldenError> {
    bundle
        .manifest
        .models
        .iter()
        .map(|model| {
            Ok((
                model.file.clone(),
                check_golden(&bundle.dir, model, threads)?,
            ))
        })
        .collect()
}

/// Runs one model on its golden inputs and compares with its golden output; returns the max
/// absolute difference.
pub fn check_golden(dir: &Path, model: &ModelEntry, threads: usize) -> Result<f32, GoldenError> {
    let golden = |problem: String| GoldenError::Mismatch {
        dir: dir.to_path_buf(),
        file: model.file.clone(),
        problem,
    };
    let inputs: Vec<NpyArray> = model
        .golden
        .inputs
        .iter()
        .map(|f| NpyArray::read(&dir.join(f)))
        .collect::<Result<_, _>>()?;
    let expected = NpyArray::read(&dir.join(&model.golden.output))?;
    let shapes: Vec<InputShape> = inputs
        .iter()
        .map(|a| InputShape::Fixed(a.shape.clone()))
        .collect();
    let onnx = OnnxModel::load(&dir.join(&model.file), &shapes, threads)?;
    let values: TVec<TValue> = inputs
        .into_iter()
        .map(|a| {
            Tensor::from_shape(&a.shape, &a.data)
                .map(|t| t.into())
                .map_err(|e| golden(format!("golden input: {e}")))
        })
        .collect::<Result<_, _>>()?;
    let (shape, got) = onnx.run_f32(values)?;
    if shape != expected.shape {
        return Err(golden(format!(
            "output shape {shape:?}, golden {:?}",
            expected.shape
        )));
    }
    let (at, worst) = got
        .iter()
        .zip(&expected.data)
        .map(|(a, b)| {
            if a.is_finite() {
                (a - b).abs()
            } else {
                f32::INFINITY
            }
        })
        .enumerate()
        .fold(
            (0, 0.0f32),
            |best, (i, d)| if d > best.1 { (i, d) } else { best },
        );
    if worst > model.golden.tolerance {
        return Err(golden(format!(
            "max |output - golden| = {worst:e} at index {at}, tolerance {:e}",
            model.golden.tolerance
        )));
    }
    Ok(worst)
}
