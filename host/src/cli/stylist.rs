//! `capsule-host stylist features`, `capsule-host train stylist` and
//! `capsule-host eval stylist`.

use super::args::OutfitDataArgs;
use super::report::print_report;
use crate::data::polyvore::{PolyvoreDataset, Split, Variant};
use crate::embedder::TrainedEmbedder;
use crate::stylist::features::{self, FeatureFile, input_dim};
use crate::stylist::{
    self, Checkpoint, DecoderForm, DecoderKind, PairScore, StylistConfig, StylistScores,
    TrainConfig, TrainedStylist,
};
use crate::training::{Backend, RunDir};
use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Subcommand, Debug)]
pub enum StylistCommand {
    /// Compute node features of every item's picture into a feature file: the output of a
    /// trained embedder (`--embedder RUN`; what the device has for every garment, so only
    /// a stylist trained on these can ship in a bundle), or hand-made appearance features
    /// (HSV colour histograms, a thumbnail, the garment mask, edge statistics).
    Features {
        /// Polyvore-format data (or a directory with `polyvore/` inside).
        #[arg(long)]
        data: PathBuf,
        /// Feature file to write (JSON).
        #[arg(long)]
        out: PathBuf,
        /// Embedder training run whose output becomes the features (default: hand-made
        /// appearance features).
        #[arg(long)]
        embedder: Option<PathBuf>,
        /// The `style-v1` statistics the device computes for every garment (main and second
        /// colour and their shares, hue histogram, pattern edges, run lengths and
        /// periodicity, silhouette): after the embedder's output with `--embedder` (what a
        /// bundle ships), or alone.
        #[arg(long)]
        style: bool,
    },
}

/// `capsule-host train stylist`.
#[derive(Args, Debug)]
pub struct TrainStylistArgs {
    /// Polyvore-format data; its train outfits make the graph.
    #[arg(long)]
    pub data: PathBuf,
    /// Feature file of the data's items (`capsule-host stylist features`).
    #[arg(long)]
    pub features: PathBuf,
    #[arg(long, value_enum, default_value_t = DecoderKind::TypeAware)]
    pub decoder: DecoderKind,
    /// What the decoder reads: `distance` (|z_i − z_j| only, the form before this option
    /// existed) or `distance-product` (also z_i ⊙ z_j, which can say "two bold patterns
    /// clash").
    #[arg(long, value_enum, default_value_t = DecoderForm::DistanceProduct)]
    pub decoder_form: DecoderForm,
    /// Run directory; an existing one resumes from its last checkpoint.
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, default_value_t = 30)]
    pub epochs: usize,
    /// Full-batch gradient steps per epoch (each with a fresh edge split and negatives).
    #[arg(long, default_value_t = 20)]
    pub steps_per_epoch: usize,
    /// GCN layers.
    #[arg(long, default_value_t = 3)]
    pub layers: usize,
    /// GCN width (embedding size).
    #[arg(long, default_value_t = 350)]
    pub hidden: usize,
    #[arg(long, default_value_t = 0.5)]
    pub dropout: f64,
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    pub backend: Backend,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// `capsule-host eval stylist`.
#[derive(Args, Debug)]
pub struct EvalStylistArgs {
    /// The training run directory.
    #[arg(long, required_unless_present = "bundle", conflicts_with = "bundle")]
    pub run: Option<PathBuf>,
    /// A model bundle instead of a run: its stylist runs in tract as on the board, over node
    /// features its own embedder makes from every item's picture (what a board has).
    #[arg(long, conflicts_with = "features")]
    pub bundle: Option<PathBuf>,
    /// Which weights of the run: `best` on validation (falls back to the last epoch in runs
    /// that have no `best.bpk`) or `last`.
    #[arg(long, value_enum, default_value_t = Checkpoint::Best)]
    pub checkpoint: Checkpoint,
    #[command(flatten)]
    pub data: OutfitDataArgs,
    /// Feature file of the evaluated data's items; computed from the pictures
    /// (`appearance-v1`) when left out.
    #[arg(long)]
    pub features: Option<PathBuf>,
    /// Test-time context: graph edges kept per question item (answer edges never count).
    #[arg(long, default_value_t = 0)]
    pub context: usize,
    /// Seed of the context sampling.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// With --run: average pair logits (the protocol) or probabilities (as the board's
    /// outfit score does; a bundle is always measured that way).
    #[arg(long, value_enum, default_value_t = PairScore::Logit, conflicts_with = "bundle")]
    pub pair_score: PairScore,
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    pub backend: Backend,
    /// Also write whether each FITB and hard FITB question was answered right (JSON, in
    /// question-file order), for error analysis.
    #[arg(long)]
    pub per_question: Option<PathBuf>,
}

pub fn run(command: StylistCommand) -> Result<()> {
    match command {
        StylistCommand::Features {
            data,
            out,
            embedder,
            style,
        } => {
            let data = PolyvoreDataset::load_dir(&data, Variant::Nondisjoint)?;
            let started = Instant::now();
            let file = match &embedder {
                Some(run) => {
                    let trained = TrainedEmbedder::load(run, &burn::tensor::Device::flex())
                        .with_context(|| format!("loading the embedder run {}", run.display()))?;
                    let source = features::embedder_source(run, trained.epoch);
                    features::compute_with_embedder(&data, &trained, source, style)?
                }
                None if style => features::compute_style_only(&data)?,
                None => features::compute_for_dataset(&data)?,
            };
            file.save(&out)?;
            eprintln!(
                "wrote {} features of {} items to {} in {:.1}s",
                file.dim,
                file.items.len(),
                out.display(),
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
    }
}

pub fn train(args: TrainStylistArgs) -> Result<()> {
    let dim = FeatureFile::load(&args.features)?.dim;
    let model = StylistConfig {
        input_dim: input_dim(dim),
        hidden: args.hidden,
        layers: args.layers,
        dropout: args.dropout,
        decoder: args.decoder,
        decoder_form: args.decoder_form,
    };
    let mut config = TrainConfig::new(model, args.data, args.features);
    config.epochs = args.epochs;
    config.steps_per_epoch = args.steps_per_epoch;
    config.learning_rate = args.lr;
    config.backend = args.backend;
    config.seed = args.seed;
    let started = Instant::now();
    let metrics = stylist::train(config, &args.out)
        .with_context(|| format!("training the stylist into {}", args.out.display()))?;
    if let Some(last) = metrics.last() {
        let show = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.3}"));
        eprintln!(
            "epoch {}: loss {:.4}, valid FITB {} / hard {} / AUC {} ({:.0}s this session)",
            last.epoch,
            last.loss,
            show(last.valid_fitb),
            show(last.valid_fitb_hard),
            show(last.valid_auc),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

pub fn eval(args: EvalStylistArgs) -> Result<()> {
    let Some(run_dir) = args.run.clone() else {
        anyhow::bail!("pass --run RUN_DIR or --bundle BUNDLE_DIR");
    };
    let stylist = TrainedStylist::load(&run_dir, args.checkpoint, args.backend)
        .with_context(|| format!("loading the stylist run {}", run_dir.display()))?;
    let run = RunDir::open(&run_dir)?;
    eprintln!("weights: {}", args.checkpoint.path(&run)?.display());
    let data = args.data.load()?;
    let features = match &args.features {
        Some(path) => FeatureFile::load(path)?,
        None => features::compute_for_dataset(&data)?,
    };
    let scores = stylist::evaluate_scored(
        &stylist,
        &data,
        &features,
        args.data.split(),
        args.context,
        args.seed,
        args.pair_score,
    )?;
    write_per_question(&args, &scores)?;
    let report = StylistEvalReport {
        run: run_dir,
        data: data.root.clone(),
        split: args.data.split(),
        scores,
    };
    print_report(&report, args.data.json)?;
    Ok(())
}

/// Writes `--per-question` when asked.
pub(super) fn write_per_question(args: &EvalStylistArgs, scores: &StylistScores) -> Result<()> {
    if let Some(path) = &args.per_question {
        capsule_device::fsutil::write_atomic(path, &serde_json::to_vec(&scores.per_question)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// What `eval stylist` prints.
#[derive(Debug, Serialize)]
pub struct StylistEvalReport {
    pub run: PathBuf,
    pub data: PathBuf,
    pub split: Split,
    #[serde(flatten)]
    pub scores: StylistScores,
}

impl std::fmt::Display for StylistEvalReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = &self.scores;
        writeln!(
            f,
            "stylist {} on {} {:?}, context K = {}:",
            self.run.display(),
            self.data.display(),
            self.split,
            s.context_k
        )?;
        write!(f, "{}", self.scores)
    }
}
