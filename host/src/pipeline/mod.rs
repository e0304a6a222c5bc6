//! What `capsule-host pipeline` makes besides running the other commands: the demo wardrobe
//! and the evaluation of the trained models on data of unseen seeds. The command itself
//! (which steps, in which order, which to skip) lives in `crate::cli`.

pub mod demo;
pub mod evaluation;

pub use demo::demo_wardrobe;
pub use evaluation::{EVALUATION_FILE, Evaluation, EvaluationSets, ShippedEvaluation, evaluate};

use std::path::PathBuf;

/// A pipeline product could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Embedder(#[from] crate::embedder::EmbedderError),
    #[error(transparent)]
    Stylist(Box<crate::stylist::StylistError>),
    #[error(transparent)]
    Features(#[from] crate::stylist::features::FeatureError),
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    #[error(transparent)]
    Copy(#[from] crate::flash::FlashError),
    #[error("cannot {step} {path}: {source}")]
    Io {
        path: PathBuf,
        step: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("evaluating the bundle")]
    Bundle(#[source] Box<crate::bundle::evaluate::BundleEvalError>),
    #[error("{path}: no top among the listed views to photograph for the demo")]
    NoTop { path: PathBuf },
}

impl From<crate::bundle::evaluate::BundleEvalError> for PipelineError {
    fn from(e: crate::bundle::evaluate::BundleEvalError) -> Self {
        Self::Bundle(Box::new(e))
    }
}

impl From<crate::stylist::StylistError> for PipelineError {
    fn from(e: crate::stylist::StylistError) -> Self {
        Self::Stylist(Box::new(e))
    }
}
