//! The `capsule-host` command line. Each subcommand family has its own module; this one
//! only parses and dispatches, so tests can run any command in-process with [`run`].

mod args;
mod bench;
mod bundle;
mod data;
mod embedder;
mod eval;
mod eval_bundle;
mod export;
mod flash;
mod pipeline;
mod quantize;
mod report;
mod stylist;
mod train;

use anyhow::Result;
use clap::{Parser, Subcommand};

/// `train embedder` arguments for the shortest epochs that still take real steps: two batches
/// of 4 identities × 2 pictures. For smoke runs (`pipeline --preset tiny`) and tests.
pub const SHORT_EMBEDDER_EPOCHS: [&str; 4] = ["--pk", "4,2", "--steps-per-epoch", "2"];

/// capsule-host — make the data, train and check the models, and ship them to a board.
#[derive(Parser, Debug)]
#[command(name = "capsule-host", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Datasets: generate the synthetic wardrobe, inspect any supported dataset.
    #[command(subcommand)]
    Data(data::DataCommand),
    /// Evaluate models and baselines on the published protocols.
    #[command(subcommand)]
    Eval(eval::EvalCommand),
    /// Write a trained embedder run as an ONNX file (batch norms folded, batch symbolic).
    Export(export::ExportArgs),
    /// int8 and f16-weight variants of a trained embedder, measured (size, error, Recall@1,
    /// latency).
    #[command(long_about = quantize::LONG_ABOUT)]
    Quantize(quantize::QuantizeArgs),
    /// Copy a signed bundle into a directory (atomically) or onto a board over ssh, where
    /// `capsule update apply` installs it.
    Flash(flash::FlashArgs),
    /// Make a new ed25519 signing key for bundles.
    Keygen(bundle::KeygenArgs),
    /// Make an (unsigned) model bundle from a trained embedder run.
    Bundle(bundle::BundleArgs),
    /// Sign a bundle and check it as a device would.
    Sign(bundle::SignArgs),
    /// Train models; re-running the same command resumes from the last complete epoch.
    #[command(subcommand)]
    Train(train::TrainCommand),
    /// The whole chain in one command: data, embedder, stylist, bundle, signature and the
    /// demo wardrobe (how `models/default` is made). Resumes where it stopped.
    Pipeline(pipeline::PipelineArgs),
    /// Stylist tools: node features for the garment graph.
    #[command(subcommand)]
    Stylist(stylist::StylistCommand),
    /// Benchmarks of the host side (not tests): the training data path.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

/// Runs a command line (the first item is the program name).
pub fn run<I, T>(args: I) -> Result<()>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = Cli::try_parse_from(args)?;
    dispatch(cli)
}

/// Runs already parsed arguments.
pub fn dispatch(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Data(command) => data::run(command),
        Command::Eval(command) => eval::run(command),
        Command::Export(args) => export::run(args),
        Command::Quantize(args) => quantize::run(args),
        Command::Flash(args) => flash::run(args),
        Command::Keygen(args) => bundle::run_keygen(args),
        Command::Bundle(args) => bundle::run_bundle(args),
        Command::Sign(args) => bundle::run_sign(args),
        Command::Train(command) => train::run(command),
        Command::Stylist(command) => stylist::run(command),
        Command::Pipeline(args) => pipeline::run(args),
        Command::Bench(command) => bench::run(command),
    }
}
