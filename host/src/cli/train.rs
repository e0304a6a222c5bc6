//! `capsule-host train ...`: one subcommand per model; each lives with its model's CLI.

use anyhow::Result;
use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum TrainCommand {
    /// The garment embedder (capsnet or CNN baseline, MSML or triplet loss). Re-running the
    /// same command resumes from the last complete epoch.
    Embedder(super::embedder::TrainEmbedderArgs),
    /// Train the outfit stylist (GCN graph auto-encoder) on Polyvore-format outfits.
    Stylist(super::stylist::TrainStylistArgs),
}

pub fn run(command: TrainCommand) -> Result<()> {
    match command {
        TrainCommand::Embedder(args) => super::embedder::run_train(args),
        TrainCommand::Stylist(args) => super::stylist::train(args),
    }
}
