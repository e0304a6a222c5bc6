//! Evaluation of what ships: a bundle's ONNX files run in tract through the board's own path
//! (garment view with the manifest's crop, preprocessing, unit-length embedding, style
//! statistics, encoder inputs), measured with the same protocols and report keys as the
//! training runs (`eval embedder --bundle`, `eval stylist --bundle`).
//!
//! - [`embedder`]: pictures → embeddings with the bundle's embedder of one precision;
//! - [`stylist`]: the bundle's encoder and decoder as a [`crate::stylist::GraphStylist`].

pub mod embedder;
pub mod stylist;

use crate::data::polyvore::{PolyvoreDataset, Split};
use crate::embedder::RetrievalScores;
use crate::embedder::data::EvalSet;
use crate::embedder::evaluate::evaluate_with;
use crate::eval::{OpenSetScores, open_set_scores};
use crate::stylist::{ItemGraph, StylistScores, evaluate_with as evaluate_stylist_with};
use capsule_device::app::{ModelSource, Models, ModelsError};
use capsule_device::bundle::{ModelEntry, ModelRole, Precision};
use capsule_device::engine::EngineError;
use indicatif::ProgressBar;
use std::path::{Path, PathBuf};

/// A bundle's embedder measured on one evaluation set.
#[derive(Debug, Clone)]
pub struct EmbedderEvaluation {
    pub bundle_version: u64,
    /// The ONNX file measured.
    pub file: String,
    pub scores: RetrievalScores,
    /// Values in the file's initializers.
    pub params: usize,
    pub embedding_dim: usize,
}

/// Recall@K of the `precision` embedder of the bundle at `dir` on `set`; `progress` counts
/// pictures.
pub fn evaluate_embedder(
    dir: &Path,
    precision: Precision,
    set: &EvalSet,
    progress: &ProgressBar,
) -> Result<EmbedderEvaluation, BundleEvalError> {
    let models = open_bundle(dir)?;
    let entry = embedder_entry(&models, precision)?;
    let file = dir.join(&entry.file);
    let mut embedding_dim = 0;
    let scores = evaluate_with(set, |pictures| {
        let (rows, dim) = embedder::embed_pictures(&file, models.spec(), pictures, progress)?;
        embedding_dim = dim;
        Ok::<_, BundleEvalError>((rows, dim))
    })?;
    Ok(EmbedderEvaluation {
        bundle_version: models.manifest.bundle_version,
        file: entry.file.clone(),
        scores,
        params: onnx_parameters(&file)?,
        embedding_dim,
    })
}

/// Open-set identification of the `precision` embedder of the bundle at `dir` on a
/// query/gallery `set` (a staged-camera set: camera views against product shots), with the
/// operating point at the bundle's calibrated threshold. `progress` counts pictures.
pub fn evaluate_open_set(
    dir: &Path,
    precision: Precision,
    set: &EvalSet,
    progress: &ProgressBar,
) -> Result<OpenSetEvaluation, BundleEvalError> {
    let EvalSet::QueryGallery { query, gallery } = set else {
        return Err(BundleEvalError::NotQueryGallery);
    };
    let models = open_bundle(dir)?;
    let file = dir.join(&embedder_entry(&models, precision)?.file);
    let (q, dim) = embedder::embed_pictures(&file, models.spec(), &query.pictures, progress)?;
    let (g, _) = embedder::embed_pictures(&file, models.spec(), &gallery.pictures, progress)?;
    let scores = open_set_scores(
        &q,
        &query.labels,
        &g,
        &gallery.labels,
        dim,
        Some(models.threshold),
    )
    .ok_or(BundleEvalError::TooFewGarments)?;
    Ok(OpenSetEvaluation {
        bundle_version: models.manifest.bundle_version,
        scores,
    })
}

/// A bundle's embedder in the open set.
#[derive(Debug, Clone)]
pub struct OpenSetEvaluation {
    pub bundle_version: u64,
    pub scores: OpenSetScores,
}

/// A bundle's stylist over one outfit set, ready to measure: the garment features of every
/// item are made once (the costly part), then each context size reuses them.
pub struct BundleStylist {
    pub bundle_version: u64,
    /// Values in the encoder's and decoder's initializers.
    pub params: usize,
    stylist: stylist::TractStylist,
    graph: ItemGraph,
}

impl BundleStylist {
    /// The stylist of the bundle at `dir` over `data`'s graph; node features come from the
    /// bundle's f32 embedder, as its stylist was trained on them. `progress` counts items.
    pub fn open(
        dir: &Path,
        data: &PolyvoreDataset,
        progress: &ProgressBar,
    ) -> Result<Self, BundleEvalError> {
        let models = open_bundle(dir)?;
        let Some(stylist) = models.stylist()? else {
            return Err(BundleEvalError::NoStylist(dir.to_path_buf()));
        };
        let entry = embedder_entry(&models, Precision::F32)?;
        let graph = ItemGraph::from_dataset(data);
        let stylist = stylist::TractStylist::new(
            stylist,
            &graph,
            data,
            &dir.join(&entry.file),
            models.spec(),
            progress,
        )?;
        let mut params = 0;
        for role in [ModelRole::StylistEncoder, ModelRole::StylistDecoder] {
            if let Some(m) = models.manifest.model(role, Precision::F32) {
                params += onnx_parameters(&dir.join(&m.file))?;
            }
        }
        Ok(Self {
            bundle_version: models.manifest.bundle_version,
            params,
            stylist,
            graph,
        })
    }

    /// FITB and AUC on `split` of `data` (the set it was opened on) with `k` context edges
    /// per question item, sampled with `seed`.
    pub fn evaluate(
        &self,
        data: &PolyvoreDataset,
        split: Split,
        k: usize,
        seed: u64,
    ) -> Result<StylistScores, BundleEvalError> {
        Ok(evaluate_stylist_with(
            &self.stylist,
            &self.graph,
            data,
            split,
            k,
            seed,
        )?)
    }
}

/// A bundle could not be evaluated.
#[derive(Debug, thiserror::Error)]
pub enum BundleEvalError {
    #[error("opening the bundle {dir}")]
    Open {
        dir: PathBuf,
        #[source]
        source: Box<ModelsError>,
    },
    #[error(
        "the bundle {dir} has no {precision} embedder (it has: {available}); pick one of those \
         with --precision"
    )]
    NoPrecision {
        dir: PathBuf,
        precision: Precision,
        available: String,
    },
    #[error(
        "open-set evaluation needs a query/gallery set (In-shop format, e.g. `data synth \
         --staged`), not a leave-one-out set"
    )]
    NotQueryGallery,
    #[error("open-set evaluation needs queries and a gallery of at least two garments")]
    TooFewGarments,
    #[error("the bundle {0} has no stylist models (it was made without --stylist-run)")]
    NoStylist(PathBuf),
    #[error("reading the model {path}")]
    ReadModel {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not an ONNX model")]
    DecodeModel {
        path: PathBuf,
        #[source]
        source: prost::DecodeError,
    },
    #[error("running the bundle's embedder")]
    Engine(#[source] Box<EngineError>),
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    #[error(transparent)]
    Stylist(Box<crate::stylist::StylistError>),
    #[error("loading the bundle's stylist")]
    BoardStylist(#[source] Box<capsule_device::stylist::StylistError>),
    #[error("reading {path}")]
    Picture {
        path: PathBuf,
        #[source]
        source: capsule_device::camera::CameraError,
    },
    #[error("making the garment view of {path}")]
    Enrol {
        path: PathBuf,
        #[source]
        source: Box<capsule_device::app::EnrolError>,
    },
}

// Boxed: the sources are large, and every `Result` of this module would carry their size.
impl From<EngineError> for BundleEvalError {
    fn from(e: EngineError) -> Self {
        Self::Engine(Box::new(e))
    }
}

impl From<crate::stylist::StylistError> for BundleEvalError {
    fn from(e: crate::stylist::StylistError) -> Self {
        Self::Stylist(Box::new(e))
    }
}

impl From<capsule_device::stylist::StylistError> for BundleEvalError {
    fn from(e: capsule_device::stylist::StylistError) -> Self {
        Self::BoardStylist(Box::new(e))
    }
}

/// The bundle at `dir`, checked against its manifest's hashes as a board checks an update
/// (its signature is not the evaluation's business).
fn open_bundle(dir: &Path) -> Result<Models, BundleEvalError> {
    Models::open(dir, None, ModelSource::Bundle(dir)).map_err(|source| BundleEvalError::Open {
        dir: dir.to_path_buf(),
        source: Box::new(source),
    })
}

/// The embedder entry of `precision` in `models`' bundle; unlike a board, no fallback: an
/// evaluation must measure the file it was asked about.
fn embedder_entry(models: &Models, precision: Precision) -> Result<&ModelEntry, BundleEvalError> {
    let manifest = &models.manifest;
    manifest
        .model(ModelRole::Embedder, precision)
        .ok_or_else(|| BundleEvalError::NoPrecision {
            dir: bundle_dir(models),
            precision,
            available: manifest
                .models
                .iter()
                .filter(|m| m.role == ModelRole::Embedder)
                .map(|m| m.precision.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// Parameters of the ONNX model at `path` (values of its initializers).
fn onnx_parameters(path: &Path) -> Result<usize, BundleEvalError> {
    use prost::Message;
    let bytes = std::fs::read(path).map_err(|source| BundleEvalError::ReadModel {
        path: path.to_path_buf(),
        source,
    })?;
    let model = tract_onnx::pb::ModelProto::decode(bytes.as_slice()).map_err(|source| {
        BundleEvalError::DecodeModel {
            path: path.to_path_buf(),
            source,
        }
    })?;
    Ok(crate::onnx::parameter_count(&model))
}

fn bundle_dir(models: &Models) -> PathBuf {
    models
        .bundle
        .as_ref()
        .map_or_else(|| models.embedder_file.clone(), |b| b.dir.clone())
}
