//! A bundle's embedder over a picture list, as the board runs it: the garment view of the
//! whole picture (the manifest's crop), the manifest's preprocessing, tract, unit length.

use super::BundleEvalError;
use crate::embedder::pictures::Pictures;
use capsule_device::engine::Embedder;
use capsule_device::preprocess::PreprocessSpec;
use indicatif::ProgressBar;
use rayon::prelude::*;
use std::path::Path;

/// Pictures each worker embeds between progress updates.
const CHUNK: usize = 64;

/// Embeddings (row-major) of `pictures` by the ONNX embedder at `file`, and their width. One
/// single-threaded tract model per worker thread: a board embeds one picture at a time, and
/// the host's cores are better spent on pictures than inside one.
pub fn embed_pictures(
    file: &Path,
    spec: &PreprocessSpec,
    pictures: &Pictures,
    progress: &ProgressBar,
) -> Result<(Vec<f32>, usize), BundleEvalError> {
    if pictures.is_empty() {
        return Ok((Vec::new(), 0));
    }
    let workers = rayon::current_num_threads().max(1);
    let per_worker = pictures.len().div_ceil(workers);
    // Each worker reads its own range of pictures as it goes: a set is never all in memory.
    let parts = (0..pictures.len())
        .step_by(per_worker)
        .collect::<Vec<_>>()
        .into_par_iter()
        .map(|start| {
            let mut embedder = Embedder::load(file, spec, 1)?;
            let mut out = Vec::new();
            let end = (start + per_worker).min(pictures.len());
            for chunk in (start..end).step_by(CHUNK) {
                let chunk_end = (chunk + CHUNK).min(end);
                for i in chunk..chunk_end {
                    let picture = pictures.get(i)?;
                    out.extend(embedder.embed_picture(&picture)?);
                }
                progress.inc((chunk_end - chunk) as u64);
            }
            Ok(out)
        })
        .collect::<Result<Vec<Vec<f32>>, BundleEvalError>>()?;
    let embeddings = parts.concat();
    let dim = embeddings.len() / pictures.len();
    Ok((embeddings, dim))
}
