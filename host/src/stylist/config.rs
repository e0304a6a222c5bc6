//! The training config of a stylist run: saved as the run's `config.json`, compared on
//! resume, and checked by [`TrainConfig::validate`] before any work.

use super::error::StylistError;
use super::model::StylistConfig;
use crate::training::Backend;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Everything a run was started with (`config.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub model: StylistConfig,
    /// Polyvore-format data the graph comes from.
    pub data: PathBuf,
    /// Feature file of that data's items.
    pub features: PathBuf,
    /// The `source` tag of that file: evaluation refuses features of another kind (the
    /// weights only make sense for the features they were trained on).
    #[serde(default)]
    pub feature_source: String,
    /// Total epochs; the only setting a resumed run may change (to train longer).
    pub epochs: usize,
    pub steps_per_epoch: usize,
    pub learning_rate: f64,
    /// Share of positive edges used as targets each step (the rest pass messages).
    pub target_fraction: f64,
    /// Share of message-passing edges dropped each step.
    pub edge_dropout: f64,
    /// Share of nodes whose message-passing edges are all removed each step.
    pub node_isolation: f64,
    /// Probability that a negative keeps the replaced item's garment type.
    pub hard_negatives: f64,
    /// Context size K of the per-epoch validation.
    pub valid_context: usize,
    pub seed: u64,
    pub backend: Backend,
}

impl TrainConfig {
    /// Defaults for the given data and features (Cucurull et al.'s 3 × 350 encoder).
    pub fn new(model: StylistConfig, data: PathBuf, features: PathBuf) -> Self {
        Self {
            model,
            data,
            features,
            feature_source: String::new(),
            epochs: 30,
            steps_per_epoch: 20,
            learning_rate: 1e-3,
            target_fraction: 0.25,
            edge_dropout: 0.15,
            node_isolation: 0.25,
            hard_negatives: 0.5,
            valid_context: 3,
            seed: 0,
            backend: Backend::Flex,
        }
    }

    /// Refuses settings a run cannot train with, naming the setting.
    pub fn validate(&self) -> Result<(), StylistError> {
        let shares = [
            ("model.dropout", self.model.dropout),
            ("target_fraction", self.target_fraction),
            ("edge_dropout", self.edge_dropout),
            ("node_isolation", self.node_isolation),
            ("hard_negatives", self.hard_negatives),
        ];
        for (name, value) in shares {
            if !(0.0..=1.0).contains(&value) {
                return Err(StylistError::Invalid(format!(
                    "{name} is a share and must lie in [0, 1]; got {value}"
                )));
            }
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return Err(StylistError::Invalid(format!(
                "the learning rate must be positive; got {}",
                self.learning_rate
            )));
        }
        if self.model.hidden == 0 || self.model.input_dim == 0 {
            return Err(StylistError::Invalid(format!(
                "the network needs a positive input width and --hidden; got {} and {}",
                self.model.input_dim, self.model.hidden
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::stylist::model::{DecoderForm, DecoderKind};

    /// A run of a 2 × 4 network without dropout over inputs of `input_dim`, with defaults
    /// for the rest.
    pub(crate) fn tiny(input_dim: usize, decoder: DecoderKind, form: DecoderForm) -> TrainConfig {
        let model = StylistConfig {
            input_dim,
            hidden: 4,
            layers: 2,
            dropout: 0.0,
            decoder,
            decoder_form: form,
        };
        TrainConfig::new(model, "data".into(), "features.json".into())
    }

    #[test]
    fn validation_names_the_setting_at_fault() {
        let ok = tiny(8, DecoderKind::Shared, DecoderForm::Distance);
        ok.validate().unwrap();
        let shares = TrainConfig {
            edge_dropout: 1.5,
            ..ok.clone()
        };
        let err = shares.validate().unwrap_err().to_string();
        assert!(err.contains("edge_dropout"), "{err}");
        let rate = TrainConfig {
            learning_rate: f64::NAN,
            ..ok
        };
        assert!(
            rate.validate()
                .unwrap_err()
                .to_string()
                .contains("learning rate")
        );
    }
}
