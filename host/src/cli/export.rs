//! `capsule-host export`: a trained run's last checkpoint as an ONNX file.

use crate::embedder::TrainedEmbedder;
use crate::onnx::write_embedder;
use anyhow::{Context, Result};
use burn::prelude::*;
use clap::Args;
use std::path::PathBuf;

/// `export`.
#[derive(Args, Debug)]
pub struct ExportArgs {
    /// Run directory of a trained embedder (its last complete epoch is exported).
    #[arg(long)]
    pub run: PathBuf,
    /// Where to write the ONNX file, e.g. `out/embedder.f32.onnx`.
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(args: ExportArgs) -> Result<()> {
    let trained = TrainedEmbedder::load(&args.run, &Device::flex())
        .with_context(|| format!("cannot load the embedder run {}", args.run.display()))?;
    let bytes = write_embedder(&trained.model, &trained.config.model, &args.out)?;
    println!(
        "{} ({:?}, epoch {}) -> {} ({} bytes, input [N, 3, {s}, {s}], output [N, {}])",
        args.run.display(),
        trained.config.model.arch,
        trained.epoch,
        args.out.display(),
        bytes.len(),
        trained.config.model.embedding_dim,
        s = trained.config.model.input_size,
    );
    Ok(())
}
