//! Input at the mirror: what the owner does with a touch display or buttons, as data the
//! frame loop can act on between frames. Sources sit behind [`InputSource`] (the hardware
//! seam, like `camera::FrameSource`): a touchscreen or keys through Linux evdev (feature
//! `evdev`), buttons on GPIO lines (feature `gpio`), and a scripted file of timed events
//! for tests and demos. A board profile's `[input]` table says which ones a board has.

#[cfg(feature = "gpio")]
pub mod buttons;
#[cfg(feature = "evdev")]
pub mod evdev;
pub mod script;

pub use script::ScriptedInput;

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// What the owner asks of the screen in view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// The next outfit, or the next choice.
    Next,
    /// The previous outfit, or the previous choice.
    Previous,
    /// "Yes": accept the outfit, or confirm the choice.
    Accept,
    /// "No": reject the outfit, or cancel the choice.
    Reject,
    /// "I wore it" (today).
    Wore,
    /// Add what the mirror sees to the wardrobe (asks for its type).
    Add,
    /// Leave the screen (back to scanning).
    Back,
}

impl Action {
    pub const ALL: [Action; 7] = [
        Action::Next,
        Action::Previous,
        Action::Accept,
        Action::Reject,
        Action::Wore,
        Action::Add,
        Action::Back,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Next => "next",
            Action::Previous => "previous",
            Action::Accept => "accept",
            Action::Reject => "reject",
            Action::Wore => "wore",
            Action::Add => "add",
            Action::Back => "back",
        }
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Not an action's name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown action {0:?}: expected one of next, previous, accept, reject, wore, add, back")]
pub struct UnknownAction(pub String);

impl std::str::FromStr for Action {
    type Err = UnknownAction;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Action::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| UnknownAction(s.to_string()))
    }
}

/// One button on a GPIO line, in a board profile's `[[input.buttons]]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ButtonProfile {
    /// Line number on the profile's GPIO chip (the BCM GPIO number on a Raspberry Pi).
    pub line: u32,
    /// What a press means.
    pub action: Action,
    /// What a press held for 0.8 s means, if anything (then a short press acts on release).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub long: Option<Action>,
    /// Pressed reads low (a button to ground with a pull-up, as on HATs). Default: true.
    #[serde(default = "active_low")]
    pub active_low: bool,
}

fn active_low() -> bool {
    true
}

/// One thing the owner did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum InputEvent {
    /// A button or key with a meaning of its own.
    Action(Action),
    /// A tap on the display, in display pixels from its top-left corner; what it means
    /// depends on what the screen shows there (`display::screens::hits`).
    Touch { x: u32, y: u32 },
}

/// When the loop asks for input: its frame count and the time since it started, so a
/// scripted source can be timed by either.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moment {
    pub frame: u64,
    pub elapsed: Duration,
}

/// An input source could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("input {device}: {action}")]
    Device {
        device: String,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("input script {path}, line {line}: {message}")]
    Script {
        path: String,
        line: usize,
        message: String,
    },
    #[error("reading input script {path}")]
    ReadScript {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("input profile: {0}")]
    Profile(String),
}

/// Where the owner's input comes from. The loop calls [`InputSource::next_event`] between
/// frames until it answers `None`, so a source never blocks the loop.
pub trait InputSource {
    /// The next event that has happened by `now`, if any.
    fn next_event(&mut self, now: Moment) -> Result<Option<InputEvent>, InputError>;

    /// For messages, e.g. "/dev/input/event0".
    fn name(&self) -> String;
}

/// A mirror without input: recognition and outfits only.
#[derive(Debug, Default)]
pub struct NoInput;

impl InputSource for NoInput {
    fn next_event(&mut self, _: Moment) -> Result<Option<InputEvent>, InputError> {
        Ok(None)
    }

    fn name(&self) -> String {
        "no input".into()
    }
}

/// Several sources read as one (a touchscreen and GPIO buttons). A source that fails is
/// reported and skipped for the rest of that call, so one broken device does not hide the
/// others' events.
#[derive(Default)]
pub struct Inputs {
    sources: Vec<Box<dyn InputSource>>,
    /// Where the next call starts, so a chatty source cannot starve the others.
    turn: usize,
}

impl Inputs {
    pub fn new(sources: Vec<Box<dyn InputSource>>) -> Self {
        Self { sources, turn: 0 }
    }

    pub fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }

    /// Every event that has happened by `now`, at most `limit` (bounded work per frame);
    /// failures go to `problem`.
    pub fn drain(
        &mut self,
        now: Moment,
        limit: usize,
        mut on_event: impl FnMut(InputEvent),
        mut problem: impl FnMut(&InputError),
    ) {
        let n = self.sources.len();
        let mut taken = 0;
        for k in 0..n {
            let source = &mut self.sources[(self.turn + k) % n];
            while taken < limit {
                match source.next_event(now) {
                    Ok(Some(event)) => {
                        taken += 1;
                        on_event(event);
                    }
                    Ok(None) => break,
                    Err(e) => {
                        problem(&e);
                        break;
                    }
                }
            }
        }
        self.turn = (self.turn + 1) % n.max(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Failing;
    impl InputSource for Failing {
        fn next_event(&mut self, _: Moment) -> Result<Option<InputEvent>, InputError> {
            Err(InputError::Profile("broken".into()))
        }
        fn name(&self) -> String {
            "failing".into()
        }
    }

    struct Endless;
    impl InputSource for Endless {
        fn next_event(&mut self, _: Moment) -> Result<Option<InputEvent>, InputError> {
            Ok(Some(InputEvent::Action(Action::Next)))
        }
        fn name(&self) -> String {
            "endless".into()
        }
    }

    #[test]
    fn action_names_round_trip() {
        for a in Action::ALL {
            assert_eq!(a.as_str().parse::<Action>(), Ok(a));
        }
        assert!("jump".parse::<Action>().is_err());
    }

    #[test]
    fn a_failing_or_endless_source_neither_stops_nor_floods_the_others() {
        let script = ScriptedInput::parse("test", "0 press accept\n").unwrap();
        let mut inputs = Inputs::new(vec![Box::new(Failing), Box::new(script)]);
        let now = Moment {
            frame: 1,
            elapsed: Duration::ZERO,
        };
        let (mut events, mut problems) = (Vec::new(), 0);
        inputs.drain(now, 8, |e| events.push(e), |_| problems += 1);
        assert_eq!(events, vec![InputEvent::Action(Action::Accept)]);
        assert_eq!(problems, 1);

        let mut inputs = Inputs::new(vec![Box::new(Endless)]);
        let mut count = 0;
        inputs.drain(now, 8, |_| count += 1, |_| {});
        assert_eq!(count, 8);
    }
}
