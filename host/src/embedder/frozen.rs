//! Training above a frozen backbone on its stored features (`train embedder
//! --frozen-features N`).
//!
//! A frozen backbone gives the same features for the same input every epoch, and on this
//! CPU it costs five times what training everything above it does (`head_training_throughput`:
//! 235 pictures/s for the head alone, 44 for the whole lite0 network). So its output is
//! computed once, for N augmented copies of every training picture, and kept in a file in
//! the run directory; every epoch then trains the SE-residual stage and the capsule head on
//! those features, each picture of a batch taking one of its N copies. What it gives up: a
//! picture's augmentation is one of N fixed draws instead of a fresh one every time. The
//! evaluation pictures' features are computed once a process, unaugmented.
//!
//! File layout (little-endian): magic `CAPSFEAT`, version `u32`, reserved `u32`, key (32
//! bytes, sha256 of everything the features depend on), record count `u64`, values per
//! record `u64`; then the records, picture by picture and copy by copy, as f16 values.

use super::augment::Augment;
use super::backbone::EfficientNetLite0;
use super::config::{FrozenFeatures, TrainConfig};
use super::data::{EvalSet, LabelledImages, batch_tensor, to_vec};
use super::error::EmbedderError;
use super::evaluate::{KS, RetrievalScores, recall_at_k};
use super::feed::{BatchPlan, CacheOutcome, Feeder, LabelledPictures};
use super::model::Embedder;
use super::step::StepInput;
use crate::training::{RunDir, progress};
use burn::prelude::*;
use capsule_device::fsutil::write_atomic_with;
use capsule_device::preprocess::PreprocessSpec;
use indicatif::ProgressBar;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"CAPSFEAT";
const VERSION: u32 = 1;
const HEADER_LEN: usize = 8 + 4 + 4 + 32 + 8 + 8;
/// Pictures through the backbone at once while building.
const BUILD_BATCH: usize = 32;

/// What a set's stored features depend on, besides its pictures.
#[derive(Debug, Clone, Copy)]
pub struct FeatureRecipe<'a> {
    pub augment: &'a Augment,
    pub spec: &'a PreprocessSpec,
    /// Copies of every picture.
    pub variants: usize,
    /// Seeds the copies' augmentation (the run's seed and which of its sets this is).
    pub seed: u64,
    /// The backbone's config and where its weights came from, as JSON.
    pub backbone: &'a str,
    /// f32 values the backbone gives a picture: its `[C, s, s]` map.
    pub record: usize,
}

/// The stored backbone features of one training set, read with `pread`.
#[derive(Debug)]
pub struct FeatureStore {
    path: PathBuf,
    file: std::fs::File,
    count: usize,
    /// f32 values of one record: the backbone's `[C, s, s]` map.
    record: usize,
    variants: usize,
}

impl FeatureStore {
    /// The features of `set` in `path`, whose recipe hashes to `key` ([`key`]); computed
    /// first (pictures made on `feeder`'s workers, `backbone` in inference mode on
    /// `device`, `progress` counting records) when the file is missing, damaged or made for
    /// something else.
    #[allow(clippy::too_many_arguments)]
    pub fn open_or_build(
        path: &Path,
        key: [u8; 32],
        set: &LabelledPictures,
        recipe: FeatureRecipe<'_>,
        backbone: &EfficientNetLite0,
        device: &Device,
        feeder: &Feeder,
        progress: &ProgressBar,
    ) -> Result<(Self, CacheOutcome), EmbedderError> {
        let variants = recipe.variants.max(1);
        let count = set.len() * variants;
        if let Ok(store) = Self::open(path, &key, count, variants) {
            return Ok((store, CacheOutcome::Reused));
        }
        let started = std::time::Instant::now();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| io_error(dir, "create", e))?;
        }
        let plans: Vec<BatchPlan> = (0..count)
            .collect::<Vec<_>>()
            .chunks(BUILD_BATCH)
            .map(|records| BatchPlan {
                set: 0,
                indices: records.iter().map(|r| r / variants).collect(),
                seeds: records.iter().map(|&r| copy_seed(recipe.seed, r)).collect(),
            })
            .collect();
        let mut failure = None;
        let written = write_atomic_with(path, |out| {
            out.write_all(MAGIC)?;
            out.write_all(&VERSION.to_le_bytes())?;
            out.write_all(&0u32.to_le_bytes())?;
            out.write_all(&key)?;
            out.write_all(&(count as u64).to_le_bytes())?;
            out.write_all(&(recipe.record as u64).to_le_bytes())?;
            let fed = feeder.run(&[set], plans, recipe.augment, recipe.spec, |batch| {
                let n = batch.len();
                let x = super::data::pixels_tensor(batch.pixels, recipe.spec, n, device);
                let values = to_vec(backbone.forward(x));
                if values.len() != n * recipe.record {
                    return Err(EmbedderError::Invalid(format!(
                        "the backbone gave {} values for {n} pictures, expected {} each",
                        values.len(),
                        recipe.record
                    )));
                }
                let mut bytes = Vec::with_capacity(values.len() * 2);
                for v in values {
                    bytes.extend_from_slice(&half::f16::from_f32(v).to_le_bytes());
                }
                out.write_all(&bytes)
                    .map_err(|e| io_error(path, "write", e))?;
                progress.inc(n as u64);
                Ok(())
            });
            if let Err(e) = fed {
                let message = e.to_string();
                failure = Some(e);
                return Err(std::io::Error::other(message));
            }
            Ok(())
        });
        if let Some(e) = failure {
            return Err(e);
        }
        written.map_err(|e| EmbedderError::Invalid(e.to_string()))?;
        let store = Self::open(path, &key, count, variants).map_err(|e| {
            EmbedderError::Invalid(format!("{}: written but unreadable: {e}", path.display()))
        })?;
        Ok((
            store,
            CacheOutcome::Built {
                seconds: started.elapsed().as_secs_f64(),
            },
        ))
    }

    fn open(path: &Path, key: &[u8; 32], count: usize, variants: usize) -> Result<Self, String> {
        let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
        let mut header = [0u8; HEADER_LEN];
        file.read_exact_at(&mut header, 0)
            .map_err(|e| format!("header: {e}"))?;
        let u64_at = |at: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&header[at..at + 8]);
            u64::from_le_bytes(b) as usize
        };
        if &header[..8] != MAGIC || header[8..12] != VERSION.to_le_bytes() {
            return Err("not a feature store of this version".into());
        }
        if header[16..48] != key[..] {
            return Err("made for other pictures or settings".into());
        }
        let (stored, record) = (u64_at(48), u64_at(56));
        let length = file.metadata().map_err(|e| e.to_string())?.len() as usize;
        if stored != count || record == 0 || length != HEADER_LEN + count * record * 2 {
            return Err(format!(
                "holds {stored} records of {record} values in {length} bytes; expected {count}"
            ));
        }
        Ok(Self {
            path: path.to_path_buf(),
            file,
            count,
            record,
            variants,
        })
    }

    /// Values of one record.
    pub fn record_len(&self) -> usize {
        self.record
    }

    /// The features of a planned batch, row-major: picture `indices[j]` in the copy its
    /// augmentation seed `seeds[j]` picks.
    pub fn batch(&self, indices: &[usize], seeds: &[u64]) -> Result<Vec<f32>, EmbedderError> {
        let mut out = Vec::with_capacity(indices.len() * self.record);
        let mut bytes = vec![0u8; self.record * 2];
        for (&i, &seed) in indices.iter().zip(seeds) {
            let record = i * self.variants + (seed % self.variants as u64) as usize;
            if record >= self.count {
                return Err(EmbedderError::Invalid(format!(
                    "{}: picture {i} asked of a store of {} records",
                    self.path.display(),
                    self.count
                )));
            }
            self.file
                .read_exact_at(&mut bytes, (HEADER_LEN + record * self.record * 2) as u64)
                .map_err(|e| io_error(&self.path, "read", e))?;
            out.extend(
                bytes
                    .chunks_exact(2)
                    .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32()),
            );
        }
        Ok(out)
    }
}

/// The augmentation seed of record `record` (picture × copy) of a set seeded `seed`.
fn copy_seed(seed: u64, record: usize) -> u64 {
    // splitmix64 of the pair: neighbouring records get unrelated seeds.
    let mut z = seed ^ (record as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// What a set's stored features depend on, hashed: its pictures and labels and the whole
/// recipe.
pub fn key(set: &LabelledPictures, recipe: &FeatureRecipe<'_>) -> Result<[u8; 32], EmbedderError> {
    // These types always serialise; an empty string would still key them apart.
    let json = |v: serde_json::Result<Vec<u8>>| v.unwrap_or_default();
    let mut hash = Sha256::new();
    hash.update(VERSION.to_le_bytes());
    hash.update(set.pictures.identity()?);
    for label in &set.labels {
        hash.update(label.to_le_bytes());
    }
    hash.update(json(serde_json::to_vec(recipe.augment)));
    hash.update(json(serde_json::to_vec(recipe.spec)));
    hash.update(recipe.backbone.as_bytes());
    hash.update((recipe.variants as u64).to_le_bytes());
    hash.update(recipe.seed.to_le_bytes());
    hash.update((recipe.record as u64).to_le_bytes());
    Ok(hash.finalize().into())
}

fn io_error(path: &Path, step: &str, e: std::io::Error) -> EmbedderError {
    EmbedderError::Invalid(format!("cannot {step} {}: {e}", path.display()))
}

/// The evaluation set as backbone features (computed once), scored each epoch through the
/// layers above the backbone.
#[derive(Debug)]
pub struct FeatureEvalSet {
    /// Query and gallery, or the one leave-one-out part.
    parts: Vec<(Tensor<4>, Vec<u32>)>,
}

impl FeatureEvalSet {
    /// Runs `backbone` (inference mode, on `device`) over the pictures of `set`.
    pub fn compute(
        set: &EvalSet,
        backbone: &EfficientNetLite0,
        spec: &PreprocessSpec,
        device: &Device,
        batch_size: usize,
    ) -> Result<Self, EmbedderError> {
        let part = |images: &LabelledImages| -> Result<_, EmbedderError> {
            let mut chunks = Vec::new();
            for chunk in images.pictures.chunks(batch_size) {
                let chunk = chunk?;
                let refs: Vec<_> = chunk.iter().collect();
                chunks.push(backbone.forward(batch_tensor(&refs, spec, device)?));
            }
            Ok((Tensor::cat(chunks, 0), images.labels.clone()))
        };
        let parts = match set {
            EvalSet::QueryGallery { query, gallery } => vec![part(query)?, part(gallery)?],
            EvalSet::LeaveOneOut(all) => vec![part(all)?],
        };
        Ok(Self { parts })
    }

    /// Recall@K of `model`'s layers above the backbone (inference mode) on these features.
    pub fn evaluate(&self, model: &Embedder, batch_size: usize) -> RetrievalScores {
        let embed = |features: &Tensor<4>| {
            let n = features.dims()[0];
            let mut out = Vec::new();
            let mut dim = 0;
            for start in (0..n).step_by(batch_size.max(1)) {
                let end = (start + batch_size.max(1)).min(n);
                let e = model.embed_features(features.clone().slice(start..end));
                dim = e.dims()[1];
                out.extend(to_vec(e));
            }
            (out, dim)
        };
        let values = match self.parts.as_slice() {
            [(query, ql), (gallery, gl)] => {
                let ((q, dim), (g, _)) = (embed(query), embed(gallery));
                recall_at_k(&q, ql, &g, gl, dim, &KS, false)
            }
            [(all, labels)] => {
                let (e, dim) = embed(all);
                recall_at_k(&e, labels, &e, labels, dim, &KS, true)
            }
            _ => vec![0.0; KS.len()],
        };
        RetrievalScores::from_values(&values)
    }
}

/// Everything a run on stored features needs: a store per training set (the run's own,
/// then the mixed-in one), the shape of their records and the evaluation features.
#[derive(Debug)]
pub struct FrozenRun {
    pub stores: Vec<FeatureStore>,
    pub input: StepInput,
    pub eval: FeatureEvalSet,
}

impl FrozenRun {
    /// Opens or builds the stores of `sets` with the backbone of `model` (inference mode, on
    /// `device`), and embeds `eval_set` with it. The stores go in `shared` when given, named
    /// by their key (`features-{key}.bin`, so runs that differ only above the backbone share
    /// them), else in `run` (`frozen-features-{i}.bin`).
    #[allow(clippy::too_many_arguments)]
    pub fn prepare(
        config: &TrainConfig,
        frozen: &FrozenFeatures,
        run: &RunDir,
        shared: Option<&Path>,
        sets: &[&LabelledPictures],
        eval_set: &EvalSet,
        model: &Embedder,
        device: &Device,
        feeder: &Feeder,
        show_progress: bool,
    ) -> Result<Self, EmbedderError> {
        let (Some(backbone), Some(backbone_config)) = (&model.backbone, &config.model.backbone)
        else {
            return Err(EmbedderError::Invalid(
                "--frozen-features needs a preset with a backbone".into(),
            ));
        };
        let side = backbone_config.feature_size(config.model.input_size);
        let channels = backbone_config.channels();
        let weights = match &config.pretrained {
            Some(path) => format!(
                "{}:{:?}",
                path.display(),
                std::fs::metadata(path)
                    .ok()
                    .map(|m| (m.len(), m.modified().ok()))
            ),
            None => "initialised from the seed".into(),
        };
        let backbone_json = format!(
            "{}|{weights}",
            serde_json::to_string(backbone_config).unwrap_or_default()
        );
        let mut stores = Vec::with_capacity(sets.len());
        for (i, set) in sets.iter().enumerate() {
            let variants = if i == 0 {
                frozen.variants
            } else {
                frozen.mix_variants
            };
            let bar = progress::bar((set.len() * variants) as u64, "pictures");
            bar.set_prefix(format!("backbone features of set {}/{}", i + 1, sets.len()));
            if !show_progress {
                bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
            }
            let recipe = FeatureRecipe {
                augment: &config.augment,
                spec: &config.preprocess,
                variants,
                seed: config.seed ^ (i as u64) << 56,
                backbone: &backbone_json,
                record: channels * side * side,
            };
            let key = key(set, &recipe)?;
            let path = match shared {
                Some(dir) => dir.join(format!("features-{}.bin", &hex::encode(key)[..16])),
                None => run.file(&format!("frozen-features-{i}.bin")),
            };
            let (store, outcome) = FeatureStore::open_or_build(
                &path, key, set, recipe, backbone, device, feeder, &bar,
            )?;
            bar.finish_and_clear();
            if let (true, CacheOutcome::Built { seconds }) = (show_progress, outcome) {
                eprintln!(
                    "stored the backbone's features of {} pictures × {variants} copies in {} ({seconds:.0} s)",
                    set.len(),
                    path.display()
                );
            }
            stores.push(store);
        }
        let eval = FeatureEvalSet::compute(eval_set, backbone, &config.preprocess, device, 64)?;
        Ok(Self {
            stores,
            input: StepInput::Features { channels, side },
            eval,
        })
    }

    /// The features and labels of a planned batch.
    pub fn batch(
        &self,
        sets: &[&LabelledPictures],
        plan: &BatchPlan,
    ) -> Result<(Vec<f32>, Vec<u32>), EmbedderError> {
        let (Some(store), Some(set)) = (self.stores.get(plan.set), sets.get(plan.set)) else {
            return Err(EmbedderError::Invalid(format!(
                "batch plan names set {} of {}",
                plan.set,
                self.stores.len()
            )));
        };
        Ok((
            store.batch(&plan.indices, &plan.seeds)?,
            set.labels_at(&plan.indices)?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::inshop::test_fixture;
    use crate::embedder::backbone::BackboneConfig;
    use crate::embedder::config::tests::tiny;
    use crate::embedder::data::load_eval;
    use crate::embedder::evaluate::evaluate;
    use crate::embedder::feed::loader::make_batch;
    use crate::embedder::feed::{self, FeedOptions};
    use crate::embedder::model::EmbedderConfig;
    use crate::embedder::{Arch, train};
    use crate::training::Backend;

    /// The tiny capsule net on a frozen, randomly initialised two-stage backbone (24
    /// channels at 1/4 of 32 px).
    fn frozen_tiny(dir: &Path, epochs: usize, variants: usize) -> TrainConfig {
        let mut config = tiny(dir, epochs);
        config.model = EmbedderConfig {
            backbone: Some(BackboneConfig {
                frozen: true,
                ..BackboneConfig::new(2)
            }),
            ..EmbedderConfig::tiny(Arch::Capsnet)
        };
        config.frozen_features = Some(FrozenFeatures {
            variants,
            mix_variants: 1,
        });
        config
    }

    fn recipe<'a>(config: &'a TrainConfig, variants: usize) -> FeatureRecipe<'a> {
        FeatureRecipe {
            augment: &config.augment,
            spec: &config.preprocess,
            variants,
            seed: config.seed,
            backbone: "test",
            record: 24 * 8 * 8,
        }
    }

    #[test]
    fn stored_records_are_the_backbone_on_each_copy_and_a_stale_or_damaged_store_is_rebuilt() {
        let data = test_fixture::inshop();
        let config = frozen_tiny(data.path(), 1, 3);
        let set = feed::load_train(&config.data, &config.preprocess).unwrap();
        let device = Device::flex();
        device.seed(3);
        let backbone = config
            .model
            .backbone
            .as_ref()
            .unwrap()
            .init(&device)
            .unwrap();
        let feeder = Feeder::new(FeedOptions {
            workers: 2,
            queue: 1,
        })
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.bin");
        let bar = ProgressBar::hidden();
        let build = |variants| {
            FeatureStore::open_or_build(
                &path,
                key(&set, &recipe(&config, variants)).unwrap(),
                &set,
                recipe(&config, variants),
                &backbone,
                &device,
                &feeder,
                &bar,
            )
            .unwrap()
        };
        let (store, outcome) = build(3);
        assert!(matches!(outcome, CacheOutcome::Built { .. }));
        assert_eq!(store.record_len(), 24 * 8 * 8);

        // Record (picture 2, copy 1) is the backbone on that copy's augmentation.
        let record = 2 * 3 + 1;
        let seed = copy_seed(config.seed, record);
        let plan = BatchPlan {
            set: 0,
            indices: vec![2],
            seeds: vec![seed],
        };
        let pictures = make_batch(&[&set], &plan, &config.augment, &config.preprocess).unwrap();
        let x =
            crate::embedder::data::pixels_tensor(pictures.pixels, &config.preprocess, 1, &device);
        let want = to_vec(backbone.forward(x));
        // A batch seed picks the copy: 4 % 3 is copy 1.
        let got = store.batch(&[2], &[4]).unwrap();
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() <= 2e-3 * w.abs().max(1.0), "{g} vs {w}");
        }
        assert!(store.batch(&[set.len()], &[0]).is_err(), "past the end");

        assert_eq!(build(3).1, CacheOutcome::Reused);
        assert!(
            matches!(build(2).1, CacheOutcome::Built { .. }),
            "other copies"
        );
        let length = std::fs::metadata(&path).unwrap().len();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(length - 2)
            .unwrap();
        assert!(
            matches!(build(2).1, CacheOutcome::Built { .. }),
            "truncated"
        );
        assert_eq!(build(2).1, CacheOutcome::Reused);
    }

    /// Training on stored features leaves the backbone as it was, trains the layers above
    /// it, resumes, and its per-epoch evaluation equals embedding the pictures through the
    /// whole trained network.
    #[test]
    fn a_run_on_stored_features_trains_above_the_backbone_and_scores_as_the_whole_network() {
        let data = test_fixture::inshop();
        let runs = tempfile::tempdir().unwrap();
        let out = runs.path().join("frozen");
        let first = train(
            &frozen_tiny(data.path(), 1, 2),
            &out,
            Backend::Flex,
            Default::default(),
        )
        .unwrap();
        assert!(first[0].loss.is_finite() && first[0].loss > 0.0);
        assert!(out.join("frozen-features-0.bin").exists());
        let device = Device::flex();
        let weights = |m: &Embedder| {
            let b = m.backbone.as_ref().unwrap();
            (
                b.stem.conv.weight.val().into_data(),
                m.stem.conv.weight.val().into_data(),
            )
        };
        // Read now: the next epoch prunes this checkpoint's file.
        let (backbone_1, stem_1) = weights(
            &crate::embedder::TrainedEmbedder::load(&out, &device)
                .unwrap()
                .model,
        );
        let metrics = train(
            &frozen_tiny(data.path(), 2, 2),
            &out,
            Backend::Flex,
            Default::default(),
        )
        .unwrap();
        assert_eq!(metrics.len(), 2);
        let trained = crate::embedder::TrainedEmbedder::load(&out, &device).unwrap();
        let (backbone_2, stem_2) = weights(&trained.model);
        backbone_1.assert_eq(&backbone_2, true);
        assert!(stem_1 != stem_2, "the layers above the backbone trained");
        let config = frozen_tiny(data.path(), 2, 2);

        let eval_set = load_eval(&config.data).unwrap();
        let whole = evaluate(&trained.model, &eval_set, &config.preprocess, &device, 3).unwrap();
        let backbone = trained.model.backbone.as_ref().unwrap();
        let stored = FeatureEvalSet::compute(&eval_set, backbone, &config.preprocess, &device, 2)
            .unwrap()
            .evaluate(&trained.model, 3);
        assert_eq!(stored, whole);
        assert!((metrics[1].recall_at_1 - whole.recall_at_1).abs() < 1e-12);
    }

    /// With a shared folder, runs that differ only above the backbone (the loss here) use
    /// one store; another seed draws other copies, so it gets its own.
    #[test]
    fn runs_share_stores_that_depend_on_the_same_things() {
        let data = test_fixture::inshop();
        let runs = tempfile::tempdir().unwrap();
        let shared = runs.path().join("shared");
        let options = || crate::embedder::TrainOptions {
            cache: Some(shared.clone()),
            ..Default::default()
        };
        let stores = || {
            std::fs::read_dir(&shared)
                .unwrap()
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|n| n.starts_with("features-"))
                .count()
        };
        let config = frozen_tiny(data.path(), 1, 2);
        train(&config, &runs.path().join("a"), Backend::Flex, options()).unwrap();
        let mut msml = config.clone();
        msml.loss = crate::embedder::loss::LossKind::Msml;
        train(&msml, &runs.path().join("b"), Backend::Flex, options()).unwrap();
        assert_eq!(stores(), 1);
        assert!(!runs.path().join("b/frozen-features-0.bin").exists());
        let mut seed = config;
        seed.seed += 1;
        train(&seed, &runs.path().join("c"), Backend::Flex, options()).unwrap();
        assert_eq!(stores(), 2);
    }

    #[test]
    fn stored_features_need_a_frozen_backbone() {
        let data = test_fixture::inshop();
        let mut config = frozen_tiny(data.path(), 1, 2);
        config.model.backbone.as_mut().unwrap().frozen = false;
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains("frozen backbone"), "{err}");
        let mut none = tiny(data.path(), 1);
        none.frozen_features = config.frozen_features;
        assert!(none.validate().is_err());
    }
}
