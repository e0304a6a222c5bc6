//! The golden batch: deterministic pictures whose outputs a bundle records, so a board (and
//! every precision variant) can check it computes what burn computed before it trusts a model.

use image::{Rgb, RgbImage};

/// Pictures in the golden batch.
pub const GOLDEN_PICTURES: usize = 2;
/// Accepted max |device − burn| on the golden output (the f32 parity target).
pub const GOLDEN_TOLERANCE: f32 = 1e-4;

/// Deterministic pictures for the golden batch: colour gradients with a stripe, different per
/// picture, so every channel and position carries signal.
pub fn golden_pictures(n: usize) -> Vec<RgbImage> {
    (0..n as u32)
        .map(|k| {
            RgbImage::from_fn(48 + 8 * k, 40, |x, y| {
                let stripe = if (x + 2 * y + 7 * k) % 11 < 4 { 90 } else { 0 };
                Rgb([
                    ((x * 5 + k * 60) % 256) as u8,
                    ((y * 6 + stripe) % 256) as u8,
                    ((x * y + 40 * k) % 256) as u8,
                ])
            })
        })
        .collect()
}
