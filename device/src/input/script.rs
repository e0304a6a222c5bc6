//! A file of timed events, played as if the owner touched the screen or pressed buttons:
//! how tests and demos drive the whole loop (camera slideshow + scripted touches) without
//! hardware.
//!
//! ```text
//! # WHEN EVENT: WHEN is a frame number (40) or a time since the start (2.5s, 300ms);
//! # EVENT is `press ACTION` (next, previous, accept, reject, wore, add, back) or
//! # `touch X Y` (display pixels from the top-left corner).
//! 40    press next
//! 2.5s  touch 700 440
//! ```
//!
//! Events fire in the order written, each once its moment has come.

use super::{Action, InputError, InputEvent, InputSource, Moment};
use std::collections::VecDeque;
use std::path::Path;
use std::time::Duration;

/// Longest script read (a script is written by hand or by a test).
const MAX_SCRIPT_BYTES: u64 = 1 << 20;

/// When a scripted event fires.
#[derive(Debug, Clone, Copy, PartialEq)]
enum When {
    Frame(u64),
    After(Duration),
}

impl When {
    fn reached(self, now: Moment) -> bool {
        match self {
            When::Frame(f) => now.frame >= f,
            When::After(d) => now.elapsed >= d,
        }
    }
}

/// Events read from a script, played in order.
#[derive(Debug, Clone)]
pub struct ScriptedInput {
    name: String,
    events: VecDeque<(When, InputEvent)>,
}

impl ScriptedInput {
    /// Reads the script at `path`.
    pub fn open(path: &Path) -> Result<Self, InputError> {
        let name = path.display().to_string();
        let read = |source| InputError::ReadScript {
            path: name.clone(),
            source,
        };
        let size = std::fs::metadata(path).map_err(read)?.len();
        if size > MAX_SCRIPT_BYTES {
            return Err(InputError::Script {
                path: name,
                line: 0,
                message: format!("{size} bytes; a script may have at most {MAX_SCRIPT_BYTES}"),
            });
        }
        let text = std::fs::read_to_string(path).map_err(read)?;
        Self::parse(&name, &text)
    }

    /// Parses a script's text; `name` is what errors call it.
    pub fn parse(name: &str, text: &str) -> Result<Self, InputError> {
        let mut events = VecDeque::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or_default().trim();
            if line.is_empty() {
                continue;
            }
            let fail = |message: String| InputError::Script {
                path: name.to_string(),
                line: i + 1,
                message,
            };
            let words: Vec<&str> = line.split_whitespace().collect();
            let when = parse_when(words[0]).map_err(&fail)?;
            let event = match words[1..] {
                ["press", action] => {
                    InputEvent::Action(action.parse::<Action>().map_err(|e| fail(e.to_string()))?)
                }
                ["touch", x, y] => {
                    let coordinate = |s: &str| {
                        s.parse::<u32>()
                            .map_err(|_| fail(format!("{s:?} is not a pixel coordinate")))
                    };
                    InputEvent::Touch {
                        x: coordinate(x)?,
                        y: coordinate(y)?,
                    }
                }
                _ => {
                    return Err(fail(format!(
                        "{line:?}: expected `WHEN press ACTION` or `WHEN touch X Y`"
                    )));
                }
            };
            events.push_back((when, event));
        }
        Ok(Self {
            name: name.to_string(),
            events,
        })
    }

    /// Events not played yet.
    pub fn remaining(&self) -> usize {
        self.events.len()
    }
}

fn parse_when(s: &str) -> Result<When, String> {
    let seconds = |v: &str, scale: f64| {
        v.parse::<f64>()
            .ok()
            .filter(|t| t.is_finite() && *t >= 0.0 && *t < 1e9)
            .map(|t| When::After(Duration::from_secs_f64(t * scale)))
            .ok_or_else(|| format!("{s:?} is not a time"))
    };
    if let Some(ms) = s.strip_suffix("ms") {
        seconds(ms, 1e-3)
    } else if let Some(secs) = s.strip_suffix('s') {
        seconds(secs, 1.0)
    } else {
        s.parse::<u64>()
            .map(When::Frame)
            .map_err(|_| format!("{s:?} is neither a frame number nor a time like 2.5s"))
    }
}

impl InputSource for ScriptedInput {
    fn next_event(&mut self, now: Moment) -> Result<Option<InputEvent>, InputError> {
        match self.events.front() {
            Some((when, _)) if when.reached(now) => Ok(self.events.pop_front().map(|(_, e)| e)),
            _ => Ok(None),
        }
    }

    fn name(&self) -> String {
        format!("input script {}", self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(frame: u64, ms: u64) -> Moment {
        Moment {
            frame,
            elapsed: Duration::from_millis(ms),
        }
    }

    #[test]
    fn events_fire_in_order_once_their_moment_has_come() {
        let mut script = ScriptedInput::parse(
            "t",
            "# a comment\n\n10 press next\n 2.5s touch 700 440 # tap\n12 press add\n",
        )
        .unwrap();
        assert_eq!(script.next_event(at(9, 0)).unwrap(), None);
        assert_eq!(
            script.next_event(at(10, 0)).unwrap(),
            Some(InputEvent::Action(Action::Next))
        );
        // The frame-12 event waits for the timed one before it.
        assert_eq!(script.next_event(at(20, 2_000)).unwrap(), None);
        assert_eq!(
            script.next_event(at(20, 2_500)).unwrap(),
            Some(InputEvent::Touch { x: 700, y: 440 })
        );
        assert_eq!(
            script.next_event(at(20, 2_500)).unwrap(),
            Some(InputEvent::Action(Action::Add))
        );
        assert_eq!(script.next_event(at(99, 9_999)).unwrap(), None);
        assert_eq!(script.remaining(), 0);
    }

    #[test]
    fn bad_lines_say_where_and_what() {
        for (text, expected) in [
            ("5 press jump", "line 1: unknown action \"jump\""),
            ("\nsoon press next", "line 2: \"soon\" is neither"),
            ("5 touch 1", "line 1: \"5 touch 1\": expected"),
            ("5 touch -3 4", "line 1: \"-3\" is not a pixel"),
            ("-1s press next", "line 1: \"-1s\" is not a time"),
            ("5", "line 1: \"5\": expected"),
        ] {
            let e = ScriptedInput::parse("s.txt", text).unwrap_err().to_string();
            assert!(
                e.contains(expected) && e.contains("s.txt"),
                "{text:?} gave {e}"
            );
        }
    }

    #[test]
    fn a_missing_file_is_an_error_naming_it() {
        let e = ScriptedInput::open(Path::new("/nonexistent/script.txt")).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/script.txt"));
    }
}
