//! Embed only when the view is steady: a garment being moved into place would waste the
//! CPU on blurred, half-visible pictures.

use image::RgbImage;

const GRID: usize = 16;

/// What the detector concluded about the latest frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Motion {
    /// The picture changed since the last frame.
    Moving,
    /// Still, but not for long enough yet.
    Settling,
    /// Still for long enough, for the first time since it last moved: embed this frame.
    Steady,
    /// Still and already embedded: nothing to do.
    Holding,
}

/// Compares a 16×16 grey thumbnail of each frame with the previous one.
#[derive(Debug, Clone)]
pub struct SteadinessDetector {
    previous: Option<[u8; GRID * GRID]>,
    still_frames: u32,
    required: u32,
    threshold: f32,
    fired: bool,
}

impl SteadinessDetector {
    /// `required` still frames in a row make a view steady; `threshold` is the mean absolute
    /// grey difference (0..255) below which two frames count as the same view.
    pub fn new(required: u32, threshold: f32) -> Self {
        Self {
            previous: None,
            still_frames: 0,
            required: required.max(1),
            threshold,
            fired: false,
        }
    }

    pub fn observe(&mut self, frame: &RgbImage) -> Motion {
        let current = thumbnail(frame);
        let moved = match &self.previous {
            None => true,
            Some(previous) => {
                let diff: u32 = previous
                    .iter()
                    .zip(&current)
                    .map(|(a, b)| a.abs_diff(*b) as u32)
                    .sum();
                diff as f32 / (GRID * GRID) as f32 > self.threshold
            }
        };
        self.previous = Some(current);
        if moved {
            self.still_frames = 0;
            self.fired = false;
            return Motion::Moving;
        }
        self.still_frames = self.still_frames.saturating_add(1);
        if self.fired {
            Motion::Holding
        } else if self.still_frames >= self.required {
            self.fired = true;
            Motion::Steady
        } else {
            Motion::Settling
        }
    }
}

impl Default for SteadinessDetector {
    /// Three still frames (a fifth of a second at 15 fps), 6 grey levels of change.
    fn default() -> Self {
        Self::new(3, 6.0)
    }
}

/// A grey thumbnail by point sampling (cheap: 256 pixel reads whatever the frame size).
fn thumbnail(frame: &RgbImage) -> [u8; GRID * GRID] {
    let mut out = [0u8; GRID * GRID];
    let (w, h) = frame.dimensions();
    if w == 0 || h == 0 {
        return out;
    }
    for gy in 0..GRID {
        for gx in 0..GRID {
            let x = ((gx as u64 * 2 + 1) * w as u64 / (2 * GRID as u64)) as u32;
            let y = ((gy as u64 * 2 + 1) * h as u64 / (2 * GRID as u64)) as u32;
            let p = frame.get_pixel(x.min(w - 1), y.min(h - 1)).0;
            out[gy * GRID + gx] =
                ((p[0] as u32 * 77 + p[1] as u32 * 150 + p[2] as u32 * 29) >> 8) as u8;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    #[test]
    fn fires_once_per_steady_view() {
        let a = RgbImage::from_pixel(64, 48, Rgb([10, 10, 10]));
        let b = RgbImage::from_pixel(64, 48, Rgb([200, 200, 200]));
        let mut d = SteadinessDetector::new(2, 5.0);
        let seen: Vec<Motion> = [&a, &a, &a, &a, &b, &b, &b]
            .iter()
            .map(|f| d.observe(f))
            .collect();
        use Motion::*;
        assert_eq!(
            seen,
            vec![Moving, Settling, Steady, Holding, Moving, Settling, Steady]
        );
    }

    #[test]
    fn sensor_noise_is_not_motion_and_empty_frames_do_not_panic() {
        let a = RgbImage::from_pixel(64, 48, Rgb([100, 100, 100]));
        let noisy = RgbImage::from_fn(64, 48, |x, y| Rgb([100 + ((x + y) % 3) as u8; 3]));
        let mut d = SteadinessDetector::new(1, 5.0);
        d.observe(&a);
        assert_eq!(d.observe(&noisy), Motion::Steady);
        d.observe(&RgbImage::new(0, 0));
    }
}
