//! Training on two datasets at once (`train embedder --mix-fmnist`): the run's own set (the
//! primary, e.g. synthetic In-shop colour garments) and a second one (Fashion-MNIST shapes),
//! mixed by whole P×K batches.
//!
//! Each batch comes from ONE set, so the hardest negatives MSML picks stay within a domain: a
//! grey 28-pixel Fashion-MNIST picture next to a colour render would be a trivially easy
//! negative and teach nothing. Batches alternate by a fixed schedule (`ratio` primary batches,
//! then one mixed-in batch) that depends on the step number alone, so a resumed run draws
//! exactly the batches of an uninterrupted one.

use super::data::DataSource;
use serde::{Deserialize, Serialize};

/// The second training set of a run and how often its batches come (saved in `config.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MixConfig {
    /// The mixed-in set; only its training pictures are used (per-epoch validation stays on
    /// the primary set).
    pub data: DataSource,
    /// Primary batches per mixed-in batch.
    pub ratio: usize,
}

/// The set one training batch is drawn from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchSource {
    /// The run's own dataset (`TrainConfig::data`).
    Primary,
    /// The mixed-in dataset (`MixConfig::data`).
    Mix,
}

impl MixConfig {
    /// The set batch `step` (0-based, within an epoch) comes from: `ratio` primary batches,
    /// then one mixed-in batch, over and over.
    pub fn source(&self, step: usize) -> BatchSource {
        if step % (self.ratio + 1) == self.ratio {
            BatchSource::Mix
        } else {
            BatchSource::Primary
        }
    }

    /// Batches per epoch that show about `primary_batches` batches of the primary set, plus
    /// the mixed-in batches interleaved with them.
    pub fn steps_for(&self, primary_batches: usize) -> usize {
        primary_batches + primary_batches / self.ratio.max(1)
    }
}

/// The set of every batch of an epoch of `steps` batches (all primary without a mix).
pub fn schedule(mix: Option<&MixConfig>, steps: usize) -> Vec<BatchSource> {
    (0..steps)
        .map(|s| mix.map_or(BatchSource::Primary, |m| m.source(s)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embedder::data::DataFormat;
    use BatchSource::{Mix, Primary};

    fn mix(ratio: usize) -> MixConfig {
        MixConfig {
            data: DataSource {
                dir: "/usr/share/datasets/fashion-mnist".into(),
                format: DataFormat::Fmnist,
                limit: Some(500),
                eval_limit: None,
            },
            ratio,
        }
    }

    #[test]
    fn batches_alternate_by_the_ratio() {
        assert_eq!(
            schedule(Some(&mix(2)), 7),
            [Primary, Primary, Mix, Primary, Primary, Mix, Primary]
        );
        assert_eq!(schedule(Some(&mix(1)), 4), [Primary, Mix, Primary, Mix]);
        assert_eq!(
            schedule(Some(&mix(3)), 8),
            [
                Primary, Primary, Primary, Mix, Primary, Primary, Primary, Mix
            ]
        );
        assert_eq!(schedule(None, 3), [Primary; 3]);
        // 20 steps at 2:1 give 14 primary batches and 6 mixed-in ones.
        let counts = schedule(Some(&mix(2)), 20)
            .iter()
            .filter(|&&s| s == Mix)
            .count();
        assert_eq!(counts, 6);
    }

    #[test]
    fn default_steps_keep_one_pass_over_the_primary_set() {
        let m = mix(2);
        let steps = m.steps_for(30);
        assert_eq!(steps, 45);
        let primary = schedule(Some(&m), steps)
            .iter()
            .filter(|&&s| s == Primary)
            .count();
        assert_eq!(primary, 30);
    }

    #[test]
    fn the_mix_round_trips_through_json_and_rejects_unknown_fields() {
        let m = mix(2);
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(serde_json::from_str::<MixConfig>(&json).unwrap(), m);
        let mut value = serde_json::to_value(&m).unwrap();
        value["every"] = 3.into();
        assert!(serde_json::from_value::<MixConfig>(value).is_err());
    }
}
