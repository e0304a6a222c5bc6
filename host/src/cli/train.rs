//! `capsule-host train ...`: one subcommand per model; each lives with its model's CLI.

use anyhow::Result;
use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum TrainCommand {
    /// Train the outfit stylist (GCN graph auto-encoder) on Polyvore-format outfits.
    Stylist(super::stylist::TrainStylistArgs),
}

pub fn run(command: TrainCommand) -> Result<()> {
    match command {
        TrainCommand::Stylist(args) => super::stylist::train(args),
    }
}
