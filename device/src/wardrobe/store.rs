//! The wardrobe store: garments and outfit edges in one crash-safe redb file.
//!
//! Every change is one fsync'd transaction, so after a power cut the store holds each
//! acknowledged write and nothing half-written. Embeddings and thumbnails sit in their own
//! tables so listing the wardrobe never decodes pictures.
//!
//! A garment's first picture gives its embedding, thumbnail and style statistics (what the
//! stylist reads); further pictures of it (its back, folded) are *views*: an embedding and a
//! thumbnail each, used to recognise it. Each embedding's garment view is kept too
//! (`wardrobe::picture`), with the name of the embedder that embedded the wardrobe, so a new
//! embedder can embed it again (`app::reembed`).

use super::types::{EdgeProvenance, Garment, GarmentId, GarmentStatus, OutfitEdge};
use crate::garment::GarmentType;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// File name of the store inside the data directory.
pub const STORE_FILE: &str = "wardrobe.redb";

const GARMENTS: TableDefinition<u64, &[u8]> = TableDefinition::new("garments");
const EMBEDDINGS: TableDefinition<u64, &[u8]> = TableDefinition::new("embeddings");
const THUMBNAILS: TableDefinition<u64, &[u8]> = TableDefinition::new("thumbnails");
const STYLES: TableDefinition<u64, &[u8]> = TableDefinition::new("styles");
const EDGES: TableDefinition<(u64, u64), &[u8]> = TableDefinition::new("edges");
/// Keyed by (garment, view number from 1; the garment's own picture is view 0).
const VIEW_EMBEDDINGS: TableDefinition<(u64, u32), &[u8]> = TableDefinition::new("view_embeddings");
const VIEW_THUMBNAILS: TableDefinition<(u64, u32), &[u8]> = TableDefinition::new("view_thumbnails");
/// The garment view each embedding was made from (JPEG), keyed like the views (0: its own).
const PICTURES: TableDefinition<(u64, u32), &[u8]> = TableDefinition::new("pictures");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const NEXT_ID: &str = "next_garment_id";
const LABELS: TableDefinition<&str, &str> = TableDefinition::new("labels");
/// Which embedder made the stored embeddings (`Models::embedder_id`).
const EMBEDDED_BY: &str = "embedded_by";

/// What is stored per garment besides its embedding and thumbnail.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct GarmentRecord {
    garment_type: GarmentType,
    name: String,
    added_unix: u64,
    last_worn_unix: Option<u64>,
    status: GarmentStatus,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct EdgeRecord {
    provenance: EdgeProvenance,
    at_unix: u64,
}

/// A garment about to be added (the store assigns its id).
#[derive(Debug, Clone)]
pub struct NewGarment {
    pub garment_type: GarmentType,
    pub name: String,
    pub thumbnail_png: Vec<u8>,
    pub embedding: Vec<f32>,
    /// `style-v1` statistics of the garment's picture (`garment::style_features`).
    pub style: Vec<f32>,
    /// The garment view the embedding was made from (`picture::view_jpeg`); empty if none.
    pub view_jpeg: Vec<u8>,
    pub added_unix: u64,
}

/// The best stored picture of a view to embed it again from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredPicture {
    /// The garment view itself (JPEG).
    View(Vec<u8>),
    /// Only its thumbnail (PNG; garments stored before views were kept).
    Thumbnail(Vec<u8>),
}

/// One more picture of a stored garment: its embedding, for recognition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExtraView {
    pub garment: GarmentId,
    /// From 1 (the garment's own picture is view 0).
    pub view: u32,
    pub embedding: Vec<f32>,
}

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("wardrobe store {path}: {source}")]
    Db {
        path: PathBuf,
        source: Box<redb::Error>,
    },
    #[error("wardrobe store {path}: record {key} is damaged: {message}")]
    Corrupt {
        path: PathBuf,
        key: String,
        message: String,
    },
    #[error("no garment {0} in the wardrobe")]
    UnknownGarment(GarmentId),
    #[error(
        "wardrobe store {0} is in use by another capsule process (stop `capsule run`, or wait for it)"
    )]
    InUse(PathBuf),
    #[error("cannot create data directory {path}: {source}")]
    Dir {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The open store.
pub struct WardrobeStore {
    db: Database,
    path: PathBuf,
}

impl WardrobeStore {
    /// Opens (creating if needed) the store in `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::Dir {
            path: data_dir.to_path_buf(),
            source,
        })?;
        let path = data_dir.join(STORE_FILE);
        let db = Database::create(&path).map_err(|e| db_error(&path, e))?;
        let store = Self { db, path };
        store.write(|txn| {
            txn.open_table(GARMENTS)?;
            txn.open_table(EMBEDDINGS)?;
            txn.open_table(THUMBNAILS)?;
            txn.open_table(STYLES)?;
            txn.open_table(EDGES)?;
            txn.open_table(VIEW_EMBEDDINGS)?;
            txn.open_table(VIEW_THUMBNAILS)?;
            txn.open_table(PICTURES)?;
            txn.open_table(META)?;
            txn.open_table(LABELS)?;
            Ok(())
        })?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` in one write transaction and commits it durably.
    fn write<T>(
        &self,
        f: impl FnOnce(&redb::WriteTransaction) -> Result<T, redb::Error>,
    ) -> Result<T, StoreError> {
        let result = (|| {
            let txn = self.db.begin_write()?;
            let value = f(&txn)?;
            txn.commit()?;
            Ok(value)
        })();
        result.map_err(|e: redb::Error| db_error(&self.path, e))
    }

    fn read(&self) -> Result<redb::ReadTransaction, StoreError> {
        self.db.begin_read().map_err(|e| db_error(&self.path, e))
    }

    /// Adds a garment; returns its new id once it is on disk.
    pub fn add_garment(&self, garment: &NewGarment) -> Result<GarmentId, StoreError> {
        let record = GarmentRecord {
            garment_type: garment.garment_type,
            name: garment.name.clone(),
            added_unix: garment.added_unix,
            last_worn_unix: None,
            status: GarmentStatus::Available,
        };
        let json = encode(&record);
        self.write(|txn| {
            let mut meta = txn.open_table(META)?;
            let id = meta.get(NEXT_ID)?.map(|v| v.value()).unwrap_or(1);
            meta.insert(NEXT_ID, id + 1)?;
            txn.open_table(GARMENTS)?.insert(id, json.as_slice())?;
            txn.open_table(EMBEDDINGS)?
                .insert(id, floats_to_bytes(&garment.embedding).as_slice())?;
            txn.open_table(THUMBNAILS)?
                .insert(id, garment.thumbnail_png.as_slice())?;
            txn.open_table(STYLES)?
                .insert(id, floats_to_bytes(&garment.style).as_slice())?;
            if !garment.view_jpeg.is_empty() {
                txn.open_table(PICTURES)?
                    .insert((id, 0), garment.view_jpeg.as_slice())?;
            }
            Ok(GarmentId(id))
        })
    }

    /// One garment with its embedding and thumbnail.
    pub fn garment(&self, id: GarmentId) -> Result<Option<Garment>, StoreError> {
        let txn = self.read()?;
        let garments = txn
            .open_table(GARMENTS)
            .map_err(|e| db_error(&self.path, e))?;
        let Some(bytes) = garments.get(id.0).map_err(|e| db_error(&self.path, e))? else {
            return Ok(None);
        };
        let record: GarmentRecord = self.decode(id, bytes.value())?;
        let embedding = txn
            .open_table(EMBEDDINGS)
            .map_err(|e| db_error(&self.path, e))?
            .get(id.0)
            .map_err(|e| db_error(&self.path, e))?
            .map(|b| bytes_to_floats(b.value()))
            .unwrap_or_default();
        let thumbnail = txn
            .open_table(THUMBNAILS)
            .map_err(|e| db_error(&self.path, e))?
            .get(id.0)
            .map_err(|e| db_error(&self.path, e))?
            .map(|b| b.value().to_vec())
            .unwrap_or_default();
        let style = self.style_of(&txn, id)?;
        Ok(Some(assemble(id, record, embedding, style, thumbnail)))
    }

    /// Every garment with its embedding, in id order; thumbnails are left empty (use
    /// [`WardrobeStore::garment`] or [`WardrobeStore::thumbnail`] for those).
    pub fn garments(&self) -> Result<Vec<Garment>, StoreError> {
        let txn = self.read()?;
        let garments = txn
            .open_table(GARMENTS)
            .map_err(|e| db_error(&self.path, e))?;
        let embeddings = txn
            .open_table(EMBEDDINGS)
            .map_err(|e| db_error(&self.path, e))?;
        let mut out = Vec::new();
        for entry in garments.iter().map_err(|e| db_error(&self.path, e))? {
            let (key, value) = entry.map_err(|e| db_error(&self.path, e))?;
            let id = GarmentId(key.value());
            let record: GarmentRecord = self.decode(id, value.value())?;
            let embedding = embeddings
                .get(id.0)
                .map_err(|e| db_error(&self.path, e))?
                .map(|b| bytes_to_floats(b.value()))
                .unwrap_or_default();
            let style = self.style_of(&txn, id)?;
            out.push(assemble(id, record, embedding, style, Vec::new()));
        }
        Ok(out)
    }

    /// The thumbnail PNG of a garment, if it has one.
    pub fn thumbnail(&self, id: GarmentId) -> Result<Option<Vec<u8>>, StoreError> {
        let txn = self.read()?;
        let table = txn
            .open_table(THUMBNAILS)
            .map_err(|e| db_error(&self.path, e))?;
        Ok(table
            .get(id.0)
            .map_err(|e| db_error(&self.path, e))?
            .map(|b| b.value().to_vec()))
    }

    /// Removes a garment and every edge that touches it.
    pub fn remove_garment(&self, id: GarmentId) -> Result<(), StoreError> {
        let removed = self.write(|txn| {
            let existed = txn.open_table(GARMENTS)?.remove(id.0)?.is_some();
            txn.open_table(EMBEDDINGS)?.remove(id.0)?;
            txn.open_table(THUMBNAILS)?.remove(id.0)?;
            txn.open_table(STYLES)?.remove(id.0)?;
            let views = (id.0, 0)..=(id.0, u32::MAX);
            txn.open_table(VIEW_EMBEDDINGS)?
                .retain_in(views.clone(), |_, _| false)?;
            txn.open_table(VIEW_THUMBNAILS)?
                .retain_in(views.clone(), |_, _| false)?;
            txn.open_table(PICTURES)?.retain_in(views, |_, _| false)?;
            let mut edges = txn.open_table(EDGES)?;
            edges.retain(|(a, b), _| a != id.0 && b != id.0)?;
            Ok(existed)
        })?;
        if removed {
            Ok(())
        } else {
            Err(StoreError::UnknownGarment(id))
        }
    }

    /// Adds another picture of garment `id` (its embedding, thumbnail and garment view, which
    /// may be empty); returns the view's number once it is on disk.
    pub fn add_view(
        &self,
        id: GarmentId,
        embedding: &[f32],
        thumbnail_png: &[u8],
        view_jpeg: &[u8],
    ) -> Result<u32, StoreError> {
        let view = self.write(|txn| {
            if txn.open_table(GARMENTS)?.get(id.0)?.is_none() {
                return Ok(None);
            }
            let mut embeddings = txn.open_table(VIEW_EMBEDDINGS)?;
            let last = embeddings
                .range((id.0, 0)..=(id.0, u32::MAX))?
                .next_back()
                .transpose()?
                .map_or(0, |(key, _)| key.value().1);
            let view = last.saturating_add(1);
            embeddings.insert((id.0, view), floats_to_bytes(embedding).as_slice())?;
            txn.open_table(VIEW_THUMBNAILS)?
                .insert((id.0, view), thumbnail_png)?;
            if !view_jpeg.is_empty() {
                txn.open_table(PICTURES)?.insert((id.0, view), view_jpeg)?;
            }
            Ok(Some(view))
        })?;
        view.ok_or(StoreError::UnknownGarment(id))
    }

    /// Every extra view of every garment, in (garment, view) order.
    pub fn views(&self) -> Result<Vec<ExtraView>, StoreError> {
        let txn = self.read()?;
        let table = txn
            .open_table(VIEW_EMBEDDINGS)
            .map_err(|e| db_error(&self.path, e))?;
        let mut out = Vec::new();
        for entry in table.iter().map_err(|e| db_error(&self.path, e))? {
            let (key, value) = entry.map_err(|e| db_error(&self.path, e))?;
            let (garment, view) = key.value();
            out.push(ExtraView {
                garment: GarmentId(garment),
                view,
                embedding: bytes_to_floats(value.value()),
            });
        }
        Ok(out)
    }

    /// The thumbnail of view `view` of garment `id` (view 0 is the garment's own).
    pub fn view_thumbnail(&self, id: GarmentId, view: u32) -> Result<Option<Vec<u8>>, StoreError> {
        if view == 0 {
            return self.thumbnail(id);
        }
        let txn = self.read()?;
        let table = txn
            .open_table(VIEW_THUMBNAILS)
            .map_err(|e| db_error(&self.path, e))?;
        Ok(table
            .get((id.0, view))
            .map_err(|e| db_error(&self.path, e))?
            .map(|b| b.value().to_vec()))
    }

    /// Every (garment, view) that has an embedding: view 0 of each garment, then its
    /// further views, in order.
    pub fn view_keys(&self) -> Result<Vec<(GarmentId, u32)>, StoreError> {
        let mut keys: Vec<(GarmentId, u32)> =
            self.garment_ids()?.into_iter().map(|id| (id, 0)).collect();
        keys.extend(self.views()?.into_iter().map(|v| (v.garment, v.view)));
        keys.sort();
        Ok(keys)
    }

    /// The best picture of view `view` of garment `id` to embed it from again.
    pub fn view_picture(
        &self,
        id: GarmentId,
        view: u32,
    ) -> Result<Option<StoredPicture>, StoreError> {
        let txn = self.read()?;
        let pictures = txn
            .open_table(PICTURES)
            .map_err(|e| db_error(&self.path, e))?;
        if let Some(bytes) = pictures
            .get((id.0, view))
            .map_err(|e| db_error(&self.path, e))?
        {
            return Ok(Some(StoredPicture::View(bytes.value().to_vec())));
        }
        Ok(self.view_thumbnail(id, view)?.map(StoredPicture::Thumbnail))
    }

    /// Which embedder made the stored embeddings, if the store has been told.
    pub fn embedded_by(&self) -> Result<Option<String>, StoreError> {
        let txn = self.read()?;
        let labels = txn
            .open_table(LABELS)
            .map_err(|e| db_error(&self.path, e))?;
        Ok(labels
            .get(EMBEDDED_BY)
            .map_err(|e| db_error(&self.path, e))?
            .map(|v| v.value().to_string()))
    }

    /// Records that `embedder_id` made the stored embeddings (they are unchanged).
    pub fn set_embedded_by(&self, embedder_id: &str) -> Result<(), StoreError> {
        self.write(|txn| {
            txn.open_table(LABELS)?.insert(EMBEDDED_BY, embedder_id)?;
            Ok(())
        })
    }

    /// Replaces the embeddings of the listed (garment, view)s and records `embedder_id` as
    /// what made them, in one transaction. Garments removed meanwhile are skipped.
    pub fn replace_embeddings(
        &self,
        embedder_id: &str,
        embeddings: &[(GarmentId, u32, Vec<f32>)],
    ) -> Result<(), StoreError> {
        self.write(|txn| {
            let garments = txn.open_table(GARMENTS)?;
            let mut own = txn.open_table(EMBEDDINGS)?;
            let mut views = txn.open_table(VIEW_EMBEDDINGS)?;
            for (id, view, embedding) in embeddings {
                if garments.get(id.0)?.is_none() {
                    continue;
                }
                let bytes = floats_to_bytes(embedding);
                match view {
                    0 => own.insert(id.0, bytes.as_slice())?,
                    n => views.insert((id.0, *n), bytes.as_slice())?,
                };
            }
            txn.open_table(LABELS)?.insert(EMBEDDED_BY, embedder_id)?;
            Ok(())
        })
    }

    /// Stores a garment's style statistics (for garments added before they existed).
    pub fn set_style(&self, id: GarmentId, style: &[f32]) -> Result<(), StoreError> {
        if self.garment(id)?.is_none() {
            return Err(StoreError::UnknownGarment(id));
        }
        self.write(|txn| {
            txn.open_table(STYLES)?
                .insert(id.0, floats_to_bytes(style).as_slice())?;
            Ok(())
        })
    }

    /// The stored style statistics of `id`; empty for a garment stored before they existed
    /// (`open` adds the table to older stores).
    fn style_of(&self, txn: &redb::ReadTransaction, id: GarmentId) -> Result<Vec<f32>, StoreError> {
        Ok(txn
            .open_table(STYLES)
            .map_err(|e| db_error(&self.path, e))?
            .get(id.0)
            .map_err(|e| db_error(&self.path, e))?
            .map(|b| bytes_to_floats(b.value()))
            .unwrap_or_default())
    }

    /// Changes a garment's status (e.g. into the laundry).
    pub fn set_status(&self, id: GarmentId, status: GarmentStatus) -> Result<(), StoreError> {
        self.update(id, |r| r.status = status)
    }

    /// Gives a garment a new name.
    pub fn rename(&self, id: GarmentId, name: &str) -> Result<(), StoreError> {
        self.update(id, |r| r.name = name.to_string())
    }

    /// Records that a garment was worn at `at_unix`.
    pub fn mark_worn(&self, id: GarmentId, at_unix: u64) -> Result<(), StoreError> {
        self.update(id, |r| r.last_worn_unix = Some(at_unix))
    }

    fn update(
        &self,
        id: GarmentId,
        change: impl FnOnce(&mut GarmentRecord),
    ) -> Result<(), StoreError> {
        let Some(garment) = self.garment(id)? else {
            return Err(StoreError::UnknownGarment(id));
        };
        let mut record = GarmentRecord {
            garment_type: garment.garment_type,
            name: garment.name,
            added_unix: garment.added_unix,
            last_worn_unix: garment.last_worn_unix,
            status: garment.status,
        };
        change(&mut record);
        let json = encode(&record);
        self.write(|txn| {
            txn.open_table(GARMENTS)?.insert(id.0, json.as_slice())?;
            Ok(())
        })
    }

    /// Adds or replaces edges in one transaction (the latest word on a pair wins). Edges
    /// naming a garment the store does not have are refused as a whole.
    pub fn put_edges(&self, edges: &[OutfitEdge]) -> Result<(), StoreError> {
        let known = self.garment_ids()?;
        if let Some(missing) = edges
            .iter()
            .flat_map(|e| [e.a, e.b])
            .find(|id| known.binary_search(id).is_err())
        {
            return Err(StoreError::UnknownGarment(missing));
        }
        let records: Vec<((u64, u64), Vec<u8>)> = edges
            .iter()
            .map(|e| {
                (
                    (e.a.0, e.b.0),
                    encode(&EdgeRecord {
                        provenance: e.provenance,
                        at_unix: e.at_unix,
                    }),
                )
            })
            .collect();
        self.write(|txn| {
            let mut table = txn.open_table(EDGES)?;
            for (key, value) in &records {
                table.insert(*key, value.as_slice())?;
            }
            Ok(())
        })
    }

    /// Every edge, in (a, b) order.
    pub fn edges(&self) -> Result<Vec<OutfitEdge>, StoreError> {
        let txn = self.read()?;
        let table = txn.open_table(EDGES).map_err(|e| db_error(&self.path, e))?;
        let mut out = Vec::new();
        for entry in table.iter().map_err(|e| db_error(&self.path, e))? {
            let (key, value) = entry.map_err(|e| db_error(&self.path, e))?;
            let (a, b) = key.value();
            let record: EdgeRecord =
                serde_json::from_slice(value.value()).map_err(|e| StoreError::Corrupt {
                    path: self.path.clone(),
                    key: format!("edge {a}-{b}"),
                    message: e.to_string(),
                })?;
            out.push(OutfitEdge {
                a: GarmentId(a),
                b: GarmentId(b),
                provenance: record.provenance,
                at_unix: record.at_unix,
            });
        }
        Ok(out)
    }

    /// Ids of every garment, sorted.
    pub fn garment_ids(&self) -> Result<Vec<GarmentId>, StoreError> {
        let txn = self.read()?;
        let table = txn
            .open_table(GARMENTS)
            .map_err(|e| db_error(&self.path, e))?;
        let mut ids = Vec::new();
        for entry in table.iter().map_err(|e| db_error(&self.path, e))? {
            ids.push(GarmentId(
                entry.map_err(|e| db_error(&self.path, e))?.0.value(),
            ));
        }
        Ok(ids)
    }

    fn decode(&self, id: GarmentId, bytes: &[u8]) -> Result<GarmentRecord, StoreError> {
        serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
            path: self.path.clone(),
            key: format!("garment {id}"),
            message: e.to_string(),
        })
    }
}

fn assemble(
    id: GarmentId,
    r: GarmentRecord,
    embedding: Vec<f32>,
    style: Vec<f32>,
    thumbnail_png: Vec<u8>,
) -> Garment {
    Garment {
        id,
        garment_type: r.garment_type,
        name: r.name,
        thumbnail_png,
        embedding,
        style,
        added_unix: r.added_unix,
        last_worn_unix: r.last_worn_unix,
        status: r.status,
    }
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Records are plain structs of strings and numbers: serialising them cannot fail.
    serde_json::to_vec(value).unwrap_or_default()
}

fn db_error(path: &Path, e: impl Into<redb::Error>) -> StoreError {
    match e.into() {
        redb::Error::DatabaseAlreadyOpen => StoreError::InUse(path.to_path_buf()),
        other => StoreError::Db {
            path: path.to_path_buf(),
            source: Box::new(other),
        },
    }
}

/// Little-endian f32s, the on-disk embedding layout.
pub fn floats_to_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Inverse of [`floats_to_bytes`]; a trailing partial float is dropped.
pub fn bytes_to_floats(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(name: &str, t: GarmentType) -> NewGarment {
        NewGarment {
            garment_type: t,
            name: name.into(),
            thumbnail_png: vec![1, 2, 3],
            embedding: vec![0.5, -0.25, 1.0],
            style: vec![0.25; 3],
            view_jpeg: Vec::new(),
            added_unix: 10,
        }
    }

    #[test]
    fn views_survive_reopening_and_leave_with_their_garment() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = {
            let store = WardrobeStore::open(dir.path()).unwrap();
            let a = store.add_garment(&new("shirt", GarmentType::Top)).unwrap();
            let b = store
                .add_garment(&new("skirt", GarmentType::Bottom))
                .unwrap();
            assert_eq!(store.add_view(a, &[0.0, 1.0, 0.0], &[7], &[]).unwrap(), 1);
            assert_eq!(store.add_view(b, &[1.0, 0.0, 0.0], &[8], &[]).unwrap(), 1);
            assert_eq!(store.add_view(a, &[0.0, 0.0, 1.0], &[9], &[]).unwrap(), 2);
            assert!(matches!(
                store.add_view(GarmentId(99), &[1.0], &[], &[]),
                Err(StoreError::UnknownGarment(GarmentId(99)))
            ));
            (a, b)
        };
        let store = WardrobeStore::open(dir.path()).unwrap();
        let views = store.views().unwrap();
        assert_eq!(
            views
                .iter()
                .map(|v| (v.garment, v.view))
                .collect::<Vec<_>>(),
            vec![(a, 1), (a, 2), (b, 1)]
        );
        assert_eq!(views[1].embedding, vec![0.0, 0.0, 1.0]);
        assert_eq!(store.view_thumbnail(a, 2).unwrap(), Some(vec![9]));
        assert_eq!(store.view_thumbnail(a, 0).unwrap(), Some(vec![1, 2, 3]));
        store.remove_garment(a).unwrap();
        let left = store.views().unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].garment, b);
        assert_eq!(store.view_thumbnail(a, 1).unwrap(), None);
        // Numbers continue after the last view, also after a removal of another garment.
        assert_eq!(store.add_view(b, &[0.5; 3], &[], &[]).unwrap(), 2);
    }

    #[test]
    fn views_keep_their_pictures_and_embeddings_are_replaced_together() {
        let dir = tempfile::tempdir().unwrap();
        let store = WardrobeStore::open(dir.path()).unwrap();
        assert_eq!(store.embedded_by().unwrap(), None);
        let with_picture = NewGarment {
            view_jpeg: vec![0xff, 0xd8, 1],
            ..new("shirt", GarmentType::Top)
        };
        let a = store.add_garment(&with_picture).unwrap();
        let b = store
            .add_garment(&new("old skirt", GarmentType::Bottom))
            .unwrap();
        store
            .add_view(a, &[0.0; 3], &[7], &[0xff, 0xd8, 2])
            .unwrap();
        store.add_view(b, &[0.0; 3], &[8], &[]).unwrap();
        assert_eq!(
            store.view_keys().unwrap(),
            vec![(a, 0), (a, 1), (b, 0), (b, 1)]
        );
        assert_eq!(
            store.view_picture(a, 1).unwrap(),
            Some(StoredPicture::View(vec![0xff, 0xd8, 2]))
        );
        // Stored before pictures were kept: the thumbnail is the best there is.
        assert_eq!(
            store.view_picture(b, 0).unwrap(),
            Some(StoredPicture::Thumbnail(vec![1, 2, 3]))
        );
        assert_eq!(store.view_picture(b, 7).unwrap(), None);
        store
            .replace_embeddings(
                "sha256:new",
                &[
                    (a, 0, vec![1.0, 0.0]),
                    (a, 1, vec![0.0, 1.0]),
                    (GarmentId(99), 0, vec![1.0]),
                ],
            )
            .unwrap();
        drop(store);
        let store = WardrobeStore::open(dir.path()).unwrap();
        assert_eq!(store.embedded_by().unwrap().as_deref(), Some("sha256:new"));
        assert_eq!(store.garment(a).unwrap().unwrap().embedding, vec![1.0, 0.0]);
        assert_eq!(store.views().unwrap()[0].embedding, vec![0.0, 1.0]);
        assert_eq!(
            store.garment_ids().unwrap(),
            vec![a, b],
            "no garment 99 appears"
        );
        store.remove_garment(a).unwrap();
        assert_eq!(store.view_picture(a, 1).unwrap(), None);
    }

    #[test]
    fn garments_and_edges_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, c) = {
            let store = WardrobeStore::open(dir.path()).unwrap();
            let a = store
                .add_garment(&new("navy shirt", GarmentType::Top))
                .unwrap();
            let b = store
                .add_garment(&new("grey trousers", GarmentType::Bottom))
                .unwrap();
            let c = store
                .add_garment(&new("black heels", GarmentType::Shoes))
                .unwrap();
            store
                .put_edges(&[
                    OutfitEdge::new(a, b, EdgeProvenance::Imported, 1).unwrap(),
                    OutfitEdge::new(c, b, EdgeProvenance::Accepted, 2).unwrap(),
                ])
                .unwrap();
            store.set_status(c, GarmentStatus::InLaundry).unwrap();
            store.mark_worn(a, 99).unwrap();
            (a, b, c)
        };
        let store = WardrobeStore::open(dir.path()).unwrap();
        let all = store.garments().unwrap();
        assert_eq!(all.iter().map(|g| g.id).collect::<Vec<_>>(), vec![a, b, c]);
        assert_eq!(all[0].embedding, vec![0.5, -0.25, 1.0]);
        assert_eq!(all[0].style, vec![0.25; 3]);
        assert_eq!(all[0].last_worn_unix, Some(99));
        assert_eq!(all[2].status, GarmentStatus::InLaundry);
        assert_eq!(
            store.garment(a).unwrap().unwrap().thumbnail_png,
            vec![1, 2, 3]
        );
        assert_eq!(store.edges().unwrap().len(), 2);

        // The latest word on a pair wins.
        store
            .put_edges(&[OutfitEdge::new(a, b, EdgeProvenance::Rejected, 5).unwrap()])
            .unwrap();
        let ab = store
            .edges()
            .unwrap()
            .into_iter()
            .find(|e| e.a == a && e.b == b)
            .unwrap();
        assert_eq!(ab.provenance, EdgeProvenance::Rejected);

        store.remove_garment(b).unwrap();
        assert!(
            store.edges().unwrap().is_empty(),
            "edges of a removed garment go with it"
        );
        assert!(matches!(
            store.remove_garment(b),
            Err(StoreError::UnknownGarment(_))
        ));
        let d = store
            .add_garment(&new("red bag", GarmentType::Bag))
            .unwrap();
        assert!(d.0 > c.0, "ids are never reused");
    }

    #[test]
    fn refuses_edges_to_unknown_garments_and_bad_files() {
        let dir = tempfile::tempdir().unwrap();
        let store = WardrobeStore::open(dir.path()).unwrap();
        let a = store.add_garment(&new("x", GarmentType::Top)).unwrap();
        let edge = OutfitEdge::new(a, GarmentId(77), EdgeProvenance::Worn, 1).unwrap();
        assert!(matches!(
            store.put_edges(&[edge]),
            Err(StoreError::UnknownGarment(GarmentId(77)))
        ));
        assert!(store.edges().unwrap().is_empty());
        assert!(matches!(
            store.set_status(GarmentId(9), GarmentStatus::Stored),
            Err(StoreError::UnknownGarment(_))
        ));

        let second = WardrobeStore::open(dir.path()).err().unwrap();
        assert!(matches!(second, StoreError::InUse(_)), "{second}");

        let junk = tempfile::tempdir().unwrap();
        std::fs::write(junk.path().join(STORE_FILE), b"not a database at all").unwrap();
        let err = WardrobeStore::open(junk.path()).err().unwrap();
        assert!(err.to_string().contains(STORE_FILE), "{err}");
    }

    #[test]
    fn float_bytes_round_trip() {
        let v = vec![1.5f32, -0.0, f32::MAX];
        assert_eq!(bytes_to_floats(&floats_to_bytes(&v)), v);
        assert_eq!(bytes_to_floats(&[0, 0, 128]), Vec::<f32>::new());
    }
}
