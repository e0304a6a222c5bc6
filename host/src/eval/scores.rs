//! The outfit metrics of one scorer on one split, in one report.

use super::metrics::{PairScorer, Ties, compatibility_auc, fitb_accuracy};
use crate::data::polyvore::{PolyvoreDataset, Split};
use serde::Serialize;

/// Outfit metrics of one scorer on one split.
#[derive(Debug, Serialize)]
pub struct OutfitScores {
    pub fitb: Option<f64>,
    pub fitb_hard: Option<f64>,
    /// Same questions with ties broken at random (expected accuracy).
    pub fitb_random_ties: Option<f64>,
    pub fitb_hard_random_ties: Option<f64>,
    pub auc: Option<f64>,
}

impl OutfitScores {
    /// Scores `data`'s `split` questions with `scorer`.
    pub fn measure(scorer: &dyn PairScorer, data: &PolyvoreDataset, split: Split) -> Self {
        let s = data.split(split);
        let fitb =
            |q: &Option<Vec<_>>, ties| q.as_deref().and_then(|q| fitb_accuracy(scorer, q, ties));
        Self {
            fitb: fitb(&s.fitb, Ties::AgainstAnswer),
            fitb_hard: fitb(&s.fitb_hard, Ties::AgainstAnswer),
            fitb_random_ties: fitb(&s.fitb, Ties::Random),
            fitb_hard_random_ties: fitb(&s.fitb_hard, Ties::Random),
            auc: s
                .compatibility
                .as_deref()
                .and_then(|q| compatibility_auc(scorer, q)),
        }
    }
}

impl std::fmt::Display for OutfitScores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let show = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.3}"));
        writeln!(
            f,
            "FITB       {} (ties at random: {})",
            show(self.fitb),
            show(self.fitb_random_ties)
        )?;
        writeln!(
            f,
            "FITB hard  {} (ties at random: {})",
            show(self.fitb_hard),
            show(self.fitb_hard_random_ties)
        )?;
        write!(f, "AUC        {}", show(self.auc))
    }
}
