//! What the owner can ask of a running mirror, as data: the CLI sends these to the daemon
//! (`crate::daemon`) or, when none runs, handles them itself, and both go through
//! [`handle`], so a command does the same thing either way.

use super::mirror::{Mirror, MirrorError};
use super::reports::{ListedGarment, WardrobeChange, WardrobeList};
use crate::app::AddedGarment;
use crate::app::reports::IdentifyReport;
use crate::contract::now_unix;
use crate::garment::GarmentType;
use crate::preprocess::WHOLE_PICTURE;
use crate::suggest::Verdict;
use crate::wardrobe::{GarmentId, GarmentStatus, StoreError, WardrobeStore};
use image::RgbImage;
use serde::{Deserialize, Serialize};

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
            let seen = mirror.seen_in(picture()?)?;
            let (id, _) = mirror.adopt(&seen, *garment_type, name, now_unix())?;
            Reply::of(&WardrobeChange::Added {
                garments: vec![AddedGarment {
                    id,
                    name: name.clone(),
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
    })
}
