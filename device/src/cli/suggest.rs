//! `capsule suggest IMG|--garment ID`: outfits from the wardrobe around a garment.

use super::identify::load_embedder;
use super::{Session, models, read_picture};
use crate::camera::{WHOLE_PICTURE, garment_region};
use crate::display::{OutfitCard, Screen};
use crate::garment::GarmentType;
use crate::garment::style::{style_of_view, style_view};
use crate::identify::{DEFAULT_NEW_GARMENT_THRESHOLD, EmbeddingIndex, Identification};
use crate::runtime::{OutfitSource, OutfitView, PngSink, ScreenSink};
use crate::stylist::{Anchor, StylistModels, Suggester};
use crate::suggest::{colour_scheme, dominant_hue, parse_outfit_key};
use crate::wardrobe::{
    Garment, GarmentId, GarmentStatus, WardrobeStore, decode_thumbnail, fill_missing_styles,
};
use anyhow::{Context, Result, bail};
use clap::Args;
use image::RgbImage;
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct SuggestArgs {
    /// Picture of the garment to dress around (PNG or JPEG). A wardrobe garment is
    /// recognised; a new one is dressed as it is.
    #[arg(required_unless_present = "garment", conflicts_with = "garment")]
    pub image: Option<PathBuf>,
    /// A wardrobe garment instead of a picture (`g3` or `3`).
    #[arg(long)]
    pub garment: Option<String>,
    /// Type of a garment not in the wardrobe (default: the type of its closest match).
    #[arg(long = "type")]
    pub garment_type: Option<GarmentType>,
    /// Model bundle (default: the active slot's).
    #[arg(long)]
    pub bundle: Option<PathBuf>,
    /// How many outfits.
    #[arg(long, default_value_t = 3)]
    pub outfits: usize,
    /// Also draw the outfits screen into this PNG file (the board's display size, else
    /// 480x320).
    #[arg(long)]
    pub screen: Option<PathBuf>,
    /// Print JSON: {"anchor": {...}, "outfits": [{"key", "score", "why", "garments"}]}.
    #[arg(long)]
    pub json: bool,
}

/// The garment outfits are built around, as reported.
#[derive(Debug, Serialize)]
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

impl AnchorReport {
    /// The anchor this report describes: `garment` from the wardrobe, or a new one.
    pub fn anchor<'a>(&self, garment: &'a Garment) -> Anchor<'a> {
        if self.new {
            Anchor::New(garment)
        } else {
            Anchor::Known(garment)
        }
    }
}

#[derive(Debug, Serialize)]
pub struct GarmentReport {
    pub id: GarmentId,
    pub name: String,
    #[serde(rename = "type")]
    pub garment_type: GarmentType,
}

#[derive(Debug, Serialize)]
pub struct OutfitReport {
    /// What `capsule feedback` takes.
    pub key: String,
    pub score: f32,
    pub why: String,
    pub garments: Vec<GarmentReport>,
}

#[derive(Debug, Serialize)]
pub struct SuggestReport {
    pub anchor: AnchorReport,
    pub outfits: Vec<OutfitReport>,
}

/// Everything `suggest` and `demo` share: the bundle's models over the wardrobe.
pub(crate) struct Stylist {
    pub suggester: Suggester,
    pub embedder_path: PathBuf,
    pub threshold: f32,
    /// The wardrobe's data directory: the store is opened only to read the thumbnails of
    /// the garments shown, so `capsule wardrobe` commands work while `capsule run` runs.
    data_dir: PathBuf,
    outfits_per_view: usize,
}

impl Stylist {
    pub fn open(session: &Session, bundle: Option<&Path>) -> Result<Self> {
        let bundle = models::bundle(session, bundle)?;
        let stylist =
            StylistModels::from_bundle(&bundle, session.threads())?.with_context(|| {
                format!(
                    "bundle {} has no stylist models: make one with `capsule-host bundle \
                 --stylist-run RUN`",
                    bundle.dir.display()
                )
            })?;
        let (garments, edges) = {
            let store = WardrobeStore::open(&session.data_dir)?;
            let mut garments = store.garments()?;
            fill_missing_styles(&store, &mut garments)?;
            (garments, store.edges()?)
        };
        let threshold = bundle
            .manifest
            .metrics
            .get(crate::identify::THRESHOLD_METRIC)
            .map_or(DEFAULT_NEW_GARMENT_THRESHOLD, |&t| t as f32);
        Ok(Self {
            suggester: Suggester::new(stylist, garments, edges)
                .context("encoding the wardrobe graph")?,
            embedder_path: models::embedder_file(session, &bundle)?,
            threshold,
            data_dir: session.data_dir.clone(),
            outfits_per_view: 3,
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

    /// The garment in `picture`: a wardrobe garment when one is close enough, else a new
    /// one of `garment_type` (default: its closest match's type).
    pub fn recognise(
        &self,
        session: &Session,
        picture: &RgbImage,
        garment_type: Option<GarmentType>,
    ) -> Result<(Garment, AnchorReport)> {
        let (mut embedder, _) = load_embedder(&self.embedder_path, session.threads())?;
        let region = garment_region(picture, WHOLE_PICTURE);
        let embedding = embedder.embed(&region)?;
        let (index, _) = EmbeddingIndex::build(self.suggester.garments());
        let found = index.identify(&embedding, 1, self.threshold);
        let (garment, report) = self.anchor_for(&found, &embedding, &region, garment_type)?;
        Ok((garment, report))
    }

    /// The anchor garment of an identification: the matched wardrobe garment, or a new
    /// garment of `garment_type` (default: its closest match's type) seen in `region`.
    fn anchor_for(
        &self,
        found: &Identification,
        embedding: &[f32],
        region: &RgbImage,
        garment_type: Option<GarmentType>,
    ) -> Result<(Garment, AnchorReport)> {
        let best = found.top.first();
        if let (false, Some(best)) = (found.new, best)
            && let Some(garment) = self.suggester.garment(best.id)
        {
            let report = AnchorReport {
                id: Some(garment.id),
                name: garment.name.clone(),
                garment_type: garment.garment_type,
                new: false,
                similarity: Some(best.similarity),
            };
            return Ok((garment.clone(), report));
        }
        let garment_type = garment_type
            .or(best.map(|b| b.garment_type))
            .context("the wardrobe is empty: say what the garment is with --type")?;
        let view = style_view(region);
        let garment = Garment {
            id: GarmentId(0),
            garment_type,
            name: format!("new {garment_type}"),
            thumbnail_png: crate::wardrobe::thumbnail_png(&view).unwrap_or_default(),
            embedding: embedding.to_vec(),
            style: style_of_view(&view),
            added_unix: 0,
            last_worn_unix: None,
            status: GarmentStatus::Available,
        };
        let report = AnchorReport {
            id: None,
            name: garment.name.clone(),
            garment_type,
            new: true,
            similarity: best.map(|b| b.similarity),
        };
        Ok((garment, report))
    }

    /// Outfits around `anchor` with their explanations and pictures. Every picture shown
    /// is read in one opening of the store, once.
    pub fn outfits(&self, anchor: &Anchor, k: usize) -> Result<Vec<ShownOutfit>> {
        let outfits = self.suggester.suggest(anchor, k)?;
        let anchor_id = anchor.garment().id;
        let lookup = |id: GarmentId| {
            if id == anchor_id {
                Some(anchor.garment())
            } else {
                self.suggester.garment(id)
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
                let report = OutfitReport {
                    key: outfit.key(),
                    score: outfit.score,
                    why: colour_scheme(&hues).to_string(),
                    garments: members
                        .iter()
                        .map(|g| GarmentReport {
                            id: g.id,
                            name: g.name.clone(),
                            garment_type: g.garment_type,
                        })
                        .collect(),
                };
                let pictures = members
                    .iter()
                    .zip(own)
                    .filter(|(g, _)| g.id != anchor_id)
                    .map(|(_, picture)| picture)
                    .collect();
                ShownOutfit { report, pictures }
            })
            .collect())
    }
}

/// A suggested outfit as reported and as drawn.
pub(crate) struct ShownOutfit {
    pub report: OutfitReport,
    /// Pictures of its garments other than the anchor, in outfit order.
    pub pictures: Vec<RgbImage>,
}

/// The frame loop asks the stylist for outfits after each recognition.
impl OutfitSource for Stylist {
    fn outfits(
        &mut self,
        identification: &Identification,
        embedding: &[f32],
        view: &RgbImage,
    ) -> Result<Vec<OutfitView>, String> {
        let (garment, report) = self
            .anchor_for(identification, embedding, view, None)
            .map_err(|e| format!("{e:#}"))?;
        let anchor = report.anchor(&garment);
        let outfits = Stylist::outfits(self, &anchor, self.outfits_per_view)
            .map_err(|e| format!("suggesting outfits: {e:#}"))?;
        Ok(outfits
            .into_iter()
            .map(|o| OutfitView {
                pictures: o.pictures,
                key: o.report.key,
                score: o.report.score,
                why: o.report.why,
            })
            .collect())
    }
}

/// Draws the outfits screen of a report into `path`.
pub(crate) fn draw_outfits(
    session: &Session,
    path: &Path,
    anchor_picture: &RgbImage,
    anchor_name: &str,
    outfits: &[ShownOutfit],
) -> Result<()> {
    let (width, height) = session
        .board
        .as_ref()
        .map_or((480, 320), |b| (b.display.width, b.display.height));
    let cards: Vec<OutfitCard> = outfits
        .iter()
        .map(|o| OutfitCard {
            pictures: o.pictures.iter().collect(),
            score: o.report.score,
            why: o.report.why.clone(),
        })
        .collect();
    PngSink::new(path, width, height)
        .show(&Screen::Outfits {
            picture: anchor_picture,
            name: anchor_name,
            outfits: &cards,
        })
        .with_context(|| format!("drawing the outfits screen into {}", path.display()))
}

pub fn run(session: &Session, args: SuggestArgs) -> Result<()> {
    let stylist = Stylist::open(session, args.bundle.as_deref())?;
    let (garment, report, picture) = match (&args.image, &args.garment) {
        (Some(image), _) => {
            let picture = read_picture(image)?;
            let (garment, report) = stylist.recognise(session, &picture, args.garment_type)?;
            (garment, report, picture)
        }
        (None, Some(key)) => {
            let id = parse_outfit_key(&format!("{key}+0"))
                .and_then(|ids| ids.first().copied())
                .with_context(|| format!("--garment {key:?} is not a garment id like g3"))?;
            let Some(garment) = stylist.suggester.garment(id) else {
                bail!("no garment {id} in the wardrobe (see `capsule wardrobe list`)");
            };
            let report = AnchorReport {
                id: Some(id),
                name: garment.name.clone(),
                garment_type: garment.garment_type,
                new: false,
                similarity: None,
            };
            let picture = stylist.pictures(&[garment]).remove(0);
            (garment.clone(), report, picture)
        }
        (None, None) => bail!("give a picture or --garment ID"),
    };
    let anchor = report.anchor(&garment);
    let outfits = stylist.outfits(&anchor, args.outfits)?;
    if let Some(path) = &args.screen {
        draw_outfits(session, path, &picture, &report.name, &outfits)?;
    }
    print_report(
        SuggestReport {
            anchor: report,
            outfits: outfits.into_iter().map(|o| o.report).collect(),
        },
        args.json,
    )
}

pub(crate) fn print_report(report: SuggestReport, json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string(&report)?);
        return Ok(());
    }
    let a = &report.anchor;
    match (a.new, a.similarity) {
        (false, Some(s)) => println!(
            "recognised: {} ({}, match {:.0}%)",
            a.name,
            a.garment_type,
            s * 100.0
        ),
        (false, None) => println!("garment: {} ({})", a.name, a.garment_type),
        (true, _) => println!("new garment, dressed as a {}", a.garment_type),
    }
    if report.outfits.is_empty() {
        println!("no complete outfit: the wardrobe lacks garments of the types an outfit needs");
    }
    for (i, o) in report.outfits.iter().enumerate() {
        let names: Vec<String> = o
            .garments
            .iter()
            .map(|g| format!("{} ({})", g.name, g.garment_type))
            .collect();
        println!(
            "{}. {:.0}%  {}  [{}]  — {}",
            i + 1,
            o.score * 100.0,
            names.join(" + "),
            o.key,
            o.why
        );
    }
    Ok(())
}
