//! Node features of the stylist graph: a feature file keyed by item id, filled by the
//! trained embedder (what the device has for every garment) or by hand-made appearance
//! features (for experiments without an embedder), and the z-scoring that turns raw
//! features into encoder inputs.
//!
//! # Feature file format
//!
//! One JSON object (`capsule-host stylist features` writes it; the embedder's export will
//! write the same shape, and then replaces the hand-made features without any other change):
//!
//! ```json
//! { "format": "capsule-features/1", "source": "appearance-v1", "dim": 3,
//!   "items": { "100000001": [0.1, 0.2, 0.3], ... } }
//! ```
//!
//! Every vector has exactly `dim` finite numbers. JSON keeps the file inspectable and
//! diff-able; at Polyvore scale (250k items × 128 floats) it is a few hundred MB, which is
//! the point to move to a binary sidecar.

use super::graph::ItemGraph;
use crate::data::polyvore::{PolyvoreDataset, PolyvoreItem};
use crate::embedder::TrainedEmbedder;
use capsule_device::GarmentType;
use capsule_device::fsutil::write_atomic;
use capsule_device::garment::style::hsv;
use capsule_device::garment::{STYLE_DIM, STYLE_SOURCE, style_features};
use capsule_device::preprocess::{PreprocessSpec, WHOLE_PICTURE};
use image::RgbImage;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The `format` tag of a feature file this code reads.
pub const FORMAT: &str = "capsule-features/1";
/// The `source` tag of [`appearance_features`].
pub const APPEARANCE_SOURCE: &str = "appearance-v1";

/// A feature file could not be read, written or used.
#[derive(Debug, thiserror::Error)]
pub enum FeatureError {
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
    #[error(transparent)]
    Read(#[from] crate::data::DataError),
    #[error("cannot encode the feature file {path}: {source}")]
    Encode {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error(transparent)]
    Write(#[from] capsule_device::fsutil::AtomicWriteError),
    #[error("embedding the item pictures of {path}: {source}")]
    Embed {
        path: PathBuf,
        #[source]
        source: Box<crate::embedder::EmbedderError>,
    },
    #[error("{path}: item {id} has {got} features, the file says dim = {expected}")]
    Dimension {
        path: PathBuf,
        id: String,
        expected: usize,
        got: usize,
    },
    #[error(
        "no features for item {id}; recompute the feature file for this dataset (`capsule-host stylist features --data DIR --out FILE`)"
    )]
    MissingItem { id: String },
    #[error("features have dim {got}, the model was trained with {expected}")]
    WrongDim { expected: usize, got: usize },
    #[error(
        "features come from {got:?}, the model was trained on {expected:?} features; compute the same kind for this data"
    )]
    WrongSource { expected: String, got: String },
    #[error("image of item {id} ({path}): {source}")]
    Image {
        id: String,
        path: PathBuf,
        #[source]
        source: Box<image::ImageError>,
    },
}

/// Per-item feature vectors, as stored on disk.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FeatureFile {
    pub format: String,
    /// What produced the vectors (e.g. `appearance-v1`, or an embedder run).
    pub source: String,
    pub dim: usize,
    pub items: BTreeMap<String, Vec<f32>>,
}

impl FeatureFile {
    /// Reads and checks a feature file.
    pub fn load(path: &Path) -> Result<Self, FeatureError> {
        let file_error = |message: String| FeatureError::File {
            path: path.to_path_buf(),
            message,
        };
        let file: FeatureFile = crate::data::error::parse_json(path)?;
        if file.format != FORMAT {
            return Err(file_error(format!(
                "format is {:?}, expected {FORMAT:?}",
                file.format
            )));
        }
        for (id, v) in &file.items {
            if v.len() != file.dim {
                return Err(FeatureError::Dimension {
                    path: path.to_path_buf(),
                    id: id.clone(),
                    expected: file.dim,
                    got: v.len(),
                });
            }
            if v.iter().any(|x| !x.is_finite()) {
                return Err(file_error(format!("item {id} has a non-finite feature")));
            }
        }
        Ok(file)
    }

    /// Writes the file atomically.
    pub fn save(&self, path: &Path) -> Result<(), FeatureError> {
        let bytes = serde_json::to_vec(self).map_err(|source| FeatureError::Encode {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(write_atomic(path, &bytes)?)
    }

    pub fn get(&self, id: &str) -> Result<&[f32], FeatureError> {
        self.items
            .get(id)
            .map(Vec::as_slice)
            .ok_or_else(|| FeatureError::MissingItem { id: id.to_string() })
    }
}

/// An item's picture, or an error naming the item and its file.
fn open_item(item: &PolyvoreItem) -> Result<RgbImage, FeatureError> {
    image::open(&item.image)
        .map(|p| p.to_rgb8())
        .map_err(|source| FeatureError::Image {
            id: item.item_id.clone(),
            path: item.image.clone(),
            source: Box::new(source),
        })
}

/// Computes [`appearance_features`] for every item of `data` (in parallel).
pub fn compute_for_dataset(data: &PolyvoreDataset) -> Result<FeatureFile, FeatureError> {
    let items: Vec<_> = data.items.values().collect();
    let rows = items
        .par_iter()
        .map(|item| Ok((item.item_id.clone(), appearance_features(&open_item(item)?))))
        .collect::<Result<BTreeMap<_, _>, FeatureError>>()?;
    Ok(FeatureFile {
        format: FORMAT.into(),
        source: APPEARANCE_SOURCE.into(),
        dim: APPEARANCE_DIM,
        items: rows,
    })
}

/// The `style-v1` statistics alone of every item of `data` (the garment region, as on the
/// device), for ablations: what the stylist does without the embedder.
pub fn compute_style_only(data: &PolyvoreDataset) -> Result<FeatureFile, FeatureError> {
    let items: Vec<_> = data.items.values().collect();
    let rows = items
        .par_iter()
        .map(|item| {
            let view = PreprocessSpec::default().garment_view(&open_item(item)?, WHOLE_PICTURE);
            Ok((item.item_id.clone(), style_features(view.picture())))
        })
        .collect::<Result<BTreeMap<_, _>, FeatureError>>()?;
    Ok(FeatureFile {
        format: FORMAT.into(),
        source: STYLE_SOURCE.into(),
        dim: STYLE_DIM,
        items: rows,
    })
}

/// The feature-file `source` of a trained embedder's output: a stylist trained on it must be
/// fed by the same embedder, on the host and on the device (its bundle pairs them).
pub fn embedder_source(run_dir: &Path, epoch: usize) -> String {
    let name = run_dir
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| run_dir.display().to_string());
    format!("embedder:{name}@epoch{epoch}")
}

/// The feature source of an embedder's output followed by the `style-v1` statistics.
pub fn with_style(embedder_source: &str) -> String {
    format!("{embedder_source}+{STYLE_SOURCE}")
}

/// The embedder source of a feature source, and whether the style statistics follow it: the
/// inverse of [`with_style`].
pub fn split_style(source: &str) -> (&str, bool) {
    match source.strip_suffix(&format!("+{STYLE_SOURCE}")) {
        Some(embedder_source) => (embedder_source, true),
        None => (source, false),
    }
}

/// The embedder's output for every item of `data`, computed as the device computes a
/// garment's embedding: the picture through the embedder's preprocessing contract (its
/// garment crop included), then the embedder.
///
/// With `style`, each vector continues with the garment's `style-v1` statistics
/// ([`capsule_device::garment::style_features`] of the same garment view) and the source
/// says so ([`with_style`]).
pub fn compute_with_embedder(
    data: &PolyvoreDataset,
    embedder: &TrainedEmbedder,
    source: String,
    style: bool,
) -> Result<FeatureFile, FeatureError> {
    let items: Vec<_> = data.items.values().collect();
    let mut rows = BTreeMap::new();
    let mut dim = 0;
    // Batches keep memory flat on Polyvore-sized sets.
    for chunk in items.chunks(256) {
        let pictures = chunk
            .par_iter()
            .map(|item| open_item(item))
            .collect::<Result<Vec<_>, FeatureError>>()?;
        let (vectors, d) =
            embedder
                .embed_images(&pictures)
                .map_err(|source| FeatureError::Embed {
                    path: data.root.clone(),
                    source: Box::new(source),
                })?;
        dim = d + if style { STYLE_DIM } else { 0 };
        for ((item, v), picture) in chunk.iter().zip(vectors.chunks(d.max(1))).zip(&pictures) {
            let mut row = v.to_vec();
            if style {
                let view = embedder.spec().garment_view(picture, WHOLE_PICTURE);
                row.extend(style_features(view.picture()));
            }
            rows.insert(item.item_id.clone(), row);
        }
    }
    Ok(FeatureFile {
        format: FORMAT.into(),
        source: if style { with_style(&source) } else { source },
        dim,
        items: rows,
    })
}

const HUE_BINS: usize = 24;
const GREY_BINS: usize = 4;
const THUMB: u32 = 8;
const MASK: u32 = 12;
const TEXTURE: usize = 5;
/// Length of [`appearance_features`].
pub const APPEARANCE_DIM: usize =
    HUE_BINS * 2 + GREY_BINS + (THUMB * THUMB * 3) as usize + (MASK * MASK) as usize + TEXTURE;

/// Honest, simple appearance features of a product shot on a light background: what the
/// style rules look at, measured without learning.
///
/// - colour: a 24-bin hue histogram of saturated garment pixels (15° bins separate the
///   palette's hues, so harmony is learnable), the same weighted by saturation, and a 4-bin
///   lightness histogram of the unsaturated ones (neutrals);
/// - layout: an 8×8 RGB thumbnail and a 12×12 garment mask (silhouette, hence formality
///   and season);
/// - texture: garment area, mean gradient magnitude, the share of strong edges, the
///   horizontal/vertical edge balance, and the number of distinct quantised colours
///   (solid vs bold patterns).
///
/// The trained embedder replaces these: it writes a feature file of the same format.
pub fn appearance_features(image: &RgbImage) -> Vec<f32> {
    let (w, h) = image.dimensions();
    let mut hue = [0f32; HUE_BINS];
    let mut hue_sat = [0f32; HUE_BINS];
    let mut grey = [0f32; GREY_BINS];
    let mut mask = vec![0f32; (MASK * MASK) as usize];
    let mut mask_count = vec![0f32; (MASK * MASK) as usize];
    let mut palette = std::collections::HashSet::new();
    let mut foreground = 0f32;
    let is_garment = |p: &image::Rgb<u8>| p.0.iter().any(|&c| c < 245);
    for (x, y, p) in image.enumerate_pixels() {
        let cell = ((y * MASK / h) * MASK + x * MASK / w) as usize;
        mask_count[cell] += 1.0;
        if !is_garment(p) {
            continue;
        }
        foreground += 1.0;
        mask[cell] += 1.0;
        let (hh, s, v) = hsv(p.0);
        if s > 0.25 && v > 0.15 {
            // Bins centred on multiples of 15°, so pure red (0° or 359°) lands in one bin.
            let bin = ((hh / 360.0 * HUE_BINS as f32 + 0.5) as usize) % HUE_BINS;
            hue[bin] += 1.0;
            hue_sat[bin] += s;
        } else {
            grey[((v * GREY_BINS as f32) as usize).min(GREY_BINS - 1)] += 1.0;
        }
        palette.insert((p.0[0] / 64, p.0[1] / 64, p.0[2] / 64));
    }
    let area = foreground.max(1.0);
    let mut out = Vec::with_capacity(APPEARANCE_DIM);
    out.extend(hue.iter().map(|c| c / area));
    out.extend(hue_sat.iter().map(|c| c / area));
    out.extend(grey.iter().map(|c| c / area));
    let thumb = image::imageops::resize(image, THUMB, THUMB, image::imageops::FilterType::Triangle);
    out.extend(thumb.pixels().flat_map(|p| p.0.map(|c| c as f32 / 255.0)));
    out.extend(mask.iter().zip(&mask_count).map(|(m, n)| m / n.max(1.0)));

    let lum = |x: u32, y: u32| {
        let p = image.get_pixel(x, y).0;
        (0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32) / 255.0
    };
    let (mut gsum, mut strong, mut gx_sum, mut gy_sum) = (0f32, 0f32, 0f32, 0f32);
    for y in 1..h.saturating_sub(1) {
        for x in 1..w.saturating_sub(1) {
            if !is_garment(image.get_pixel(x, y)) {
                continue;
            }
            let gx = lum(x + 1, y) - lum(x - 1, y);
            let gy = lum(x, y + 1) - lum(x, y - 1);
            let g = (gx * gx + gy * gy).sqrt();
            gsum += g;
            gx_sum += gx.abs();
            gy_sum += gy.abs();
            if g > 0.2 {
                strong += 1.0;
            }
        }
    }
    out.push(foreground / (w * h) as f32);
    out.push(gsum / area);
    out.push(strong / area);
    out.push((gx_sum - gy_sum) / (gx_sum + gy_sum).max(1e-6));
    out.push(palette.len() as f32 / 64.0);
    debug_assert_eq!(out.len(), APPEARANCE_DIM);
    out
}

/// Per-dimension mean and standard deviation of the training items' features. Fitted once on
/// the training split and stored in the run, so evaluation on other data (another seed,
/// the owner's wardrobe) standardises with the statistics the model was trained with.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Standardizer {
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
}

impl Standardizer {
    /// Fits on `rows` (all of one length). Constant dimensions get std 1 so they map to 0.
    pub fn fit<'a>(rows: impl IntoIterator<Item = &'a [f32]>, dim: usize) -> Self {
        let mut sum = vec![0f64; dim];
        let mut square = vec![0f64; dim];
        let mut n = 0f64;
        for row in rows {
            for (k, &x) in row.iter().enumerate() {
                sum[k] += x as f64;
                square[k] += (x as f64) * (x as f64);
            }
            n += 1.0;
        }
        let n = n.max(1.0);
        let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
        let std = square
            .iter()
            .zip(&mean)
            .map(|(q, m)| {
                let var = (q / n - m * m).max(0.0);
                if var < 1e-12 { 1.0 } else { var.sqrt() as f32 }
            })
            .collect();
        Self {
            mean: mean.into_iter().map(|m| m as f32).collect(),
            std,
        }
    }

    pub fn dim(&self) -> usize {
        self.mean.len()
    }

    /// `(x - mean) / std`, elementwise.
    pub fn apply<'a>(&'a self, row: &'a [f32]) -> impl Iterator<Item = f32> + 'a {
        row.iter()
            .zip(self.mean.iter().zip(&self.std))
            .map(|(x, (m, s))| (x - m) / s)
    }
}

/// Width of an encoder input row: standardised features, then the garment type one-hot.
pub fn input_dim(feature_dim: usize) -> usize {
    feature_dim + GarmentType::COUNT
}

/// The encoder input matrix of `graph` (row-major, one row per node, [`input_dim`] wide).
pub fn node_inputs(
    graph: &ItemGraph,
    features: &FeatureFile,
    standardizer: &Standardizer,
) -> Result<Vec<f32>, FeatureError> {
    if features.dim != standardizer.dim() {
        return Err(FeatureError::WrongDim {
            expected: standardizer.dim(),
            got: features.dim,
        });
    }
    let width = input_dim(features.dim);
    let mut out = Vec::with_capacity(graph.len() * width);
    for (id, &t) in graph.ids.iter().zip(&graph.types) {
        out.extend(standardizer.apply(features.get(id)?));
        out.extend((0..GarmentType::COUNT).map(|k| if k == t { 1.0 } else { 0.0 }));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standardizer_centres_and_scales_and_keeps_constants_finite() {
        let rows = [vec![1.0, 5.0], vec![3.0, 5.0]];
        let s = Standardizer::fit(rows.iter().map(Vec::as_slice), 2);
        assert_eq!(s.mean, vec![2.0, 5.0]);
        assert_eq!(s.std, vec![1.0, 1.0]);
        let z: Vec<f32> = s.apply(&[3.0, 5.0]).collect();
        assert_eq!(z, vec![1.0, 0.0]);
    }

    #[test]
    fn appearance_features_see_colour_and_area() {
        let mut image = RgbImage::from_pixel(32, 32, image::Rgb([255, 255, 255]));
        for y in 8..24 {
            for x in 8..24 {
                image.put_pixel(x, y, image::Rgb([200, 36, 40]));
            }
        }
        let f = appearance_features(&image);
        assert_eq!(f.len(), APPEARANCE_DIM);
        assert!(
            (f[0] - 1.0).abs() < 1e-6,
            "all garment pixels are red: {}",
            f[0]
        );
        assert!((f[APPEARANCE_DIM - TEXTURE] - 0.25).abs() < 1e-6);
    }

    #[test]
    fn a_style_source_splits_back_into_its_embedder_source() {
        let source = "embedder:run@epoch3";
        assert_eq!(split_style(&with_style(source)), (source, true));
        assert_eq!(split_style(source), (source, false));
    }

    #[test]
    fn feature_file_round_trips_and_rejects_bad_dims() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.json");
        let mut file = FeatureFile {
            format: FORMAT.into(),
            source: "test".into(),
            dim: 2,
            items: BTreeMap::from([("a".to_string(), vec![1.0, 2.0])]),
        };
        file.save(&path).unwrap();
        assert_eq!(FeatureFile::load(&path).unwrap(), file);
        file.items.insert("b".into(), vec![1.0]);
        file.save(&path).unwrap();
        let err = FeatureFile::load(&path).unwrap_err().to_string();
        assert!(err.contains("item b"), "{err}");
    }
}
