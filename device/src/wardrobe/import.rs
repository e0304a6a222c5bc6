//! `capsule wardrobe import` of a Polyvore-format set: its items become garments (embedded
//! from their pictures) and its outfits become `imported` edges, in one go.

use super::store::{NewGarment, StoreError, WardrobeStore};
use super::thumbnail::thumbnail_png;
use super::types::{EdgeProvenance, GarmentId, OutfitEdge};
use crate::camera::{WHOLE_PICTURE, garment_region};
use crate::formats::polyvore::{
    IMAGES_DIR, ItemMetadata, METADATA_FILE, OutfitRecord, Split, Variant,
};
use crate::garment::GarmentType;
use crate::garment::style::{style_of_view, style_view};
use image::RgbImage;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// An import could not be done; names the file and what was wrong.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error("{path}: at JSON path `{json_path}`: {message}")]
    Json {
        path: PathBuf,
        json_path: String,
        message: String,
    },
    #[error(
        "{0}: no outfit file found (expected nondisjoint/ or disjoint/ with train.json, valid.json or test.json)"
    )]
    NoOutfits(PathBuf),
    #[error("item {item}: {message}")]
    Item { item: String, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What an import added and what it had to leave out.
#[derive(Debug, Default, serde::Serialize)]
pub struct ImportSummary {
    pub garments: usize,
    pub edges: usize,
    pub outfits: usize,
    /// Items left out, with why (unknown category, missing picture).
    pub skipped: Vec<String>,
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, ImportError> {
    let bytes = std::fs::read(path).map_err(|e| ImportError::Read {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let mut de = serde_json::Deserializer::from_slice(&bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| ImportError::Json {
        path: path.to_path_buf(),
        json_path: e.path().to_string(),
        message: e.into_inner().to_string(),
    })
}

/// True when `dir` looks like a Polyvore Outfits set.
pub fn is_polyvore_set(dir: &Path) -> bool {
    dir.join(METADATA_FILE).is_file()
}

/// Imports up to `max_outfits` outfits (all when `None`) of the set at `root`. `embed` turns a
/// garment picture into its embedding.
pub fn import_polyvore(
    root: &Path,
    store: &WardrobeStore,
    max_outfits: Option<usize>,
    now_unix: u64,
    embed: &mut dyn FnMut(&RgbImage) -> Result<Vec<f32>, String>,
) -> Result<ImportSummary, ImportError> {
    let metadata: BTreeMap<String, ItemMetadata> = read_json(&root.join(METADATA_FILE))?;
    let mut outfits: Vec<OutfitRecord> = Vec::new();
    for variant in [Variant::Nondisjoint, Variant::Disjoint] {
        for split in Split::ALL {
            let path = root.join(variant.dir_name()).join(split.outfits_file());
            if path.is_file() {
                outfits.extend(read_json::<Vec<OutfitRecord>>(&path)?);
            }
        }
        if !outfits.is_empty() {
            break;
        }
    }
    if outfits.is_empty() {
        return Err(ImportError::NoOutfits(root.to_path_buf()));
    }
    outfits.truncate(max_outfits.unwrap_or(usize::MAX));

    let mut summary = ImportSummary {
        outfits: outfits.len(),
        ..ImportSummary::default()
    };
    let mut ids: BTreeMap<String, GarmentId> = BTreeMap::new();
    let mut edges = Vec::new();
    for outfit in &outfits {
        let mut members = Vec::new();
        for item in &outfit.items {
            if let Some(&id) = ids.get(&item.item_id) {
                members.push(id);
                continue;
            }
            match add_item(root, store, &metadata, &item.item_id, now_unix, embed)? {
                Ok(id) => {
                    ids.insert(item.item_id.clone(), id);
                    summary.garments += 1;
                    members.push(id);
                }
                Err(why) => summary.skipped.push(format!("{}: {why}", item.item_id)),
            }
        }
        for (i, &a) in members.iter().enumerate() {
            for &b in &members[i + 1..] {
                edges.extend(OutfitEdge::new(a, b, EdgeProvenance::Imported, now_unix));
            }
        }
    }
    summary.skipped.sort();
    summary.skipped.dedup();
    edges.sort_by_key(|e| (e.a, e.b));
    edges.dedup_by_key(|e| (e.a, e.b));
    summary.edges = edges.len();
    store.put_edges(&edges)?;
    Ok(summary)
}

/// True for a name that is one path component inside a folder: not empty, no separator,
/// not `.` or `..`.
fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty() && !name.contains(['/', '\\', '\0']) && name != "." && name != ".."
}

/// Adds one item; `Ok(Err(why))` when it is skipped for a reason the owner should see.
fn add_item(
    root: &Path,
    store: &WardrobeStore,
    metadata: &BTreeMap<String, ItemMetadata>,
    item_id: &str,
    now_unix: u64,
    embed: &mut dyn FnMut(&RgbImage) -> Result<Vec<f32>, String>,
) -> Result<Result<GarmentId, String>, ImportError> {
    let Some(meta) = metadata.get(item_id) else {
        return Ok(Err("not in the metadata file".into()));
    };
    let Some(garment_type) = GarmentType::from_polyvore_semantic(&meta.semantic_category) else {
        return Ok(Err(format!(
            "category {:?} is not a garment type",
            meta.semantic_category
        )));
    };
    // Item ids come from the set's JSON: one that is not a plain file name (`../x`, `/x`,
    // `a/b`) would read a picture from outside the set's image folder.
    if !is_plain_file_name(item_id) {
        return Ok(Err(format!(
            "item id {item_id:?} is not a plain file name; its picture is not looked up"
        )));
    }
    let path = root.join(IMAGES_DIR).join(format!("{item_id}.jpg"));
    let picture = match image::open(&path) {
        Ok(p) => p.to_rgb8(),
        Err(e) => return Ok(Err(format!("picture {}: {e}", path.display()))),
    };
    // Embedding, thumbnail and style statistics all come from the garment's region, as
    // for a garment added from a photo.
    let picture = garment_region(&picture, WHOLE_PICTURE);
    let embedding = embed(&picture).map_err(|message| ImportError::Item {
        item: item_id.to_string(),
        message,
    })?;
    // Thumbnail and style statistics share one scaled view.
    let view = style_view(&picture);
    let thumbnail = thumbnail_png(&view).map_err(|e| ImportError::Item {
        item: item_id.to_string(),
        message: e.to_string(),
    })?;
    let name = if meta.title.trim().is_empty() {
        format!("{garment_type} {item_id}")
    } else {
        meta.title.clone()
    };
    let id = store.add_garment(&NewGarment {
        garment_type,
        name,
        thumbnail_png: thumbnail,
        embedding,
        style: style_of_view(&view),
        added_unix: now_unix,
    })?;
    Ok(Ok(id))
}
