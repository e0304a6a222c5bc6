//! Names of the figures a manifest's `metrics` carries, written by the host and read by the
//! board and the model card.

use super::Manifest;

/// Similarity under which the best match is a new garment, calibrated on the host.
pub const IDENTIFY_THRESHOLD: &str = "identify_threshold";
/// In-shop Recall@1 of the embedder at its last training epoch.
pub const RECALL_AT_1: &str = "recall_at_1";
/// The stylist's validation figures at its best epoch.
pub const STYLIST_VALID_FITB: &str = "stylist_valid_fitb";
pub const STYLIST_VALID_FITB_HARD: &str = "stylist_valid_fitb_hard";
pub const STYLIST_VALID_AUC: &str = "stylist_valid_auc";

impl Manifest {
    /// The calibrated new-garment threshold, when the host measured one.
    pub fn identify_threshold(&self) -> Option<f32> {
        self.metrics.get(IDENTIFY_THRESHOLD).map(|&t| t as f32)
    }
}
