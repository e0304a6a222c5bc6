//! A training set's pictures: decoded in memory (Fashion-MNIST's 28-pixel pictures), or files
//! read when a batch needs them (In-shop: 52k pictures would not fit), from the decoded cache
//! when there is one.

use super::cache::DecodedCache;
use super::decode::read_picture;
use crate::data::DataError;
use image::RgbImage;
use std::borrow::Cow;
use std::path::PathBuf;

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
    /// Longest side after decoding (see [`super::decode_side`]).
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
            Pictures::Files(files) => super::cache::files_identity(&files.paths),
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
