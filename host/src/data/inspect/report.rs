//! What `inspect` counts: pictures and items per split and garment type.

use crate::data::inshop::{EvalStatus, InShopDataset, InShopImage};
use crate::data::polyvore::{PolyvoreDataset, Split, Variant};
use capsule_device::GarmentType;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// What [`super::inspect`] found.
#[derive(Debug, Clone, Serialize)]
pub struct InspectReport {
    pub root: PathBuf,
    pub inshop: Option<InShopReport>,
    /// One per variant loaded: nondisjoint, then disjoint when present.
    pub polyvore: Vec<PolyvoreReport>,
    pub contact_sheet: PathBuf,
}

/// Pictures and distinct items.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImageItemCounts {
    pub images: usize,
    pub items: usize,
}

/// In-shop counts by evaluation status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StatusCounts {
    pub train: ImageItemCounts,
    pub query: ImageItemCounts,
    pub gallery: ImageItemCounts,
}

/// Counts of an In-shop dataset.
#[derive(Debug, Clone, Serialize)]
pub struct InShopReport {
    pub root: PathBuf,
    pub total: StatusCounts,
    pub by_type: BTreeMap<GarmentType, StatusCounts>,
    /// Category folders that map to no garment type (excluded from training by type).
    pub unmapped_categories: BTreeMap<String, StatusCounts>,
}

/// Counts of one Polyvore variant.
#[derive(Debug, Clone, Serialize)]
pub struct PolyvoreReport {
    pub root: PathBuf,
    pub variant: Variant,
    /// Items in the metadata file.
    pub items: usize,
    pub missing_images: usize,
    /// Metadata items by garment type.
    pub items_by_type: BTreeMap<GarmentType, usize>,
    pub splits: BTreeMap<Split, PolyvoreSplitReport>,
}

/// Counts of one Polyvore split; `None` where the question file is absent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolyvoreSplitReport {
    pub outfits: usize,
    pub fitb: Option<usize>,
    pub fitb_hard: Option<usize>,
    pub compatibility: Option<CompatibilityCounts>,
    /// Distinct items of the split's outfits by garment type.
    pub items_by_type: BTreeMap<GarmentType, usize>,
}

/// Lines of a compatibility file by label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CompatibilityCounts {
    pub positive: usize,
    pub negative: usize,
}

/// The counts of an In-shop dataset.
pub fn inshop_report(data: &InShopDataset) -> InShopReport {
    let mut by_type: BTreeMap<GarmentType, Vec<&InShopImage>> = BTreeMap::new();
    let mut unmapped: BTreeMap<&str, Vec<&InShopImage>> = BTreeMap::new();
    for image in &data.images {
        match image.garment_type() {
            Some(t) => by_type.entry(t).or_default().push(image),
            None => unmapped
                .entry(image.category.as_str())
                .or_default()
                .push(image),
        }
    }
    InShopReport {
        root: data.root.clone(),
        total: status_counts(&data.images.iter().collect::<Vec<_>>()),
        by_type: by_type
            .into_iter()
            .map(|(t, images)| (t, status_counts(&images)))
            .collect(),
        unmapped_categories: unmapped
            .into_iter()
            .map(|(category, images)| (category.to_string(), status_counts(&images)))
            .collect(),
    }
}

fn status_counts(images: &[&InShopImage]) -> StatusCounts {
    let counts = |status: EvalStatus| {
        let with_status = images.iter().filter(|image| image.status == status);
        ImageItemCounts {
            images: with_status.clone().count(),
            items: with_status
                .map(|image| image.item_id.as_str())
                .collect::<BTreeSet<_>>()
                .len(),
        }
    };
    StatusCounts {
        train: counts(EvalStatus::Train),
        query: counts(EvalStatus::Query),
        gallery: counts(EvalStatus::Gallery),
    }
}

/// The counts of one Polyvore variant.
pub fn polyvore_report(data: &PolyvoreDataset) -> PolyvoreReport {
    let mut items_by_type = BTreeMap::new();
    for item in data.items.values() {
        *items_by_type.entry(item.garment_type).or_insert(0) += 1;
    }
    let splits = Split::ALL
        .into_iter()
        .map(|split| {
            let s = data.split(split);
            let compatibility = s.compatibility.as_ref().map(|lines| {
                let positive = lines.iter().filter(|q| q.compatible).count();
                CompatibilityCounts {
                    positive,
                    negative: lines.len() - positive,
                }
            });
            let report = PolyvoreSplitReport {
                outfits: s.outfits.len(),
                fitb: s.fitb.as_ref().map(Vec::len),
                fitb_hard: s.fitb_hard.as_ref().map(Vec::len),
                compatibility,
                items_by_type: data.count_by_type(split),
            };
            (split, report)
        })
        .collect();
    PolyvoreReport {
        root: data.root.clone(),
        variant: data.variant,
        items: data.items.len(),
        missing_images: data.missing_images().len(),
        items_by_type,
        splits,
    }
}
