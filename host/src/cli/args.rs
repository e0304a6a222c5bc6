//! Argument groups that several commands share.

use crate::data::polyvore::{PolyvoreDataset, Split, Variant, dataset_root};
use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use std::path::PathBuf;

/// Which Polyvore-format data and split to evaluate on.
#[derive(Args, Debug)]
pub struct OutfitDataArgs {
    /// Polyvore Outfits directory (or a directory with `polyvore/` inside).
    #[arg(long)]
    pub data: PathBuf,
    #[arg(long, value_enum, default_value_t = VariantArg::Nondisjoint)]
    pub variant: VariantArg,
    #[arg(long, value_enum, default_value_t = SplitArg::Test)]
    pub split: SplitArg,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum VariantArg {
    Nondisjoint,
    Disjoint,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum SplitArg {
    Valid,
    Test,
}

impl OutfitDataArgs {
    /// Loads the dataset these arguments name.
    pub fn load(&self) -> Result<PolyvoreDataset> {
        let variant = match self.variant {
            VariantArg::Nondisjoint => Variant::Nondisjoint,
            VariantArg::Disjoint => Variant::Disjoint,
        };
        PolyvoreDataset::load_dir(&self.data, variant).with_context(|| {
            format!(
                "loading Polyvore data from {}",
                dataset_root(&self.data).display()
            )
        })
    }

    pub fn split(&self) -> Split {
        match self.split {
            SplitArg::Valid => Split::Valid,
            SplitArg::Test => Split::Test,
        }
    }
}

/// How a training run uses the machine: devices, data workers, the decoded cache. None of it
/// is part of the run, so a run can resume with other values.
#[derive(Args, Debug, Clone, Default)]
pub struct TrainMachineArgs {
    /// Train data-parallel on these device numbers of the backend, e.g. `0,1` for two CUDA
    /// GPUs: each embeds a shard of every batch, the loss spans the whole batch and
    /// gradients are summed across devices (burn's multi-device optimizer step). With
    /// `--backend flex` every number is the one CPU (checks the path, no speed-up).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub devices: Vec<usize>,
    #[command(flatten)]
    pub data: DataPathArgs,
}

/// How the training data path uses the machine: worker threads, their queue, the decoded
/// cache (shared by `train embedder` and `bench data-path`).
#[derive(Args, Debug, Clone, Default)]
pub struct DataPathArgs {
    /// Threads that read, augment and preprocess batches ahead of the network (default: one
    /// per core).
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,
    /// Batches the workers may finish ahead of the network.
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub queue: usize,
    /// Decode the training pictures once into a cache file in DIR, so later epochs
    /// and runs skip JPEG decoding (rebuilt by itself when the pictures or the preprocessing
    /// change; one file per set, pictures at up to twice the input side). With
    /// --frozen-features the backbone's stored features go here too, named by all they
    /// depend on, so runs that differ only above the backbone share them.
    #[arg(long, value_name = "DIR")]
    pub data_cache: Option<PathBuf>,
}

impl TrainMachineArgs {
    /// The training options these arguments give (progress bars on).
    pub fn options(&self) -> crate::embedder::TrainOptions {
        crate::embedder::TrainOptions {
            progress: true,
            feed: self.data.feed(),
            cache: self.data.data_cache.clone(),
            devices: self.devices.clone(),
        }
    }
}

impl DataPathArgs {
    /// The workers and queue these arguments give.
    pub fn feed(&self) -> crate::embedder::feed::FeedOptions {
        let defaults = crate::embedder::feed::FeedOptions::default();
        crate::embedder::feed::FeedOptions {
            workers: self.workers.unwrap_or(defaults.workers).max(1),
            queue: self.queue.max(1),
        }
    }
}
