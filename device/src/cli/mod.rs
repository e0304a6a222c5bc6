//! The `capsule` command line. Parsing and dispatch only; each command family has its own
//! module, and tests run any command in-process with [`run`].

mod bench;
mod demo;
mod feedback;
mod identify;
mod models;
mod run;
mod suggest;
mod update;
mod wardrobe;

use crate::board::BoardProfile;
use crate::preprocess::PreprocessSpec;
use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};

/// capsule — recognise garments with a camera and suggest outfits, on a small board.
#[derive(Parser, Debug)]
#[command(name = "capsule", version, about, long_about = None)]
pub struct Cli {
    /// Where the wardrobe and the model slots live (default: the board profile's
    /// `data_dir`, else `./capsule-data`).
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    /// Board profile (boards/*.toml).
    #[arg(long, global = true)]
    pub board: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Try capsule in one command: install the shipped model bundle and demo wardrobe into a
    /// scratch data directory, hold a garment photo up as the camera, and print the
    /// recognised garment and outfit suggestions (the display frame goes to a PNG).
    Demo(demo::DemoArgs),
    /// Check a board profile and print what it configures.
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
    /// The owner's garments and outfits: add, list, remove, set status, import, export.
    #[command(subcommand)]
    Wardrobe(wardrobe::WardrobeCommand),
    /// Which wardrobe garment is in this picture? Nearest garments by cosine similarity, or
    /// "new" when none is close enough.
    Identify(identify::IdentifyArgs),
    /// Run the mirror: frames from the camera (or a recording or slideshow), recognise the
    /// garment held up, and draw it on the display.
    Run(run::RunArgs),
    /// Outfits from the wardrobe around a garment: a picture (recognised, or dressed as a
    /// new garment) or a wardrobe garment, scored by the bundle's stylist.
    Suggest(suggest::SuggestArgs),
    /// Tell capsule what you thought of a suggested outfit; the next suggestion changes at
    /// once (rejected pairs are never suggested again).
    Feedback(feedback::FeedbackArgs),
    /// Time embedding and wardrobe search on this board (speed targets live here, not in
    /// tests).
    Bench(bench::BenchArgs),
    /// Model bundles: verify and install one into the inactive slot, roll back, show status.
    #[command(subcommand)]
    Update(update::UpdateCommand),
}

/// Runs a command line (the first item is the program name).
pub fn run<I, T>(args: I) -> Result<()>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    dispatch(Cli::try_parse_from(args)?)
}

/// Runs parsed arguments.
pub fn dispatch(cli: Cli) -> Result<()> {
    let session = Session::new(&cli)?;
    match cli.command {
        Command::Board { profile } => {
            let board = BoardProfile::load(&profile)?;
            println!("{}", serde_json::to_string_pretty(&board)?);
        }
        Command::Preprocess { image, out, size } => {
            let picture = read_picture(&image)?;
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
        Command::Wardrobe(command) => wardrobe::run(&session, command)?,
        Command::Identify(args) => identify::run(&session, args)?,
        Command::Run(args) => run::run(&session, args)?,
        Command::Suggest(args) => suggest::run(&session, args)?,
        Command::Demo(args) => demo::run(cli.data_dir.as_deref(), &session, args)?,
        Command::Feedback(args) => feedback::run(&session, args)?,
        Command::Update(command) => update::run(&session, command)?,
        Command::Bench(args) => bench::run(&session, args)?,
    }
    Ok(())
}

/// What every command may need: the data directory and the board.
pub(crate) struct Session {
    pub data_dir: PathBuf,
    pub board: Option<BoardProfile>,
}

impl Session {
    fn new(cli: &Cli) -> Result<Self> {
        let board = cli.board.as_deref().map(BoardProfile::load).transpose()?;
        let data_dir = cli
            .data_dir
            .clone()
            .or_else(|| board.as_ref().map(|b| b.data_dir.clone()))
            .unwrap_or_else(|| PathBuf::from("capsule-data"));
        Ok(Self { data_dir, board })
    }

    /// Inference threads: the board's, else 1.
    pub fn threads(&self) -> usize {
        self.board.as_ref().map_or(1, |b| b.threads)
    }

    /// Embedder precision: the board's, else f32.
    pub fn precision(&self) -> crate::bundle::Precision {
        self.board
            .as_ref()
            .map_or(crate::bundle::Precision::F32, |b| b.precision)
    }
}

/// Reads a picture file, naming it on failure.
pub(crate) fn read_picture(path: &Path) -> Result<image::RgbImage> {
    Ok(image::open(path)
        .with_context(|| format!("cannot read picture {}", path.display()))?
        .to_rgb8())
}
