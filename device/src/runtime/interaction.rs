//! What the mirror shows while a garment is in view, and what the owner's touches and
//! presses do to it: move between outfits, say yes, no or "wore it" to one, and add the
//! garment in view to the wardrobe — as a new garment of a type chosen on screen, or as
//! another view (its back) of one already there.
//!
//! The state is plain data the frame loop owns; every change goes through the mirror
//! service, so it reaches the store and the suggester exactly as the same request from the
//! phone or the CLI would.

use crate::app::{AnchorGarment, Mirror, MirrorError, Recognition};
use crate::display::{Press, Screen, ShownOutfit, press_at};
use crate::garment::GarmentType;
use crate::input::{Action, InputEvent};
use crate::suggest::Verdict;
use crate::wardrobe::GarmentId;
use embedded_graphics::prelude::Size;
use image::RgbImage;
use serde::Serialize;

/// A garment in view: what it was recognised as, what it is dressed as, its outfits.
pub struct GarmentInView {
    pub recognition: Recognition,
    /// What the screens show of it.
    pub picture: RgbImage,
    pub anchor: AnchorGarment,
    pub outfits: Vec<ShownOutfit>,
    /// Whether the mirror suggests outfits (else the recognised screen is shown).
    pub suggests: bool,
    selected: usize,
    status: String,
}

impl GarmentInView {
    pub fn new(
        recognition: Recognition,
        picture: RgbImage,
        anchor: AnchorGarment,
        outfits: Vec<ShownOutfit>,
        suggests: bool,
    ) -> Self {
        Self {
            recognition,
            picture,
            anchor,
            outfits,
            suggests,
            selected: 0,
            status: String::new(),
        }
    }

    /// The outfit yes/no/wore applies to.
    pub fn selected(&self) -> Option<&ShownOutfit> {
        self.outfits.get(self.selected)
    }
}

/// How the garment in view may join the wardrobe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Choice {
    /// Another view of this wardrobe garment.
    ViewOf(GarmentId),
    /// A new garment of this type.
    New(GarmentType),
}

enum Shown {
    /// The scanning screen (or a notice): nothing to act on.
    Idle,
    Garment(Box<GarmentInView>),
    /// "What is it?" about the garment in view.
    Choosing {
        garment: Box<GarmentInView>,
        choices: Vec<Choice>,
        labels: Vec<String>,
        selected: usize,
    },
}

/// What an input did, for the loop's events and logs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "acted", rename_all = "kebab-case")]
pub enum Acted {
    /// Moved to another outfit or choice.
    Moved {
        selected: usize,
    },
    Feedback {
        verdict: Verdict,
        outfit: String,
    },
    /// Asked how the garment in view joins the wardrobe.
    Asked,
    Added {
        id: GarmentId,
        name: String,
        garment_type: GarmentType,
    },
    ViewAdded {
        id: GarmentId,
        view: u32,
    },
    /// Left the choice, or the garment's screen.
    Cancelled,
    /// Nothing to do on this screen; the status says why when the owner should know.
    Ignored {
        why: String,
    },
}

impl std::fmt::Display for Acted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Acted::Moved { selected } => write!(f, "selected {}", selected + 1),
            Acted::Feedback { verdict, outfit } => write!(f, "{verdict:?} {outfit}"),
            Acted::Asked => f.write_str("asked what the garment is"),
            Acted::Added {
                id,
                name,
                garment_type,
            } => write!(f, "added {id} {name:?} ({garment_type})"),
            Acted::ViewAdded { id, view } => write!(f, "added view {view} of {id}"),
            Acted::Cancelled => f.write_str("cancelled"),
            Acted::Ignored { why } => write!(f, "ignored: {why}"),
        }
    }
}

/// What the mirror shows about the garment in view, and the owner's actions on it.
pub struct Interaction {
    shown: Shown,
    /// The mirror takes input: its screens draw their controls.
    controls: bool,
    outfits_per_view: usize,
}

impl Interaction {
    pub fn new(controls: bool, outfits_per_view: usize) -> Self {
        Self {
            shown: Shown::Idle,
            controls,
            outfits_per_view,
        }
    }

    /// Whether screens draw their controls.
    pub fn controls(&self) -> bool {
        self.controls
    }

    /// A garment was recognised: it is in view from now on (a choice in progress is kept,
    /// see [`Interaction::asking`]).
    pub fn show(&mut self, garment: GarmentInView) {
        self.shown = Shown::Garment(Box::new(garment));
    }

    /// Back to scanning.
    pub fn clear(&mut self) {
        self.shown = Shown::Idle;
    }

    /// A question is on screen: recognising another garment would lose the answer.
    pub fn asking(&self) -> bool {
        matches!(self.shown, Shown::Choosing { .. })
    }

    /// Whether a garment (or a question about it) is on screen.
    pub fn showing(&self) -> bool {
        !matches!(self.shown, Shown::Idle)
    }

    /// The garment in view, if any.
    pub fn garment(&self) -> Option<&GarmentInView> {
        match &self.shown {
            Shown::Idle => None,
            Shown::Garment(g) | Shown::Choosing { garment: g, .. } => Some(g),
        }
    }

    /// The screen for what is shown; `None` when idle (the loop draws scanning).
    pub fn screen(&self) -> Option<Screen<'_>> {
        Some(match &self.shown {
            Shown::Idle => return None,
            Shown::Garment(g) if g.suggests => Screen::Outfits {
                picture: &g.picture,
                name: if g.anchor.new {
                    "new garment"
                } else {
                    &g.anchor.garment.name
                },
                outfits: &g.outfits,
                selected: g.selected,
                status: &g.status,
                controls: self.controls,
            },
            Shown::Garment(g) => {
                let best = g.recognition.identification.top.first();
                Screen::Recognised {
                    picture: &g.picture,
                    name: best.map_or("", |m| m.name.as_str()),
                    kind: best.map_or("", |m| m.garment_type.as_str()),
                    similarity: best.map_or(0.0, |m| m.similarity),
                    new: g.recognition.identification.new,
                    controls: self.controls,
                }
            }
            Shown::Choosing {
                garment,
                labels,
                selected,
                ..
            } => Screen::Choose {
                picture: &garment.picture,
                question: "add: what is it?",
                choices: labels,
                selected: *selected,
            },
        })
    }

    /// Acts on one input event on a display of `size`; `now` is the clock feedback is
    /// dated by. Returns what it did, `None` when the event meant nothing on this screen.
    pub fn act(
        &mut self,
        mirror: &mut Mirror,
        event: InputEvent,
        size: (u32, u32),
        now: u64,
    ) -> Result<Option<Acted>, MirrorError> {
        let press = match event {
            InputEvent::Action(action) => Press::Action(action),
            InputEvent::Touch { x, y } => {
                let Some(screen) = self.screen() else {
                    return Ok(None);
                };
                match press_at(&screen, Size::new(size.0, size.1), x, y) {
                    Some(press) => press,
                    None => return Ok(None),
                }
            }
        };
        let shown = std::mem::replace(&mut self.shown, Shown::Idle);
        let (shown, acted) = match shown {
            Shown::Idle => (Shown::Idle, Ok(None)),
            Shown::Garment(mut g) => {
                let acted = self.on_garment(mirror, &mut g, press, now);
                match acted {
                    Ok(Some(Acted::Asked)) => (choosing(mirror, g), Ok(Some(Acted::Asked))),
                    Ok(Some(Acted::Cancelled)) => (Shown::Idle, Ok(Some(Acted::Cancelled))),
                    other => (Shown::Garment(g), other),
                }
            }
            Shown::Choosing {
                mut garment,
                choices,
                labels,
                selected,
            } => {
                let (confirm, selected) = match press {
                    Press::Pick(i) if i < choices.len() => (true, i),
                    Press::Action(Action::Accept) => (true, selected),
                    Press::Action(Action::Next) => (false, (selected + 1) % choices.len().max(1)),
                    Press::Action(Action::Previous) => (
                        false,
                        (selected + choices.len().max(1) - 1) % choices.len().max(1),
                    ),
                    Press::Action(Action::Reject | Action::Back) => {
                        return {
                            self.shown = Shown::Garment(garment);
                            Ok(Some(Acted::Cancelled))
                        };
                    }
                    _ => {
                        self.shown = Shown::Choosing {
                            garment,
                            choices,
                            labels,
                            selected,
                        };
                        return Ok(None);
                    }
                };
                match (confirm, choices.get(selected)) {
                    (true, Some(&choice)) => {
                        let acted = self.adopt(mirror, &mut garment, choice, now);
                        (Shown::Garment(garment), acted.map(Some))
                    }
                    _ => (
                        Shown::Choosing {
                            garment,
                            choices,
                            labels,
                            selected,
                        },
                        Ok(Some(Acted::Moved { selected })),
                    ),
                }
            }
        };
        self.shown = shown;
        acted
    }

    fn on_garment(
        &self,
        mirror: &mut Mirror,
        g: &mut GarmentInView,
        press: Press,
        now: u64,
    ) -> Result<Option<Acted>, MirrorError> {
        let count = g.outfits.len();
        let verdict = match press {
            Press::Action(Action::Add) => return Ok(Some(Acted::Asked)),
            Press::Action(Action::Back) => return Ok(Some(Acted::Cancelled)),
            Press::Action(Action::Next) if count > 0 => {
                g.selected = (g.selected + 1) % count;
                return Ok(Some(Acted::Moved {
                    selected: g.selected,
                }));
            }
            Press::Action(Action::Previous) if count > 0 => {
                g.selected = (g.selected + count - 1) % count;
                return Ok(Some(Acted::Moved {
                    selected: g.selected,
                }));
            }
            Press::Pick(i) if i < count => {
                g.selected = i;
                return Ok(Some(Acted::Moved { selected: i }));
            }
            Press::Action(Action::Accept) => Verdict::Accept,
            Press::Action(Action::Reject) => Verdict::Reject,
            Press::Action(Action::Wore) => Verdict::Wore,
            _ => return Ok(None),
        };
        let Some(outfit) = g.selected() else {
            return Ok(Some(ignored(g, "no outfit to answer")));
        };
        if g.anchor.new {
            return Ok(Some(ignored(g, "add this garment first")));
        }
        let key = outfit.key.clone();
        let ids: Vec<GarmentId> = outfit.garments.iter().map(|m| m.id).collect();
        mirror.feedback(&ids, verdict, now)?;
        g.status = match verdict {
            Verdict::Accept => "yes: saved".into(),
            Verdict::Wore => "wore it: saved for today".into(),
            Verdict::Reject => {
                // The rejected pairs are out of the suggester already: the next outfits
                // differ.
                g.outfits = mirror.outfits(&g.anchor, self.outfits_per_view)?;
                g.selected = 0;
                "no: here are others".into()
            }
        };
        Ok(Some(Acted::Feedback {
            verdict,
            outfit: key,
        }))
    }

    /// Stores the garment in view as `choice` says; it is the wardrobe garment in view from
    /// now on, dressed again.
    fn adopt(
        &self,
        mirror: &mut Mirror,
        g: &mut GarmentInView,
        choice: Choice,
        now: u64,
    ) -> Result<Acted, MirrorError> {
        let seen = g.recognition.seen()?;
        let (id, acted) = match choice {
            Choice::ViewOf(id) => {
                let view = mirror.add_view(id, &seen)?;
                let name = mirror
                    .garment(id)
                    .map(|m| m.name.clone())
                    .unwrap_or_default();
                g.status = format!("added view {} of {name}", view + 1);
                (id, Acted::ViewAdded { id, view })
            }
            Choice::New(garment_type) => {
                let name = default_name(mirror, garment_type);
                let (id, _) = mirror.adopt(&seen, garment_type, &name, now)?;
                g.status = format!("added: {name}");
                (
                    id,
                    Acted::Added {
                        id,
                        name,
                        garment_type,
                    },
                )
            }
        };
        g.anchor = mirror.anchor_garment(id)?;
        if g.suggests {
            g.outfits = mirror.outfits(&g.anchor, self.outfits_per_view)?;
            g.selected = 0;
        }
        Ok(acted)
    }
}

fn ignored(g: &mut GarmentInView, why: &str) -> Acted {
    g.status = why.to_string();
    Acted::Ignored {
        why: why.to_string(),
    }
}

/// The question about `g`: another view of the wardrobe garment it is (or is closest to),
/// or a new garment of one of the types; the likeliest answer is selected.
fn choosing(mirror: &Mirror, g: Box<GarmentInView>) -> Shown {
    let closest = if g.anchor.new {
        g.recognition
            .identification
            .top
            .first()
            .and_then(|m| mirror.garment(m.id))
    } else {
        mirror.garment(g.anchor.garment.id)
    };
    let mut choices = Vec::new();
    let mut labels = Vec::new();
    if let Some(c) = closest {
        choices.push(Choice::ViewOf(c.id));
        labels.push(format!("view of {}", c.name));
    }
    for t in GarmentType::ALL {
        choices.push(Choice::New(t));
        labels.push(format!("new {t}"));
    }
    let likely_type = closest.map_or(g.anchor.garment.garment_type, |c| c.garment_type);
    let selected = if g.anchor.new {
        choices
            .iter()
            .position(|c| *c == Choice::New(likely_type))
            .unwrap_or(0)
    } else {
        0
    };
    Shown::Choosing {
        garment: g,
        choices,
        labels,
        selected,
    }
}

/// A name for a garment added at the mirror ("top 12"); the owner renames it from the
/// phone.
fn default_name(mirror: &Mirror, garment_type: GarmentType) -> String {
    let taken = |name: &str| mirror.garments().iter().any(|g| g.name == name);
    let count = mirror
        .garments()
        .iter()
        .filter(|g| g.garment_type == garment_type)
        .count();
    (count + 1..)
        .map(|n| format!("{garment_type} {n}"))
        .find(|name| !taken(name))
        .unwrap_or_else(|| garment_type.to_string())
}
