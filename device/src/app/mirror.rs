//! The mirror service: one wardrobe with its models, doing what the owner asks of the
//! mirror — recognise the garment in a picture, suggest outfits around it, take feedback,
//! adopt a new garment. The frame loop, `capsule suggest`, `capsule demo` and the tests all
//! go through it, so there is one way each of these is done.
//!
//! The store is read once when the service opens and written (opened, written, closed) for
//! each change, so other `capsule` commands can use the wardrobe while it runs; changes made
//! through the service reach its suggester at once, refreshing only the node embeddings
//! they can reach.

use super::enrol::{EnrolError, SeenGarment};
use super::models::{Models, ModelsError};
use super::reembed::{ReembedError, Reembedded, align_wardrobe};
use super::reports::{AnchorReport, FeedbackReport, SuggestReport};
use crate::display::{ShownGarment, ShownOutfit};
use crate::engine::{Embedder, EngineError};
use crate::garment::GarmentType;
use crate::identify::{EmbeddingIndex, Identification};
use crate::preprocess::GarmentView;
use crate::stylist::{Anchor, Refresh, StylistError, Suggester};
use crate::suggest::{Verdict, colour_scheme, dominant_hue, feedback_edges};
use crate::wardrobe::{
    ExtraView, Garment, GarmentId, GarmentStatus, OutfitEdge, StoreError, WardrobeStore,
    decode_thumbnail, fill_missing_styles,
};
use image::RgbImage;
use std::path::{Path, PathBuf};

/// The service could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum MirrorError {
    #[error(transparent)]
    Models(#[from] ModelsError),
    #[error("loading the embedder")]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the stylist")]
    Stylist(#[from] StylistError),
    #[error(transparent)]
    Enrol(#[from] EnrolError),
    #[error(
        "bundle {0} has no stylist models, which outfit suggestions need: make one with \
         `capsule-host bundle --stylist-run RUN`"
    )]
    NoStylist(PathBuf),
    #[error("the wardrobe is empty: say what the garment is (e.g. --type top)")]
    NoType,
    #[error("no garment {0} in the wardrobe (see `capsule wardrobe list`)")]
    UnknownGarment(GarmentId),
    #[error(transparent)]
    Reembed(#[from] ReembedError),
    #[error(
        "this mirror runs the models given by --bundle/--embedder, not the model slots: \
         restart it to run the updated slot"
    )]
    NotFromSlot,
}

/// A message for the owner on the mirror's screen (an update installed or refused), taken
/// by the frame loop and shown for a while.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    pub title: String,
    pub detail: String,
}

/// Whether the service suggests outfits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outfits {
    /// Suggest outfits; opening fails when the bundle has no stylist.
    Required,
    /// Suggest outfits when the bundle has a stylist; recognise only otherwise.
    IfAvailable,
    /// Recognise only.
    Off,
}

/// A garment seen in a picture and what the wardrobe makes of it.
#[derive(Debug, Clone)]
pub struct Recognition {
    pub view: GarmentView,
    /// The embedder's unit-length embedding of `view`.
    pub embedding: Vec<f32>,
    pub identification: Identification,
}

impl Recognition {
    /// The garment as the wardrobe would store it (thumbnail and style statistics are
    /// computed here, only when a new garment needs them).
    pub fn seen(&self) -> Result<SeenGarment, EnrolError> {
        SeenGarment::from_view(self.embedding.clone(), &self.view)
    }
}

/// The garment outfits are built around: a wardrobe garment, or one not in it yet.
#[derive(Debug, Clone)]
pub struct AnchorGarment {
    pub garment: Garment,
    pub new: bool,
    /// Similarity to the closest wardrobe garment, when recognised from a picture.
    pub similarity: Option<f32>,
}

impl AnchorGarment {
    fn anchor(&self) -> Anchor<'_> {
        if self.new {
            Anchor::New(&self.garment)
        } else {
            Anchor::Known(&self.garment)
        }
    }

    pub fn report(&self) -> AnchorReport {
        AnchorReport {
            id: (!self.new).then_some(self.garment.id),
            name: self.garment.name.clone(),
            garment_type: self.garment.garment_type,
            new: self.new,
            similarity: self.similarity,
        }
    }
}

/// The mirror service over one wardrobe.
pub struct Mirror {
    models: Models,
    embedder: Embedder,
    /// With a stylist, the suggester holds the garments; without, they are kept here.
    suggester: Option<Suggester>,
    garments: Vec<Garment>,
    /// The garments' further pictures, recognised like their first.
    views: Vec<ExtraView>,
    index: EmbeddingIndex,
    /// Garments whose embedding is from another model (not matched).
    skipped: usize,
    data_dir: PathBuf,
    /// When the service opened, for how long the mirror has run.
    opened: std::time::Instant,
    /// Whether outfits were asked for, to open the same way after an update.
    outfits: Outfits,
    /// What embedding the wardrobe again did on opening, when its embedder had changed.
    reembedded: Option<Reembedded>,
    announcement: Option<Announcement>,
}

impl Mirror {
    /// Opens the wardrobe in `data_dir` (read once, then closed) with `models`; a wardrobe
    /// embedded by another embedder is embedded again first (`app::reembed`).
    pub fn open(data_dir: &Path, models: Models, outfits: Outfits) -> Result<Self, MirrorError> {
        let mut embedder = models.embedder()?;
        let stylist = match outfits {
            Outfits::Off => None,
            Outfits::Required | Outfits::IfAvailable => models.stylist()?,
        };
        if outfits == Outfits::Required && stylist.is_none() {
            let dir = models
                .bundle
                .as_ref()
                .map_or_else(|| models.embedder_file.clone(), |b| b.dir.clone());
            return Err(MirrorError::NoStylist(dir));
        }
        let (mut garments, edges, views, reembedded) = {
            let store = WardrobeStore::open(data_dir)?;
            let reembedded = align_wardrobe(&store, &mut embedder, &models.embedder_id)?;
            let mut garments = store.garments()?;
            if stylist.is_some() {
                fill_missing_styles(&store, &mut garments)?;
            }
            (garments, store.edges()?, store.views()?, reembedded)
        };
        let suggester = match stylist {
            Some(stylist) => Some(Suggester::new(
                stylist,
                std::mem::take(&mut garments),
                edges,
            )?),
            None => None,
        };
        let mut mirror = Self {
            models,
            embedder,
            suggester,
            garments,
            views,
            index: EmbeddingIndex::default(),
            skipped: 0,
            data_dir: data_dir.to_path_buf(),
            opened: std::time::Instant::now(),
            outfits,
            reembedded,
            announcement: None,
        };
        mirror.reindex();
        Ok(mirror)
    }

    /// Opens the active slot's models again (after an update or a rollback) and swaps them
    /// in, wardrobe embedded again if the embedder changed. On any error the service keeps
    /// the models it had, untouched.
    pub fn reload(&mut self) -> Result<Option<&Reembedded>, MirrorError> {
        if !self.models.from_slot {
            return Err(MirrorError::NotFromSlot);
        }
        let models = self.models.reopen_active(&self.data_dir)?;
        let mut reopened = Mirror::open(&self.data_dir, models, self.outfits)?;
        reopened.opened = self.opened;
        *self = reopened;
        Ok(self.reembedded.as_ref())
    }

    /// What embedding the wardrobe again did when the service opened (`None`: the stored
    /// embeddings were this embedder's already).
    pub fn reembedded(&self) -> Option<&Reembedded> {
        self.reembedded.as_ref()
    }

    /// Leaves a message for the mirror's screen.
    pub fn announce(&mut self, title: impl Into<String>, detail: impl Into<String>) {
        self.announcement = Some(Announcement {
            title: title.into(),
            detail: detail.into(),
        });
    }

    /// The message left for the screen, once.
    pub fn take_announcement(&mut self) -> Option<Announcement> {
        self.announcement.take()
    }

    fn reindex(&mut self) {
        let (mut index, skipped) = EmbeddingIndex::build(self.garments());
        for view in &self.views {
            index.insert_view(view.garment, &view.embedding);
        }
        self.index = index;
        self.skipped = skipped;
    }

    pub fn models(&self) -> &Models {
        &self.models
    }

    /// Similarity under which a garment counts as new.
    pub fn threshold(&self) -> f32 {
        self.models.threshold
    }

    /// Overrides the bundle's threshold (`capsule identify --threshold`).
    pub fn set_threshold(&mut self, threshold: f32) {
        self.models.threshold = threshold;
    }

    /// Whether outfits are suggested.
    pub fn suggests(&self) -> bool {
        self.suggester.is_some()
    }

    pub fn garments(&self) -> &[Garment] {
        match &self.suggester {
            Some(s) => s.garments(),
            None => &self.garments,
        }
    }

    pub fn garment(&self, id: GarmentId) -> Option<&Garment> {
        self.garments().iter().find(|g| g.id == id)
    }

    /// Garments whose embedding is from another model, so never matched.
    pub fn unmatched(&self) -> usize {
        self.skipped
    }

    /// The garment in `picture` inside `roi`, matched against the wardrobe: up to `top`
    /// closest garments, or "new" when none is similar enough.
    pub fn recognise(
        &mut self,
        picture: &RgbImage,
        roi: [f32; 4],
        top: usize,
    ) -> Result<Recognition, MirrorError> {
        let view = self.embedder.view(picture, roi);
        let embedding = self.embedder.embed(&view)?;
        let identification = self.index.identify(&embedding, top, self.models.threshold);
        Ok(Recognition {
            view,
            embedding,
            identification,
        })
    }

    /// What to dress around a recognised garment: the matched wardrobe garment, or the seen
    /// garment as a new one of `garment_type` (default: its closest match's type).
    pub fn anchor_for(
        &self,
        recognition: &Recognition,
        garment_type: Option<GarmentType>,
    ) -> Result<AnchorGarment, MirrorError> {
        let found = &recognition.identification;
        let best = found.top.first();
        if let (false, Some(best)) = (found.new, best)
            && let Some(garment) = self.garment(best.id)
        {
            return Ok(AnchorGarment {
                garment: garment.clone(),
                new: false,
                similarity: Some(best.similarity),
            });
        }
        let garment_type = garment_type
            .or(best.map(|b| b.garment_type))
            .ok_or(MirrorError::NoType)?;
        Ok(AnchorGarment {
            garment: recognition.seen()?.unsaved(garment_type),
            new: true,
            similarity: best.map(|b| b.similarity),
        })
    }

    /// A wardrobe garment as the anchor.
    pub fn anchor_garment(&self, id: GarmentId) -> Result<AnchorGarment, MirrorError> {
        let garment = self.garment(id).ok_or(MirrorError::UnknownGarment(id))?;
        Ok(AnchorGarment {
            garment: garment.clone(),
            new: false,
            similarity: None,
        })
    }

    /// Up to `k` outfits around `anchor`, best first, with names, pictures and why; every
    /// picture shown is read in one opening of the store. Empty without a stylist.
    pub fn outfits(
        &self,
        anchor: &AnchorGarment,
        k: usize,
    ) -> Result<Vec<ShownOutfit>, MirrorError> {
        let Some(suggester) = &self.suggester else {
            return Ok(Vec::new());
        };
        let outfits = suggester.suggest(&anchor.anchor(), k)?;
        let anchor_id = anchor.garment.id;
        let lookup = |id: GarmentId| {
            if id == anchor_id {
                Some(&anchor.garment)
            } else {
                suggester.garment(id)
            }
        };
        let members: Vec<Vec<&Garment>> = outfits
            .iter()
            .map(|o| o.garments.iter().filter_map(|&id| lookup(id)).collect())
            .collect();
        let mut pictures = self.pictures(&members.concat()).into_iter();
        Ok(outfits
            .iter()
            .zip(&members)
            .map(|(outfit, members)| {
                let own: Vec<RgbImage> = pictures.by_ref().take(members.len()).collect();
                let hues: Vec<Option<f32>> = own.iter().map(dominant_hue).collect();
                ShownOutfit {
                    key: outfit.key(),
                    score: outfit.probability(),
                    why: colour_scheme(&hues).to_string(),
                    garments: members
                        .iter()
                        .map(|g| ShownGarment {
                            id: g.id,
                            name: g.name.clone(),
                            garment_type: g.garment_type,
                        })
                        .collect(),
                    pictures: members
                        .iter()
                        .zip(own)
                        .filter(|(g, _)| g.id != anchor_id)
                        .map(|(_, picture)| picture)
                        .collect(),
                }
            })
            .collect())
    }

    /// The anchor and its outfits, as `capsule suggest` reports them.
    pub fn suggest(&self, anchor: &AnchorGarment, k: usize) -> Result<SuggestReport, MirrorError> {
        Ok(SuggestReport {
            anchor: anchor.report(),
            outfits: self.outfits(anchor, k)?,
        })
    }

    /// The garments' pictures: their own thumbnails, else the stored ones, read in one
    /// opening of the store (a grey square for any it cannot read, e.g. while another
    /// process holds the store).
    pub fn pictures(&self, garments: &[&Garment]) -> Vec<RgbImage> {
        let store = WardrobeStore::open(&self.data_dir).ok();
        garments
            .iter()
            .map(|g| {
                if !g.thumbnail_png.is_empty() {
                    return decode_thumbnail(&g.thumbnail_png);
                }
                let stored = store
                    .as_ref()
                    .and_then(|s| s.thumbnail(g.id).ok().flatten());
                decode_thumbnail(stored.as_deref().unwrap_or_default())
            })
            .collect()
    }

    /// Records the owner's verdict on an outfit, in the store and in the suggester: the
    /// next suggestion already follows it.
    pub fn feedback(
        &mut self,
        outfit: &[GarmentId],
        verdict: Verdict,
        now: u64,
    ) -> Result<FeedbackReport, MirrorError> {
        let (report, edges) = store_feedback(&self.data_dir, outfit, verdict, now)?;
        if let Some(suggester) = &mut self.suggester {
            suggester.add_edges(&edges)?;
        }
        Ok(report)
    }

    /// Stores a seen garment as a new wardrobe garment; it is recognised and suggested from
    /// the next picture on.
    pub fn adopt(
        &mut self,
        seen: &SeenGarment,
        garment_type: GarmentType,
        name: &str,
        now: u64,
    ) -> Result<(GarmentId, Option<Refresh>), MirrorError> {
        let new = seen.to_new_garment(garment_type, name, now)?;
        let id = WardrobeStore::open(&self.data_dir)?.add_garment(&new)?;
        let garment = Garment {
            id,
            garment_type,
            name: name.to_string(),
            // The store holds the thumbnail; the service keeps garments without theirs.
            thumbnail_png: Vec::new(),
            embedding: new.embedding,
            style: new.style,
            added_unix: now,
            last_worn_unix: None,
            status: GarmentStatus::Available,
        };
        let refresh = match &mut self.suggester {
            Some(s) => Some(s.add_garment(garment)?),
            None => {
                self.garments.push(garment);
                None
            }
        };
        self.reindex();
        Ok((id, refresh))
    }

    /// Stores a seen garment as another view of wardrobe garment `id` (its back, folded); it
    /// is recognised by its best view from the next picture on. Returns the view's number.
    pub fn add_view(&mut self, id: GarmentId, seen: &SeenGarment) -> Result<u32, MirrorError> {
        let store = WardrobeStore::open(&self.data_dir)?;
        let view = store.add_view(id, &seen.embedding, &seen.thumbnail_png, &seen.view_jpeg()?)?;
        let added = ExtraView {
            garment: id,
            view,
            embedding: seen.embedding.clone(),
        };
        self.index.insert_view(id, &added.embedding);
        self.views.push(added);
        Ok(view)
    }

    /// The garment in `picture` as the wardrobe would store it (its whole picture).
    pub fn seen_in(&mut self, picture: &RgbImage) -> Result<SeenGarment, MirrorError> {
        Ok(SeenGarment::in_picture(
            &mut self.embedder,
            picture,
            crate::preprocess::WHOLE_PICTURE,
        )?)
    }

    /// Marks a garment available, in the laundry or stored, in the store and for the next
    /// suggestion.
    pub fn set_status(&mut self, id: GarmentId, status: GarmentStatus) -> Result<(), MirrorError> {
        WardrobeStore::open(&self.data_dir)?.set_status(id, status)?;
        self.edit(id, |s| s.set_status(id, status), |g| g.status = status)
    }

    /// Gives a garment a new name, in the store and on the next screen.
    pub fn rename(&mut self, id: GarmentId, name: &str) -> Result<(), MirrorError> {
        WardrobeStore::open(&self.data_dir)?.rename(id, name)?;
        self.edit(id, |s| s.rename(id, name), |g| g.name = name.to_string())?;
        // The index answers with names.
        self.reindex();
        Ok(())
    }

    /// Applies a change the store has taken to the service's copy of garment `id`: through
    /// the suggester when it holds the garments, else directly.
    fn edit(
        &mut self,
        id: GarmentId,
        in_suggester: impl FnOnce(&mut Suggester) -> bool,
        in_list: impl FnOnce(&mut Garment),
    ) -> Result<(), MirrorError> {
        let known = match &mut self.suggester {
            Some(s) => in_suggester(s),
            None => match self.garments.iter_mut().find(|g| g.id == id) {
                Some(g) => {
                    in_list(g);
                    true
                }
                None => false,
            },
        };
        if known {
            Ok(())
        } else {
            Err(MirrorError::UnknownGarment(id))
        }
    }

    /// Removes a garment (its views and outfit edges with it) from the store and the service.
    pub fn remove(&mut self, id: GarmentId) -> Result<(), MirrorError> {
        WardrobeStore::open(&self.data_dir)?.remove_garment(id)?;
        match &mut self.suggester {
            Some(s) => s.remove_garment(id)?,
            None => self.garments.retain(|g| g.id != id),
        }
        self.views.retain(|v| v.garment != id);
        self.index.remove(id);
        Ok(())
    }

    /// How long the service has been open.
    pub fn running_for(&self) -> std::time::Duration {
        self.opened.elapsed()
    }

    /// The data directory the service's wardrobe lives in.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// How many views garment `id` has (its own picture counts).
    pub fn view_count(&self, id: GarmentId) -> usize {
        1 + self.views.iter().filter(|v| v.garment == id).count()
    }
}

/// Writes the owner's verdict on `outfit` into the wardrobe at `data_dir`: one edge per
/// garment pair, and for "wore it" the garments' last-worn date.
pub fn record_feedback(
    data_dir: &Path,
    outfit: &[GarmentId],
    verdict: Verdict,
    now: u64,
) -> Result<FeedbackReport, StoreError> {
    store_feedback(data_dir, outfit, verdict, now).map(|(report, _)| report)
}

/// [`record_feedback`], also returning the edges written (for the suggester that takes them).
fn store_feedback(
    data_dir: &Path,
    outfit: &[GarmentId],
    verdict: Verdict,
    now: u64,
) -> Result<(FeedbackReport, Vec<OutfitEdge>), StoreError> {
    let store = WardrobeStore::open(data_dir)?;
    let edges = feedback_edges(outfit, verdict, now);
    store.put_edges(&edges)?;
    if verdict == Verdict::Wore {
        for &g in outfit {
            store.mark_worn(g, now)?;
        }
    }
    let report = FeedbackReport {
        verdict,
        outfit: outfit.to_vec(),
        pairs: edges.len(),
    };
    Ok((report, edges))
}
