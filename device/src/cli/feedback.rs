//! `capsule feedback accept|reject|wore OUTFIT`

use super::Session;
use crate::app::{Request, record_feedback};
use crate::contract::now_unix;
use crate::suggest::{Verdict, parse_outfit_key};
use anyhow::{Context, Result};
use clap::Args;

#[derive(Args, Debug)]
pub struct FeedbackArgs {
    /// What you thought of the outfit.
    pub verdict: Verdict,
    /// The outfit as `capsule suggest` names it: garment ids joined by `+` (e.g. g3+g7+g9).
    pub outfit: String,
    /// Print JSON: {"verdict", "outfit", "pairs"}.
    #[arg(long)]
    pub json: bool,
}

pub fn run(session: &Session, args: FeedbackArgs) -> Result<()> {
    let garments = parse_outfit_key(&args.outfit).with_context(|| {
        format!(
            "{:?} is not an outfit: expected two or more garment ids joined by + (like g3+g7)",
            args.outfit
        )
    })?;
    let request = Request::Feedback {
        outfit: garments.clone(),
        verdict: args.verdict,
    };
    if let Some(reply) = session.ask_daemon(&request, None)? {
        return session.print(&reply, args.json);
    }
    let report = record_feedback(&session.data_dir, &garments, args.verdict, now_unix())?;
    session.print(&report, args.json)
}
