//! Model bundles: the manifest contract shared with the host.

pub mod manifest;

pub use manifest::{
    Dim, GoldenPair, MANIFEST_FILE, MANIFEST_FORMAT, Manifest, ManifestError, ModelEntry,
    ModelRole, Precision, SIGNATURE_FILE, TensorSpec, TrainingInfo,
};
