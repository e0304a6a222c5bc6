//! The outfit data a stylist trains on: the Polyvore-format set and the feature statistics
//! of its training items.

use super::error::StylistError;
use super::features::{FeatureFile, Standardizer};
use super::graph::ItemGraph;
use crate::data::polyvore::{PolyvoreDataset, Split, Variant, dataset_root};
use std::path::Path;

/// The nondisjoint Polyvore-format set in `dir` (or in `dir/polyvore`).
pub fn load_dataset(dir: &Path) -> Result<PolyvoreDataset, StylistError> {
    PolyvoreDataset::load_dir(dir, Variant::Nondisjoint).map_err(|source| StylistError::Data {
        path: dataset_root(dir),
        source,
    })
}

/// Feature statistics over the items of training outfits.
pub fn fit_standardizer(
    graph: &ItemGraph,
    data: &PolyvoreDataset,
    features: &FeatureFile,
) -> Result<Standardizer, StylistError> {
    let mut train_items: Vec<&str> = data
        .split(Split::Train)
        .outfits
        .iter()
        .flat_map(|o| o.items.iter().map(String::as_str))
        .filter(|id| graph.node(id).is_some())
        .collect();
    train_items.sort_unstable();
    train_items.dedup();
    let rows = train_items
        .iter()
        .map(|id| features.get(id))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Standardizer::fit(rows, features.dim))
}
