//! The signed model bundle as both sides read it: the manifest, golden `.npy` files,
//! ed25519 signatures, and which model file a board of a given precision runs.

pub mod manifest;
pub mod metrics;
pub mod npy;
pub mod select;
pub mod signature;

pub use manifest::{
    DecoderOutput, Dim, GoldenPair, MANIFEST_FILE, MANIFEST_FORMAT, Manifest, ManifestError,
    ModelEntry, ModelRole, Precision, SIGNATURE_FILE, STYLIST_FEATURES_EMBEDDER,
    STYLIST_FEATURES_EMBEDDER_STYLE, StylistSpec, TensorSpec, TrainingInfo, UnknownPrecision,
};
pub use npy::{NpyArray, NpyError};
pub use select::{Selection, select_model};
pub use signature::SignatureError;
