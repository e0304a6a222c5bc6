//! An embedder run's saved state, through the checkpoint mechanism every model shares
//! ([`crate::training::checkpoint`]): the config the run was started with and the weights of
//! its last complete epoch.

use super::config::TrainConfig;
use super::error::EmbedderError;
use super::model::Embedder;
use crate::training::RunDir;
use crate::training::checkpoint::{latest_weights, load_weights};
use crate::training::run::CONFIG_FILE;
use burn::tensor::Device;

/// The config the run was started with.
pub fn load_config(run: &RunDir) -> Result<TrainConfig, EmbedderError> {
    run.read_json(CONFIG_FILE)?.ok_or_else(|| {
        EmbedderError::Invalid(format!("{}: missing {CONFIG_FILE}", run.path.display()))
    })
}

/// The last complete epoch of the run and its weights in a network built from `config` on
/// `device` (in training mode; call `valid()` for inference).
pub fn load_latest(
    run: &RunDir,
    config: &TrainConfig,
    device: &Device,
) -> Result<(usize, Embedder), EmbedderError> {
    let (epoch, path) = latest_weights(run)?.ok_or_else(|| {
        EmbedderError::Invalid(format!(
            "{}: no complete epoch yet; train first (`capsule-host train embedder --out {}`)",
            run.path.display(),
            run.path.display()
        ))
    })?;
    let model = load_weights(config.model.init(device)?, &path)?;
    Ok((epoch, config.model.prepare(model)))
}
