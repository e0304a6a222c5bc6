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
    #[error("the mixed-in set {dir}: {source}")]
    MixSampler {
        dir: PathBuf,
        #[source]
        source: super::sampler::SamplerError,
    },
    #[error(transparent)]
    Preprocess(#[from] capsule_device::preprocess::PreprocessError),
    #[error(transparent)]
    Run(#[from] crate::training::RunError),
    #[error(transparent)]
    Checkpoint(#[from] crate::training::checkpoint::CheckpointError),
    #[error(transparent)]
    Plot(#[from] crate::training::plot::PlotError),
    #[error(transparent)]
    Backend(#[from] crate::training::backend::BackendUnavailable),
    #[error("loading the pretrained backbone")]
    Pretrained(#[source] Box<super::backbone::ImportError>),
    #[error("{0}")]
    Invalid(String),
}

impl From<super::backbone::ImportError> for EmbedderError {
    fn from(e: super::backbone::ImportError) -> Self {
        Self::Pretrained(Box::new(e))
    }
}
