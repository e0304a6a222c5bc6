//! Evaluation protocols and baselines.

pub mod metrics;
pub mod open_set;
pub mod scores;
pub mod type_prior;

pub use metrics::{PairScorer, Ties, compatibility_auc, fitb_accuracy, roc_auc};
pub use open_set::{OpenSetScores, open_set_scores};
pub use scores::OutfitScores;
