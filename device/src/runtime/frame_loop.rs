//! The frame loop: frames in, steadiness check, the mirror service (garment view, embedding,
//! identification, outfits), screen out. One frame is held at a time, so memory stays flat
//! however long it runs; bad frames and a lost camera are counted and shown, never fatal.

use super::interaction::{Acted, GarmentInView, Interaction};
use crate::app::{Mirror, MirrorError};
use crate::camera::{FrameSource, Motion, SteadinessDetector};
use crate::contract::now_unix;
use crate::display::{Screen, ScreenSink, ShownOutfit};
use crate::garment::GarmentType;
use crate::identify::Identification;
use crate::input::{InputEvent, Inputs, Moment};
use crate::report::error_chain;
use crate::wardrobe::GarmentId;
use image::RgbImage;
use serde::Serialize;
use std::time::Instant;

/// How long the mirror shows an announcement (an update installed or refused).
const ANNOUNCED_FOR: std::time::Duration = std::time::Duration::from_secs(8);

/// Most input events acted on between two frames (a stuck key cannot stall the loop).
const MAX_EVENTS_PER_FRAME: usize = 16;

/// Settings of one run.
#[derive(Debug, Clone)]
pub struct LoopConfig {
    /// Region of interest (fractions of the frame) where garments are held up.
    pub roi: [f32; 4],
    /// Outfits shown after each recognition (when the mirror suggests outfits).
    pub outfits_per_view: usize,
    /// Stop after this many frames (soak tests, demos); `None` runs until the source ends.
    pub max_frames: Option<u64>,
    /// Redraw the scanning screen every this many frames (drawing costs CPU too).
    pub redraw_every: u64,
    /// Give up after this many source failures in a row (a camera reconnects on its own;
    /// a folder of unreadable files should not spin forever).
    pub max_consecutive_failures: u32,
    /// With input, a garment's screen stays this many frames after the last recognition or
    /// input, though the camera sees movement (the owner reaching for the screen); a
    /// question stays four times as long.
    pub linger_frames: u64,
}

impl Default for LoopConfig {
    fn default() -> Self {
        Self {
            roi: crate::preprocess::WHOLE_PICTURE,
            outfits_per_view: 3,
            max_frames: None,
            redraw_every: 15,
            max_consecutive_failures: 50,
            linger_frames: 45,
        }
    }
}

/// What the loop did, for logs and soak tests.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LoopStats {
    pub frames: u64,
    pub steady_views: u64,
    pub recognised: u64,
    pub new_garments: u64,
    pub bad_frames: u64,
    pub source_failures: u64,
    pub embed_failures: u64,
    pub display_failures: u64,
    /// Recognitions followed by outfit suggestions on screen.
    pub suggestions: u64,
    /// Touches and presses that did something.
    pub actions: u64,
    pub input_failures: u64,
}

/// Something worth telling the owner or a log.
#[derive(Debug)]
pub enum Event<'a> {
    /// A steady view was identified.
    Identified {
        sequence: u64,
        identification: &'a Identification,
    },
    /// Outfits were suggested for it.
    Suggested {
        sequence: u64,
        /// The wardrobe garment they are built around; `None` for a garment not in it.
        anchor: Option<GarmentId>,
        outfits: &'a [ShownOutfit],
    },
    /// The owner's touch or press did something.
    Acted { frame: u64, acted: &'a Acted },
    /// The mirror announced something on its screen (an update installed or refused).
    Announced { title: &'a str, detail: &'a str },
    /// A recoverable problem (bad frame, camera lost, display write failed).
    Problem(String),
}

/// What the loop hands its `between_frames` hook (see [`serve`]).
pub struct Between<'a> {
    pub mirror: &'a mut Mirror,
    /// The camera's last frame (`None` before the first): what "capture the mirror's view"
    /// takes, and what the live view shows.
    pub frame: Option<&'a RgbImage>,
    /// Region of interest (fractions of the frame) where garments are held up.
    pub roi: [f32; 4],
    /// Set by the hook: what the mirror shows instead of its scanning screen while it is
    /// set (a pairing code); redrawn at once when it changes.
    pub notice: &'a mut Option<Notice>,
}

/// A message the mirror keeps on screen while nothing is being recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub title: String,
    pub detail: String,
}

/// The loop could not go on.
#[derive(Debug, thiserror::Error)]
#[error("frame loop stopped after {failures} failures in a row of {source_name}; last: {last}")]
pub struct LoopError {
    pub source_name: String,
    pub failures: u32,
    pub last: String,
}

/// Draws a screen; a failing display is counted and reported, not fatal.
fn show(
    sink: &mut dyn ScreenSink,
    screen: &Screen<'_>,
    stats: &mut LoopStats,
    on_event: &mut dyn FnMut(&Event<'_>),
) {
    if let Err(e) = sink.show(screen) {
        stats.display_failures += 1;
        on_event(&Event::Problem(e.to_string()));
    }
}

/// Runs until the source ends, `max_frames` is reached or the source keeps failing: each
/// steady view goes to `mirror` to be recognised and, when it suggests outfits, dressed.
pub fn run(
    source: &mut dyn FrameSource,
    mirror: &mut Mirror,
    sink: &mut dyn ScreenSink,
    config: &LoopConfig,
    on_event: impl FnMut(&Event<'_>),
) -> Result<LoopStats, LoopError> {
    serve(
        source,
        mirror,
        sink,
        &mut Inputs::default(),
        config,
        &mut |_| {},
        on_event,
    )
}

/// [`run`] with the owner's `input` acted on between frames, handing the mirror (and the
/// last frame) to `between_frames` before each frame: how the daemon and the web app serve
/// the owner's requests on the loop's own thread (`crate::daemon::Server::serve_pending`),
/// so a change is in the very next frame.
pub fn serve(
    source: &mut dyn FrameSource,
    mirror: &mut Mirror,
    sink: &mut dyn ScreenSink,
    input: &mut Inputs,
    config: &LoopConfig,
    between_frames: &mut dyn FnMut(&mut Between<'_>),
    mut on_event: impl FnMut(&Event<'_>),
) -> Result<LoopStats, LoopError> {
    let mut stats = LoopStats::default();
    let mut detector = SteadinessDetector::default();
    let mut failures = 0u32;
    // One frame is kept past its turn, moved (not copied) here at the end of each.
    let mut last_frame: Option<RgbImage> = None;
    // What the hook asks to keep on screen (a pairing code), and the mirror's own
    // announcements (an update), shown for a while; the hook's notice wins.
    let mut requested: Option<Notice> = None;
    let mut announcement: Option<(Notice, Instant)> = None;
    let mut notice: Option<Notice> = None;
    let mut interaction = Interaction::new(!input.is_empty(), config.outfits_per_view);
    // The frame of the last recognition or input, for how long a garment's screen stays.
    let mut active_at = 0u64;
    let started = Instant::now();
    let mut events: Vec<InputEvent> = Vec::with_capacity(MAX_EVENTS_PER_FRAME);
    while config.max_frames.is_none_or(|max| stats.frames < max) {
        let shown = notice.clone();
        between_frames(&mut Between {
            mirror,
            frame: last_frame.as_ref(),
            roi: config.roi,
            notice: &mut requested,
        });
        if let Some(a) = mirror.take_announcement() {
            // The mirror changed under what was on screen (new models): start afresh.
            interaction = Interaction::new(!input.is_empty(), config.outfits_per_view);
            detector = SteadinessDetector::default();
            on_event(&Event::Announced {
                title: &a.title,
                detail: &a.detail,
            });
            let notice = Notice {
                title: a.title,
                detail: a.detail,
            };
            announcement = Some((notice, Instant::now() + ANNOUNCED_FOR));
        }
        if announcement
            .as_ref()
            .is_some_and(|(_, until)| Instant::now() >= *until)
        {
            announcement = None;
        }
        notice = requested
            .clone()
            .or_else(|| announcement.as_ref().map(|(n, _)| n.clone()));
        if notice != shown
            && let Some(n) = &notice
        {
            show_notice(sink, n, &mut stats, &mut on_event);
        }
        let now = Moment {
            frame: stats.frames,
            elapsed: started.elapsed(),
        };
        events.clear();
        input.drain(
            now,
            MAX_EVENTS_PER_FRAME,
            |e| events.push(e),
            |e| {
                stats.input_failures += 1;
                on_event(&Event::Problem(error_chain(e)));
            },
        );
        for &event in &events {
            match interaction.act(mirror, event, sink.size(), now_unix()) {
                Ok(Some(acted)) => {
                    stats.actions += 1;
                    active_at = stats.frames;
                    on_event(&Event::Acted {
                        frame: stats.frames,
                        acted: &acted,
                    });
                    match interaction.screen() {
                        Some(screen) => show(sink, &screen, &mut stats, &mut on_event),
                        None => show_scanning(
                            sink,
                            last_frame.as_ref(),
                            notice.as_ref(),
                            &mut stats,
                            &mut on_event,
                        ),
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    on_event(&Event::Problem(error_chain(&e)));
                    if let Some(screen) = interaction.screen() {
                        show(sink, &screen, &mut stats, &mut on_event);
                    }
                }
            }
        }
        let frame = match source.next_frame() {
            Ok(Some(frame)) => {
                failures = 0;
                frame
            }
            Ok(None) => break,
            Err(e) if e.is_transient() => {
                stats.bad_frames += 1;
                stats.frames += 1;
                on_event(&Event::Problem(e.to_string()));
                continue;
            }
            Err(e) => {
                stats.source_failures += 1;
                failures += 1;
                let message = e.to_string();
                on_event(&Event::Problem(message.clone()));
                show(
                    sink,
                    &Screen::Message {
                        title: "camera",
                        detail: &message,
                    },
                    &mut stats,
                    &mut on_event,
                );
                if failures >= config.max_consecutive_failures {
                    return Err(LoopError {
                        source_name: source.name(),
                        failures,
                        last: message,
                    });
                }
                continue;
            }
        };
        stats.frames += 1;
        // While the owner answers a question, the garment in view stays the one asked about.
        let motion = detector.observe(&frame.image);
        let lingers = interaction.controls()
            && interaction.showing()
            && stats.frames
                < active_at + config.linger_frames * if interaction.asking() { 4 } else { 1 };
        match motion {
            Motion::Steady if interaction.asking() && lingers => {}
            Motion::Steady => {
                stats.steady_views += 1;
                active_at = stats.frames;
                recognise(
                    mirror,
                    &frame.image,
                    frame.sequence,
                    config,
                    sink,
                    &mut interaction,
                    &mut stats,
                    &mut on_event,
                );
            }
            Motion::Moving | Motion::Settling => {
                if !lingers && stats.frames % config.redraw_every.max(1) == 1 {
                    interaction.clear();
                    show_scanning(
                        sink,
                        Some(&frame.image),
                        notice.as_ref(),
                        &mut stats,
                        &mut on_event,
                    );
                }
            }
            Motion::Holding => {}
        }
        last_frame = Some(frame.image);
    }
    Ok(stats)
}

/// A steady view: recognised, shown, and dressed when the mirror suggests outfits.
#[allow(clippy::too_many_arguments)]
fn recognise(
    mirror: &mut Mirror,
    picture: &RgbImage,
    sequence: u64,
    config: &LoopConfig,
    sink: &mut dyn ScreenSink,
    interaction: &mut Interaction,
    stats: &mut LoopStats,
    on_event: &mut impl FnMut(&Event<'_>),
) {
    let recognition = match mirror.recognise(picture, config.roi, 3) {
        Ok(r) => r,
        Err(e) => {
            stats.embed_failures += 1;
            on_event(&Event::Problem(error_chain(&e)));
            return;
        }
    };
    let identification = &recognition.identification;
    if identification.new {
        stats.new_garments += 1;
    } else {
        stats.recognised += 1;
    }
    on_event(&Event::Identified {
        sequence,
        identification,
    });
    let thumb = image::imageops::thumbnail(recognition.view.picture(), 160, 160);
    let best = identification.top.first();
    let screen = Screen::Recognised {
        picture: &thumb,
        name: best.map_or("", |m| m.name.as_str()),
        kind: best.map_or("", |m| m.garment_type.as_str()),
        similarity: best.map_or(0.0, |m| m.similarity),
        new: identification.new,
        controls: interaction.controls(),
    };
    show(sink, &screen, stats, on_event);
    let anchored = match mirror.anchor_for(&recognition, None) {
        // An empty wardrobe gives no type to guess and nothing to dress; the garment can
        // still be added (its type is asked then), so it is held as an unsaved top.
        Err(MirrorError::NoType) => mirror.anchor_for(&recognition, Some(GarmentType::Top)),
        other => other,
    };
    let anchor = match anchored {
        Ok(anchor) => anchor,
        Err(e) => {
            on_event(&Event::Problem(format!(
                "choosing the garment to dress: {}",
                error_chain(&e)
            )));
            return;
        }
    };
    let suggests = mirror.suggests();
    let outfits = if suggests {
        match mirror.outfits(&anchor, config.outfits_per_view) {
            Ok(outfits) => outfits,
            Err(e) => {
                on_event(&Event::Problem(format!(
                    "suggesting outfits: {}",
                    error_chain(&e)
                )));
                Vec::new()
            }
        }
    } else {
        Vec::new()
    };
    if !outfits.is_empty() {
        stats.suggestions += 1;
        on_event(&Event::Suggested {
            sequence,
            anchor: (!anchor.new).then_some(anchor.garment.id),
            outfits: &outfits,
        });
    }
    let shown_before = suggests && !outfits.is_empty();
    interaction.show(GarmentInView::new(
        recognition,
        thumb,
        anchor,
        outfits,
        suggests,
    ));
    // The recognised screen already says it all when there is nothing more to show and
    // nothing to touch.
    if (shown_before || interaction.controls())
        && let Some(screen) = interaction.screen()
    {
        show(sink, &screen, stats, on_event);
    }
}

/// The scanning screen (or the notice kept on screen instead).
fn show_scanning(
    sink: &mut dyn ScreenSink,
    frame: Option<&RgbImage>,
    notice: Option<&Notice>,
    stats: &mut LoopStats,
    on_event: &mut dyn FnMut(&Event<'_>),
) {
    if let Some(n) = notice {
        show_notice(sink, n, stats, on_event);
    } else if let Some(frame) = frame {
        let preview = image::imageops::thumbnail(frame, 320, 240);
        show(
            sink,
            &Screen::Scanning {
                frame: &preview,
                status: "hold a garment still in front of the camera",
            },
            stats,
            on_event,
        );
    }
}

fn show_notice(
    sink: &mut dyn ScreenSink,
    notice: &Notice,
    stats: &mut LoopStats,
    on_event: &mut dyn FnMut(&Event<'_>),
) {
    let screen = Screen::Message {
        title: &notice.title,
        detail: &notice.detail,
    };
    show(sink, &screen, stats, on_event);
}
