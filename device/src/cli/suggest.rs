//! `capsule suggest IMG|--garment ID`: outfits from the wardrobe around a garment.

use super::Session;
use crate::app::reports::SuggestReport;
use crate::app::{Mirror, Outfits};
use crate::camera::read_picture;
use crate::display::{PngSink, Screen, ScreenSink};
use crate::garment::GarmentType;
use crate::preprocess::WHOLE_PICTURE;
use crate::wardrobe::GarmentId;
use anyhow::{Context, Result, bail};
use clap::Args;
use image::RgbImage;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct SuggestArgs {
    /// Picture of the garment to dress around (PNG or JPEG). A wardrobe garment is
    /// recognised; a new one is dressed as it is.
    #[arg(required_unless_present = "garment", conflicts_with = "garment")]
    pub image: Option<PathBuf>,
    /// A wardrobe garment instead of a picture (`g3` or `3`).
    #[arg(long)]
    pub garment: Option<GarmentId>,
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

/// The outfits of a photo held up to the mirror: its garment recognised (or dressed as a
/// new one of `garment_type`), with the picture to draw beside them.
pub(crate) fn suggest_for_picture(
    mirror: &mut Mirror,
    picture: &RgbImage,
    garment_type: Option<GarmentType>,
    k: usize,
) -> Result<SuggestReport> {
    let recognition = mirror.recognise(picture, WHOLE_PICTURE, 1)?;
    let anchor = mirror.anchor_for(&recognition, garment_type)?;
    Ok(mirror.suggest(&anchor, k)?)
}

/// Draws the outfits screen of a report into `path`.
pub(crate) fn draw_outfits(
    session: &Session,
    path: &Path,
    anchor_picture: &RgbImage,
    report: &SuggestReport,
) -> Result<()> {
    let (width, height) = session.display_size();
    PngSink::new(path, width, height)
        .show(&Screen::Outfits {
            picture: anchor_picture,
            name: &report.anchor.name,
            outfits: &report.outfits,
            selected: 0,
            status: "",
            controls: false,
        })
        .with_context(|| format!("drawing the outfits screen into {}", path.display()))
}

pub fn run(session: &Session, args: SuggestArgs) -> Result<()> {
    let mut mirror = session.mirror(args.bundle.as_deref(), None, Outfits::Required)?;
    let (report, picture) = match (&args.image, args.garment) {
        (Some(image), _) => {
            let picture = read_picture(image)?;
            let report =
                suggest_for_picture(&mut mirror, &picture, args.garment_type, args.outfits)?;
            (report, picture)
        }
        (None, Some(id)) => {
            let anchor = mirror.anchor_garment(id)?;
            let picture = mirror
                .pictures(&[&anchor.garment])
                .pop()
                .unwrap_or_default();
            (mirror.suggest(&anchor, args.outfits)?, picture)
        }
        (None, None) => bail!("give a picture or --garment ID"),
    };
    if let Some(path) = &args.screen {
        draw_outfits(session, path, &picture, &report)?;
    }
    session.print(&report, args.json)
}
