//! What can go wrong training, loading or evaluating a stylist; each message names the file
//! or setting at fault.

use super::model::{DecoderForm, DecoderKind};
use std::path::PathBuf;

/// Something the stylist could not do, with the file it concerns.
#[derive(Debug, thiserror::Error)]
pub enum StylistError {
    #[error(transparent)]
    Features(#[from] super::features::FeatureError),
    #[error(transparent)]
    Run(#[from] crate::training::RunError),
    #[error(transparent)]
    Checkpoint(#[from] crate::training::checkpoint::CheckpointError),
    #[error(transparent)]
    Plot(#[from] crate::training::plot::PlotError),
    #[error(transparent)]
    Backend(#[from] crate::training::backend::BackendUnavailable),
    #[error("cannot load the outfits in {path}: {source}")]
    Data {
        path: PathBuf,
        #[source]
        source: crate::data::DataError,
    },
    #[error(
        "{path}: the weights do not fit the run's config.json (decoder {decoder:?}, form {form:?}): were they saved with another decoder or form? ({source})"
    )]
    Weights {
        path: PathBuf,
        decoder: DecoderKind,
        form: DecoderForm,
        #[source]
        source: crate::training::checkpoint::CheckpointError,
    },
    #[error("{path}: {message}")]
    Config { path: PathBuf, message: String },
    #[error("{0}")]
    Invalid(String),
    #[error("the bundle's stylist in tract")]
    Bundle(#[source] Box<capsule_device::stylist::StylistError>),
    #[error("item {id} of a {context} is not in the dataset's item list")]
    UnknownItem { id: String, context: &'static str },
}

impl From<capsule_device::stylist::StylistError> for StylistError {
    fn from(e: capsule_device::stylist::StylistError) -> Self {
        Self::Bundle(Box::new(e))
    }
}
