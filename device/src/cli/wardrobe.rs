//! `capsule wardrobe ...`

use super::Session;
use crate::app::Request;
use crate::app::reembed::align_wardrobe;
use crate::app::reports::{ListedGarment, WardrobeChange, WardrobeList};
use crate::app::{add_picture, add_view_picture, import_folder, import_polyvore, is_polyvore_set};
use crate::contract::now_unix;
use crate::fsutil::write_atomic;
use crate::garment::GarmentType;
use crate::wardrobe::{GarmentId, GarmentStatus, WardrobeStore};
use anyhow::{Context, Result};
use clap::Subcommand;
use std::path::{Path, PathBuf};

#[derive(Subcommand, Debug)]
pub enum WardrobeCommand {
    /// Add a garment from a picture, or (with --to) another view of a garment: its back, or
    /// folded. A garment is recognised by its best view.
    Add {
        image: PathBuf,
        /// top, bottom, dress, outerwear, shoes, bag or accessory.
        #[arg(long = "type", required_unless_present = "to", conflicts_with = "to")]
        garment_type: Option<GarmentType>,
        #[arg(long, required_unless_present = "to", conflicts_with = "to")]
        name: Option<String>,
        /// Add the picture as another view of this garment (`g12` or `12`).
        #[arg(long)]
        to: Option<GarmentId>,
        /// Embedder ONNX file or bundle directory (default: the active bundle's).
        #[arg(long)]
        embedder: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Import a Polyvore Outfits set (items become garments, outfits become edges), or a
    /// folder of pictures laid out as DIR/<type>/<name>.jpg|png (or DIR/<type>/<name>/ holding
    /// several views of one garment).
    Import {
        dir: PathBuf,
        /// Embedder ONNX file or bundle directory (default: the active bundle's).
        #[arg(long)]
        embedder: Option<PathBuf>,
        /// Polyvore sets: import only the first N outfits (and their items).
        #[arg(long)]
        outfits: Option<usize>,
        #[arg(long)]
        json: bool,
    },
    /// List garments and outfit edges.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove a garment (and its outfit edges).
    Remove {
        /// The garment, as listed (`g12` or `12`).
        id: GarmentId,
        #[arg(long)]
        json: bool,
    },
    /// Mark a garment available, in the laundry, or stored away.
    SetStatus {
        /// The garment, as listed (`g12` or `12`).
        id: GarmentId,
        status: GarmentStatus,
        #[arg(long)]
        json: bool,
    },
    /// Write the wardrobe (garments without pictures, their further views' embeddings, and
    /// edges) as JSON.
    Export {
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

/// The request a command is, for a running capsule to serve; `None` for those it does
/// not serve (imports, exports, and commands naming their own models).
fn as_request(command: &WardrobeCommand) -> Option<(Request, Option<&Path>, bool)> {
    Some(match command {
        WardrobeCommand::Add {
            image,
            garment_type,
            name,
            to,
            embedder: None,
            json,
        } => {
            let request = match (to, garment_type, name) {
                (Some(id), _, _) => Request::AddView { id: *id },
                (None, Some(garment_type), Some(name)) => Request::AddGarment {
                    garment_type: *garment_type,
                    name: name.clone(),
                },
                _ => return None,
            };
            (request, Some(image.as_path()), *json)
        }
        WardrobeCommand::List { json } => (Request::List, None, *json),
        WardrobeCommand::Remove { id, json } => (Request::Remove { id: *id }, None, *json),
        WardrobeCommand::SetStatus { id, status, json } => (
            Request::SetStatus {
                id: *id,
                status: *status,
            },
            None,
            *json,
        ),
        _ => return None,
    })
}

pub fn run(session: &Session, command: WardrobeCommand) -> Result<()> {
    if let Some((request, picture, json)) = as_request(&command)
        && let Some(reply) = session.ask_daemon(&request, picture)?
    {
        return session.print(&reply, json);
    }
    let store = WardrobeStore::open(&session.data_dir)?;
    let (report, json) = match command {
        WardrobeCommand::Add {
            image,
            garment_type,
            name,
            to,
            embedder,
            json,
        } => {
            let models = session.models(None, embedder.as_deref())?;
            let mut embedder = models.embedder()?;
            align_wardrobe(&store, &mut embedder, &models.embedder_id)?;
            let report = match (to, garment_type, name) {
                (Some(id), _, _) => {
                    let view = add_view_picture(&image, id, &store, &mut embedder)?;
                    WardrobeChange::ViewAdded { id, view }
                }
                (None, Some(garment_type), Some(name)) => {
                    let added = add_picture(
                        &image,
                        garment_type,
                        &name,
                        &store,
                        now_unix(),
                        &mut embedder,
                    )?;
                    WardrobeChange::Added {
                        garments: vec![added],
                    }
                }
                _ => anyhow::bail!("a new garment needs --type and --name (or --to ID for a view)"),
            };
            (report, json)
        }
        WardrobeCommand::Import {
            dir,
            embedder,
            outfits,
            json,
        } => {
            let models = session.models(None, embedder.as_deref())?;
            let mut embedder = models.embedder()?;
            align_wardrobe(&store, &mut embedder, &models.embedder_id)?;
            let report = if is_polyvore_set(&dir) {
                let summary = import_polyvore(&dir, &store, outfits, now_unix(), &mut embedder)
                    .with_context(|| format!("importing Polyvore set {}", dir.display()))?;
                WardrobeChange::Imported { summary }
            } else {
                let garments = import_folder(&dir, &store, now_unix(), &mut embedder)?;
                WardrobeChange::Added { garments }
            };
            (report, json)
        }
        WardrobeCommand::List { json } => {
            let views = store.views()?;
            let list = WardrobeList {
                garments: store
                    .garments()?
                    .iter()
                    .map(|g| {
                        let extra = views.iter().filter(|v| v.garment == g.id).count();
                        ListedGarment::new(g, 1 + extra)
                    })
                    .collect(),
                edges: store.edges()?,
                store: store.path().to_path_buf(),
            };
            return session.print(&list, json);
        }
        WardrobeCommand::Remove { id, json } => {
            store.remove_garment(id)?;
            (WardrobeChange::Removed { id }, json)
        }
        WardrobeCommand::SetStatus { id, status, json } => {
            store.set_status(id, status)?;
            (WardrobeChange::Status { id, status }, json)
        }
        WardrobeCommand::Export { out, json } => {
            let garments: Vec<_> = store
                .garments()?
                .into_iter()
                .map(|mut g| {
                    g.thumbnail_png.clear();
                    g
                })
                .collect();
            let bytes = serde_json::to_vec_pretty(&serde_json::json!({
                "garments": garments,
                "views": store.views()?,
                "edges": store.edges()?,
            }))?;
            write_atomic(&out, &bytes)?;
            let report = WardrobeChange::Exported {
                garments: garments.len(),
                path: out,
            };
            (report, json)
        }
    };
    session.print(&report, json)
}
