//! `capsule-host data ...`

use super::report::print_report;
use crate::data::inspect;
use crate::synth::backgrounds::{BackgroundPart, Backgrounds};
use crate::synth::{self, SynthConfig, rules::StyleRules};
use anyhow::{Context, Result};
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::time::Instant;

#[derive(Subcommand, Debug)]
pub enum DataCommand {
    /// Generate the synthetic wardrobe: garments drawn procedurally, camera-like views
    /// (DeepFashion In-shop format) and rule-based outfits (Polyvore Outfits format).
    /// The same seed gives byte-identical files.
    Synth {
        /// Output directory (gets `inshop/`, `polyvore/` and `synth.json`).
        #[arg(long)]
        out: PathBuf,
        /// Number of distinct garments.
        #[arg(long, default_value_t = SynthConfig::default().garments)]
        garments: usize,
        /// Camera views per garment (In-shop pictures; at least 2).
        #[arg(long, default_value_t = SynthConfig::default().views)]
        views: usize,
        /// Outfits (split 70/10/20 into train/valid/test).
        #[arg(long, default_value_t = SynthConfig::default().outfits)]
        outfits: usize,
        #[arg(long, default_value_t = SynthConfig::default().seed)]
        seed: u64,
        /// Picture side in pixels.
        #[arg(long, default_value_t = SynthConfig::default().image_size)]
        size: u32,
        /// Also write the Polyvore `disjoint/` split family.
        #[arg(long)]
        disjoint: bool,
        /// Also put each garment's product shot into the In-shop set as a view (gallery for
        /// evaluation items), so an embedder learns to match camera views to product shots.
        #[arg(long)]
        product_view: bool,
        /// A folder of real photos to stage the camera views in front of (instead of drawn
        /// rooms; views also get JPEG artefacts). `scripts/fetch-backgrounds` installs a set.
        #[arg(long)]
        backgrounds: Option<PathBuf>,
        /// Which photos of --backgrounds: three in four for training views, the held-out
        /// fourth for evaluation sets.
        #[arg(long, value_enum, default_value_t = BackgroundPart::Train, requires = "backgrounds")]
        background_part: BackgroundPart,
        /// Write a staged-camera evaluation set: every garment is an evaluation item, its
        /// camera views the queries, its product shot the gallery (measure it with
        /// `eval embedder --format inshop` and `eval open-set`).
        #[arg(long)]
        staged: bool,
        /// Style rules (TOML) instead of the shipped ones.
        #[arg(long)]
        rules: Option<PathBuf>,
    },
    /// Count what a dataset directory holds (per split and garment type) and draw a
    /// contact sheet of sample garments and outfits.
    Inspect {
        /// A directory with `inshop/` and/or `polyvore/`, or one of those itself.
        dir: PathBuf,
        /// Where to write the contact sheet.
        #[arg(long, default_value = "contact-sheet.png")]
        sheet: PathBuf,
        /// Print the counts as JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(command: DataCommand) -> Result<()> {
    match command {
        DataCommand::Synth {
            out,
            garments,
            views,
            outfits,
            seed,
            size,
            disjoint,
            product_view,
            backgrounds,
            background_part,
            staged,
            rules,
        } => {
            let rules = match rules {
                Some(path) => {
                    let text = std::fs::read_to_string(&path)
                        .with_context(|| format!("cannot read style rules {}", path.display()))?;
                    StyleRules::parse(&text).with_context(|| format!("in {}", path.display()))?
                }
                None => StyleRules::shipped()?,
            };
            let config = SynthConfig {
                garments,
                views,
                outfits,
                seed,
                image_size: size,
                disjoint,
                product_view,
                backgrounds: backgrounds.map(|dir| Backgrounds {
                    dir,
                    part: background_part,
                }),
                staged,
            };
            let bar = ProgressBar::new(garments as u64).with_style(
                ProgressStyle::with_template(
                    "{msg} [{bar:30}] {pos}/{len} garments, {per_sec}, ETA {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );

            let started = Instant::now();
            let summary = synth::generate(&out, &config, &rules, &|| bar.inc(1))
                .with_context(|| format!("generating synthetic data into {}", out.display()))?;
            bar.finish_and_clear();
            println!(
                "wrote {} garments, {} In-shop pictures and Polyvore outfits to {} in {:.1} s",
                summary.garments,
                summary.inshop_images,
                out.display(),
                started.elapsed().as_secs_f64()
            );
            println!("{}", serde_json::to_string_pretty(&summary)?);
        }
        DataCommand::Inspect { dir, sheet, json } => {
            let report = inspect::inspect(&dir, &sheet)
                .with_context(|| format!("inspecting {}", dir.display()))?;
            print_report(&report, json)?;
        }
    }
    Ok(())
}
