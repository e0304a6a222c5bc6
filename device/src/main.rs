//! `capsule`: the device command line.

use anyhow::{Context, Result};
use capsule_device::board::BoardProfile;
use capsule_device::preprocess::PreprocessSpec;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// capsule — recognise garments with a camera and suggest outfits, on a small board.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check a board profile (boards/*.toml) and print what it configures.
    Board {
        /// Path to the profile.
        profile: PathBuf,
    },
    /// Show what the embedder would see: apply the preprocessing contract to a picture
    /// and save the fitted square picture.
    Preprocess {
        /// Input picture (PNG or JPEG).
        image: PathBuf,
        /// Where to write the fitted picture (PNG).
        #[arg(long, default_value = "preprocessed.png")]
        out: PathBuf,
        /// Side of the square model input, in pixels.
        #[arg(long, default_value_t = PreprocessSpec::default().size)]
        size: u32,
    },
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Board { profile } => {
            let board = BoardProfile::load(&profile)?;
            println!("{}", serde_json::to_string_pretty(&board)?);
        }
        Command::Preprocess { image, out, size } => {
            let picture = image::open(&image)
                .with_context(|| format!("cannot read picture {}", image.display()))?
                .to_rgb8();
            let spec = PreprocessSpec {
                size,
                ..PreprocessSpec::default()
            };
            let fitted = spec
                .fit(&picture)
                .with_context(|| format!("preprocessing {}", image.display()))?;
            fitted
                .save(&out)
                .with_context(|| format!("cannot write {}", out.display()))?;
            println!(
                "{} ({}x{}) -> {} ({size}x{size})",
                image.display(),
                picture.width(),
                picture.height(),
                out.display()
            );
        }
    }
    Ok(())
}
