//! `capsule feedback accept|reject|wore OUTFIT`

use super::Session;
use crate::suggest::{Verdict, feedback_edges, parse_outfit_key};
use crate::wardrobe::WardrobeStore;
use anyhow::{Context, Result};
use clap::{Args, ValueEnum};

#[derive(Args, Debug)]
pub struct FeedbackArgs {
    /// What you thought of the outfit.
    pub verdict: VerdictArg,
    /// The outfit as `capsule suggest` names it: garment ids joined by `+` (e.g. g3+g7+g9).
    pub outfit: String,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum VerdictArg {
    /// I like it: suggest it (and its pairs) more.
    Accept,
    /// Not for me: never pair these again.
    Reject,
    /// I wore it today: like accept, and the garments' last-worn date is set.
    Wore,
}

pub fn run(session: &Session, args: FeedbackArgs) -> Result<()> {
    let garments = parse_outfit_key(&args.outfit).with_context(|| {
        format!(
            "{:?} is not an outfit: expected two or more garment ids joined by + (like g3+g7)",
            args.outfit
        )
    })?;
    let verdict = match args.verdict {
        VerdictArg::Accept => Verdict::Accept,
        VerdictArg::Reject => Verdict::Reject,
        VerdictArg::Wore => Verdict::Wore,
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let store = WardrobeStore::open(&session.data_dir)?;
    let edges = feedback_edges(&garments, verdict, now);
    store.put_edges(&edges)?;
    if verdict == Verdict::Wore {
        for &g in &garments {
            store.mark_worn(g, now)?;
        }
    }
    println!(
        "recorded {:?} for {} ({} garment pairs)",
        args.verdict,
        args.outfit,
        edges.len()
    );
    Ok(())
}
