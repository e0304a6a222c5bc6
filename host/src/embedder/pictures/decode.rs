//! Decoding a picture: RGB, no larger than the network needs.

use crate::data::DataError;
use capsule_device::preprocess::PreprocessSpec;
use image::{RgbImage, imageops};

/// Pictures are decoded no larger than this many times the network's input side: room for
/// the augmentation's random crop and the garment crop, without keeping (or caching) the
/// full resolution of a 1101×750 In-shop original. Part of the cache's key.
pub const DECODE_SIDE_PER_INPUT: u32 = 2;

/// The longest side a picture is decoded to for a network of this preprocessing.
pub fn decode_side(spec: &PreprocessSpec) -> u32 {
    spec.size.saturating_mul(DECODE_SIDE_PER_INPUT).max(1)
}

/// Decodes `path` as RGB.
pub fn read_rgb(path: &std::path::Path) -> Result<RgbImage, DataError> {
    image::open(path)
        .map(|i| i.to_rgb8())
        .map_err(|e| DataError::image(path, "decode", e))
}

/// Decodes `path` as RGB, scaled down (keeping its aspect) so its longest side is at most
/// `max_side`; smaller pictures, and every picture when `max_side` is 0, are left as they are.
pub fn read_picture(path: &std::path::Path, max_side: u32) -> Result<RgbImage, DataError> {
    Ok(fit_within(read_rgb(path)?, max_side))
}

/// `picture` scaled down to fit `max_side` (triangle filter, as the preprocessing resizes).
pub fn fit_within(picture: RgbImage, max_side: u32) -> RgbImage {
    let (w, h) = picture.dimensions();
    let longest = w.max(h);
    if longest <= max_side || max_side == 0 {
        return picture;
    }
    let scale = max_side as f64 / longest as f64;
    let nw = ((w as f64 * scale).round() as u32).clamp(1, max_side);
    let nh = ((h as f64 * scale).round() as u32).clamp(1, max_side);
    imageops::resize(&picture, nw, nh, imageops::FilterType::Triangle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_pictures_shrink_to_the_decode_side_and_small_ones_stay() {
        let spec = PreprocessSpec {
            size: 32,
            ..PreprocessSpec::default()
        };
        assert_eq!(decode_side(&spec), 64);
        let wide = fit_within(RgbImage::new(200, 100), 64);
        assert_eq!(wide.dimensions(), (64, 32));
        let small = fit_within(RgbImage::new(40, 20), 64);
        assert_eq!(small.dimensions(), (40, 20));
    }
}
