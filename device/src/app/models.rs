//! Which models a command runs, chosen once: the bundle (the active slot's, a named bundle
//! directory, or the bundle an embedder file sits in), the embedder file of the board's
//! precision, the preprocessing and the new-garment threshold from that bundle's manifest.

use crate::board::BoardProfile;
use crate::bundle::verify::verify_unsigned_parts;
use crate::bundle::{
    BundleError, MANIFEST_FILE, Manifest, ManifestError, ModelRole, Precision, VerifiedBundle,
    select_model,
};
use crate::engine::{Embedder, EngineError};
use crate::identify::DEFAULT_NEW_GARMENT_THRESHOLD;
use crate::preprocess::PreprocessSpec;
use crate::stylist::{StylistError, StylistModels};
use crate::update::{Slots, UpdateError};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Where a command's models come from.
#[derive(Debug, Clone, Copy)]
pub enum ModelSource<'a> {
    /// The bundle installed in the data directory's active slot.
    Active,
    /// A bundle directory (files checked against its manifest's hashes; its signature was
    /// the owner's business when they chose to point at it).
    Bundle(&'a Path),
    /// An embedder ONNX file; `manifest.json` beside it says how pictures are prepared.
    /// A directory here is taken as a bundle.
    EmbedderFile(&'a Path),
}

impl<'a> ModelSource<'a> {
    /// `--bundle DIR` wins, then `--embedder FILE|DIR`, else the active slot.
    pub fn from_flags(bundle: Option<&'a Path>, embedder: Option<&'a Path>) -> Self {
        match (bundle, embedder) {
            (Some(dir), _) => ModelSource::Bundle(dir),
            (None, Some(path)) if path.is_dir() => ModelSource::Bundle(path),
            (None, Some(file)) => ModelSource::EmbedderFile(file),
            (None, None) => ModelSource::Active,
        }
    }
}

/// The models could not be chosen.
#[derive(Debug, thiserror::Error)]
pub enum ModelsError {
    #[error(
        "no model bundle installed in {0}: install one with `capsule update apply DIR` (e.g. \
         the shipped models/default), or pass --bundle DIR"
    )]
    NothingInstalled(PathBuf),
    #[error(transparent)]
    Slots(#[from] UpdateError),
    #[error("{dir} is not a bundle: it has no readable manifest.json")]
    NotABundle {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Bundle(#[from] BundleError),
    #[error(
        "cannot read {manifest}, which says how pictures are prepared for the embedder {model}: \
         pass the bundle directory the embedder came from"
    )]
    NoManifest {
        model: PathBuf,
        manifest: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}")]
    Manifest {
        path: PathBuf,
        #[source]
        source: ManifestError,
    },
    #[error("bundle {0} has no embedder model")]
    NoEmbedder(PathBuf),
}

/// The models a command runs, and how to feed them.
#[derive(Debug, Clone)]
pub struct Models {
    /// The whole bundle, checked against its manifest; `None` for a bare embedder file.
    pub bundle: Option<VerifiedBundle>,
    /// The manifest the embedder's preprocessing and threshold come from.
    pub manifest: Manifest,
    pub embedder_file: PathBuf,
    /// The embedder's precision (the board's, or f32 where the bundle has no such file).
    pub precision: Precision,
    /// Similarity under which a garment counts as new: the bundle's calibrated value, else
    /// [`DEFAULT_NEW_GARMENT_THRESHOLD`].
    pub threshold: f32,
    /// Inference threads.
    pub threads: usize,
    /// Said once when the board's precision was not available.
    pub note: Option<String>,
    /// The board profile's name, for the system report.
    pub board: Option<String>,
    /// What names the embedder (`sha256:` of its file): a wardrobe embedded by another is
    /// embedded again (`app::reembed`).
    pub embedder_id: String,
    /// Whether these are the active slot's models, which an update replaces.
    pub from_slot: bool,
    /// The precision the board asked for (what [`Models::reopen_active`] asks for again).
    pub wanted: Precision,
}

impl Models {
    /// The models of `source` for `board` (its precision and threads; f32 and 1 thread
    /// without a board).
    pub fn open(
        data_dir: &Path,
        board: Option<&BoardProfile>,
        source: ModelSource,
    ) -> Result<Self, ModelsError> {
        let wanted = board.map_or(Precision::F32, |b| b.precision);
        let threads = board.map_or(1, |b| b.threads);
        Self::open_for(
            data_dir,
            board.map(|b| b.name.clone()),
            wanted,
            threads,
            source,
        )
    }

    /// The active slot's models again, for the same board: after an update or a rollback.
    pub fn reopen_active(&self, data_dir: &Path) -> Result<Self, ModelsError> {
        Self::open_for(
            data_dir,
            self.board.clone(),
            self.wanted,
            self.threads,
            ModelSource::Active,
        )
    }

    fn open_for(
        data_dir: &Path,
        board: Option<String>,
        wanted: Precision,
        threads: usize,
        source: ModelSource,
    ) -> Result<Self, ModelsError> {
        let from_slot = matches!(source, ModelSource::Active);
        let (bundle, manifest, embedder_file, precision, note, embedder_id) = match source {
            ModelSource::EmbedderFile(file) => {
                let dir = file.parent().unwrap_or(Path::new("."));
                let manifest = read_manifest_beside(file, dir)?;
                let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
                let entry = manifest
                    .models
                    .iter()
                    .find(|m| Some(&m.file) == name.as_ref());
                let precision = entry.map_or(Precision::F32, |m| m.precision);
                // A bare file is not checked against the manifest: name it by what it holds
                // (one that cannot be read fails to load next, with the engine's error).
                let id = std::fs::read(file).map_or_else(
                    |_| format!("unreadable:{}", file.display()),
                    |bytes| format!("sha256:{}", hex::encode(Sha256::digest(&bytes))),
                );
                (None, manifest, file.to_path_buf(), precision, None, id)
            }
            ModelSource::Active | ModelSource::Bundle(_) => {
                let bundle = match source {
                    ModelSource::Bundle(dir) => open_bundle_dir(dir)?,
                    _ => Slots::new(data_dir)
                        .active_bundle()?
                        .ok_or_else(|| ModelsError::NothingInstalled(data_dir.to_path_buf()))?,
                };
                let chosen = select_model(&bundle.manifest, ModelRole::Embedder, wanted)
                    .ok_or_else(|| ModelsError::NoEmbedder(bundle.dir.clone()))?;
                let (file, precision, note) = (
                    bundle.dir.join(&chosen.model.file),
                    chosen.model.precision,
                    chosen.note,
                );
                // Verified against the file when the bundle was opened.
                let id = format!("sha256:{}", chosen.model.sha256);
                let manifest = bundle.manifest.clone();
                (Some(bundle), manifest, file, precision, note, id)
            }
        };
        let threshold = manifest
            .identify_threshold()
            .unwrap_or(DEFAULT_NEW_GARMENT_THRESHOLD);
        Ok(Self {
            bundle,
            manifest,
            embedder_file,
            precision,
            threshold,
            threads,
            note,
            board,
            embedder_id,
            from_slot,
            wanted,
        })
    }

    /// How pictures become embedder input (the garment crop included).
    pub fn spec(&self) -> &PreprocessSpec {
        &self.manifest.preprocessing
    }

    /// The embedder, loaded in tract for single pictures.
    pub fn embedder(&self) -> Result<Embedder, EngineError> {
        Embedder::load(&self.embedder_file, self.spec(), self.threads)
    }

    /// The bundle's stylist, or `None` when there is no bundle or it has no stylist.
    pub fn stylist(&self) -> Result<Option<StylistModels>, StylistError> {
        match &self.bundle {
            Some(bundle) => StylistModels::from_bundle(bundle, self.threads),
            None => Ok(None),
        }
    }
}

fn open_bundle_dir(dir: &Path) -> Result<VerifiedBundle, ModelsError> {
    let path = dir.join(MANIFEST_FILE);
    let bytes = std::fs::read(&path).map_err(|source| ModelsError::NotABundle {
        dir: dir.to_path_buf(),
        source,
    })?;
    Ok(verify_unsigned_parts(dir, bytes)?)
}

fn read_manifest_beside(model: &Path, dir: &Path) -> Result<Manifest, ModelsError> {
    let path = dir.join(MANIFEST_FILE);
    let bytes = std::fs::read(&path).map_err(|source| ModelsError::NoManifest {
        model: model.to_path_buf(),
        manifest: path.clone(),
        source,
    })?;
    Manifest::from_bytes(&bytes).map_err(|source| ModelsError::Manifest { path, source })
}
