//! Importing garments in bulk: a Polyvore-format set (its items become garments, embedded
//! from their pictures, and its outfits become `imported` edges, in one go), or a folder of
//! pictures laid out as `DIR/<type>/<name>.jpg|png`.

use super::enrol::{EnrolError, SeenGarment};
use crate::camera::read_picture;
use crate::engine::Embedder;
use crate::formats::polyvore::{
    IMAGES_DIR, ItemMetadata, METADATA_FILE, OutfitRecord, Split, Variant,
};
use crate::garment::GarmentType;
use crate::preprocess::WHOLE_PICTURE;
use crate::wardrobe::{EdgeProvenance, GarmentId, OutfitEdge, StoreError, WardrobeStore};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// An import could not be done; names the file and what was wrong.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
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
    #[error("item {item}")]
    Item {
        item: String,
        #[source]
        source: EnrolError,
    },
    #[error("{path}")]
    Picture {
        path: PathBuf,
        #[source]
        source: EnrolError,
    },
    #[error(
        "{0} has no pictures in <type>/ folders (top/, bottom/, dress/, outerwear/, shoes/, \
         bag/, accessory/)"
    )]
    EmptyFolder(PathBuf),
    #[error(transparent)]
    Camera(#[from] crate::camera::CameraError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What an import added and what it had to leave out.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ImportSummary {
    pub garments: usize,
    pub edges: usize,
    pub outfits: usize,
    /// Items left out, with why (unknown category, missing picture).
    pub skipped: Vec<String>,
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, ImportError> {
    let bytes = std::fs::read(path).map_err(|source| ImportError::Read {
        path: path.to_path_buf(),
        source,
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

/// Imports up to `max_outfits` outfits (all when `None`) of the set at `root`, each item's
/// picture made into a garment by `embedder`.
pub fn import_polyvore(
    root: &Path,
    store: &WardrobeStore,
    max_outfits: Option<usize>,
    now_unix: u64,
    embedder: &mut Embedder,
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
            match add_item(root, store, &metadata, &item.item_id, now_unix, embedder)? {
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
    embedder: &mut Embedder,
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
    let picture = match read_picture(&path) {
        Ok(p) => p,
        Err(e) => return Ok(Err(crate::report::error_chain(&e))),
    };
    let seen = SeenGarment::in_picture(embedder, &picture, WHOLE_PICTURE).map_err(|source| {
        ImportError::Item {
            item: item_id.to_string(),
            source,
        }
    })?;
    let name = if meta.title.trim().is_empty() {
        format!("{garment_type} {item_id}")
    } else {
        meta.title.clone()
    };
    let new = seen
        .to_new_garment(garment_type, &name, now_unix)
        .map_err(|source| ImportError::Item {
            item: item_id.to_string(),
            source,
        })?;
    let id = store.add_garment(&new)?;
    Ok(Ok(id))
}

/// One garment added from a folder import.
#[derive(Debug, Clone, Serialize)]
pub struct AddedGarment {
    pub id: GarmentId,
    pub name: String,
    #[serde(rename = "type")]
    pub garment_type: GarmentType,
}

/// Adds every picture in `dir/<type>/` (in name order; the file name, with `_` and `-` as
/// spaces, becomes the garment's name). A folder `dir/<type>/<name>/` holds several views of
/// one garment (front, back, ...): its first picture makes the garment, the others are added
/// as its views.
pub fn import_folder(
    dir: &Path,
    store: &WardrobeStore,
    now_unix: u64,
    embedder: &mut Embedder,
) -> Result<Vec<AddedGarment>, ImportError> {
    let mut added = Vec::new();
    for garment_type in GarmentType::ALL {
        let folder = dir.join(garment_type.as_str());
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        let mut entries: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_dir() || is_picture(p))
            .collect();
        entries.sort();
        for entry in entries {
            let name = entry
                .file_stem()
                .map(|s| s.to_string_lossy().replace(['_', '-'], " "))
                .unwrap_or_default();
            let views = if entry.is_dir() {
                pictures_in(&entry)
            } else {
                vec![entry]
            };
            let Some((first, others)) = views.split_first() else {
                continue;
            };
            let garment = add_picture(first, garment_type, &name, store, now_unix, embedder)?;
            for view in others {
                add_view_picture(view, garment.id, store, embedder)?;
            }
            added.push(garment);
        }
    }
    if added.is_empty() {
        return Err(ImportError::EmptyFolder(dir.to_path_buf()));
    }
    Ok(added)
}

/// The pictures directly in `dir`, in name order.
fn pictures_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| is_picture(p))
        .collect();
    files.sort();
    files
}

/// Adds the garment in the picture file `path` as another view of garment `id`; returns
/// the view's number.
pub fn add_view_picture(
    path: &Path,
    id: GarmentId,
    store: &WardrobeStore,
    embedder: &mut Embedder,
) -> Result<u32, ImportError> {
    let seen = seen_in_file(path, embedder)?;
    let view = seen.view_jpeg().map_err(|source| ImportError::Picture {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(store.add_view(id, &seen.embedding, &seen.thumbnail_png, &view)?)
}

fn seen_in_file(path: &Path, embedder: &mut Embedder) -> Result<SeenGarment, ImportError> {
    let picture = read_picture(path)?;
    SeenGarment::in_picture(embedder, &picture, WHOLE_PICTURE).map_err(|source| {
        ImportError::Picture {
            path: path.to_path_buf(),
            source,
        }
    })
}

/// Adds the garment in the picture file `path` (a photo of one garment) to the wardrobe.
pub fn add_picture(
    path: &Path,
    garment_type: GarmentType,
    name: &str,
    store: &WardrobeStore,
    now_unix: u64,
    embedder: &mut Embedder,
) -> Result<AddedGarment, ImportError> {
    let seen = seen_in_file(path, embedder)?;
    let new = seen
        .to_new_garment(garment_type, name, now_unix)
        .map_err(|source| ImportError::Picture {
            path: path.to_path_buf(),
            source,
        })?;
    let id = store.add_garment(&new)?;
    Ok(AddedGarment {
        id,
        name: name.to_string(),
        garment_type,
    })
}

fn is_picture(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "jpg" | "jpeg" | "png"))
}
