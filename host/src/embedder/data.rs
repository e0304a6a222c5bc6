//! Datasets as labelled pictures (in memory or files read when needed), and batches as
//! tensors made by the shared
//! preprocessing (`capsule_device::preprocess::preprocess_into`) — the same function the
//! board runs on camera frames — and through a network.

use super::error::EmbedderError;
use super::model::Embedder;
pub use super::pictures::read_rgb;
use super::pictures::{PictureFiles, Pictures};
use crate::data::fmnist::{FashionMnist, IdxSet};
use crate::data::inshop::{EvalStatus, InShopDataset};
use burn::prelude::*;
use capsule_device::preprocess::{PreprocessSpec, gray_to_rgb, preprocess_into};
use image::RgbImage;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::PathBuf;

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum DataFormat {
    /// DeepFashion In-shop layout (real or `data synth`): identities are item ids.
    Inshop,
    /// Fashion-MNIST idx files: identities are the 10 classes.
    Fmnist,
}

/// Which data a run trains and evaluates on (saved in the run's config).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataSource {
    pub dir: PathBuf,
    pub format: DataFormat,
    /// Fashion-MNIST: use only the first N training images.
    pub limit: Option<usize>,
    /// Fashion-MNIST: evaluate on the first N test images only.
    pub eval_limit: Option<usize>,
}

/// Pictures with one identity label each.
#[derive(Debug)]
pub struct LabelledImages {
    pub pictures: Pictures,
    pub labels: Vec<u32>,
}

impl LabelledImages {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
}

/// A retrieval protocol's held-out pictures.
#[derive(Debug)]
pub enum EvalSet {
    /// In-shop: every query against a separate gallery.
    QueryGallery {
        query: LabelledImages,
        gallery: LabelledImages,
    },
    /// Fashion-MNIST: every picture queries all the others.
    LeaveOneOut(LabelledImages),
}

impl EvalSet {
    /// A line saying what is evaluated, for CLI output.
    pub fn describe(&self) -> String {
        match self {
            EvalSet::QueryGallery { query, gallery } => format!(
                "{} queries against a gallery of {}",
                query.len(),
                gallery.len()
            ),
            EvalSet::LeaveOneOut(set) => format!(
                "each of {} images against the other {}",
                set.len(),
                set.len().saturating_sub(1)
            ),
        }
    }
}

/// Loads the held-out pictures of `source` (In-shop query/gallery, Fashion-MNIST test).
pub fn load_eval(source: &DataSource) -> Result<EvalSet, EmbedderError> {
    match source.format {
        DataFormat::Inshop => {
            let data = InShopDataset::load(&source.dir)?;
            let mut ids = HashMap::new();
            let query = inshop_split(&data, &[EvalStatus::Query], &mut ids)?;
            let gallery = inshop_split(&data, &[EvalStatus::Gallery], &mut ids)?;
            if query.is_empty() || gallery.is_empty() {
                return Err(EmbedderError::Invalid(format!(
                    "{}: the In-shop partition has {} query and {} gallery pictures; both must be non-empty",
                    source.dir.display(),
                    query.len(),
                    gallery.len()
                )));
            }
            Ok(EvalSet::QueryGallery { query, gallery })
        }
        DataFormat::Fmnist => Ok(EvalSet::LeaveOneOut(idx_images(
            &FashionMnist::load(&source.dir)?.test,
            source.eval_limit,
        ))),
    }
}

/// The pictures of some In-shop splits, labelled by item id (numbered through `ids`, so
/// query and gallery share numbers): files decoded, at full resolution, when an embedding
/// needs them.
fn inshop_split(
    data: &InShopDataset,
    statuses: &[EvalStatus],
    ids: &mut HashMap<String, u32>,
) -> Result<LabelledImages, EmbedderError> {
    let (paths, labels) = inshop_labels(data, statuses, ids);
    Ok(LabelledImages {
        pictures: Pictures::Files(PictureFiles {
            paths,
            max_side: 0,
            cache: None,
        }),
        labels,
    })
}

/// The picture files of some In-shop splits and their item numbers (through `ids`).
pub fn inshop_labels(
    data: &InShopDataset,
    statuses: &[EvalStatus],
    ids: &mut HashMap<String, u32>,
) -> (Vec<PathBuf>, Vec<u32>) {
    data.images
        .iter()
        .filter(|i| statuses.contains(&i.status))
        .map(|i| {
            let next = ids.len() as u32;
            (
                i.path.clone(),
                *ids.entry(i.item_id.clone()).or_insert(next),
            )
        })
        .unzip()
}

/// Fashion-MNIST pictures (grey → RGB, as the preprocessing contract says), the first
/// `limit` only if given.
pub fn idx_images(set: &IdxSet, limit: Option<usize>) -> LabelledImages {
    let n = limit.unwrap_or(usize::MAX).min(set.len());
    LabelledImages {
        pictures: Pictures::Decoded((0..n).map(|i| gray_to_rgb(&set.image(i))).collect()),
        labels: set.labels[..n].iter().map(|&l| l as u32).collect(),
    }
}

/// Preprocesses `images` into one NCHW batch on `device`.
pub fn batch_tensor(
    images: &[&RgbImage],
    spec: &PreprocessSpec,
    device: &Device,
) -> Result<Tensor<4>, EmbedderError> {
    let len = spec.input_len();
    let mut buffer = vec![0f32; len * images.len()];
    buffer
        .par_chunks_mut(len)
        .zip(images.par_iter())
        .try_for_each(|(out, image)| preprocess_into(image, spec, out))?;
    Ok(pixels_tensor(buffer, spec, images.len(), device))
}

/// `count` pictures' preprocessed values (the spec's layout) as one batch on `device`.
pub fn pixels_tensor(
    pixels: Vec<f32>,
    spec: &PreprocessSpec,
    count: usize,
    device: &Device,
) -> Tensor<4> {
    Tensor::from_data(TensorData::new(pixels, spec.input_shape(count)), device)
}

/// Embeds `images` with `model` in batches of `batch_size`. Returns the row-major
/// embeddings and their dimension.
pub fn embed_images(
    model: &Embedder,
    pictures: &Pictures,
    spec: &PreprocessSpec,
    device: &Device,
    batch_size: usize,
) -> Result<(Vec<f32>, usize), EmbedderError> {
    embed_chunks(model, pictures.chunks(batch_size), spec, device)
}

/// Embeds pictures that come a batch at a time (a set's decoded chunks, or slices of
/// pictures in memory). Returns the row-major embeddings and their dimension.
pub fn embed_chunks<C: AsRef<[RgbImage]>, E>(
    model: &Embedder,
    chunks: impl Iterator<Item = Result<C, E>>,
    spec: &PreprocessSpec,
    device: &Device,
) -> Result<(Vec<f32>, usize), EmbedderError>
where
    EmbedderError: From<E>,
{
    let mut out = Vec::new();
    let mut dim = 0;
    for chunk in chunks {
        let chunk = chunk?;
        let refs: Vec<&RgbImage> = chunk.as_ref().iter().collect();
        let e = model.forward(batch_tensor(&refs, spec, device)?);
        dim = e.dims()[1];
        out.extend(to_vec(e));
    }
    Ok((out, dim))
}

/// The values of a float tensor, row-major.
pub fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .try_to_vec::<f32>()
        .expect("the embedder computes in f32")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::inshop::test_fixture;

    #[test]
    fn inshop_splits_share_item_numbers_and_batches_use_the_shared_preprocessing() {
        let dir = test_fixture::inshop();
        let source = DataSource {
            dir: dir.path().to_path_buf(),
            format: DataFormat::Inshop,
            limit: None,
            eval_limit: None,
        };
        let data = InShopDataset::load(dir.path()).unwrap();
        let train = inshop_split(&data, &[EvalStatus::Train], &mut HashMap::new()).unwrap();
        assert_eq!(train.labels, vec![0, 0, 1, 1, 2, 2, 3]);
        let EvalSet::QueryGallery { query, gallery } = load_eval(&source).unwrap() else {
            panic!("In-shop evaluates query against gallery")
        };
        assert_eq!(query.labels, vec![0, 1, 2]);
        assert_eq!(gallery.labels, vec![0, 1, 1, 2]);

        let spec = PreprocessSpec {
            size: 16,
            ..PreprocessSpec::default()
        };
        let pictures: Vec<RgbImage> = (0..2)
            .map(|i| train.pictures.get(i).unwrap().into_owned())
            .collect();
        let refs: Vec<&RgbImage> = pictures.iter().collect();
        let batch = batch_tensor(&refs, &spec, &Device::flex()).unwrap();
        assert_eq!(batch.dims(), [2, 3, 16, 16]);
        let got: Vec<f32> = batch.into_data().try_to_vec().unwrap();
        let mut want = vec![0f32; spec.input_len()];
        preprocess_into(&pictures[1], &spec, &mut want).unwrap();
        assert_eq!(&got[spec.input_len()..], &want[..]);
    }

    #[test]
    fn fashion_mnist_limit_takes_the_first_pictures_as_rgb() {
        let set = IdxSet {
            rows: 2,
            cols: 2,
            pixels: vec![0, 50, 100, 150, 1, 2, 3, 4, 9, 9, 9, 9],
            labels: vec![3, 1, 4],
        };
        let images = idx_images(&set, Some(2));
        assert_eq!(images.labels, vec![3, 1]);
        assert_eq!(
            images.pictures.get(0).unwrap().get_pixel(1, 1).0,
            [150, 150, 150]
        );
        assert_eq!(idx_images(&set, None).len(), 3);
    }
}
