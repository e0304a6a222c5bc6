//! `capsule-host eval ...`

use super::args::OutfitDataArgs;
use super::report::print_report;
use crate::data::polyvore::Split;
use crate::eval::OutfitScores;
use crate::eval::type_prior::TypePrior;
use anyhow::Result;
use clap::Subcommand;
use serde::Serialize;
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum EvalCommand {
    /// The type-only baseline: score outfits by how often their garment types appear
    /// together in training outfits, ignoring what the garments look like. Its distance
    /// from chance (FITB 0.25, AUC 0.5) is what the data gives away without appearance.
    TypePrior(OutfitDataArgs),
    /// Recall@1/5/10/20 of a trained embedder (`--run`) or of what a bundle ships
    /// (`--bundle`, in tract as on the board): In-shop query/gallery, or Fashion-MNIST
    /// class-level retrieval (each test picture against the others).
    Embedder(super::embedder::EvalEmbedderArgs),
    /// Open-set identification of a bundle's embedder on a query/gallery set (a staged
    /// camera set from `data synth --staged`): top-1, AUROC of known vs new garments (each
    /// garment left out of the gallery in turn), the new-garment rate at 95 % known-recall,
    /// and both error rates at the bundle's calibrated threshold.
    OpenSet(super::eval_bundle::OpenSetArgs),
    /// A trained stylist (`--run`) or a bundle's (`--bundle`, in tract as on the board):
    /// FITB, hard FITB and compatibility AUC with K context edges.
    Stylist(super::stylist::EvalStylistArgs),
}

/// What `eval type-prior` prints.
#[derive(Debug, Serialize)]
pub struct TypePriorReport {
    pub data: PathBuf,
    pub split: Split,
    #[serde(flatten)]
    pub scores: OutfitScores,
}

impl std::fmt::Display for TypePriorReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (data, split, scores) = (self.data.display(), self.split, &self.scores);
        write!(f, "type-only baseline on {data} {split:?}:\n{scores}")
    }
}

pub fn run(command: EvalCommand) -> Result<()> {
    match command {
        EvalCommand::Embedder(args) => match &args.bundle {
            Some(bundle) => return super::eval_bundle::embedder(bundle, &args),
            None => return super::embedder::run_eval(args),
        },
        EvalCommand::Stylist(args) => match &args.bundle {
            Some(bundle) => return super::eval_bundle::stylist(bundle, &args),
            None => return super::stylist::eval(args),
        },
        EvalCommand::OpenSet(args) => return super::eval_bundle::open_set(&args),
        EvalCommand::TypePrior(args) => {
            let data = args.load()?;
            let report = TypePriorReport {
                data: data.root.clone(),
                split: args.split(),
                scores: OutfitScores::measure(&TypePrior::fit(&data), &data, args.split()),
            };
            print_report(&report, args.json)?;
        }
    }
    Ok(())
}
