//! `capsule run`: the frame loop on a camera, a recording or a slideshow.

use super::Session;
use super::identify::load_embedder;
use crate::board::DisplayKind;
use crate::camera::{FrameSource, ImageDir, ImageFile, RecordedStream, StreamFormat};
use crate::display::Framebuffer;
use crate::identify::{DEFAULT_NEW_GARMENT_THRESHOLD, EmbeddingIndex};
use crate::runtime::{self, Event, LoopConfig, PngSink, ScreenSink};
use crate::wardrobe::WardrobeStore;
use anyhow::{Context, Result, bail};
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Where frames come from: a picture, a folder of pictures (a slideshow), a recording
    /// (`.mjpeg`, or `.yuyv` with --yuyv-size) or a V4L2 device (`/dev/videoN`, feature
    /// `v4l`). Default: the board profile's camera.
    #[arg(long)]
    pub source: Option<PathBuf>,
    /// Frames each slideshow picture stays in view.
    #[arg(long, default_value_t = 5)]
    pub hold: u64,
    /// Start the slideshow again at the end instead of stopping.
    #[arg(long)]
    pub repeat: bool,
    /// Frame size of a `.yuyv` recording, as WIDTHxHEIGHT.
    #[arg(long)]
    pub yuyv_size: Option<String>,
    /// Embedder ONNX file (see `capsule identify --help`).
    #[arg(long)]
    pub embedder: PathBuf,
    /// Draw screens into this PNG file instead of the board's display.
    #[arg(long)]
    pub screen: Option<PathBuf>,
    /// Stop after this many frames.
    #[arg(long)]
    pub frames: Option<u64>,
    /// Print events and the final statistics as JSON lines.
    #[arg(long)]
    pub json: bool,
}

fn open_source(session: &Session, args: &RunArgs) -> Result<Box<dyn FrameSource>> {
    let path = match (&args.source, &session.board) {
        (Some(p), _) => p.clone(),
        (None, Some(board)) => PathBuf::from(&board.camera.device),
        (None, None) => bail!("no frame source: pass --source or --board"),
    };
    if path.starts_with("/dev/video") {
        return open_camera(session, &path);
    }
    if path.is_dir() {
        return Ok(Box::new(ImageDir::open(&path, args.hold, args.repeat)?));
    }
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    Ok(match extension.as_str() {
        "mjpeg" | "mjpg" => Box::new(RecordedStream::open(&path, StreamFormat::Mjpeg)?),
        "yuyv" | "yuv" => {
            let size = args
                .yuyv_size
                .as_deref()
                .context("a .yuyv recording needs --yuyv-size WIDTHxHEIGHT")?;
            let (w, h) = size
                .split_once('x')
                .context("--yuyv-size must look like 640x480")?;
            let width = w.parse().context("--yuyv-size width")?;
            let height = h.parse().context("--yuyv-size height")?;
            Box::new(RecordedStream::open(
                &path,
                StreamFormat::Yuyv { width, height },
            )?)
        }
        _ => Box::new(ImageFile::open(&path, args.hold)?),
    })
}

#[cfg(feature = "v4l")]
fn open_camera(session: &Session, path: &Path) -> Result<Box<dyn FrameSource>> {
    let mut profile = session
        .board
        .as_ref()
        .map(|b| b.camera.clone())
        .context("a camera needs --board for its format, size and rate")?;
    profile.device = path.display().to_string();
    Ok(Box::new(crate::camera::v4l::V4lCamera::open(&profile)?))
}

#[cfg(not(feature = "v4l"))]
fn open_camera(_: &Session, path: &Path) -> Result<Box<dyn FrameSource>> {
    bail!(
        "{} is a camera, but this capsule was built without camera support: rebuild with `--features v4l`",
        path.display()
    )
}

fn open_display(session: &Session, args: &RunArgs) -> Result<Box<dyn ScreenSink>> {
    let (width, height) = session
        .board
        .as_ref()
        .map_or((480, 320), |b| (b.display.width, b.display.height));
    if let Some(path) = &args.screen {
        return Ok(Box::new(PngSink::new(path, width, height)));
    }
    let Some(board) = &session.board else {
        return Ok(Box::new(PngSink::new(
            Path::new("capsule-screen.png"),
            width,
            height,
        )));
    };
    Ok(match board.display.kind {
        DisplayKind::Png => Box::new(PngSink::new(Path::new(&board.display.path), width, height)),
        DisplayKind::Framebuffer => Box::new(Framebuffer::open(Path::new(&board.display.path))?),
        DisplayKind::St7789 | DisplayKind::Ili9341 => open_spi_panel(&board.display)?,
    })
}

#[cfg(feature = "spi")]
fn open_spi_panel(display: &crate::board::DisplayProfile) -> Result<Box<dyn ScreenSink>> {
    Ok(crate::display::spi::open_spi_panel(display)?)
}

#[cfg(not(feature = "spi"))]
fn open_spi_panel(display: &crate::board::DisplayProfile) -> Result<Box<dyn ScreenSink>> {
    bail!(
        "the board's display is a {:?} SPI panel on {}, but this capsule was built without SPI support: rebuild with `--features spi`, or pass --screen FILE.png",
        display.kind,
        display.path
    )
}

pub fn run(session: &Session, args: RunArgs) -> Result<()> {
    let (mut embedder, calibrated) = load_embedder(&args.embedder, session.threads())?;
    // The store is read once and closed, so `capsule wardrobe` works while this runs.
    let garments = WardrobeStore::open(&session.data_dir)?.garments()?;
    let (index, skipped) = EmbeddingIndex::build(&garments);
    if skipped > 0 {
        eprintln!(
            "note: {skipped} garments have embeddings from another model and will not be matched"
        );
    }
    let mut source = open_source(session, &args)?;
    let mut sink = open_display(session, &args)?;
    let config = LoopConfig {
        roi: session
            .board
            .as_ref()
            .map_or([0.0, 0.0, 1.0, 1.0], |b| b.camera.roi),
        threshold: calibrated.unwrap_or(DEFAULT_NEW_GARMENT_THRESHOLD),
        max_frames: args.frames,
        ..LoopConfig::default()
    };
    let json = args.json;
    let stats = runtime::run(
        source.as_mut(),
        &mut embedder,
        &index,
        sink.as_mut(),
        &config,
        |event| match event {
            Event::Identified {
                sequence,
                identification,
            } => {
                if json {
                    println!(
                        "{}",
                        serde_json::json!({"frame": sequence, "identified": identification})
                    );
                } else if identification.new {
                    println!("frame {sequence}: new garment");
                } else if let Some(best) = identification.top.first() {
                    println!(
                        "frame {sequence}: {} ({}) {:.2}",
                        best.name, best.garment_type, best.similarity
                    );
                }
            }
            Event::Problem(message) => eprintln!("warning: {message}"),
        },
    )?;
    if json {
        println!("{}", serde_json::json!({"stats": stats}));
    } else {
        println!(
            "{} frames, {} steady views: {} recognised, {} new; {} bad frames, {} source failures",
            stats.frames,
            stats.steady_views,
            stats.recognised,
            stats.new_garments,
            stats.bad_frames,
            stats.source_failures
        );
    }
    Ok(())
}
