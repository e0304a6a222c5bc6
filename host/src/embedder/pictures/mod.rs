//! A set's pictures: decoded in memory (Fashion-MNIST's 28-pixel pictures), or files read
//! when they are needed (In-shop: 52k pictures would not fit), from the decoded cache when
//! there is one ([`cache`]), decoded by [`decode`]. Training sets and evaluation sets both
//! hold their pictures this way.

pub mod cache;
pub mod decode;

pub use cache::{CacheOutcome, DecodedCache};
pub use decode::{decode_side, read_rgb};

use crate::data::DataError;
use decode::read_picture;
use image::RgbImage;
use rayon::prelude::*;
use std::borrow::Cow;
use std::path::PathBuf;

/// The pictures of one set, by index.
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
    /// Longest side after decoding (see [`decode_side`]); 0: as they are.
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

    /// What identifies these pictures (sha256): the files' paths, sizes and modification
    /// times, or the decoded pictures' sizes and pixels.
    pub fn identity(&self) -> Result<[u8; 32], DataError> {
        match self {
            Pictures::Files(files) => cache::files_identity(&files.paths),
            Pictures::Decoded(images) => {
                use sha2::{Digest, Sha256};
                let mut hash = Sha256::new();
                for image in images {
                    hash.update(image.width().to_le_bytes());
                    hash.update(image.height().to_le_bytes());
                    hash.update(image.as_raw());
                }
                Ok(hash.finalize().into())
            }
        }
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

impl Pictures {
    /// The pictures in order, `size` at a time, each chunk decoded in parallel: a whole
    /// evaluation set never sits in memory at once.
    pub fn chunks(
        &self,
        size: usize,
    ) -> impl Iterator<Item = Result<Vec<RgbImage>, DataError>> + '_ {
        let size = size.max(1);
        (0..self.len()).step_by(size).map(move |start| {
            (start..(start + size).min(self.len()))
                .into_par_iter()
                .map(|i| self.get(i).map(Cow::into_owned))
                .collect()
        })
    }
}

fn out_of_range(index: usize, len: usize) -> DataError {
    DataError::file(
        std::path::Path::new("<training set>"),
        format!("picture {index} asked of a set of {len}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_the_pictures_in_order() {
        let pictures = Pictures::Decoded(
            (0..5u8)
                .map(|i| RgbImage::from_pixel(1, 1, image::Rgb([i, 0, 0])))
                .collect(),
        );
        let firsts: Vec<Vec<u8>> = pictures
            .chunks(2)
            .map(|c| c.unwrap().iter().map(|p| p.get_pixel(0, 0).0[0]).collect())
            .collect();
        assert_eq!(firsts, vec![vec![0, 1], vec![2, 3], vec![4]]);
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
