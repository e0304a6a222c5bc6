//! Touchscreens and keys through Linux evdev (`/dev/input/eventN`): the official 7"
//! Raspberry Pi display's touch controller, a USB keypad, an IR remote's key events.
//!
//! The device is read without blocking between frames. What its events mean is decided by
//! [`EvdevDecoder`], which works on the crate's own event values, so it is tested without a
//! device; a device that goes away is reopened every few seconds.

use super::{Action, InputError, InputEvent, InputSource, Moment};
use evdev::{AbsoluteAxisCode, Device, EventSummary, KeyCode, SynchronizationCode};
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// How long a lost device waits before it is opened again.
const REOPEN_EVERY: Duration = Duration::from_secs(3);
/// Events kept between two calls (a burst larger than this is dropped, oldest kept).
const MAX_PENDING: usize = 64;

/// Keys capsule understands without a board profile saying so (its `[input.keys]` adds to
/// or overrides these).
pub fn default_keys() -> HashMap<KeyCode, Action> {
    use Action::*;
    [
        (KeyCode::KEY_RIGHT, Next),
        (KeyCode::KEY_DOWN, Next),
        (KeyCode::KEY_SPACE, Next),
        (KeyCode::KEY_PAGEDOWN, Next),
        (KeyCode::KEY_NEXTSONG, Next),
        (KeyCode::KEY_LEFT, Previous),
        (KeyCode::KEY_UP, Previous),
        (KeyCode::KEY_PAGEUP, Previous),
        (KeyCode::KEY_PREVIOUSSONG, Previous),
        (KeyCode::KEY_ENTER, Accept),
        (KeyCode::KEY_KPENTER, Accept),
        (KeyCode::KEY_OK, Accept),
        (KeyCode::KEY_SELECT, Accept),
        (KeyCode::KEY_Y, Accept),
        (KeyCode::KEY_N, Reject),
        (KeyCode::KEY_DELETE, Reject),
        (KeyCode::KEY_BACKSPACE, Reject),
        (KeyCode::KEY_W, Wore),
        (KeyCode::KEY_A, Add),
        (KeyCode::KEY_INSERT, Add),
        (KeyCode::KEY_KPPLUS, Add),
        (KeyCode::KEY_ESC, Back),
        (KeyCode::KEY_BACK, Back),
        (KeyCode::KEY_HOME, Back),
    ]
    .into_iter()
    .collect()
}

/// The default keys with a profile's `KEY_NAME = "action"` entries over them.
pub fn key_map<'a>(
    overrides: impl IntoIterator<Item = (&'a String, &'a Action)>,
) -> Result<HashMap<KeyCode, Action>, InputError> {
    let mut keys = default_keys();
    for (name, action) in overrides {
        let code = name.parse::<KeyCode>().map_err(|_| {
            InputError::Profile(format!(
                "[input.keys]: {name:?} is not an evdev key name (e.g. KEY_ENTER, BTN_0)"
            ))
        })?;
        keys.insert(code, *action);
    }
    Ok(keys)
}

/// The devices `evdev = ["auto"]` means: every input device that is a touchscreen
/// (BTN_TOUCH with absolute axes) or has a key of `keys`, by its `/dev/input/eventN` path.
pub fn discover(keys: &HashMap<KeyCode, Action>) -> Vec<String> {
    let mut found: Vec<String> = evdev::enumerate()
        .filter(|(_, device)| {
            let touch = device
                .supported_keys()
                .is_some_and(|k| k.contains(KeyCode::BTN_TOUCH))
                && device.supported_absolute_axes().is_some();
            let useful_keys = device
                .supported_keys()
                .is_some_and(|k| keys.keys().any(|&code| k.contains(code)));
            touch || useful_keys
        })
        .map(|(path, _)| path.display().to_string())
        .collect();
    found.sort();
    found
}

/// One absolute axis scaled to display pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AxisScale {
    pub minimum: i32,
    pub maximum: i32,
    /// Display pixels along this axis.
    pub pixels: u32,
}

impl AxisScale {
    fn pixel(&self, value: i32) -> u32 {
        let span = i64::from(self.maximum) - i64::from(self.minimum);
        if span <= 0 || self.pixels == 0 {
            return 0;
        }
        let offset = (i64::from(value) - i64::from(self.minimum)).clamp(0, span);
        (offset * i64::from(self.pixels - 1) / span) as u32
    }
}

/// Turns a device's raw events into the owner's: key presses through the key map, and a
/// touch (BTN_TOUCH down) at the position reported with it.
#[derive(Debug, Clone)]
pub struct EvdevDecoder {
    keys: HashMap<KeyCode, Action>,
    x: Option<AxisScale>,
    y: Option<AxisScale>,
    position: (Option<i32>, Option<i32>),
    /// A touch began in the frame of events not yet ended by SYN_REPORT.
    touch_down: bool,
}

impl EvdevDecoder {
    pub fn new(keys: HashMap<KeyCode, Action>, x: Option<AxisScale>, y: Option<AxisScale>) -> Self {
        Self {
            keys,
            x,
            y,
            position: (None, None),
            touch_down: false,
        }
    }

    /// The owner's event that `event` completes, if any.
    pub fn decode(&mut self, event: evdev::InputEvent) -> Option<InputEvent> {
        match event.destructure() {
            EventSummary::Key(_, KeyCode::BTN_TOUCH, 1) => {
                self.touch_down = true;
                None
            }
            // 1 is a press; 0 a release and 2 the key repeating, which do nothing.
            EventSummary::Key(_, code, 1) => self.keys.get(&code).copied().map(InputEvent::Action),
            EventSummary::AbsoluteAxis(_, AbsoluteAxisCode::ABS_X, v)
            | EventSummary::AbsoluteAxis(_, AbsoluteAxisCode::ABS_MT_POSITION_X, v) => {
                self.position.0 = Some(v);
                None
            }
            EventSummary::AbsoluteAxis(_, AbsoluteAxisCode::ABS_Y, v)
            | EventSummary::AbsoluteAxis(_, AbsoluteAxisCode::ABS_MT_POSITION_Y, v) => {
                self.position.1 = Some(v);
                None
            }
            EventSummary::Synchronization(_, SynchronizationCode::SYN_REPORT, _)
                if self.touch_down =>
            {
                self.touch_down = false;
                match (self.position, self.x, self.y) {
                    ((Some(x), Some(y)), Some(sx), Some(sy)) => Some(InputEvent::Touch {
                        x: sx.pixel(x),
                        y: sy.pixel(y),
                    }),
                    _ => None,
                }
            }
            _ => None,
        }
    }
}

/// An evdev device read between frames.
pub struct EvdevInput {
    path: String,
    device: Option<Device>,
    decoder: EvdevDecoder,
    pending: VecDeque<InputEvent>,
    /// When a lost device may be opened again.
    reopen_at: Option<Instant>,
    /// Display size its touches are scaled to.
    display: (u32, u32),
}

impl EvdevInput {
    /// Opens the device at `path`; its touches are scaled to a `display` of (width,
    /// height) pixels and its keys read through `keys`.
    pub fn open(
        path: &str,
        keys: HashMap<KeyCode, Action>,
        display: (u32, u32),
    ) -> Result<Self, InputError> {
        let device = open_device(path)?;
        let decoder = decoder_for(&device, path, keys, display)?;
        Ok(Self {
            path: path.to_string(),
            device: Some(device),
            decoder,
            pending: VecDeque::new(),
            reopen_at: None,
            display,
        })
    }

    fn read_available(&mut self) -> Result<(), InputError> {
        let Some(device) = &mut self.device else {
            return Ok(());
        };
        let failed = match device.fetch_events() {
            Ok(events) => {
                for event in events {
                    if let Some(e) = self.decoder.decode(event)
                        && self.pending.len() < MAX_PENDING
                    {
                        self.pending.push_back(e);
                    }
                }
                None
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => None,
            Err(source) => Some(source),
        };
        match failed {
            None => Ok(()),
            Some(source) => {
                // Unplugged or broken: drop it and try again later.
                self.device = None;
                self.reopen_at = Some(Instant::now() + REOPEN_EVERY);
                Err(InputError::Device {
                    device: self.path.clone(),
                    action: "reading events (will reopen)",
                    source,
                })
            }
        }
    }

    fn reopen_if_due(&mut self) -> Result<(), InputError> {
        match self.reopen_at {
            Some(at) if Instant::now() >= at => {
                self.reopen_at = Some(Instant::now() + REOPEN_EVERY);
                let device = open_device(&self.path)?;
                let keys = std::mem::take(&mut self.decoder.keys);
                self.decoder = decoder_for(&device, &self.path, keys, self.display)?;
                self.device = Some(device);
                self.reopen_at = None;
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

fn open_device(path: &str) -> Result<Device, InputError> {
    let fail = |action, source| InputError::Device {
        device: path.to_string(),
        action,
        source,
    };
    let device = Device::open(path).map_err(|e| fail("opening it", e))?;
    device
        .set_nonblocking(true)
        .map_err(|e| fail("setting it non-blocking", e))?;
    Ok(device)
}

fn decoder_for(
    device: &Device,
    path: &str,
    keys: HashMap<KeyCode, Action>,
    (width, height): (u32, u32),
) -> Result<EvdevDecoder, InputError> {
    let (mut x, mut y) = (None, None);
    let axes = device.get_absinfo().map_err(|source| InputError::Device {
        device: path.to_string(),
        action: "reading its axes",
        source,
    })?;
    for (code, info) in axes {
        let scale = |pixels| AxisScale {
            minimum: info.minimum(),
            maximum: info.maximum(),
            pixels,
        };
        match code {
            AbsoluteAxisCode::ABS_MT_POSITION_X => x = Some(scale(width)),
            AbsoluteAxisCode::ABS_MT_POSITION_Y => y = Some(scale(height)),
            AbsoluteAxisCode::ABS_X if x.is_none() => x = Some(scale(width)),
            AbsoluteAxisCode::ABS_Y if y.is_none() => y = Some(scale(height)),
            _ => {}
        }
    }
    Ok(EvdevDecoder::new(keys, x, y))
}

impl InputSource for EvdevInput {
    fn next_event(&mut self, _: Moment) -> Result<Option<InputEvent>, InputError> {
        if let Some(e) = self.pending.pop_front() {
            return Ok(Some(e));
        }
        self.reopen_if_due()?;
        self.read_available()?;
        Ok(self.pending.pop_front())
    }

    fn name(&self) -> String {
        self.path.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use evdev::EventType;

    fn key(code: KeyCode, value: i32) -> evdev::InputEvent {
        evdev::InputEvent::new(EventType::KEY.0, code.code(), value)
    }
    fn abs(code: AbsoluteAxisCode, value: i32) -> evdev::InputEvent {
        evdev::InputEvent::new(EventType::ABSOLUTE.0, code.0, value)
    }
    fn sync() -> evdev::InputEvent {
        evdev::InputEvent::new(
            EventType::SYNCHRONIZATION.0,
            SynchronizationCode::SYN_REPORT.0,
            0,
        )
    }

    /// The official 7" display reports touches in its own 800×480 pixels.
    fn seven_inch() -> EvdevDecoder {
        let axis = |maximum, pixels| AxisScale {
            minimum: 0,
            maximum,
            pixels,
        };
        EvdevDecoder::new(default_keys(), Some(axis(799, 800)), Some(axis(479, 480)))
    }

    fn decode_all(decoder: &mut EvdevDecoder, events: &[evdev::InputEvent]) -> Vec<InputEvent> {
        events.iter().filter_map(|&e| decoder.decode(e)).collect()
    }

    #[test]
    fn a_tap_is_a_touch_where_it_landed_and_moving_or_lifting_is_nothing() {
        let mut d = seven_inch();
        let tap = [
            abs(AbsoluteAxisCode::ABS_MT_POSITION_X, 700),
            abs(AbsoluteAxisCode::ABS_MT_POSITION_Y, 440),
            key(KeyCode::BTN_TOUCH, 1),
            abs(AbsoluteAxisCode::ABS_X, 700),
            abs(AbsoluteAxisCode::ABS_Y, 440),
            sync(),
            abs(AbsoluteAxisCode::ABS_MT_POSITION_X, 710),
            sync(),
            key(KeyCode::BTN_TOUCH, 0),
            sync(),
        ];
        assert_eq!(
            decode_all(&mut d, &tap),
            vec![InputEvent::Touch { x: 700, y: 440 }]
        );
    }

    #[test]
    fn touches_scale_from_the_controller_range_and_clamp() {
        let axis = |pixels| AxisScale {
            minimum: 0,
            maximum: 4095,
            pixels,
        };
        let mut d = EvdevDecoder::new(HashMap::new(), Some(axis(320)), Some(axis(240)));
        let events = [
            abs(AbsoluteAxisCode::ABS_X, 4095),
            abs(AbsoluteAxisCode::ABS_Y, 9000),
            key(KeyCode::BTN_TOUCH, 1),
            sync(),
        ];
        assert_eq!(
            decode_all(&mut d, &events),
            vec![InputEvent::Touch { x: 319, y: 239 }]
        );
        // Without axes (a keypad) a BTN_TOUCH is no touch.
        let mut keypad = EvdevDecoder::new(default_keys(), None, None);
        assert!(decode_all(&mut keypad, &events).is_empty());
    }

    #[test]
    fn key_presses_map_to_actions_and_repeats_or_releases_do_not() {
        let mut d = seven_inch();
        let events = [
            key(KeyCode::KEY_RIGHT, 1),
            key(KeyCode::KEY_RIGHT, 2),
            key(KeyCode::KEY_RIGHT, 0),
            key(KeyCode::KEY_ENTER, 1),
            key(KeyCode::KEY_F13, 1),
        ];
        assert_eq!(
            decode_all(&mut d, &events),
            vec![
                InputEvent::Action(Action::Next),
                InputEvent::Action(Action::Accept)
            ]
        );
    }

    #[test]
    fn a_profile_adds_keys_and_names_a_wrong_one() {
        let overrides: std::collections::BTreeMap<String, Action> =
            [("KEY_F13".to_string(), Action::Wore)].into();
        let keys = key_map(&overrides).unwrap();
        assert_eq!(keys.get(&KeyCode::KEY_F13), Some(&Action::Wore));
        assert_eq!(keys.get(&KeyCode::KEY_ENTER), Some(&Action::Accept));
        let bad: std::collections::BTreeMap<String, Action> =
            [("KEY_NOPE".to_string(), Action::Wore)].into();
        assert!(key_map(&bad).unwrap_err().to_string().contains("KEY_NOPE"));
    }

    #[test]
    fn a_missing_device_is_an_error_naming_it() {
        let e = EvdevInput::open("/dev/input/event-none", default_keys(), (800, 480))
            .err()
            .unwrap();
        assert!(e.to_string().contains("/dev/input/event-none"));
    }
}
