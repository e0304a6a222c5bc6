//! Buttons on GPIO lines (the four buttons of ST7789 HATs such as the Pimoroni Display HAT
//! Mini, or any push button to ground), read through the GPIO character device
//! (`/dev/gpiochipN`) as the SPI panel's D/C line is driven.
//!
//! Lines are sampled between frames (a press lasts 100 ms or more, longer than a frame),
//! and a button can mean two things: a short press its `action`, a press held for
//! [`LONG_PRESS`] its `long` action, so four buttons reach all seven actions. The logic is
//! generic over embedded-hal's `InputPin`, so it is tested with pins the test drives.

use super::{Action, ButtonProfile, InputError, InputEvent, InputSource, Moment};
use embedded_hal::digital::InputPin;
use std::time::Duration;

/// How long a press must be held to mean the button's `long` action.
pub const LONG_PRESS: Duration = Duration::from_millis(800);
/// Changes closer together than this are contact bounce.
const DEBOUNCE: Duration = Duration::from_millis(30);

/// One button and where its press stands.
struct Button<P> {
    pin: P,
    line: u32,
    action: Action,
    long: Option<Action>,
    active_low: bool,
    /// When the current press began, while held.
    pressed_at: Option<Duration>,
    /// The long action already fired for this press.
    long_fired: bool,
    last_change: Option<Duration>,
}

/// Buttons on GPIO lines.
pub struct Buttons<P> {
    buttons: Vec<Button<P>>,
    chip: String,
    /// Next button to sample, so each call looks at every button once.
    pending: Vec<InputEvent>,
}

impl<P: InputPin> Buttons<P> {
    /// `pins` are the profile's buttons' lines, in the profile's order.
    pub fn new(chip: &str, profiles: &[ButtonProfile], pins: Vec<P>) -> Self {
        Self {
            buttons: profiles
                .iter()
                .zip(pins)
                .map(|(p, pin)| Button {
                    pin,
                    line: p.line,
                    action: p.action,
                    long: p.long,
                    active_low: p.active_low,
                    pressed_at: None,
                    long_fired: false,
                    last_change: None,
                })
                .collect(),
            chip: chip.to_string(),
            pending: Vec::new(),
        }
    }

    fn sample(&mut self, now: Duration) -> Result<(), InputError> {
        for b in &mut self.buttons {
            let high = b.pin.is_high().map_err(|e| InputError::Device {
                device: format!("{} line {}", self.chip, b.line),
                action: "reading a button",
                source: std::io::Error::other(format!("{e:?}")),
            })?;
            let down = high != b.active_low;
            let bouncing = b
                .last_change
                .is_some_and(|t| now.saturating_sub(t) < DEBOUNCE);
            match (down, b.pressed_at) {
                (true, None) if !bouncing => {
                    b.pressed_at = Some(now);
                    b.long_fired = false;
                    b.last_change = Some(now);
                    // Without a long meaning a press acts at once.
                    if b.long.is_none() {
                        self.pending.push(InputEvent::Action(b.action));
                    }
                }
                (true, Some(at)) => {
                    if let Some(long) = b.long
                        && !b.long_fired
                        && now.saturating_sub(at) >= LONG_PRESS
                    {
                        b.long_fired = true;
                        self.pending.push(InputEvent::Action(long));
                    }
                }
                (false, Some(_)) if !bouncing => {
                    if b.long.is_some() && !b.long_fired {
                        self.pending.push(InputEvent::Action(b.action));
                    }
                    b.pressed_at = None;
                    b.last_change = Some(now);
                }
                _ => {}
            }
        }
        // Served oldest first.
        self.pending.reverse();
        Ok(())
    }
}

impl<P: InputPin> InputSource for Buttons<P> {
    fn next_event(&mut self, now: Moment) -> Result<Option<InputEvent>, InputError> {
        if self.pending.is_empty() {
            self.sample(now.elapsed)?;
        }
        Ok(self.pending.pop())
    }

    fn name(&self) -> String {
        format!("buttons on {}", self.chip)
    }
}

/// `buttons` on the GPIO chip at `chip_path`.
pub fn open(
    chip_path: &str,
    buttons: &[ButtonProfile],
) -> Result<Buttons<linux_embedded_hal::CdevPin>, InputError> {
    use linux_embedded_hal::CdevPin;
    use linux_embedded_hal::gpio_cdev::{Chip, LineRequestFlags};
    let fail = |what: String, e: &dyn std::fmt::Display| InputError::Device {
        device: chip_path.to_string(),
        action: "claiming a button's GPIO line",
        source: std::io::Error::other(format!("{what}: {e}")),
    };
    let mut chip = Chip::new(chip_path).map_err(|e| fail("opening the chip".into(), &e))?;
    let mut pins = Vec::new();
    for b in buttons {
        let pin = chip
            .get_line(b.line)
            .and_then(|l| l.request(LineRequestFlags::INPUT, 0, "capsule button"))
            .and_then(CdevPin::new)
            .map_err(|e| fail(format!("line {} ({})", b.line, b.action), &e))?;
        pins.push(pin);
    }
    Ok(Buttons::new(chip_path, buttons, pins))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::rc::Rc;

    /// A line the test pulls high or low.
    #[derive(Clone)]
    struct Line(Rc<Cell<bool>>);

    impl embedded_hal::digital::ErrorType for Line {
        type Error = std::convert::Infallible;
    }
    impl InputPin for Line {
        fn is_high(&mut self) -> Result<bool, Self::Error> {
            Ok(self.0.get())
        }
        fn is_low(&mut self) -> Result<bool, Self::Error> {
            Ok(!self.0.get())
        }
    }

    fn at(ms: u64) -> Moment {
        Moment {
            frame: 0,
            elapsed: Duration::from_millis(ms),
        }
    }

    fn events(buttons: &mut Buttons<Line>, ms: u64) -> Vec<InputEvent> {
        std::iter::from_fn(|| buttons.next_event(at(ms)).unwrap()).collect()
    }

    fn hat() -> (Buttons<Line>, Line, Line) {
        let profiles = [
            ButtonProfile {
                line: 5,
                action: Action::Next,
                long: Some(Action::Previous),
                active_low: true,
            },
            ButtonProfile {
                line: 6,
                action: Action::Accept,
                long: None,
                active_low: true,
            },
        ];
        // Pulled up: high while not pressed.
        let (a, b) = (
            Line(Rc::new(Cell::new(true))),
            Line(Rc::new(Cell::new(true))),
        );
        let buttons = Buttons::new("/dev/gpiochip0", &profiles, vec![a.clone(), b.clone()]);
        (buttons, a, b)
    }

    #[test]
    fn a_plain_button_acts_when_pressed_once_per_press() {
        let (mut buttons, _, b) = hat();
        assert!(events(&mut buttons, 0).is_empty());
        b.0.set(false);
        assert_eq!(
            events(&mut buttons, 100),
            vec![InputEvent::Action(Action::Accept)]
        );
        assert!(events(&mut buttons, 200).is_empty(), "held is one press");
        b.0.set(true);
        assert!(events(&mut buttons, 300).is_empty());
        b.0.set(false);
        assert_eq!(events(&mut buttons, 400).len(), 1);
    }

    #[test]
    fn a_two_meaning_button_is_short_on_release_and_long_when_held() {
        let (mut buttons, a, _) = hat();
        a.0.set(false);
        assert!(events(&mut buttons, 0).is_empty(), "waits to know which");
        a.0.set(true);
        assert_eq!(
            events(&mut buttons, 200),
            vec![InputEvent::Action(Action::Next)]
        );
        a.0.set(false);
        assert!(events(&mut buttons, 1_000).is_empty());
        assert_eq!(
            events(&mut buttons, 1_000 + LONG_PRESS.as_millis() as u64),
            vec![InputEvent::Action(Action::Previous)]
        );
        a.0.set(true);
        assert!(
            events(&mut buttons, 3_000).is_empty(),
            "release after long is nothing"
        );
    }

    #[test]
    fn contact_bounce_is_one_press() {
        let (mut buttons, _, b) = hat();
        b.0.set(false);
        assert_eq!(events(&mut buttons, 100).len(), 1);
        b.0.set(true);
        assert!(events(&mut buttons, 110).is_empty());
        b.0.set(false);
        assert!(events(&mut buttons, 115).is_empty());
    }

    #[test]
    fn two_buttons_at_once_both_act() {
        let (mut buttons, a, b) = hat();
        a.0.set(false);
        b.0.set(false);
        assert_eq!(events(&mut buttons, 0).len(), 1);
        a.0.set(true);
        b.0.set(true);
        assert_eq!(
            events(&mut buttons, 100),
            vec![InputEvent::Action(Action::Next)]
        );
    }
}
