//! The training data path: a training set's pictures (`super::pictures`: in memory or files
//! read on demand, with the decoded cache that spares later epochs the JPEG decoding), and
//! the worker threads that make batches ahead of the network ([`loader`]).

pub mod loader;

pub use super::pictures::{CacheOutcome, DecodedCache, PictureFiles, Pictures, decode_side};
pub use loader::{BatchPlan, FeedOptions, Feeder, ReadyBatch};

use super::data::{DataFormat, DataSource, idx_images, inshop_labels};
use super::error::EmbedderError;
use crate::data::fmnist::FashionMnist;
use crate::data::inshop::{EvalStatus, InShopDataset};
use crate::training::progress;
use capsule_device::preprocess::PreprocessSpec;
use std::collections::HashMap;
use std::path::Path;

/// A training set: pictures with one identity label each.
#[derive(Debug)]
pub struct LabelledPictures {
    pub pictures: Pictures,
    pub labels: Vec<u32>,
}

impl LabelledPictures {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The labels of the pictures at `indices`; an index past the end is an error.
    pub fn labels_at(&self, indices: &[usize]) -> Result<Vec<u32>, EmbedderError> {
        indices
            .iter()
            .map(|&i| {
                self.labels
                    .get(i)
                    .copied()
                    .ok_or_else(|| EmbedderError::Invalid(format!("picture {i} has no label")))
            })
            .collect()
    }
}

/// The training pictures of `source`, for a network preprocessing as `spec` says: In-shop
/// pictures stay files (checked to exist, decoded when a batch needs them), Fashion-MNIST's
/// are decoded now.
pub fn load_train(
    source: &DataSource,
    spec: &PreprocessSpec,
) -> Result<LabelledPictures, EmbedderError> {
    match source.format {
        DataFormat::Inshop => {
            let data = InShopDataset::load(&source.dir)?;
            let (paths, labels) = inshop_labels(&data, &[EvalStatus::Train], &mut HashMap::new());
            Ok(LabelledPictures {
                pictures: Pictures::Files(PictureFiles {
                    paths,
                    max_side: decode_side(spec),
                    cache: None,
                }),
                labels,
            })
        }
        DataFormat::Fmnist => {
            let set = idx_images(&FashionMnist::load(&source.dir)?.train, source.limit);
            Ok(LabelledPictures {
                pictures: set.pictures,
                labels: set.labels,
            })
        }
    }
}

/// Puts the decoded cache in `dir` under `set`'s picture files (built on `feeder`'s workers
/// when missing or stale, with a progress bar if `show_progress`). Pictures already in
/// memory need none: `None`.
pub fn attach_cache(
    set: &mut LabelledPictures,
    dir: &Path,
    spec: &PreprocessSpec,
    feeder: &Feeder,
    show_progress: bool,
) -> Result<Option<CacheOutcome>, EmbedderError> {
    let Pictures::Files(files) = &mut set.pictures else {
        return Ok(None);
    };
    let bar = progress::bar(files.paths.len() as u64, "pictures");
    bar.set_prefix("decoding into the cache");
    if !show_progress {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let (cache, outcome) = feeder
        .install(|| DecodedCache::open_or_build(dir, &files.paths, files.max_side, spec, &bar))?;
    bar.finish_and_clear();
    files.cache = Some(cache);
    Ok(Some(outcome))
}
