//! `capsule identify IMG`

use super::{Session, read_picture};
use crate::bundle::{MANIFEST_FILE, Manifest, ModelRole, Precision, select_model};
use crate::camera::{WHOLE_PICTURE, garment_region};
use crate::engine::Embedder;
use crate::identify::{DEFAULT_NEW_GARMENT_THRESHOLD, EmbeddingIndex, THRESHOLD_METRIC};
use crate::preprocess::PreprocessSpec;
use crate::wardrobe::WardrobeStore;
use anyhow::{Context, Result};
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct IdentifyArgs {
    /// Picture of the garment (PNG or JPEG).
    pub image: PathBuf,
    /// Embedder ONNX file, or a bundle directory (its embedder of the board's precision is
    /// used); default: the active bundle's. Preprocessing and threshold come from the
    /// bundle's `manifest.json`.
    #[arg(long)]
    pub embedder: Option<PathBuf>,
    /// How many garments to list.
    #[arg(long, default_value_t = 5)]
    pub top: usize,
    /// Similarity below which the garment counts as new (default: the bundle's calibrated
    /// value, else 0.8).
    #[arg(long)]
    pub threshold: Option<f32>,
    /// Print JSON: {"new": bool, "top": [{"id", "name", "type", "similarity"}]}.
    #[arg(long)]
    pub json: bool,
}

/// The embedder at `path` with the preprocessing and threshold of the bundle it sits in.
pub(crate) fn load_embedder(path: &Path, threads: usize) -> Result<(Embedder, Option<f32>)> {
    load_embedder_for(path, threads, Precision::F32)
}

/// Like [`load_embedder`], and `path` may also be a bundle directory: its embedder of
/// `precision` is loaded, or its f32 one with a note on stderr when it has none.
pub(crate) fn load_embedder_for(
    path: &Path,
    threads: usize,
    precision: Precision,
) -> Result<(Embedder, Option<f32>)> {
    let read_manifest = |manifest_path: &Path| -> Result<Option<Manifest>> {
        match std::fs::read(manifest_path) {
            Ok(bytes) => {
                Ok(Some(Manifest::from_bytes(&bytes).with_context(|| {
                    format!("reading {}", manifest_path.display())
                })?))
            }
            Err(_) => Ok(None),
        }
    };
    let (model_path, manifest) = if path.is_dir() {
        let manifest_path = path.join(MANIFEST_FILE);
        let manifest = read_manifest(&manifest_path)?.with_context(|| {
            format!(
                "{} is a directory but not a bundle: cannot read {}",
                path.display(),
                manifest_path.display()
            )
        })?;
        let chosen = select_model(&manifest, ModelRole::Embedder, precision)
            .with_context(|| format!("bundle {} has no embedder model", path.display()))?;
        if let Some(note) = &chosen.note {
            eprintln!("note: {note}");
        }
        (path.join(&chosen.model.file), Some(manifest))
    } else {
        let beside = path.parent().unwrap_or(Path::new(".")).join(MANIFEST_FILE);
        (path.to_path_buf(), read_manifest(&beside)?)
    };
    let spec = manifest
        .as_ref()
        .map_or_else(PreprocessSpec::default, |m| m.preprocessing.clone());
    let threshold = manifest
        .as_ref()
        .and_then(|m| m.metrics.get(THRESHOLD_METRIC))
        .map(|&t| t as f32);
    Ok((Embedder::load(&model_path, &spec, threads)?, threshold))
}

pub fn run(session: &Session, args: IdentifyArgs) -> Result<()> {
    let picture = read_picture(&args.image)?;
    let path = super::models::embedder_path(session, args.embedder.as_deref())?;
    let (mut embedder, calibrated) =
        load_embedder_for(&path, session.threads(), session.precision())?;
    let embedding = embedder.embed(&garment_region(&picture, WHOLE_PICTURE))?;
    let store = WardrobeStore::open(&session.data_dir)?;
    let (index, skipped) = EmbeddingIndex::build(&store.garments()?);
    if skipped > 0 {
        eprintln!(
            "note: {skipped} garments have embeddings from another model; re-add them to match them"
        );
    }
    let threshold = args
        .threshold
        .or(calibrated)
        .unwrap_or(DEFAULT_NEW_GARMENT_THRESHOLD);
    let result = index.identify(&embedding, args.top, threshold);
    if args.json {
        println!("{}", serde_json::to_string(&result)?);
    } else if result.new {
        println!(
            "new garment (closest similarity {:.2} < {threshold:.2})",
            result.top.first().map_or(0.0, |m| m.similarity)
        );
    } else if let Some(best) = result.top.first() {
        println!(
            "{} ({}, {}) similarity {:.2}",
            best.name, best.garment_type, best.id, best.similarity
        );
    }
    if !args.json {
        for m in result.top.iter().skip(1) {
            println!(
                "  also: {} ({}, {}) {:.2}",
                m.name, m.garment_type, m.id, m.similarity
            );
        }
    }
    Ok(())
}
