//! `capsule wardrobe ...`

use super::identify::load_embedder;
use super::{Session, read_picture};
use crate::camera::{WHOLE_PICTURE, garment_region};
use crate::garment::GarmentType;
use crate::garment::style::{style_of_view, style_view};
use crate::wardrobe::{
    GarmentId, GarmentStatus, NewGarment, WardrobeStore, import_polyvore, is_polyvore_set,
    thumbnail_png,
};
use anyhow::{Context, Result, bail};
use clap::{Subcommand, ValueEnum};
use std::path::{Path, PathBuf};

#[derive(Subcommand, Debug)]
pub enum WardrobeCommand {
    /// Add a garment from a picture.
    Add {
        image: PathBuf,
        /// top, bottom, dress, outerwear, shoes, bag or accessory.
        #[arg(long = "type")]
        garment_type: GarmentType,
        #[arg(long)]
        name: String,
        /// Embedder ONNX file (default: the active bundle's).
        #[arg(long)]
        embedder: Option<PathBuf>,
    },
    /// Import a Polyvore Outfits set (items become garments, outfits become edges), or a
    /// folder of pictures laid out as DIR/<type>/<name>.jpg|png.
    Import {
        dir: PathBuf,
        /// Embedder ONNX file (default: the active bundle's).
        #[arg(long)]
        embedder: Option<PathBuf>,
        /// Polyvore sets: import only the first N outfits (and their items).
        #[arg(long)]
        outfits: Option<usize>,
    },
    /// List garments and outfit edges.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove a garment (and its outfit edges).
    Remove { id: String },
    /// Mark a garment available, in the laundry, or stored away.
    SetStatus { id: String, status: StatusArg },
    /// Write the wardrobe (garments without pictures, and edges) as JSON.
    Export {
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum StatusArg {
    Available,
    InLaundry,
    Stored,
}

impl From<StatusArg> for GarmentStatus {
    fn from(s: StatusArg) -> Self {
        match s {
            StatusArg::Available => GarmentStatus::Available,
            StatusArg::InLaundry => GarmentStatus::InLaundry,
            StatusArg::Stored => GarmentStatus::Stored,
        }
    }
}

/// Accepts `g12` (as listed) or `12`.
fn parse_id(text: &str) -> Result<GarmentId> {
    let digits = text.strip_prefix('g').unwrap_or(text);
    digits
        .parse()
        .map(GarmentId)
        .with_context(|| format!("{text:?} is not a garment id (like g12)"))
}

fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Imports the Polyvore-format set at `dir`, embedding each item's garment region.
pub(crate) fn import_set(
    store: &WardrobeStore,
    embedder: &mut crate::engine::Embedder,
    dir: &Path,
    outfits: Option<usize>,
) -> Result<crate::wardrobe::ImportSummary> {
    let mut embed = |p: &image::RgbImage| embedder.embed(p).map_err(|e| e.to_string());
    import_polyvore(dir, store, outfits, now_unix(), &mut embed)
        .with_context(|| format!("importing Polyvore set {}", dir.display()))
}

/// Embeds and stores one picture.
fn add(
    store: &WardrobeStore,
    embedder: &mut crate::engine::Embedder,
    image: &Path,
    garment_type: GarmentType,
    name: &str,
) -> Result<GarmentId> {
    let picture = read_picture(image)?;
    let garment = garment_region(&picture, WHOLE_PICTURE);
    let embedding = embedder
        .embed(&garment)
        .with_context(|| format!("embedding {}", image.display()))?;
    let view = style_view(&garment);
    let id = store.add_garment(&NewGarment {
        garment_type,
        name: name.to_string(),
        thumbnail_png: thumbnail_png(&view)?,
        embedding,
        style: style_of_view(&view),
        added_unix: now_unix(),
    })?;
    Ok(id)
}

pub fn run(session: &Session, command: WardrobeCommand) -> Result<()> {
    let store = WardrobeStore::open(&session.data_dir)?;
    match command {
        WardrobeCommand::Add {
            image,
            garment_type,
            name,
            embedder,
        } => {
            let path = super::models::embedder_path(session, embedder.as_deref())?;
            let (mut embedder, _) = load_embedder(&path, session.threads())?;
            let id = add(&store, &mut embedder, &image, garment_type, &name)?;
            println!("added {id}: {name} ({garment_type})");
        }
        WardrobeCommand::Import {
            dir,
            embedder,
            outfits,
        } => {
            let path = super::models::embedder_path(session, embedder.as_deref())?;
            let (mut embedder, _) = load_embedder(&path, session.threads())?;
            if is_polyvore_set(&dir) {
                let summary = import_set(&store, &mut embedder, &dir, outfits)?;
                println!(
                    "imported {} garments and {} outfit edges from {} outfits",
                    summary.garments, summary.edges, summary.outfits
                );
                for why in &summary.skipped {
                    println!("  skipped {why}");
                }
                return Ok(());
            }
            let mut added = 0;
            for garment_type in GarmentType::ALL {
                let folder = dir.join(garment_type.as_str());
                let Ok(entries) = std::fs::read_dir(&folder) else {
                    continue;
                };
                let mut files: Vec<PathBuf> = entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| is_picture(p))
                    .collect();
                files.sort();
                for file in files {
                    let name = file
                        .file_stem()
                        .map(|s| s.to_string_lossy().replace(['_', '-'], " "))
                        .unwrap_or_default();
                    let id = add(&store, &mut embedder, &file, garment_type, &name)?;
                    println!("added {id}: {name} ({garment_type})");
                    added += 1;
                }
            }
            if added == 0 {
                bail!(
                    "{} has no pictures in <type>/ folders (top/, bottom/, dress/, outerwear/, shoes/, bag/, accessory/)",
                    dir.display()
                );
            }
        }
        WardrobeCommand::List { json } => {
            let garments = store.garments()?;
            let edges = store.edges()?;
            if json {
                let garments: Vec<_> = garments
                    .iter()
                    .map(|g| serde_json::json!({"id": g.id.to_string(), "type": g.garment_type, "name": g.name, "status": g.status, "added_unix": g.added_unix, "last_worn_unix": g.last_worn_unix}))
                    .collect();
                println!(
                    "{}",
                    serde_json::json!({"garments": garments, "edges": edges})
                );
            } else {
                println!(
                    "{} garments, {} outfit edges in {}",
                    garments.len(),
                    edges.len(),
                    store.path().display()
                );
                for g in &garments {
                    println!(
                        "  {:>5}  {:<10} {:<11} {}",
                        g.id.to_string(),
                        g.garment_type.as_str(),
                        format!("{:?}", g.status),
                        g.name
                    );
                }
            }
        }
        WardrobeCommand::Remove { id } => {
            let id = parse_id(&id)?;
            store.remove_garment(id)?;
            println!("removed {id}");
        }
        WardrobeCommand::SetStatus { id, status } => {
            let id = parse_id(&id)?;
            store.set_status(id, status.into())?;
            println!("{id} is now {:?}", GarmentStatus::from(status));
        }
        WardrobeCommand::Export { out } => {
            let garments: Vec<_> = store
                .garments()?
                .into_iter()
                .map(|mut g| {
                    g.thumbnail_png.clear();
                    g
                })
                .collect();
            let json = serde_json::to_vec_pretty(
                &serde_json::json!({"garments": garments, "edges": store.edges()?}),
            )?;
            crate::fsutil::write_atomic(&out, &json)?;
            println!("wrote {} garments to {}", garments.len(), out.display());
        }
    }
    Ok(())
}

fn is_picture(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "jpg" | "jpeg" | "png"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_with_or_without_prefix() {
        assert_eq!(parse_id("g12").unwrap(), GarmentId(12));
        assert_eq!(parse_id("7").unwrap(), GarmentId(7));
        assert!(parse_id("shirt").unwrap_err().to_string().contains("shirt"));
    }
}
