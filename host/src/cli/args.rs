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
