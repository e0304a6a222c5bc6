//! `capsule-host eval ...`

use crate::data::polyvore::{PolyvoreDataset, Split, Variant};
use crate::eval::type_prior::TypePrior;
use crate::eval::{PairScorer, Ties, compatibility_auc, fitb_accuracy};
use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use serde::Serialize;
use std::path::PathBuf;

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

/// Which Polyvore-format data and split to evaluate on.
#[derive(Args, Debug)]
pub struct OutfitDataArgs {
    /// Polyvore Outfits directory (or a directory with `polyvore/` inside).
    #[arg(long)]
    pub data: PathBuf,
    #[arg(long, value_enum, default_value_t = VariantArg::Nondisjoint)]
    pub variant: VariantArg,
    #[arg(long, value_enum, default_value_t = SplitArg::Test)]
    pub split: SplitArg,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum VariantArg {
    Nondisjoint,
    Disjoint,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum SplitArg {
    Valid,
    Test,
}

impl OutfitDataArgs {
    /// Loads the dataset these arguments name.
    pub fn load(&self) -> Result<PolyvoreDataset> {
        let nested = self.data.join("polyvore");
        let root = if nested.is_dir() {
            nested
        } else {
            self.data.clone()
        };
        let variant = match self.variant {
            VariantArg::Nondisjoint => Variant::Nondisjoint,
            VariantArg::Disjoint => Variant::Disjoint,
        };
        PolyvoreDataset::load(&root, variant)
            .with_context(|| format!("loading Polyvore data from {}", root.display()))
    }

    pub fn split(&self) -> Split {
        match self.split {
            SplitArg::Valid => Split::Valid,
            SplitArg::Test => Split::Test,
        }
    }
}

/// Outfit metrics of one scorer on one split.
#[derive(Debug, Serialize)]
pub struct OutfitScores {
    pub fitb: Option<f64>,
    pub fitb_hard: Option<f64>,
    /// Same questions with ties broken at random (expected accuracy).
    pub fitb_random_ties: Option<f64>,
    pub fitb_hard_random_ties: Option<f64>,
    pub auc: Option<f64>,
}

impl OutfitScores {
    pub fn measure(scorer: &dyn PairScorer, data: &PolyvoreDataset, split: Split) -> Self {
        let s = data.split(split);
        let fitb =
            |q: &Option<Vec<_>>, ties| q.as_deref().and_then(|q| fitb_accuracy(scorer, q, ties));
        Self {
            fitb: fitb(&s.fitb, Ties::AgainstAnswer),
            fitb_hard: fitb(&s.fitb_hard, Ties::AgainstAnswer),
            fitb_random_ties: fitb(&s.fitb, Ties::Random),
            fitb_hard_random_ties: fitb(&s.fitb_hard, Ties::Random),
            auc: s
                .compatibility
                .as_deref()
                .and_then(|q| compatibility_auc(scorer, q)),
        }
    }
}

impl std::fmt::Display for OutfitScores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let show = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.3}"));
        writeln!(
            f,
            "FITB       {} (ties at random: {})",
            show(self.fitb),
            show(self.fitb_random_ties)
        )?;
        writeln!(
            f,
            "FITB hard  {} (ties at random: {})",
            show(self.fitb_hard),
            show(self.fitb_hard_random_ties)
        )?;
        write!(f, "AUC        {}", show(self.auc))
    }
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
