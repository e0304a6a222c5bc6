//! A training set's pictures: decoded in memory (Fashion-MNIST's 28-pixel pictures), or files
//! read when a batch needs them (In-shop: 52k pictures would not fit), from the decoded cache
//! when there is one.

use super::cache::DecodedCache;
use crate::data::DataError;
use capsule_device::preprocess::PreprocessSpec;
use image::{RgbImage, imageops};
use std::borrow::Cow;
use std::path::PathBuf;

/// Pictures are decoded no larger than this many times the network's input side: room for
/// the augmentation's random crop and the garment crop, without keeping (or caching) the
/// full resolution of a 1101×750 In-shop original. Part of the cache's key.
pub const DECODE_SIDE_PER_INPUT: u32 = 2;

/// The longest side a picture is decoded to for a network of this preprocessing.
pub fn decode_side(spec: &PreprocessSpec) -> u32 {
    spec.size.saturating_mul(DECODE_SIDE_PER_INPUT).max(1)
}

/// The pictures of one training set, by index.
#[derive(Debug)]
pub enum Pictures {
    /// Already decoded.
    Decoded(Vec<RgbImage>),
    /// Picture files, decoded on demand to at most `max_side`.
    Files(PictureFiles),
}

/// Picture files and, once built, their decoded cache.
#[derive(Debug)]
pub struct PictureFiles {
    pub paths: Vec<PathBuf>,
    /// Longest side after decoding (see [`decode_side`]).
    pub max_side: u32,
    pub cache: Option<DecodedCache>,
}

impl Pictures {
    pub fn len(&self) -> usize {
        match self {
            Pictures::Decoded(images) => images.len(),
            Pictures::Files(files) => files.paths.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Picture `index` (borrowed when it is in memory).
    pub fn get(&self, index: usize) -> Result<Cow<'_, RgbImage>, DataError> {
        match self {
            Pictures::Decoded(images) => images
                .get(index)
                .map(Cow::Borrowed)
                .ok_or_else(|| out_of_range(index, images.len())),
            Pictures::Files(files) => {
                if let Some(cache) = &files.cache {
                    return cache.get(index).map(Cow::Owned);
                }
                let path = files
                    .paths
                    .get(index)
                    .ok_or_else(|| out_of_range(index, files.paths.len()))?;
                read_picture(path, files.max_side).map(Cow::Owned)
            }
        }
    }
}

fn out_of_range(index: usize, len: usize) -> DataError {
    DataError::file(
        std::path::Path::new("<training set>"),
        format!("picture {index} asked of a set of {len}"),
    )
}

/// Decodes `path` as RGB, scaled down (keeping its aspect) so its longest side is at most
/// `max_side`; smaller pictures are left as they are.
pub fn read_picture(path: &std::path::Path, max_side: u32) -> Result<RgbImage, DataError> {
    let picture = image::open(path)
        .map_err(|e| DataError::image(path, "decode", e))?
        .to_rgb8();
    Ok(fit_within(picture, max_side))
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

    #[test]
    fn an_index_past_the_end_is_an_error_not_a_panic() {
        let pictures = Pictures::Decoded(vec![RgbImage::new(2, 2)]);
        assert!(pictures.get(0).is_ok());
        assert!(
            pictures
                .get(1)
                .unwrap_err()
                .to_string()
                .contains("picture 1")
        );
        let files = Pictures::Files(PictureFiles {
            paths: vec![],
            max_side: 8,
            cache: None,
        });
        assert!(files.get(0).is_err());
    }
}
