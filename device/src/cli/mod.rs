//! The `capsule` command line. Parsing and dispatch only; each command family has its own
//! module, and tests run any command in-process with [`run`].

mod bench;
mod demo;
mod feedback;
mod identify;
#[cfg(feature = "web")]
mod pairing;
mod run;
mod suggest;
mod update;
mod wardrobe;

use crate::app::{Mirror, ModelSource, Models, Outfits};
use crate::board::BoardProfile;
use crate::camera::read_picture;
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
    /// Show what the embedder would see: apply the preprocessing contract (the garment
    /// crop, then the fit to a square) to a picture and save the fitted square picture.
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
    /// Phones paired with the web app (`capsule run --serve`): list them, unpair them.
    #[cfg(feature = "web")]
    #[command(subcommand)]
    Pairing(pairing::PairingCommand),
}

/// Runs a command line (the first item is the program name).
pub fn run<I, T>(args: I) -> Result<()>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    dispatch(Cli::try_parse_from(args)?)
}

/// Runs a command line and returns what its report printed (tests assert on it).
pub fn run_captured<I, T>(args: I) -> Result<String>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let buffer = Captured::default();
    let cli = Cli::try_parse_from(args)?;
    let mut session = Session::new(&cli)?;
    session.out = output(Box::new(buffer.clone()));
    dispatch_in(cli, &session)?;
    let bytes = buffer.0.borrow().clone();
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Where a session's reports are written.
pub(crate) type Output = std::rc::Rc<std::cell::RefCell<Box<dyn std::io::Write>>>;

fn output(out: Box<dyn std::io::Write>) -> Output {
    std::rc::Rc::new(std::cell::RefCell::new(out))
}

/// An output that keeps what is written, shared with the caller.
#[derive(Clone, Default)]
struct Captured(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs parsed arguments.
pub fn dispatch(cli: Cli) -> Result<()> {
    let session = Session::new(&cli)?;
    dispatch_in(cli, &session)
}

fn dispatch_in(cli: Cli, session: &Session) -> Result<()> {
    match cli.command {
        Command::Board { profile } => {
            let board = BoardProfile::load(&profile)?;
            if !board.matches_this_build() {
                eprintln!(
                    "note: this capsule is built for {}-{}, the profile's board is {}: build it \
                     with `--target {}`",
                    std::env::consts::ARCH,
                    std::env::consts::OS,
                    board.target,
                    board.target
                );
            }
            println!("{}", serde_json::to_string_pretty(&board)?);
        }
        Command::Preprocess { image, out, size } => {
            let picture = read_picture(&image)?;
            let spec = PreprocessSpec {
                size,
                ..PreprocessSpec::default()
            };
            let view = spec.garment_view(&picture, crate::preprocess::WHOLE_PICTURE);
            let fitted = spec
                .fit(&view)
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
        Command::Wardrobe(command) => wardrobe::run(session, command)?,
        Command::Identify(args) => identify::run(session, args)?,
        Command::Run(args) => run::run(session, args)?,
        Command::Suggest(args) => suggest::run(session, args)?,
        Command::Demo(args) => demo::run(cli.data_dir.as_deref(), session, args)?,
        Command::Feedback(args) => feedback::run(session, args)?,
        Command::Update(command) => update::run(session, command)?,
        Command::Bench(args) => bench::run(session, args)?,
        #[cfg(feature = "web")]
        Command::Pairing(command) => pairing::run(session, command)?,
    }
    Ok(())
}

/// What every command may need: the data directory, the board, and where reports go.
pub(crate) struct Session {
    pub data_dir: PathBuf,
    pub board: Option<BoardProfile>,
    /// Shared, so a command that works in another data directory (the demo) reports to the
    /// same place.
    pub out: Output,
}

impl Session {
    fn new(cli: &Cli) -> Result<Self> {
        let board = cli.board.as_deref().map(BoardProfile::load).transpose()?;
        let data_dir = cli
            .data_dir
            .clone()
            .or_else(|| board.as_ref().map(|b| b.data_dir.clone()))
            .unwrap_or_else(|| PathBuf::from("capsule-data"));
        Ok(Self {
            data_dir,
            board,
            out: output(Box::new(std::io::stdout())),
        })
    }

    /// Inference threads: the board's, else 1.
    pub fn threads(&self) -> usize {
        self.board.as_ref().map_or(1, |b| b.threads)
    }
}

impl Session {
    /// The models of `--bundle DIR`, else `--embedder FILE|DIR`, else the active slot.
    pub fn models(&self, bundle: Option<&Path>, embedder: Option<&Path>) -> Result<Models> {
        let models = Models::open(
            &self.data_dir,
            self.board.as_ref(),
            ModelSource::from_flags(bundle, embedder),
        )?;
        if let Some(note) = &models.note {
            eprintln!("note: {note}");
        }
        Ok(models)
    }

    /// The mirror service over this data directory's wardrobe with those models.
    pub fn mirror(
        &self,
        bundle: Option<&Path>,
        embedder: Option<&Path>,
        outfits: Outfits,
    ) -> Result<Mirror> {
        let models = self.models(bundle, embedder)?;
        Ok(Mirror::open(&self.data_dir, models, outfits)?)
    }

    /// Hands `request` (with the picture file at `picture`) to the capsule running on this
    /// data directory, if one runs: it owns the wardrobe then, and its suggestions follow at
    /// once. `None` when none runs: the command does the work itself.
    pub fn ask_daemon(
        &self,
        request: &crate::app::Request,
        picture: Option<&Path>,
    ) -> Result<Option<crate::app::Reply>> {
        let Some(client) = crate::daemon::connect(&self.data_dir) else {
            return Ok(None);
        };
        let bytes = match picture {
            Some(path) => Some(read_limited(path)?),
            None => None,
        };
        Ok(Some(client.call(request, bytes.as_deref())?))
    }

    /// Prints a command's report (the one printer).
    pub fn print<R: serde::Serialize + std::fmt::Display>(
        &self,
        report: &R,
        json: bool,
    ) -> Result<()> {
        let mut out = self.out.borrow_mut();
        Ok(crate::report::write(&mut **out, report, json)?)
    }

    /// The display size screens are drawn at: the board's, else 480×320.
    pub fn display_size(&self) -> (u32, u32) {
        self.board
            .as_ref()
            .map_or((480, 320), |b| (b.display.width, b.display.height))
    }
}

/// A picture file's bytes, refusing files over the daemon's limit before reading them.
fn read_limited(path: &Path) -> Result<Vec<u8>> {
    let limit = crate::daemon::protocol::MAX_PICTURE as u64;
    let size = std::fs::metadata(path)
        .with_context(|| format!("reading {}", path.display()))?
        .len();
    if size > limit {
        anyhow::bail!(
            "{} is {size} bytes, over the {limit}-byte limit for a picture",
            path.display()
        );
    }
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}
