//! The training config of an embedder run: saved as the run's `config.json`, compared on
//! resume, and checked by [`TrainConfig::validate`] before any work.

use super::augment::Augment;
use super::data::DataSource;
use super::error::EmbedderError;
use super::loss::LossKind;
use super::mix::MixConfig;
use super::model::EmbedderConfig;
use capsule_device::preprocess::PreprocessSpec;
use serde::{Deserialize, Serialize};

/// Everything a run was started with; saved as `config.json` and compared on resume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    pub model: EmbedderConfig,
    /// The preprocessing contract; `size` equals `model.input_size`.
    pub preprocess: PreprocessSpec,
    pub data: DataSource,
    pub loss: LossKind,
    pub margin: f32,
    /// Temperature of `--loss soft-msml` (ignored by the other losses). Runs saved before
    /// the soft variant existed load with the default.
    #[serde(default = "default_temperature")]
    pub temperature: f32,
    pub learning_rate: f64,
    /// Identities per batch.
    pub p: usize,
    /// Pictures per identity.
    pub k: usize,
    /// Total epochs; the only setting a resumed run may change (to train longer).
    pub epochs: usize,
    /// Batches per epoch; `None`: enough to see every training picture about once.
    pub steps_per_epoch: Option<usize>,
    pub seed: u64,
    pub augment: Augment,
    /// A second training set mixed in by whole batches (`--mix-fmnist`); absent in runs of
    /// one set, including every run saved before mixing existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mix: Option<MixConfig>,
    /// The ImageNet weights a fresh run's backbone starts from (`scripts/fetch-pretrained`);
    /// `None` for nets without one (and a backbone trained from scratch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pretrained: Option<std::path::PathBuf>,
    /// Train above the frozen backbone on its stored features (`--frozen-features`);
    /// absent: every batch runs through the whole network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frozen_features: Option<FrozenFeatures>,
}

/// How many augmented copies of every training picture the frozen backbone's features are
/// stored for (see `super::frozen`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrozenFeatures {
    /// Copies of each picture of the run's own set.
    pub variants: usize,
    /// Copies of each picture of the mixed-in set.
    pub mix_variants: usize,
}

/// The soft-MSML temperature when a config does not say. Distances of unit embeddings lie
/// in [0, 2]; at τ = 0.1 a pair 0.2 less hard than the hardest gets e⁻² ≈ 0.14 of its
/// weight, so the gradient still goes mostly to the hard pairs.
pub fn default_temperature() -> f32 {
    0.1
}

impl TrainConfig {
    /// Refuses settings a run cannot train with, naming the setting.
    pub fn validate(&self) -> Result<(), EmbedderError> {
        self.model.validate()?;
        if self.preprocess.size as usize != self.model.input_size {
            return Err(EmbedderError::Invalid(format!(
                "preprocess size {} differs from the model's input_size {}",
                self.preprocess.size, self.model.input_size
            )));
        }
        if self.loss == LossKind::SoftMsml && (self.temperature.is_nan() || self.temperature <= 0.0)
        {
            return Err(EmbedderError::Invalid(format!(
                "soft-msml needs a positive --temperature; got {}",
                self.temperature
            )));
        }
        if let Some(f) = &self.frozen_features {
            if !self.model.backbone.as_ref().is_some_and(|b| b.frozen) {
                return Err(EmbedderError::Invalid(
                    "--frozen-features needs a preset with a frozen backbone (e.g. lite0)".into(),
                ));
            }
            if f.variants == 0 || f.mix_variants == 0 {
                return Err(EmbedderError::Invalid(
                    "--frozen-features needs at least one copy of every picture".into(),
                ));
            }
        }
        if let Some(m) = &self.mix
            && m.ratio == 0
        {
            return Err(EmbedderError::Invalid(
                "the mix ratio (primary batches per mixed-in batch) must be at least 1".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::embedder::data::DataFormat;
    use crate::embedder::model::Arch;
    use std::path::Path;

    /// A tiny CNN run on the In-shop data at `dir`: one step of 2×2 a epoch.
    pub(crate) fn tiny(dir: &Path, epochs: usize) -> TrainConfig {
        let model = EmbedderConfig::tiny(Arch::Cnn);
        TrainConfig {
            preprocess: PreprocessSpec {
                size: model.input_size as u32,
                ..PreprocessSpec::default()
            },
            model,
            data: DataSource {
                dir: dir.to_path_buf(),
                format: DataFormat::Inshop,
                limit: None,
                eval_limit: None,
            },
            loss: LossKind::Triplet,
            margin: 0.3,
            temperature: default_temperature(),
            learning_rate: 1e-3,
            p: 2,
            k: 2,
            epochs,
            steps_per_epoch: Some(1),
            seed: 4,
            augment: Augment::default(),
            mix: None,
            pretrained: None,
            frozen_features: None,
        }
    }

    #[test]
    fn configs_saved_before_the_temperature_field_still_load() {
        let config = tiny(Path::new("/data"), 3);
        let mut json = serde_json::to_value(&config).unwrap();
        json.as_object_mut().unwrap().remove("temperature");
        let old: TrainConfig = serde_json::from_value(json).unwrap();
        assert_eq!(old, config);
    }

    #[test]
    fn runs_of_one_set_save_no_mix() {
        let json = serde_json::to_value(tiny(Path::new("/data"), 3)).unwrap();
        assert!(json.get("mix").is_none());
    }

    #[test]
    fn validation_names_the_setting_at_fault() {
        let ok = tiny(Path::new("/data"), 1);
        ok.validate().unwrap();
        let soft = TrainConfig {
            loss: LossKind::SoftMsml,
            temperature: f32::NAN,
            ..ok.clone()
        };
        assert!(
            soft.validate()
                .unwrap_err()
                .to_string()
                .contains("--temperature")
        );
        let mut size = ok;
        size.preprocess.size += 1;
        assert!(
            size.validate()
                .unwrap_err()
                .to_string()
                .contains("input_size")
        );
    }
}
