//! `capsule-host eval ...`

use super::args::OutfitDataArgs;
use crate::eval::OutfitScores;
use crate::eval::type_prior::TypePrior;
use anyhow::Result;
use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum EvalCommand {
    /// The type-only baseline: score outfits by how often their garment types appear
    /// together in training outfits, ignoring what the garments look like. Its distance
    /// from chance (FITB 0.25, AUC 0.5) is what the data gives away without appearance.
    TypePrior(OutfitDataArgs),
    /// Recall@1/5/10/20 of a trained embedder: In-shop query/gallery, or Fashion-MNIST
    /// class-level retrieval (each test picture against the others).
    Embedder(super::embedder::EvalEmbedderArgs),
    /// A trained stylist: FITB, hard FITB and compatibility AUC with K context edges.
    Stylist(super::stylist::EvalStylistArgs),
}

pub fn run(command: EvalCommand) -> Result<()> {
    match command {
        EvalCommand::Embedder(args) => return super::embedder::run_eval(args),
        EvalCommand::Stylist(args) => return super::stylist::eval(args),
        EvalCommand::TypePrior(args) => {
            let data = args.load()?;
            let scores = OutfitScores::measure(&TypePrior::fit(&data), &data, args.split());
            if args.json {
                println!("{}", serde_json::to_string(&scores)?);
            } else {
                println!(
                    "type-only baseline on {} {:?}:\n{scores}",
                    data.root.display(),
                    args.split()
                );
            }
        }
    }
    Ok(())
}
