//! What can go wrong training, loading or evaluating an embedder; each message names the
//! file or setting at fault.

use std::path::PathBuf;

/// An embedder operation failed.
#[derive(Debug, thiserror::Error)]
pub enum EmbedderError {
    #[error(transparent)]
    Config(#[from] super::model::ConfigError),
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    #[error(transparent)]
    Sampler(#[from] super::sampler::SamplerError),
    #[error(transparent)]
    Preprocess(#[from] capsule_device::preprocess::PreprocessError),
    #[error(transparent)]
    Run(#[from] crate::training::RunError),
    #[error(transparent)]
    Write(#[from] capsule_device::fsutil::AtomicWriteError),
    #[error(transparent)]
    Backend(#[from] crate::training::backend::BackendUnavailable),
    #[error("{path}: {message}")]
    Checkpoint { path: PathBuf, message: String },
    #[error("{0}")]
    Invalid(String),
}
