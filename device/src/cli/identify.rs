//! `capsule identify IMG`

use super::Session;
use crate::app::Outfits;
use crate::app::reports::IdentifyReport;
use crate::camera::read_picture;
use crate::preprocess::WHOLE_PICTURE;
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct IdentifyArgs {
    /// Picture of the garment (PNG or JPEG).
    pub image: PathBuf,
    /// Embedder ONNX file (with the `manifest.json` of its bundle beside it), or a bundle
    /// directory (its embedder of the board's precision is used); default: the active
    /// bundle's. Preprocessing and threshold come from the bundle's manifest.
    #[arg(long)]
    pub embedder: Option<PathBuf>,
    /// How many garments to list.
    #[arg(long, default_value_t = 5)]
    pub top: usize,
    /// Similarity below which the garment counts as new (default: the bundle's calibrated
    /// value, else 0.8).
    #[arg(long)]
    pub threshold: Option<f32>,
    /// Print JSON: {"new": bool, "top": [{"id", "name", "type", "similarity"}], "threshold"}.
    #[arg(long)]
    pub json: bool,
}

pub fn run(session: &Session, args: IdentifyArgs) -> Result<()> {
    let picture = read_picture(&args.image)?;
    let mut mirror = session.mirror(None, args.embedder.as_deref(), Outfits::Off)?;
    if let Some(threshold) = args.threshold {
        mirror.set_threshold(threshold);
    }
    let recognition = mirror.recognise(&picture, WHOLE_PICTURE, args.top)?;
    let report = IdentifyReport {
        identification: recognition.identification,
        threshold: mirror.threshold(),
        unmatched: mirror.unmatched(),
    };
    session.print(&report, args.json)
}
