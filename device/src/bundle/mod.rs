//! Model bundles: the manifest contract shared with the host, the `.npy` golden files,
//! ed25519 signatures, verification of a bundle directory, and the device's A/B slots.

pub mod manifest;
pub mod npy;
pub mod select;
pub mod signature;
pub mod slots;
pub mod verify;

pub use manifest::{
    Dim, GoldenPair, MANIFEST_FILE, MANIFEST_FORMAT, Manifest, ManifestError, ModelEntry,
    ModelRole, Precision, SIGNATURE_FILE, STYLIST_FEATURES_EMBEDDER,
    STYLIST_FEATURES_EMBEDDER_STYLE, StylistSpec, TensorSpec, TrainingInfo,
};
pub use npy::{NpyArray, NpyError};
pub use select::{Selection, select_model};
pub use signature::SignatureError;
pub use verify::{BundleError, VerifiedBundle, sha256_hex, verify_signed};
