//! Real photos behind synthetic garments, so the camera views look like what a mirror's
//! camera sees (a room, a street, a shelf) rather than a drawn wall.
//!
//! The photos come from a folder (e.g. Debian's `lomiri-wallpapers-16.04`, see
//! `scripts/fetch-backgrounds`); they are split by name into a training part and a held-out
//! part, so an evaluation set can be staged on backgrounds no training view was drawn on.

use super::SynthError;
use image::RgbImage;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Longest side the photos are kept at: a view crops and scales a part of one anyway.
const KEEP_SIDE: u32 = 640;
/// Largest photo read, in pixels and on either side.
const MAX_PIXELS: u64 = 40_000_000;
const MAX_SIDE: u32 = 10_000;
/// Every `HELD_OUT_EVERY`-th photo (in name order) is held out of training.
const HELD_OUT_EVERY: usize = 4;

/// Which photos of the folder to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum BackgroundPart {
    /// Those for training views (three in four).
    Train,
    /// Those never used for training (one in four): for staged evaluation sets.
    HeldOut,
    All,
}

/// Where the background photos come from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Backgrounds {
    pub dir: PathBuf,
    pub part: BackgroundPart,
}

impl Backgrounds {
    /// The photos of this part, in name order, scaled down to [`KEEP_SIDE`].
    pub fn load(&self) -> Result<Vec<RgbImage>, SynthError> {
        let files = photo_files(&self.dir)?;
        let chosen: Vec<&PathBuf> = files
            .iter()
            .enumerate()
            .filter(|(i, _)| {
                let held_out = i % HELD_OUT_EVERY == HELD_OUT_EVERY - 1;
                match self.part {
                    BackgroundPart::Train => !held_out,
                    BackgroundPart::HeldOut => held_out,
                    BackgroundPart::All => true,
                }
            })
            .map(|(_, f)| f)
            .collect();
        if chosen.is_empty() {
            return Err(SynthError::Config(format!(
                "{}: no {:?} background photos among {} pictures (need at least {HELD_OUT_EVERY} \
                 for a held-out part); scripts/fetch-backgrounds installs a set",
                self.dir.display(),
                self.part,
                files.len()
            )));
        }
        chosen
            .into_iter()
            .map(|path| Ok(shrink(&read_photo(path)?)))
            .collect()
    }
}

fn photo_files(dir: &Path) -> Result<Vec<PathBuf>, SynthError> {
    let entries = std::fs::read_dir(dir).map_err(|e| SynthError::io(dir, e))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "jpg" | "jpeg" | "png"))
        })
        .collect();
    files.sort();
    Ok(files)
}

fn read_photo(path: &Path) -> Result<RgbImage, SynthError> {
    let mut reader = image::ImageReader::open(path)
        .and_then(|r| r.with_guessed_format())
        .map_err(|e| SynthError::io(path, e))?;
    // Wallpapers run to 6000 × 4000; the limits refuse anything that would need more memory.
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_PIXELS * 4);
    reader.limits(limits);
    let photo = reader.decode().map_err(|e| SynthError::Image {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    Ok(photo.to_rgb8())
}

fn shrink(photo: &RgbImage) -> RgbImage {
    let (w, h) = photo.dimensions();
    let scale = KEEP_SIDE as f32 / w.max(h).max(1) as f32;
    if scale >= 1.0 {
        return photo.clone();
    }
    let (tw, th) = (
        ((w as f32 * scale) as u32).max(1),
        ((h as f32 * scale) as u32).max(1),
    );
    image::imageops::resize(photo, tw, th, image::imageops::FilterType::Triangle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_split_the_folder_by_name_and_never_overlap() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..8u8 {
            RgbImage::from_pixel(900, 300, image::Rgb([i * 30, 10, 10]))
                .save(dir.path().join(format!("p{i}.png")))
                .unwrap();
        }
        std::fs::write(dir.path().join("notes.txt"), "not a photo").unwrap();
        let load = |part| {
            Backgrounds {
                dir: dir.path().to_path_buf(),
                part,
            }
            .load()
            .unwrap()
        };
        let (train, held_out, all) = (
            load(BackgroundPart::Train),
            load(BackgroundPart::HeldOut),
            load(BackgroundPart::All),
        );
        assert_eq!((train.len(), held_out.len(), all.len()), (6, 2, 8));
        assert_eq!(
            all[0].dimensions(),
            (640, 213),
            "kept at 640 px on the long side"
        );
        let reds = |set: &[RgbImage]| {
            set.iter()
                .map(|p| p.get_pixel(0, 0).0[0])
                .collect::<Vec<_>>()
        };
        assert_eq!(reds(&held_out), vec![90, 210], "p3 and p7");
        assert!(reds(&train).iter().all(|r| !reds(&held_out).contains(r)));
        let empty = tempfile::tempdir().unwrap();
        let err = Backgrounds {
            dir: empty.path().to_path_buf(),
            part: BackgroundPart::HeldOut,
        }
        .load()
        .unwrap_err();
        assert!(err.to_string().contains("fetch-backgrounds"), "{err}");
    }
}
