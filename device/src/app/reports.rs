//! What the mirror's commands report: each a `Serialize` (for `--json`) and `Display` (for
//! people) value, printed by `report::print`.

use super::import::{AddedGarment, ImportSummary};
use super::reembed::Reembedded;
use crate::board::resources::DiskSpace;
use crate::bundle::Precision;
use crate::display::ShownOutfit;
use crate::garment::GarmentType;
use crate::identify::Identification;
use crate::suggest::Verdict;
use crate::update::slots::SlotStatus;
use crate::wardrobe::{EdgeProvenance, Garment, GarmentId, GarmentStatus, OutfitEdge};
use serde::Serialize;
use std::collections::BTreeMap;
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
    Renamed {
        id: GarmentId,
        name: String,
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
            WardrobeChange::Renamed { id, name } => writeln!(f, "{id} is now called {name}"),
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

/// One garment with its history: the garment page of the web app, `Request::Garment`.
#[derive(Debug, Clone, Serialize)]
pub struct GarmentReport {
    pub garment: ListedGarment,
    /// The garments it was worn with, accepted or rejected with (and imported outfits),
    /// newest first.
    pub history: Vec<PairedWith>,
    /// The outfits suggested around it now, best first.
    pub outfits: Vec<ShownOutfit>,
}

/// One outfit edge of a garment, seen from that garment.
#[derive(Debug, Clone, Serialize)]
pub struct PairedWith {
    pub id: GarmentId,
    pub name: String,
    pub provenance: EdgeProvenance,
    pub at_unix: u64,
}

impl fmt::Display for GarmentReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let g = &self.garment;
        writeln!(
            f,
            "{}: {} ({}, {:?}, {} views)",
            g.id, g.name, g.garment_type, g.status, g.views
        )?;
        for p in &self.history {
            writeln!(f, "  {:?} with {} ({})", p.provenance, p.name, p.id)?;
        }
        for o in &self.outfits {
            writeln!(
                f,
                "  outfit {:.0}%  [{}]  — {}",
                o.score * 100.0,
                o.key,
                o.why
            )?;
        }
        Ok(())
    }
}

/// A garment's stored picture (view 0 is its own, 1.. the views added later), as a PNG in
/// base64 so it travels in a JSON reply.
#[derive(Debug, Clone, Serialize)]
pub struct ThumbnailReport {
    pub id: GarmentId,
    pub view: u32,
    pub png_base64: String,
}

impl fmt::Display for ThumbnailReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "view {} of {}: a PNG of {} base64 characters",
            self.view,
            self.id,
            self.png_base64.len()
        )
    }
}

/// What the mirror runs on: the system page of the web app, `Request::System`.
#[derive(Debug, Clone, Serialize)]
pub struct SystemReport {
    /// This capsule's version.
    pub capsule_version: String,
    /// The board profile's name, when the mirror runs with one.
    pub board: Option<String>,
    /// The bundle the running models came from (0 for a bare embedder file).
    pub bundle_version: u64,
    pub precision: Precision,
    /// Both model slots; the active one is where the running bundle came from unless it was
    /// given with `--bundle`.
    pub slots: Vec<SlotStatus>,
    /// The bundle manifest's measured figures (the model card).
    pub model_card: BTreeMap<String, f64>,
    pub garments: usize,
    pub disk: Option<DiskSpace>,
    pub uptime_s: Option<u64>,
    /// How long this mirror has run.
    pub running_s: u64,
    pub rss_kib: Option<u64>,
}

impl fmt::Display for SystemReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "capsule {} on {}: bundle {} ({}), {} garments, running {} s",
            self.capsule_version,
            self.board.as_deref().unwrap_or("no board profile"),
            self.bundle_version,
            self.precision,
            self.garments,
            self.running_s
        )?;
        for s in &self.slots {
            let what = match (s.bundle_version, &s.problem) {
                (Some(v), _) => format!("bundle {v}"),
                (None, Some(p)) => p.clone(),
                (None, None) => "empty".into(),
            };
            let active = if s.active { " (active)" } else { "" };
            writeln!(f, "  slot {}{active}: {what}", s.slot.name())?;
        }
        for (name, value) in &self.model_card {
            writeln!(f, "  {name}: {value:.3}")?;
        }
        if let Some(d) = self.disk {
            writeln!(
                f,
                "  disk: {} MiB free of {} MiB",
                d.free_bytes >> 20,
                d.total_bytes >> 20
            )?;
        }
        Ok(())
    }
}

/// `capsule update apply|rollback` (and `Request::UpdateApply`/`Rollback`): the slot now
/// active, and whether the running mirror already runs it.
#[derive(Debug, Clone, Serialize)]
pub struct UpdateReport {
    /// `apply` or `rollback`.
    pub action: &'static str,
    pub bundle_version: u64,
    pub slot: String,
    /// The slot and bundle version that were active before.
    pub previous: Option<PreviousSlot>,
    /// True when a running mirror reloaded its models; false when the bundle runs from the
    /// next start of `capsule run` (no mirror was running, or it runs other models).
    pub running: bool,
    /// When the embedder changed: what embedding the wardrobe again did.
    pub reembedded: Option<Reembedded>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PreviousSlot {
    pub slot: String,
    pub bundle_version: u64,
}

impl fmt::Display for UpdateReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.action == "rollback" {
            write!(f, "rolled back: ")?;
        }
        write!(
            f,
            "bundle {} active in slot {}",
            self.bundle_version, self.slot
        )?;
        if let Some(p) = &self.previous {
            write!(f, " (was {} in slot {})", p.bundle_version, p.slot)?;
        }
        if self.running {
            writeln!(f, "; the running mirror has reloaded its models")?;
        } else {
            writeln!(f, "; it runs from the next start of `capsule run`")?;
        }
        if let Some(r) = &self.reembedded {
            writeln!(
                f,
                "wardrobe embedded again by the new embedder: {} views",
                r.views
            )?;
            if r.from_thumbnails > 0 {
                writeln!(
                    f,
                    "  {} of them from their thumbnails (stored before views were kept): \
                     show those garments to the mirror again for better recognition",
                    r.from_thumbnails
                )?;
            }
            if !r.unreadable.is_empty() {
                writeln!(
                    f,
                    "  {} views had no readable picture and are not recognised until added again",
                    r.unreadable.len()
                )?;
            }
        }
        Ok(())
    }
}

/// `capsule update status`: what each slot holds and, from a running mirror, which bundle it
/// runs.
#[derive(Debug, Clone, Serialize)]
pub struct SlotsReport {
    pub slots: Vec<SlotStatus>,
    /// The bundle version the running mirror has loaded; `None` when no mirror answered (or
    /// it runs models from outside the slots).
    pub running: Option<u64>,
}

impl fmt::Display for SlotsReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for s in &self.slots {
            writeln!(
                f,
                "slot {}{}: {}",
                s.slot.name(),
                if s.active { " (active)" } else { "" },
                match (s.bundle_version, &s.problem) {
                    (Some(v), _) => format!("bundle {v}, models {}", s.models.join(", ")),
                    (None, Some(p)) => p.clone(),
                    (None, None) => "empty".into(),
                }
            )?;
        }
        if let Some(v) = self.running {
            writeln!(f, "the running mirror runs bundle {v}")?;
        }
        Ok(())
    }
}
