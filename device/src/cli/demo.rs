//! `capsule demo`: the whole product on a fresh machine, with the shipped default bundle and
//! demo wardrobe. It installs the bundle as an update would (signature, hashes, golden
//! outputs, A/B slot), imports the wardrobe, holds the demo photo up as the camera, and
//! prints the recognised garment and outfits, drawing the display frame into a PNG.

use super::Session;
use super::suggest::{draw_outfits, suggest_for_picture};
use crate::app::reembed::align_wardrobe;
use crate::app::reports::SuggestReport;
use crate::app::{ImportSummary, Outfits, import_polyvore};
use crate::bundle::signature::parse_public_key;
use crate::camera::{FrameSource, ImageFile};
use crate::contract::now_unix;
use crate::update::{ApplyOptions, Slots};
use crate::wardrobe::WardrobeStore;
use anyhow::{Context, Result, bail};
use clap::Args;
use serde::Serialize;
use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Model bundle to install (default: the shipped `models/default`).
    #[arg(long)]
    pub models: Option<PathBuf>,
    /// Public key the bundle must be signed with (default: `demo-key.pub` beside the
    /// bundle folder — the published demo key; a real board trusts only its owner's keys).
    #[arg(long)]
    pub trusted_key: Option<PathBuf>,
    /// Wardrobe to import, a Polyvore-format set (default: `models/demo-wardrobe`).
    #[arg(long)]
    pub wardrobe: Option<PathBuf>,
    /// Photo held up to the camera (default: `camera.jpg` in the wardrobe folder).
    #[arg(long)]
    pub photo: Option<PathBuf>,
    /// Where to draw the display frame.
    #[arg(long, default_value = "capsule-demo.png")]
    pub screen: PathBuf,
    /// How many outfits.
    #[arg(long, default_value_t = 3)]
    pub outfits: usize,
    /// Print the result as JSON: {"bundle_version", "bundle", "data_dir", "wardrobe",
    /// "camera", "suggestion" (as `capsule suggest --json`), "screen"}.
    #[arg(long)]
    pub json: bool,
}

/// What the demo did.
#[derive(Debug, Serialize)]
pub struct DemoReport {
    pub bundle_version: u64,
    pub bundle: PathBuf,
    pub data_dir: PathBuf,
    pub wardrobe: ImportSummary,
    pub wardrobe_dir: PathBuf,
    pub camera: PathBuf,
    pub suggestion: SuggestReport,
    pub screen: PathBuf,
}

impl fmt::Display for DemoReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "installed bundle {} from {} (signature, hashes and golden outputs checked) into {}",
            self.bundle_version,
            self.bundle.display(),
            self.data_dir.display()
        )?;
        writeln!(
            f,
            "wardrobe: {} garments and {} outfit edges from {}",
            self.wardrobe.garments,
            self.wardrobe.edges,
            self.wardrobe_dir.display()
        )?;
        writeln!(f, "camera: {}", self.camera.display())?;
        write!(f, "{}", self.suggestion)?;
        writeln!(f, "display frame: {}", self.screen.display())
    }
}

/// `name` in the working directory, else in the repository's `models/` (so `cargo run`
/// finds the shipped files from anywhere).
fn shipped(name: &str) -> PathBuf {
    let here = Path::new("models").join(name);
    if here.exists() {
        return here;
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../models")
        .join(name)
}

pub fn run(cli_data_dir: Option<&Path>, session: &Session, args: DemoArgs) -> Result<()> {
    let models_dir = args.models.clone().unwrap_or_else(|| shipped("default"));
    let wardrobe_dir = args
        .wardrobe
        .clone()
        .unwrap_or_else(|| shipped("demo-wardrobe"));
    let photo = args
        .photo
        .clone()
        .unwrap_or_else(|| wardrobe_dir.join("camera.jpg"));
    let key_path = args.trusted_key.clone().unwrap_or_else(|| {
        models_dir
            .parent()
            .unwrap_or(Path::new("."))
            .join("demo-key.pub")
    });
    if !models_dir.join(crate::bundle::MANIFEST_FILE).exists() {
        bail!(
            "no model bundle at {}: pass --models DIR, or make one with `capsule-host pipeline`",
            models_dir.display()
        );
    }
    // A fresh data directory unless one was named: the demo never touches a real wardrobe.
    let data_dir = match cli_data_dir {
        Some(dir) => dir.to_path_buf(),
        None => {
            let dir = std::env::temp_dir().join("capsule-demo");
            if dir.exists() {
                std::fs::remove_dir_all(&dir)
                    .with_context(|| format!("clearing {}", dir.display()))?;
            }
            dir
        }
    };
    let session = Session {
        data_dir,
        board: session.board.clone(),
        out: session.out.clone(),
    };

    let key_text = std::fs::read_to_string(&key_path)
        .with_context(|| format!("reading the trusted key {}", key_path.display()))?;
    let key = parse_public_key(key_text.trim(), &key_path.display().to_string())?;
    let applied = Slots::new(&session.data_dir)
        .apply(
            &models_dir,
            &ApplyOptions {
                trusted: vec![key],
                allow_downgrade: true,
                threads: session.threads(),
            },
        )
        .with_context(|| format!("installing {}", models_dir.display()))?;
    let models = session.models(None, None)?;
    let wardrobe = {
        let mut embedder = models.embedder()?;
        let store = WardrobeStore::open(&session.data_dir)?;
        align_wardrobe(&store, &mut embedder, &models.embedder_id)?;
        import_polyvore(&wardrobe_dir, &store, None, now_unix(), &mut embedder)
            .with_context(|| format!("importing the demo wardrobe {}", wardrobe_dir.display()))?
    };

    let mut camera = ImageFile::open(&photo, 1)
        .with_context(|| format!("opening the demo photo {}", photo.display()))?;
    let frame = camera
        .next_frame()?
        .with_context(|| format!("{} gave no frame", camera.name()))?;
    let mut mirror = crate::app::Mirror::open(&session.data_dir, models, Outfits::Required)?;
    let suggestion = suggest_for_picture(&mut mirror, &frame.image, None, args.outfits)?;
    draw_outfits(&session, &args.screen, &frame.image, &suggestion)?;
    let report = DemoReport {
        bundle_version: applied.bundle_version,
        bundle: models_dir,
        data_dir: session.data_dir.clone(),
        wardrobe,
        wardrobe_dir,
        camera: photo,
        suggestion,
        screen: args.screen,
    };
    session.print(&report, args.json)
}
