//! `capsule-host eval embedder --bundle DIR` and `eval stylist --bundle DIR`: what ships,
//! measured through the board's own path (see `crate::bundle::evaluate`), reported with the
//! same keys as the run-based evaluations.

use super::embedder::{EvalEmbedderArgs, data_dir, load_eval_set};
use super::report::print_report;
use super::stylist::{EvalStylistArgs, write_per_question};
use crate::bundle::evaluate::{BundleStylist, evaluate_embedder, evaluate_open_set};
use crate::embedder::RetrievalScores;
use crate::embedder::data::{DataFormat, DataSource, EvalSet};
use crate::eval::OpenSetScores;
use crate::stylist::StylistScores;
use crate::training::progress::bar;
use anyhow::{Context, Result};
use capsule_device::bundle::Precision;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// What `eval embedder --bundle` prints.
#[derive(Debug, Serialize)]
pub struct BundleEmbedderReport {
    pub bundle: PathBuf,
    pub version: u64,
    pub precision: Precision,
    /// The ONNX file measured.
    pub file: String,
    #[serde(flatten)]
    pub scores: RetrievalScores,
    /// Values in the ONNX file's initializers (batch norm folded into the convolutions).
    pub params: usize,
    pub embedding_dim: usize,
    pub protocol: String,
}

impl std::fmt::Display for BundleEmbedderReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "bundle {} v{}: {} ({}, {} params, {}-d), in tract as on the board",
            self.bundle.display(),
            self.version,
            self.file,
            self.precision,
            self.params,
            self.embedding_dim
        )?;
        writeln!(f, "{}", self.protocol)?;
        write!(f, "{}", self.scores)
    }
}

pub fn embedder(bundle: &Path, args: &EvalEmbedderArgs) -> Result<()> {
    let format = args.format.unwrap_or(DataFormat::Fmnist);
    let source = DataSource {
        dir: data_dir(&args.data, format)?,
        format,
        limit: None,
        eval_limit: None,
    };
    let (set, protocol) = load_eval_set(source, args.limit)?;
    let progress = bar(set_pictures(&set) as u64, "pictures");
    progress.set_prefix("embedding");
    let measured = evaluate_embedder(bundle, args.precision, &set, &progress)
        .with_context(|| format!("evaluating the embedder of {}", bundle.display()))?;
    progress.finish_and_clear();
    let report = BundleEmbedderReport {
        bundle: bundle.to_path_buf(),
        version: measured.bundle_version,
        precision: args.precision,
        file: measured.file,
        scores: measured.scores,
        params: measured.params,
        embedding_dim: measured.embedding_dim,
        protocol,
    };
    print_report(&report, args.json)?;
    Ok(())
}

/// `eval open-set`.
#[derive(clap::Args, Debug)]
pub struct OpenSetArgs {
    /// The model bundle.
    #[arg(long)]
    pub bundle: PathBuf,
    /// Which of its embedder files.
    #[arg(long, default_value_t = Precision::F32)]
    pub precision: Precision,
    /// An In-shop-format set (e.g. `capsule-host data synth --staged --backgrounds DIR
    /// --background-part held-out`).
    #[arg(long)]
    pub data: PathBuf,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// What `eval open-set` prints.
#[derive(Debug, Serialize)]
pub struct OpenSetReport {
    pub bundle: PathBuf,
    pub version: u64,
    pub precision: Precision,
    pub data: PathBuf,
    #[serde(flatten)]
    pub scores: OpenSetScores,
}

impl std::fmt::Display for OpenSetReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "bundle {} v{} ({}) on {}, in tract as on the board:",
            self.bundle.display(),
            self.version,
            self.precision,
            self.data.display()
        )?;
        write!(f, "{}", self.scores)
    }
}

pub fn open_set(args: &OpenSetArgs) -> Result<()> {
    let source = DataSource {
        dir: args.data.clone(),
        format: DataFormat::Inshop,
        limit: None,
        eval_limit: None,
    };
    let (set, _) = load_eval_set(source, None)?;
    let progress = bar(set_pictures(&set) as u64, "pictures");
    progress.set_prefix("embedding");
    let measured =
        evaluate_open_set(&args.bundle, args.precision, &set, &progress).with_context(|| {
            format!(
                "evaluating {} on {}",
                args.bundle.display(),
                args.data.display()
            )
        })?;
    progress.finish_and_clear();
    let report = OpenSetReport {
        bundle: args.bundle.clone(),
        version: measured.bundle_version,
        precision: args.precision,
        data: args.data.clone(),
        scores: measured.scores,
    };
    print_report(&report, args.json)
}

fn set_pictures(set: &EvalSet) -> usize {
    match set {
        EvalSet::QueryGallery { query, gallery } => query.len() + gallery.len(),
        EvalSet::LeaveOneOut(set) => set.len(),
    }
}

/// What `eval stylist --bundle` prints.
#[derive(Debug, Serialize)]
pub struct BundleStylistReport {
    pub bundle: PathBuf,
    pub version: u64,
    pub data: PathBuf,
    pub split: crate::data::polyvore::Split,
    #[serde(flatten)]
    pub scores: StylistScores,
    /// Values in the encoder's and decoder's initializers.
    pub params: usize,
}

impl std::fmt::Display for BundleStylistReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = &self.scores;
        writeln!(
            f,
            "bundle {} v{} stylist ({} params, in tract as on the board) on {} {:?}, context K = {}:",
            self.bundle.display(),
            self.version,
            self.params,
            self.data.display(),
            self.split,
            s.context_k
        )?;
        write!(f, "{}", self.scores)
    }
}

pub fn stylist(bundle: &Path, args: &EvalStylistArgs) -> Result<()> {
    let data = args.data.load()?;
    let progress = bar(data.items.len() as u64, "items");
    progress.set_prefix("garment features");
    let split = args.data.split();
    let context = || format!("evaluating the stylist of {}", bundle.display());
    let stylist = BundleStylist::open(bundle, &data, &progress).with_context(context)?;
    progress.finish_and_clear();
    let scores = stylist
        .evaluate(&data, split, args.context, args.seed)
        .with_context(context)?;
    write_per_question(args, &scores)?;
    let report = BundleStylistReport {
        bundle: bundle.to_path_buf(),
        version: stylist.bundle_version,
        data: data.root.clone(),
        split,
        scores,
        params: stylist.params,
    };
    print_report(&report, args.data.json)?;
    Ok(())
}
