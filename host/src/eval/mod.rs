//! Evaluation protocols and baselines.

pub mod metrics;
pub mod scores;
pub mod type_prior;

pub use metrics::{PairScorer, Ties, compatibility_auc, fitb_accuracy, roc_auc};
pub use scores::OutfitScores;
