//! `capsule identify IMG`

use super::Session;
use crate::app::{Outfits, Request, requests};
use crate::camera::read_picture;
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
    let request = Request::Identify {
        top: args.top,
        threshold: args.threshold,
    };
    // With models named on the command line, this command runs them itself.
    if args.embedder.is_none()
        && let Some(reply) = session.ask_daemon(&request, Some(&args.image))?
    {
        return session.print(&reply, args.json);
    }
    let picture = read_picture(&args.image)?;
    let mut mirror = session.mirror(None, args.embedder.as_deref(), Outfits::Off)?;
    let reply = requests::handle(&mut mirror, &request, Some(&picture))?;
    session.print(&reply, args.json)
}
