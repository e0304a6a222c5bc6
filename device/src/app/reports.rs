//! What the mirror's commands report: each a `Serialize` (for `--json`) and `Display` (for
//! people) value, printed by `report::print`.

use super::import::{AddedGarment, ImportSummary};
use crate::display::ShownOutfit;
use crate::garment::GarmentType;
use crate::identify::Identification;
use crate::suggest::Verdict;
use crate::wardrobe::{Garment, GarmentId, GarmentStatus, OutfitEdge};
use serde::Serialize;
use std::fmt;
use std::path::PathBuf;

/// The garment outfits are built around, as reported.
#[derive(Debug, Clone, Serialize)]
pub struct AnchorReport {
    /// `None` for a garment not in the wardrobe.
    pub id: Option<GarmentId>,
    pub name: String,
    #[serde(rename = "type")]
    pub garment_type: GarmentType,
    pub new: bool,
    /// Similarity to the closest wardrobe garment, when recognised from a picture.
    pub similarity: Option<f32>,
}

/// `capsule suggest` and `capsule demo`: the anchor and its outfits.
#[derive(Debug, Clone, Serialize)]
pub struct SuggestReport {
    pub anchor: AnchorReport,
    pub outfits: Vec<ShownOutfit>,
}

impl fmt::Display for SuggestReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let a = &self.anchor;
        match (a.new, a.similarity) {
            (false, Some(s)) => writeln!(
                f,
                "recognised: {} ({}, match {:.0}%)",
                a.name,
                a.garment_type,
                s * 100.0
            )?,
            (false, None) => writeln!(f, "garment: {} ({})", a.name, a.garment_type)?,
            (true, _) => writeln!(f, "new garment, dressed as a {}", a.garment_type)?,
        }
        if self.outfits.is_empty() {
            writeln!(
                f,
                "no complete outfit: the wardrobe lacks garments of the types an outfit needs"
            )?;
        }
        for (i, o) in self.outfits.iter().enumerate() {
            let names: Vec<String> = o
                .garments
                .iter()
                .map(|g| format!("{} ({})", g.name, g.garment_type))
                .collect();
            writeln!(
                f,
                "{}. {:.0}%  {}  [{}]  — {}",
                i + 1,
                o.score * 100.0,
                names.join(" + "),
                o.key,
                o.why
            )?;
        }
        Ok(())
    }
}

/// `capsule identify`: the closest garments, or "new".
#[derive(Debug, Clone, Serialize)]
pub struct IdentifyReport {
    #[serde(flatten)]
    pub identification: Identification,
    pub threshold: f32,
    /// Garments whose embedding is from another model, so not matched.
    pub unmatched: usize,
}

impl fmt::Display for IdentifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let found = &self.identification;
        if found.new {
            writeln!(
                f,
                "new garment (closest similarity {:.2} < {:.2})",
                found.top.first().map_or(0.0, |m| m.similarity),
                self.threshold
            )?;
        } else if let Some(best) = found.top.first() {
            writeln!(
                f,
                "{} ({}, {}) similarity {:.2}",
                best.name, best.garment_type, best.id, best.similarity
            )?;
        }
        for m in found.top.iter().skip(1) {
            writeln!(
                f,
                "  also: {} ({}, {}) {:.2}",
                m.name, m.garment_type, m.id, m.similarity
            )?;
        }
        if self.unmatched > 0 {
            writeln!(
                f,
                "note: {} garments have embeddings from another model; re-add them to match them",
                self.unmatched
            )?;
        }
        Ok(())
    }
}

/// `capsule feedback`: what was recorded.
#[derive(Debug, Clone, Serialize)]
pub struct FeedbackReport {
    pub verdict: Verdict,
    pub outfit: Vec<GarmentId>,
    /// Garment pairs written.
    pub pairs: usize,
}

impl fmt::Display for FeedbackReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key: Vec<String> = self.outfit.iter().map(|g| g.to_string()).collect();
        writeln!(
            f,
            "recorded {:?} for {} ({} garment pairs)",
            self.verdict,
            key.join("+"),
            self.pairs
        )
    }
}

/// A wardrobe change: garments added, removed or changed.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "done", rename_all = "kebab-case")]
pub enum WardrobeChange {
    Added {
        garments: Vec<AddedGarment>,
    },
    ViewAdded {
        id: GarmentId,
        view: u32,
    },
    Imported {
        #[serde(flatten)]
        summary: ImportSummary,
    },
    Removed {
        id: GarmentId,
    },
    Status {
        id: GarmentId,
        status: GarmentStatus,
    },
    Exported {
        garments: usize,
        path: PathBuf,
    },
}

impl fmt::Display for WardrobeChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WardrobeChange::Added { garments } => {
                for g in garments {
                    writeln!(f, "added {}: {} ({})", g.id, g.name, g.garment_type)?;
                }
                Ok(())
            }
            WardrobeChange::Imported { summary } => {
                writeln!(
                    f,
                    "imported {} garments and {} outfit edges from {} outfits",
                    summary.garments, summary.edges, summary.outfits
                )?;
                for why in &summary.skipped {
                    writeln!(f, "  skipped {why}")?;
                }
                Ok(())
            }
            WardrobeChange::ViewAdded { id, view } => {
                writeln!(
                    f,
                    "added view {view} of {id}: it is recognised by its best view"
                )
            }
            WardrobeChange::Removed { id } => writeln!(f, "removed {id}"),
            WardrobeChange::Status { id, status } => writeln!(f, "{id} is now {status:?}"),
            WardrobeChange::Exported { garments, path } => {
                writeln!(f, "wrote {garments} garments to {}", path.display())
            }
        }
    }
}

/// One garment as `capsule wardrobe list` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ListedGarment {
    pub id: String,
    #[serde(rename = "type")]
    pub garment_type: GarmentType,
    pub name: String,
    pub status: GarmentStatus,
    pub added_unix: u64,
    pub last_worn_unix: Option<u64>,
    /// Pictures it is recognised by (its own and the views added with `wardrobe add --to`).
    pub views: usize,
}

impl ListedGarment {
    /// `g` with `views` pictures.
    pub fn new(g: &Garment, views: usize) -> Self {
        Self {
            id: g.id.to_string(),
            garment_type: g.garment_type,
            name: g.name.clone(),
            status: g.status,
            added_unix: g.added_unix,
            last_worn_unix: g.last_worn_unix,
            views,
        }
    }
}

/// `capsule wardrobe list`.
#[derive(Debug, Clone, Serialize)]
pub struct WardrobeList {
    pub garments: Vec<ListedGarment>,
    pub edges: Vec<OutfitEdge>,
    #[serde(skip)]
    pub store: PathBuf,
}

impl fmt::Display for WardrobeList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} garments, {} outfit edges in {}",
            self.garments.len(),
            self.edges.len(),
            self.store.display()
        )?;
        for g in &self.garments {
            writeln!(
                f,
                "  {:>5}  {:<10} {:<11} {}{}",
                g.id,
                g.garment_type.as_str(),
                format!("{:?}", g.status),
                g.name,
                match g.views {
                    0 | 1 => String::new(),
                    n => format!(" ({n} views)"),
                }
            )?;
        }
        Ok(())
    }
}
