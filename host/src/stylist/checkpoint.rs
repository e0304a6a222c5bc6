//! A stylist run's saved state, through the checkpoint mechanism every model shares
//! ([`crate::training::checkpoint`]): the config, the feature statistics of the training
//! items, the last complete epoch's weights and optimizer state, and beside them the weights
//! of the epoch best on validation (`best.bpk`), which evaluation loads by default: the
//! type-aware decoder in particular peaks mid-run and then overfits the training garments.

use super::config::TrainConfig;
use super::error::StylistError;
use super::features::Standardizer;
use super::model::Stylist;
use crate::training::RunDir;
use crate::training::checkpoint::{latest_weights, load_weights};
use crate::training::run::CONFIG_FILE;
use burn::tensor::Device;
use std::path::{Path, PathBuf};

/// Weights of the epoch with the best validation score (see `training::selection_score`).
pub const BEST_CHECKPOINT_FILE: &str = "best.bpk";
/// Feature statistics of the training items.
pub const STANDARDIZER_FILE: &str = "standardizer.json";

/// Which of a run's checkpoints to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Checkpoint {
    /// The epoch with the best validation score (`best.bpk`); runs that have none (without
    /// validation questions) fall back to the last epoch.
    #[default]
    Best,
    /// The last complete epoch.
    Last,
}

impl Checkpoint {
    /// The weights file of this checkpoint in `run`, after the fallback described on
    /// [`Checkpoint::Best`].
    pub fn path(self, run: &RunDir) -> Result<PathBuf, StylistError> {
        let best = run.file(BEST_CHECKPOINT_FILE);
        if self == Self::Best && best.is_file() {
            return Ok(best);
        }
        match latest_weights(run)? {
            Some((_, path)) => Ok(path),
            None => Err(StylistError::Config {
                path: run.path.clone(),
                message: "no complete epoch yet: train first (`capsule-host train stylist`)".into(),
            }),
        }
    }
}

/// The config the run was started with.
pub fn load_config(run: &RunDir) -> Result<TrainConfig, StylistError> {
    read(run, CONFIG_FILE)
}

/// The feature statistics the run standardises its inputs with.
pub fn load_standardizer(run: &RunDir) -> Result<Standardizer, StylistError> {
    read(run, STANDARDIZER_FILE)
}

fn read<T: serde::de::DeserializeOwned>(run: &RunDir, name: &str) -> Result<T, StylistError> {
    run.read_json(name)?.ok_or_else(|| StylistError::Config {
        path: run.file(name),
        message: "missing: is this a stylist training run?".into(),
    })
}

/// Builds the network described by `config` and fills it from the weights file at `path`.
/// The decoder form comes from `config`: weights saved with another form do not fit and are
/// refused with a message that names the form.
pub fn load_stylist(
    config: &TrainConfig,
    path: &Path,
    device: &Device,
) -> Result<Stylist, StylistError> {
    load_weights(config.model.init(device), path).map_err(|source| StylistError::Weights {
        path: path.to_path_buf(),
        decoder: config.model.decoder,
        form: config.model.decoder_form,
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::training::checkpoint::{save_weights, weights_file};

    #[test]
    fn the_best_checkpoint_falls_back_to_the_last_when_a_run_has_none() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunDir::create(dir.path()).unwrap();
        assert!(Checkpoint::Last.path(&run).is_err(), "no epoch yet");
        run.save_metrics(&[serde_json::json!({"epoch": 1})])
            .unwrap();
        let last = run.file(&weights_file(1));
        std::fs::write(&last, b"weights").unwrap();
        assert_eq!(Checkpoint::Best.path(&run).unwrap(), last);
        std::fs::write(run.file(BEST_CHECKPOINT_FILE), b"weights").unwrap();
        assert_eq!(
            Checkpoint::Best.path(&run).unwrap(),
            run.file(BEST_CHECKPOINT_FILE)
        );
        assert_eq!(Checkpoint::Last.path(&run).unwrap(), last);
    }

    #[test]
    fn weights_of_another_decoder_form_are_refused_by_name() {
        use crate::stylist::config::tests::tiny;
        use crate::stylist::model::{DecoderForm, DecoderKind};
        let device = Device::flex();
        let config = |form| tiny(3, DecoderKind::TypeAware, form);
        let old = config(DecoderForm::Distance);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(BEST_CHECKPOINT_FILE);
        save_weights(&old.model.init(&device), &path).unwrap();

        // A config.json written before the decoder form existed reads as the distance form.
        let mut json = serde_json::to_value(&old).unwrap();
        json["model"]
            .as_object_mut()
            .unwrap()
            .remove("decoder_form");
        let stored: TrainConfig = serde_json::from_value(json).unwrap();
        assert_eq!(stored.model.decoder_form, DecoderForm::Distance);
        assert!(load_stylist(&stored, &path, &device).is_ok());

        let err = load_stylist(&config(DecoderForm::DistanceProduct), &path, &device)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("DistanceProduct") && err.contains(BEST_CHECKPOINT_FILE),
            "{err}"
        );
        std::fs::write(&path, b"not a burnpack").unwrap();
        assert!(load_stylist(&stored, &path, &device).is_err());
    }
}
