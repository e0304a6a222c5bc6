//! `capsule run`: the frame loop on a camera, a recording or a slideshow.

use super::Session;
use crate::app::Outfits;
use crate::board::DisplayKind;
use crate::camera::{FrameSource, ImageDir, ImageFile, RecordedStream, StreamFormat};
use crate::display::{Framebuffer, PngSequenceSink, PngSink, ScreenSink};
use crate::fsutil::write_atomic;
use crate::input::{InputSource, Inputs, ScriptedInput};
use crate::runtime::{self, Event, LoopConfig, RssSampler};
use anyhow::{Context, Result, bail};
use clap::Args;
use std::path::{Path, PathBuf};

/// Frames between two memory samples of `--rss-log`.
const RSS_EVERY: u64 = 100;

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
    /// Start the slideshow or recording again at the end instead of stopping.
    #[arg(long)]
    pub repeat: bool,
    /// Frame size of a `.yuyv` recording, as WIDTHxHEIGHT.
    #[arg(long)]
    pub yuyv_size: Option<String>,
    /// Embedder ONNX file (default: the active bundle's; see `capsule identify --help`).
    #[arg(long)]
    pub embedder: Option<PathBuf>,
    /// Draw screens into this PNG file instead of the board's display.
    #[arg(long)]
    pub screen: Option<PathBuf>,
    /// Draw every screen into its own numbered PNG in this folder (screen-0001.png, ...;
    /// at most 2,000) instead of the board's display: a record of what a run showed.
    #[arg(long, value_name = "DIR", conflicts_with = "screen")]
    pub screen_log: Option<PathBuf>,
    /// Play this file of timed touches and presses as the owner's input (lines like
    /// `40 press next` or `2.5s touch 700 440`; see `capsule_device::input::script`), on top
    /// of the board profile's `[input]` devices.
    #[arg(long, value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// Stop after this many frames.
    #[arg(long)]
    pub frames: Option<u64>,
    /// Only recognise garments; do not suggest outfits (which need the active bundle's
    /// stylist).
    #[arg(long)]
    pub no_outfits: bool,
    /// Print events and the final statistics as JSON lines.
    #[arg(long)]
    pub json: bool,
    /// Soak runs: sample this process's resident memory every 100 frames, write the samples
    /// to this CSV file (`frame,rss_kib`) and print the memory slope at the end.
    #[arg(long)]
    pub rss_log: Option<PathBuf>,
    /// Serve the companion web app on ADDR (e.g. `0.0.0.0:8080`; port 0 picks a free one).
    /// Default: the board profile's `[web] listen`, else nothing listens on the network.
    #[arg(long, value_name = "ADDR")]
    pub serve: Option<std::net::SocketAddr>,
}

/// The web app, when this capsule was built with it.
#[cfg(feature = "web")]
type WebApp = crate::web::Web;

#[cfg(feature = "web")]
fn start_web(addr: Option<std::net::SocketAddr>, data_dir: &Path) -> Result<Option<WebApp>> {
    let Some(addr) = addr else {
        return Ok(None);
    };
    let web = crate::web::Web::start(addr, data_dir)?;
    eprintln!(
        "web app on http://{}/ (pair a phone from its page)",
        web.addr()
    );
    Ok(Some(web))
}

/// Without the `web` feature nothing can be served; asking for it is an error.
#[cfg(not(feature = "web"))]
struct WebApp;

#[cfg(not(feature = "web"))]
impl WebApp {
    fn serve_pending(&mut self, _: &mut runtime::Between<'_>) {}
}

#[cfg(not(feature = "web"))]
fn start_web(addr: Option<std::net::SocketAddr>, _: &Path) -> Result<Option<WebApp>> {
    match addr {
        Some(addr) => bail!(
            "cannot serve the web app on {addr}: this capsule was built without it; rebuild \
             with the `web` feature (on by default)"
        ),
        None => Ok(None),
    }
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
        "mjpeg" | "mjpg" => {
            Box::new(RecordedStream::open(&path, StreamFormat::Mjpeg)?.looping(args.repeat))
        }
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
            Box::new(
                RecordedStream::open(&path, StreamFormat::Yuyv { width, height })?
                    .looping(args.repeat),
            )
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
    let (width, height) = session.display_size();
    if let Some(dir) = &args.screen_log {
        return Ok(Box::new(PngSequenceSink::new(dir, width, height, 2_000)?));
    }
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

/// The owner's input: `--input`'s script and the board profile's devices. A device that
/// cannot be opened is reported and left out, so a mirror whose touch controller is
/// missing still recognises and suggests.
fn open_inputs(session: &Session, args: &RunArgs, display: (u32, u32)) -> Result<Inputs> {
    let mut sources: Vec<Box<dyn InputSource>> = Vec::new();
    if let Some(path) = &args.input {
        sources.push(Box::new(ScriptedInput::open(path)?));
    }
    if let Some(profile) = session.board.as_ref().and_then(|b| b.input.as_ref()) {
        open_evdev(profile, display, &mut sources)?;
        open_buttons(profile, &mut sources);
    }
    Ok(Inputs::new(sources))
}

#[cfg(feature = "evdev")]
fn open_evdev(
    profile: &crate::board::InputProfile,
    display: (u32, u32),
    sources: &mut Vec<Box<dyn InputSource>>,
) -> Result<()> {
    let keys = crate::input::evdev::key_map(&profile.keys)?;
    let mut paths = Vec::new();
    for path in &profile.evdev {
        if path == "auto" {
            let found = crate::input::evdev::discover(&keys);
            if found.is_empty() {
                eprintln!("warning: [input] evdev = \"auto\": no touchscreen or keys found");
            }
            paths.extend(found);
        } else {
            paths.push(path.clone());
        }
    }
    for path in &paths {
        match crate::input::evdev::EvdevInput::open(path, keys.clone(), display) {
            Ok(device) => sources.push(Box::new(device)),
            Err(e) => eprintln!("warning: {}", crate::report::error_chain(&e)),
        }
    }
    Ok(())
}

#[cfg(not(feature = "evdev"))]
fn open_evdev(
    profile: &crate::board::InputProfile,
    _: (u32, u32),
    _: &mut Vec<Box<dyn InputSource>>,
) -> Result<()> {
    if !profile.evdev.is_empty() {
        eprintln!(
            "warning: the board profile's [input] names evdev devices ({}), but this capsule \
             was built without touch and key input: rebuild with `--features evdev`",
            profile.evdev.join(", ")
        );
    }
    Ok(())
}

#[cfg(feature = "gpio")]
fn open_buttons(profile: &crate::board::InputProfile, sources: &mut Vec<Box<dyn InputSource>>) {
    if profile.buttons.is_empty() {
        return;
    }
    match crate::input::buttons::open(&profile.gpio_chip, &profile.buttons) {
        Ok(buttons) => sources.push(Box::new(buttons)),
        Err(e) => eprintln!("warning: {}", crate::report::error_chain(&e)),
    }
}

#[cfg(not(feature = "gpio"))]
fn open_buttons(profile: &crate::board::InputProfile, _: &mut Vec<Box<dyn InputSource>>) {
    if !profile.buttons.is_empty() {
        eprintln!(
            "warning: the board profile's [input] has {} GPIO buttons, but this capsule was \
             built without them: rebuild with `--features gpio`",
            profile.buttons.len()
        );
    }
}

pub fn run(session: &Session, args: RunArgs) -> Result<()> {
    // Outfits come from the bundle's stylist; a named --embedder file has none.
    let outfits = match (&args.embedder, args.no_outfits) {
        (None, false) => Outfits::IfAvailable,
        _ => Outfits::Off,
    };
    let mut mirror = session.mirror(None, args.embedder.as_deref(), outfits)?;
    if outfits == Outfits::IfAvailable && !mirror.suggests() {
        eprintln!("note: no outfit suggestions: the bundle has no stylist models");
    }
    if let Some(r) = mirror.reembedded() {
        eprintln!(
            "note: the embedder changed since the wardrobe was embedded: {} views embedded \
             again ({} from thumbnails, {} unreadable)",
            r.views,
            r.from_thumbnails,
            r.unreadable.len()
        );
    }
    if mirror.unmatched() > 0 {
        eprintln!(
            "note: {} garments have embeddings from another model and will not be matched",
            mirror.unmatched()
        );
    }
    let mut source = open_source(session, &args)?;
    let mut sink = open_display(session, &args)?;
    let mut input = open_inputs(session, &args, sink.size())?;
    let config = LoopConfig {
        roi: session
            .board
            .as_ref()
            .map_or(crate::preprocess::WHOLE_PICTURE, |b| b.camera.roi),
        max_frames: args.frames,
        ..LoopConfig::default()
    };
    let json = args.json;
    let mut sampler = None;
    let frames: &mut dyn FrameSource = if args.rss_log.is_some() {
        sampler.insert(RssSampler::new(source.as_mut(), RSS_EVERY))
    } else {
        source.as_mut()
    };
    // The wardrobe's owner from now on: commands sent meanwhile are served between frames.
    let server = crate::daemon::Server::bind(&session.data_dir)?;
    let listen = args
        .serve
        .or_else(|| session.board.as_ref()?.web.as_ref().map(|w| w.listen));
    let mut web = start_web(listen, &session.data_dir)?;
    let stats = runtime::serve(
        frames,
        &mut mirror,
        sink.as_mut(),
        &mut input,
        &config,
        &mut |between| {
            server.serve_pending(between.mirror);
            if let Some(web) = &mut web {
                web.serve_pending(between);
            }
        },
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
            Event::Acted { frame, acted } => {
                if json {
                    println!("{}", serde_json::json!({"frame": frame, "acted": acted}));
                } else {
                    println!("frame {frame}: {acted}");
                }
            }
            Event::Suggested {
                sequence, outfits, ..
            } => {
                let keys: Vec<&str> = outfits.iter().map(|o| o.key.as_str()).collect();
                if json {
                    println!(
                        "{}",
                        serde_json::json!({"frame": sequence, "outfits": keys})
                    );
                } else {
                    println!("frame {sequence}: outfits {}", keys.join(", "));
                }
            }
            Event::Announced { title, detail } => {
                if json {
                    println!(
                        "{}",
                        serde_json::json!({"announced": {"title": title, "detail": detail}})
                    );
                } else {
                    println!("{title}: {detail}");
                }
            }
            Event::Problem(message) => eprintln!("warning: {message}"),
        },
    )?;
    if let (Some(sampler), Some(path)) = (sampler, &args.rss_log) {
        let csv: String = std::iter::once("frame,rss_kib\n".to_string())
            .chain(sampler.samples().iter().map(|(f, k)| format!("{f},{k}\n")))
            .collect();
        write_atomic(path, csv.as_bytes())?;
        let report = sampler.finish();
        if json {
            println!("{}", serde_json::json!({ "soak": report }));
        } else {
            println!(
                "memory: {} KiB at start, {} KiB after warm-up, {} KiB at the end (max {}); slope {:+.1} KiB per 10,000 frames",
                report.rss_first_kib,
                report.rss_warm_kib,
                report.rss_last_kib,
                report.rss_max_kib,
                report.slope_kib_per_10k_frames
            );
        }
    }
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
