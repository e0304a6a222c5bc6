//! A bundle's embedder over a picture list, as the board runs it: the garment view of the
//! whole picture (the manifest's crop), the manifest's preprocessing, tract, unit length.

use capsule_device::engine::{Embedder, EngineError};
use capsule_device::preprocess::PreprocessSpec;
use image::RgbImage;
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
    pictures: &[RgbImage],
    progress: &ProgressBar,
) -> Result<(Vec<f32>, usize), EngineError> {
    if pictures.is_empty() {
        return Ok((Vec::new(), 0));
    }
    let workers = rayon::current_num_threads().max(1);
    let per_worker = pictures.len().div_ceil(workers);
    let parts = pictures
        .par_chunks(per_worker)
        .map(|part| {
            let mut embedder = Embedder::load(file, spec, 1)?;
            let mut out = Vec::new();
            for chunk in part.chunks(CHUNK) {
                for picture in chunk {
                    out.extend(embedder.embed_picture(picture)?);
                }
                progress.inc(chunk.len() as u64);
            }
            Ok(out)
        })
        .collect::<Result<Vec<Vec<f32>>, EngineError>>()?;
    let embeddings = parts.concat();
    let dim = embeddings.len() / pictures.len();
    Ok((embeddings, dim))
}
