//! Writes the generated set in the published In-shop and Polyvore Outfits formats.

use super::SynthError;
use super::garment::GarmentSpec;
use super::outfits::SplitPlan;
use super::rules::StyleRules;
use crate::data::inshop::format::{EvalStatus, PARTITION_FILE, PartitionRow, format_partition};
use crate::data::polyvore::format::{
    CategoryId, CompatibilityLine, FitbRecord, IMAGES_DIR, ItemMetadata, ItemRef, METADATA_FILE,
    OutfitItem, OutfitRecord, Split, Variant,
};
use image::RgbImage;
use rand::Rng;
use rand::seq::SliceRandom;
use std::collections::BTreeMap;
use std::path::Path;

/// Polyvore-style numeric item id of garment `index`.
pub fn polyvore_item_id(index: usize) -> String {
    (100_000_000 + index).to_string()
}

/// In-shop item id of garment `index`.
pub fn inshop_item_id(index: usize) -> String {
    format!("id_{:08}", index + 1)
}

const VIEW_NAMES: [&str; 4] = ["front", "side", "back", "full"];

/// Path (relative to the In-shop root) of view `view` of garment `garment`.
pub fn inshop_image_name(garment: &GarmentSpec, view: usize) -> String {
    let name = VIEW_NAMES.get(view).copied().unwrap_or("additional");
    format!(
        "img/SYNTH/{}/{}/01_{}_{name}.jpg",
        garment.garment_type.inshop_category(),
        inshop_item_id(garment.index),
        view + 1
    )
}

/// Path (relative to the In-shop root) of a garment's product shot used as a view.
pub fn inshop_product_name(garment: &GarmentSpec) -> String {
    format!(
        "img/SYNTH/{}/{}/01_0_product.jpg",
        garment.garment_type.inshop_category(),
        inshop_item_id(garment.index)
    )
}

/// Saves a picture as JPEG (quality 92), creating its folder.
pub fn save_jpeg(image: &RgbImage, path: &Path) -> Result<(), SynthError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| SynthError::io(dir, e))?;
    }
    let file = std::fs::File::create(path).map_err(|e| SynthError::io(path, e))?;
    let mut writer = std::io::BufWriter::new(file);
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut writer, 92)
        .encode_image(image)
        .map_err(|e| SynthError::Image {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
}

pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), SynthError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| SynthError::io(dir, e))?;
    }
    std::fs::write(path, bytes).map_err(|e| SynthError::io(path, e))
}

fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), SynthError> {
    let bytes =
        serde_json::to_vec(value).map_err(|e| SynthError::io(path, std::io::Error::other(e)))?;
    write_file(path, &bytes)
}

/// How the evaluation items' pictures split into query and gallery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvalLayout {
    /// The first half of the camera views are queries, the rest (and the product shot, when
    /// written) the gallery.
    SplitViews { product_view: bool },
    /// Every camera view is a query, the product shot alone the gallery: camera pictures
    /// against the clean shots a wardrobe is imported from.
    ViewsAgainstProduct,
}

/// `list_eval_partition.txt`: `train_items` take every view as train; the other items split
/// their pictures into query and gallery as `layout` says.
pub fn write_inshop_partition(
    root: &Path,
    specs: &[GarmentSpec],
    views: usize,
    is_train: &[bool],
    layout: EvalLayout,
) -> Result<(), SynthError> {
    let (query_views, product_view) = match layout {
        EvalLayout::SplitViews { product_view } => ((views / 2).max(1), product_view),
        EvalLayout::ViewsAgainstProduct => (views, true),
    };
    let mut rows = Vec::with_capacity(specs.len() * views);
    for g in specs {
        for v in 0..views {
            let status = match (is_train[g.index], v < query_views) {
                (true, _) => EvalStatus::Train,
                (false, true) => EvalStatus::Query,
                (false, false) => EvalStatus::Gallery,
            };
            rows.push(PartitionRow {
                image_name: inshop_image_name(g, v),
                item_id: inshop_item_id(g.index),
                status,
            });
        }
        if product_view {
            rows.push(PartitionRow {
                image_name: inshop_product_name(g),
                item_id: inshop_item_id(g.index),
                status: if is_train[g.index] {
                    EvalStatus::Train
                } else {
                    EvalStatus::Gallery
                },
            });
        }
    }
    write_file(
        &root.join(PARTITION_FILE),
        format_partition(&rows).as_bytes(),
    )
}

/// `polyvore_item_metadata.json`.
pub fn write_polyvore_metadata(
    root: &Path,
    specs: &[GarmentSpec],
    rules: &StyleRules,
) -> Result<(), SynthError> {
    let metadata: BTreeMap<String, ItemMetadata> = specs
        .iter()
        .map(|g| {
            let variant = &rules.variant[g.variant];
            let title = g.title(rules);
            let meta = ItemMetadata {
                url_name: title.replace(' ', "-"),
                description: format!("{} {} piece", variant.formality, variant.season),
                catgeories: vec![
                    g.garment_type.polyvore_semantic().to_string(),
                    variant.name.clone(),
                ],
                title,
                related: Vec::new(),
                category_id: CategoryId::Text((g.variant + 1).to_string()),
                semantic_category: g.garment_type.polyvore_semantic().to_string(),
            };
            (polyvore_item_id(g.index), meta)
        })
        .collect();
    write_json(&root.join(METADATA_FILE), &metadata)
}

/// Path of a garment's product picture below the Polyvore root.
pub fn polyvore_image_path(root: &Path, garment: usize) -> std::path::PathBuf {
    root.join(IMAGES_DIR)
        .join(format!("{}.jpg", polyvore_item_id(garment)))
}

/// One split family (`nondisjoint/` or `disjoint/`): outfits, FITB, hard FITB and
/// compatibility files per split. `set_id_base` keeps set ids unique across families.
pub fn write_polyvore_split_family(
    root: &Path,
    variant: Variant,
    plans: &BTreeMap<Split, SplitPlan>,
    set_id_base: usize,
    rng: &mut impl Rng,
) -> Result<(), SynthError> {
    let dir = root.join(variant.dir_name());
    let mut next_set = set_id_base;
    for (&split, plan) in plans {
        let set_ids: Vec<String> = plan
            .outfits
            .iter()
            .map(|_| {
                next_set += 1;
                next_set.to_string()
            })
            .collect();
        // A garment is named by its first place in one of this split's outfits.
        let mut place: BTreeMap<usize, ItemRef> = BTreeMap::new();
        for (o, outfit) in plan.outfits.iter().enumerate() {
            for (i, &g) in outfit.iter().enumerate() {
                place.entry(g).or_insert(ItemRef {
                    set_id: set_ids[o].clone(),
                    index: i as u32 + 1,
                });
            }
        }
        let item_ref = |g: usize| {
            place
                .get(&g)
                .cloned()
                .ok_or_else(|| internal(format!("garment {g} has no outfit in {split}")))
        };

        let records: Vec<OutfitRecord> = plan
            .outfits
            .iter()
            .zip(&set_ids)
            .map(|(outfit, set_id)| OutfitRecord {
                items: outfit
                    .iter()
                    .enumerate()
                    .map(|(i, &g)| OutfitItem {
                        item_id: polyvore_item_id(g),
                        index: i as u32 + 1,
                    })
                    .collect(),
                set_id: set_id.clone(),
            })
            .collect();
        write_json(&dir.join(split.outfits_file()), &records)?;

        for (questions, file) in [
            (&plan.fitb, split.fitb_file()),
            (&plan.fitb_hard, split.fitb_hard_file()),
        ] {
            let mut records = Vec::with_capacity(questions.len());
            for q in questions {
                let outfit = &plan.outfits[q.outfit];
                let set_id = &set_ids[q.outfit];
                let at = |i: usize| {
                    ItemRef {
                        set_id: set_id.clone(),
                        index: i as u32 + 1,
                    }
                    .to_string()
                };
                let question = (0..outfit.len())
                    .filter(|&i| i != q.blank)
                    .map(at)
                    .collect();
                let mut answers = vec![at(q.blank)];
                for &d in &q.distractors {
                    answers.push(item_ref(d)?.to_string());
                }
                answers.shuffle(rng);
                records.push(FitbRecord {
                    question,
                    answers,
                    blank_position: q.blank as u32 + 1,
                });
            }
            write_json(&dir.join(file), &records)?;
        }

        let mut text = String::new();
        for line in &plan.compatibility {
            let items = match line.outfit {
                Some(o) => (0..plan.outfits[o].len())
                    .map(|i| ItemRef {
                        set_id: set_ids[o].clone(),
                        index: i as u32 + 1,
                    })
                    .collect(),
                None => line
                    .garments
                    .iter()
                    .map(|&g| item_ref(g))
                    .collect::<Result<Vec<_>, _>>()?,
            };
            text.push_str(
                &CompatibilityLine {
                    compatible: line.compatible,
                    items,
                }
                .to_string(),
            );
            text.push('\n');
        }
        write_file(&dir.join(split.compatibility_file()), text.as_bytes())?;
    }
    Ok(())
}

fn internal(message: String) -> SynthError {
    SynthError::Infeasible(format!("internal: {message}"))
}
