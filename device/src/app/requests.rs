//! What the owner can ask of a running mirror, as data: the CLI sends these to the daemon
//! (`crate::daemon`) or, when none runs, handles them itself, and both go through
//! [`handle`], so a command does the same thing either way.

use super::mirror::{Mirror, MirrorError};
use super::reports::{
    GarmentReport, ListedGarment, PairedWith, SlotsReport, SystemReport, ThumbnailReport,
    WardrobeChange, WardrobeList,
};
use super::updates::{self, UpdateFailure, UpdateOptions};
use crate::app::AddedGarment;
use crate::app::reports::IdentifyReport;
use crate::board::resources::{disk_space, uptime_s};
use crate::contract::now_unix;
use crate::garment::GarmentType;
use crate::preprocess::WHOLE_PICTURE;
use crate::suggest::Verdict;
use crate::update::{Slots, UpdateError};
use crate::wardrobe::{GarmentId, GarmentStatus, StoreError, WardrobeStore};
use base64::Engine as _;
use image::RgbImage;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// One request. Those marked "with a picture" carry the picture's file bytes beside them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "request", rename_all = "kebab-case")]
pub enum Request {
    /// Garments (with their views) and outfit edges.
    List,
    /// With a picture: which garment is it?
    Identify {
        top: usize,
        threshold: Option<f32>,
    },
    /// With a picture: a new garment.
    AddGarment {
        garment_type: GarmentType,
        name: String,
    },
    /// With a picture: another view of a garment.
    AddView {
        id: GarmentId,
    },
    Remove {
        id: GarmentId,
    },
    SetStatus {
        id: GarmentId,
        status: GarmentStatus,
    },
    /// The owner's verdict on an outfit.
    Feedback {
        outfit: Vec<GarmentId>,
        verdict: Verdict,
    },
    Rename {
        id: GarmentId,
        name: String,
    },
    /// One garment: its record, outfit history and up to `outfits` outfits around it.
    Garment {
        id: GarmentId,
        #[serde(default = "default_outfits")]
        outfits: usize,
    },
    /// Up to `outfits` outfits around a wardrobe garment.
    Suggest {
        id: GarmentId,
        #[serde(default = "default_outfits")]
        outfits: usize,
    },
    /// A garment's stored picture: view 0 is its own, 1.. the views added later.
    Thumbnail {
        id: GarmentId,
        #[serde(default)]
        view: u32,
    },
    /// What the mirror runs on: versions, slots, model card, disk, uptime.
    System,
    /// Switch the model slots back; a running mirror reloads its models.
    Rollback,
    /// Install the signed bundle in `dir` (a folder the mirror can read) into the inactive
    /// slot and switch to it; a running mirror reloads its models. Only over the socket:
    /// the web app has no route for it.
    UpdateApply {
        dir: PathBuf,
        #[serde(default)]
        allow_downgrade: bool,
        /// Hex ed25519 public keys to trust besides none: the asker sends its board
        /// profile's keys and the owner's `--trusted-key`s.
        #[serde(default)]
        trusted_keys: Vec<String>,
    },
    /// What each slot holds, and what the mirror runs.
    UpdateStatus,
}

/// Most outfits one request may ask for: each costs stylist work on the frame loop's thread.
pub const MAX_OUTFITS: usize = 12;
/// Longest garment name, in characters.
pub const MAX_NAME: usize = 80;

fn default_outfits() -> usize {
    3
}

/// A handled request's report, rendered both ways, so whoever asked can print it as the
/// command would have (`report::write` takes it like any report).
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub text: String,
    pub json: serde_json::Value,
}

impl Reply {
    pub fn of<R: Serialize + std::fmt::Display>(report: &R) -> Self {
        Self {
            text: report.to_string(),
            // Reports are plain data: they always serialise.
            json: serde_json::to_value(report).unwrap_or(serde_json::Value::Null),
        }
    }
}

impl Serialize for Reply {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.json.serialize(serializer)
    }
}

impl std::fmt::Display for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.text.trim_end())
    }
}

/// A request could not be served.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error(transparent)]
    Mirror(#[from] MirrorError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("this request needs a picture of the garment")]
    NoPicture,
    #[error("garment {id} has no view {view}")]
    NoView { id: GarmentId, view: u32 },
    #[error(
        "a garment name must be 1 to {MAX_NAME} characters without control characters, not {0:?}"
    )]
    BadName(String),
    #[error(transparent)]
    Update(#[from] UpdateError),
    /// Boxed: an update's failure carries the mirror's error whole.
    #[error(transparent)]
    Updating(Box<UpdateFailure>),
}

impl From<UpdateFailure> for RequestError {
    fn from(failure: UpdateFailure) -> Self {
        RequestError::Updating(Box::new(failure))
    }
}

/// Whose fault a failed request was, for callers that answer in status codes (the web app).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The request was wrong (no picture, a bad name): the asker can fix it.
    Request,
    /// It named a garment or view the wardrobe does not have.
    NotFound,
    /// The mirror could not do it (store, models, slots).
    Mirror,
}

impl RequestError {
    /// An update refused for what the asker sent (a bad bundle or key), not the mirror.
    fn refused_update(&self) -> bool {
        matches!(
            self,
            RequestError::Updating(f)
                if matches!(**f, UpdateFailure::Refused { .. } | UpdateFailure::Key { .. })
        )
    }

    pub fn fault(&self) -> Fault {
        match self {
            RequestError::NoPicture | RequestError::BadName(_) => Fault::Request,
            RequestError::NoView { .. }
            | RequestError::Mirror(MirrorError::UnknownGarment(_))
            | RequestError::Mirror(MirrorError::Store(StoreError::UnknownGarment(_)))
            | RequestError::Store(StoreError::UnknownGarment(_)) => Fault::NotFound,
            RequestError::Mirror(MirrorError::NoType) => Fault::Request,
            RequestError::Updating(_) if self.refused_update() => Fault::Request,
            _ => Fault::Mirror,
        }
    }
}

/// `name` as a garment name: trimmed, non-empty, short, printable.
fn checked_name(name: &str) -> Result<&str, RequestError> {
    let trimmed = name.trim();
    let length = trimmed.chars().count();
    if length == 0 || length > MAX_NAME || trimmed.chars().any(char::is_control) {
        return Err(RequestError::BadName(
            name.chars().take(MAX_NAME + 1).collect(),
        ));
    }
    Ok(trimmed)
}

/// Serves `request` with `mirror`: the store changes and the running service (index,
/// suggester) follows at once.
pub fn handle(
    mirror: &mut Mirror,
    request: &Request,
    picture: Option<&RgbImage>,
) -> Result<Reply, RequestError> {
    let picture = || picture.ok_or(RequestError::NoPicture);
    Ok(match request {
        Request::List => {
            let store = WardrobeStore::open(mirror.data_dir())?;
            let list = WardrobeList {
                garments: mirror
                    .garments()
                    .iter()
                    .map(|g| ListedGarment::new(g, mirror.view_count(g.id)))
                    .collect(),
                edges: store.edges()?,
                store: store.path().to_path_buf(),
            };
            Reply::of(&list)
        }
        Request::Identify { top, threshold } => {
            let stored = mirror.threshold();
            if let Some(t) = threshold {
                mirror.set_threshold(*t);
            }
            let recognised = mirror.recognise(picture()?, WHOLE_PICTURE, *top);
            let report = recognised.map(|r| IdentifyReport {
                identification: r.identification,
                threshold: mirror.threshold(),
                unmatched: mirror.unmatched(),
            });
            mirror.set_threshold(stored);
            Reply::of(&report?)
        }
        Request::AddGarment { garment_type, name } => {
            let name = checked_name(name)?;
            let seen = mirror.seen_in(picture()?)?;
            let (id, _) = mirror.adopt(&seen, *garment_type, name, now_unix())?;
            Reply::of(&WardrobeChange::Added {
                garments: vec![AddedGarment {
                    id,
                    name: name.to_string(),
                    garment_type: *garment_type,
                }],
            })
        }
        Request::AddView { id } => {
            let seen = mirror.seen_in(picture()?)?;
            let view = mirror.add_view(*id, &seen)?;
            Reply::of(&WardrobeChange::ViewAdded { id: *id, view })
        }
        Request::Remove { id } => {
            mirror.remove(*id)?;
            Reply::of(&WardrobeChange::Removed { id: *id })
        }
        Request::SetStatus { id, status } => {
            mirror.set_status(*id, *status)?;
            Reply::of(&WardrobeChange::Status {
                id: *id,
                status: *status,
            })
        }
        Request::Feedback { outfit, verdict } => {
            Reply::of(&mirror.feedback(outfit, *verdict, now_unix())?)
        }
        Request::Rename { id, name } => {
            let name = checked_name(name)?;
            mirror.rename(*id, name)?;
            Reply::of(&WardrobeChange::Renamed {
                id: *id,
                name: name.to_string(),
            })
        }
        Request::Garment { id, outfits } => Reply::of(&garment_report(mirror, *id, *outfits)?),
        Request::Suggest { id, outfits } => {
            let anchor = mirror.anchor_garment(*id)?;
            Reply::of(&mirror.suggest(&anchor, (*outfits).min(MAX_OUTFITS))?)
        }
        Request::Thumbnail { id, view } => {
            mirror
                .garment(*id)
                .ok_or(MirrorError::UnknownGarment(*id))?;
            let store = WardrobeStore::open(mirror.data_dir())?;
            let png = match view {
                0 => store.thumbnail(*id)?,
                n => store.view_thumbnail(*id, *n)?,
            };
            let png = png.ok_or(RequestError::NoView {
                id: *id,
                view: *view,
            })?;
            Reply::of(&ThumbnailReport {
                id: *id,
                view: *view,
                png_base64: base64::engine::general_purpose::STANDARD.encode(png),
            })
        }
        Request::System => Reply::of(&system_report(mirror)?),
        Request::Rollback => {
            let data_dir = mirror.data_dir().to_path_buf();
            Reply::of(&updates::rollback(&data_dir, Some(mirror))?)
        }
        Request::UpdateApply {
            dir,
            allow_downgrade,
            trusted_keys,
        } => {
            let data_dir = mirror.data_dir().to_path_buf();
            let options = UpdateOptions {
                trusted_keys: trusted_keys.clone(),
                allow_downgrade: *allow_downgrade,
                threads: mirror.models().threads,
            };
            Reply::of(&updates::apply(&data_dir, dir, &options, Some(mirror))?)
        }
        Request::UpdateStatus => Reply::of(&SlotsReport {
            slots: Slots::new(mirror.data_dir()).status()?,
            running: mirror
                .models()
                .from_slot
                .then(|| mirror.models().bundle.as_ref())
                .flatten()
                .map(|b| b.manifest.bundle_version),
        }),
    })
}

fn garment_report(
    mirror: &Mirror,
    id: GarmentId,
    outfits: usize,
) -> Result<GarmentReport, RequestError> {
    let anchor = mirror.anchor_garment(id)?;
    let mut history: Vec<PairedWith> = WardrobeStore::open(mirror.data_dir())?
        .edges()?
        .into_iter()
        .filter_map(|e| {
            let other = match (e.a == id, e.b == id) {
                (true, _) => e.b,
                (_, true) => e.a,
                _ => return None,
            };
            Some(PairedWith {
                id: other,
                name: mirror
                    .garment(other)
                    .map(|g| g.name.clone())
                    .unwrap_or_default(),
                provenance: e.provenance,
                at_unix: e.at_unix,
            })
        })
        .collect();
    history.sort_by(|a, b| b.at_unix.cmp(&a.at_unix).then(a.id.cmp(&b.id)));
    Ok(GarmentReport {
        garment: ListedGarment::new(&anchor.garment, mirror.view_count(id)),
        history,
        outfits: mirror.outfits(&anchor, outfits.min(MAX_OUTFITS))?,
    })
}

fn system_report(mirror: &Mirror) -> Result<SystemReport, RequestError> {
    let models = mirror.models();
    Ok(SystemReport {
        capsule_version: env!("CARGO_PKG_VERSION").to_string(),
        board: models.board.clone(),
        bundle_version: models
            .bundle
            .as_ref()
            .map_or(0, |b| b.manifest.bundle_version),
        precision: models.precision,
        slots: Slots::new(mirror.data_dir()).status()?,
        model_card: models.manifest.metrics.clone(),
        garments: mirror.garments().len(),
        disk: disk_space(mirror.data_dir()),
        uptime_s: uptime_s(),
        running_s: mirror.running_for().as_secs(),
        rss_kib: crate::memory::rss_kib(),
    })
}
