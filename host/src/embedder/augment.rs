//! Camera-like augmentation, applied to the picture *before* the shared preprocessing, so
//! training sees the distortions a phone or board camera adds (framing, mirror, exposure and
//! white balance, focus) while the tensor still comes from `capsule_device::preprocess`.

use image::{RgbImage, imageops};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// Strengths of each distortion; `Augment::none()` turns all off (for evaluation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Augment {
    /// Smallest fraction of the area a random crop keeps (1.0: no crop).
    pub min_crop_area: f32,
    /// Probability of a horizontal flip.
    pub flip: f32,
    /// Brightness, contrast and saturation each vary by a factor in `1 ± jitter`.
    pub jitter: f32,
    /// Probability of a Gaussian blur, and its largest sigma in pixels.
    pub blur: f32,
    pub max_blur_sigma: f32,
}

impl Default for Augment {
    fn default() -> Self {
        Self {
            min_crop_area: 0.7,
            flip: 0.5,
            jitter: 0.25,
            blur: 0.3,
            max_blur_sigma: 1.2,
        }
    }
}

impl Augment {
    /// No distortion at all.
    pub fn none() -> Self {
        Self {
            min_crop_area: 1.0,
            flip: 0.0,
            jitter: 0.0,
            blur: 0.0,
            max_blur_sigma: 0.0,
        }
    }

    /// A distorted copy of `image`.
    pub fn apply(&self, image: &RgbImage, rng: &mut impl Rng) -> RgbImage {
        let (w, h) = image.dimensions();
        let mut out = if self.min_crop_area < 1.0 {
            let side = rng
                .random_range(self.min_crop_area.clamp(0.05, 1.0)..=1.0)
                .sqrt();
            let cw = ((w as f32 * side).round() as u32).clamp(1, w);
            let ch = ((h as f32 * side).round() as u32).clamp(1, h);
            let x = rng.random_range(0..=w - cw);
            let y = rng.random_range(0..=h - ch);
            imageops::crop_imm(image, x, y, cw, ch).to_image()
        } else {
            image.clone()
        };
        if rng.random::<f32>() < self.flip {
            imageops::flip_horizontal_in_place(&mut out);
        }
        if self.jitter > 0.0 {
            let j = self.jitter;
            let brightness = rng.random_range(1.0 - j..=1.0 + j);
            let contrast = rng.random_range(1.0 - j..=1.0 + j);
            let saturation = rng.random_range(1.0 - j..=1.0 + j);
            colour_jitter(&mut out, brightness, contrast, saturation);
        }
        if self.blur > 0.0 && rng.random::<f32>() < self.blur {
            let sigma = rng.random_range(0.3..=self.max_blur_sigma.max(0.3));
            out = imageops::blur(&out, sigma);
        }
        out
    }
}

/// Scales brightness, then contrast around the mean grey, then saturation around each
/// pixel's grey.
fn colour_jitter(image: &mut RgbImage, brightness: f32, contrast: f32, saturation: f32) {
    let luma = |p: [f32; 3]| 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
    let n = (image.width() * image.height()).max(1) as f32;
    let mean = image
        .pixels()
        .map(|p| luma(p.0.map(f32::from)) * brightness)
        .sum::<f32>()
        / n;
    for pixel in image.pixels_mut() {
        let rgb = pixel.0.map(|v| v as f32 * brightness);
        let rgb = rgb.map(|v| (v - mean) * contrast + mean);
        let grey = luma(rgb);
        pixel.0 = rgb.map(|v| (grey + (v - grey) * saturation).clamp(0.0, 255.0).round() as u8);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn picture() -> RgbImage {
        RgbImage::from_fn(40, 30, |x, y| {
            image::Rgb([(x * 6) as u8, (y * 8) as u8, 90])
        })
    }

    #[test]
    fn none_is_identity_and_default_is_seeded() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        assert_eq!(Augment::none().apply(&picture(), &mut rng), picture());
        let a = Augment::default().apply(&picture(), &mut ChaCha8Rng::seed_from_u64(9));
        let b = Augment::default().apply(&picture(), &mut ChaCha8Rng::seed_from_u64(9));
        assert_eq!(a, b);
        assert!(a.width() <= 40 && a.height() <= 30 && a.width() >= 33);
    }

    #[test]
    fn jitter_with_unit_factors_changes_nothing() {
        let mut p = picture();
        colour_jitter(&mut p, 1.0, 1.0, 1.0);
        assert_eq!(p, picture());
        colour_jitter(&mut p, 1.0, 1.0, 0.0);
        assert!(p.pixels().all(|q| q.0[0].abs_diff(q.0[1]) <= 1));
    }
}
