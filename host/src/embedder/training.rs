//! The training loop: P×K batches of augmented pictures, MSML or batch-hard triplet loss,
//! Adam, and after every epoch a `.bpk` checkpoint (weights and optimizer state), the
//! held-out Recall@1, `metrics.json` and a curve plot. Re-running the same command resumes
//! after the last complete epoch and reproduces the uninterrupted run: each epoch's batches
//! and augmentations come from an RNG seeded by `(seed, epoch)` alone.

use super::augment::Augment;
use super::data::{self, DataSource, LabelledImages, batch_tensor};
use super::error::EmbedderError;
use super::evaluate::evaluate;
use super::loss::LossKind;
use super::mix::{self, BatchSource, MixConfig};
use super::model::{Embedder, EmbedderConfig};
use super::sampler::PkSampler;
use crate::training::plot::{self, Panel, Series};
use crate::training::run::CONFIG_FILE;
use crate::training::{Backend, RunDir, progress};
use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use capsule_device::fsutil::write_atomic;
use capsule_device::preprocess::PreprocessSpec;
use image::RgbImage;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Name of the curve plot in a run directory.
pub const PLOT_FILE: &str = "curves.png";
/// Pictures per forward pass when embedding the held-out set.
const EVAL_BATCH: usize = 128;

/// Everything a run was started with; saved as `config.json` and compared on resume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    pub model: EmbedderConfig,
    /// The preprocessing contract; `size` equals `model.input_size`.
    pub preprocess: PreprocessSpec,
    pub data: DataSource,
    pub loss: LossKind,
    pub margin: f32,
    /// Temperature of `--loss soft-msml` (ignored by the other losses). Runs saved before
    /// the soft variant existed load with the default.
    #[serde(default = "default_temperature")]
    pub temperature: f32,
    pub learning_rate: f64,
    /// Identities per batch.
    pub p: usize,
    /// Pictures per identity.
    pub k: usize,
    /// Total epochs; the only setting a resumed run may change (to train longer).
    pub epochs: usize,
    /// Batches per epoch; `None`: enough to see every training picture about once.
    pub steps_per_epoch: Option<usize>,
    pub seed: u64,
    pub augment: Augment,
    /// A second training set mixed in by whole batches (`--mix-fmnist`); absent in runs of
    /// one set, including every run saved before mixing existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mix: Option<MixConfig>,
}

/// The soft-MSML temperature when a config does not say. Distances of unit embeddings lie
/// in [0, 2]; at τ = 0.1 a pair 0.2 less hard than the hardest gets e⁻² ≈ 0.14 of its
/// weight, so the gradient still goes mostly to the hard pairs.
pub fn default_temperature() -> f32 {
    0.1
}

impl TrainConfig {
    /// The same config with `epochs` ignored, to compare a resumed run with its start.
    fn resumable(&self) -> Self {
        Self {
            epochs: 0,
            ..self.clone()
        }
    }
}

/// One line of `metrics.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    pub epoch: usize,
    /// Mean training loss over the epoch's batches of the run's own set (the primary one
    /// when a second set is mixed in).
    pub loss: f64,
    /// Mean training loss over the epoch's batches of the mixed-in set, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mix_loss: Option<f64>,
    /// Recall@1 on the held-out set (In-shop query/gallery; Fashion-MNIST test subset).
    pub recall_at_1: f64,
    /// Wall time of the epoch, training and evaluation.
    pub seconds: f64,
    pub train_images_per_second: f64,
}

/// File of the weights after `epoch`.
pub fn checkpoint_file(epoch: usize) -> String {
    format!("checkpoint-{epoch:04}.bpk")
}

/// File of the optimizer state after `epoch`.
pub fn optimizer_file(epoch: usize) -> String {
    format!("optimizer-{epoch:04}.bpk")
}

/// The last complete epoch of a run and its weights file; `None` before the first.
///
/// An epoch is complete once `metrics.json` lists it — that file is written after the
/// checkpoint, so a run killed in between resumes from the previous epoch.
pub fn latest_checkpoint(run: &RunDir) -> Result<Option<(usize, PathBuf)>, EmbedderError> {
    let metrics: Vec<EpochMetrics> = run.metrics()?;
    let Some(last) = metrics.last() else {
        return Ok(None);
    };
    let path = run.file(&checkpoint_file(last.epoch));
    if !path.is_file() {
        return Err(EmbedderError::Checkpoint {
            path,
            message: format!(
                "metrics.json lists epoch {} but its checkpoint is missing",
                last.epoch
            ),
        });
    }
    Ok(Some((last.epoch, path)))
}

/// How a training run reports progress.
#[derive(Debug, Clone, Copy, Default)]
pub struct TrainOptions {
    /// Draw a progress bar on stderr (hidden anyway when stderr is not a terminal).
    pub progress: bool,
}

/// Trains (or resumes) the run in `run_dir`. Returns every epoch's metrics so far.
pub fn train(
    config: &TrainConfig,
    run_dir: &Path,
    backend: Backend,
    options: TrainOptions,
) -> Result<Vec<EpochMetrics>, EmbedderError> {
    config.model.validate()?;
    if config.preprocess.size as usize != config.model.input_size {
        return Err(EmbedderError::Invalid(format!(
            "preprocess size {} differs from the model's input_size {}",
            config.preprocess.size, config.model.input_size
        )));
    }
    if config.loss == LossKind::SoftMsml
        && (config.temperature.is_nan() || config.temperature <= 0.0)
    {
        return Err(EmbedderError::Invalid(format!(
            "soft-msml needs a positive --temperature; got {}",
            config.temperature
        )));
    }
    if let Some(m) = &config.mix
        && m.ratio == 0
    {
        return Err(EmbedderError::Invalid(
            "the mix ratio (primary batches per mixed-in batch) must be at least 1".into(),
        ));
    }
    let run = RunDir::create(run_dir)?;
    if let Some(previous) = run.read_json::<TrainConfig>(CONFIG_FILE)?
        && previous.resumable() != config.resumable()
    {
        return Err(EmbedderError::Invalid(format!(
            "{} was started with different settings (only --epochs may change when resuming); use another --out",
            run_dir.display()
        )));
    }
    run.write_json(CONFIG_FILE, config)?;
    let mut metrics: Vec<EpochMetrics> = run.metrics()?;
    if metrics.len() >= config.epochs {
        return Ok(metrics);
    }

    let train_set = data::load_train(&config.data)?;
    let eval_set = data::load_eval(&config.data)?;
    let sampler = PkSampler::new(&train_set.labels, config.p, config.k)?;
    let mixed = match &config.mix {
        Some(m) => Some(load_mix(m, config)?),
        None => None,
    };
    let primary_batches = train_set.len() / sampler.batch_size();
    let steps = config
        .steps_per_epoch
        .unwrap_or_else(|| {
            config
                .mix
                .as_ref()
                .map_or(primary_batches, |m| m.steps_for(primary_batches))
        })
        .max(1);
    let schedule = mix::schedule(config.mix.as_ref(), steps);

    let device = backend.training_device()?;
    let eval_device = backend.device()?;
    device.seed(config.seed);
    let mut model = config.model.init(&device)?;
    let mut optimizer = AdamConfig::new().init();
    if let Some((epoch, path)) = latest_checkpoint(&run)? {
        let load_err = |path: PathBuf| {
            move |e: burn::store::RecordError| EmbedderError::Checkpoint {
                path,
                message: e.to_string(),
            }
        };
        model = model.try_load_file(&path).map_err(load_err(path.clone()))?;
        let opt_path = run.file(&optimizer_file(epoch));
        optimizer = optimizer
            .load(&opt_path)
            .map_err(load_err(opt_path.clone()))?;
    }

    for epoch in metrics.len() + 1..=config.epochs {
        let started = Instant::now();
        let bar = progress::bar(steps as u64, "batches");
        bar.set_prefix(format!("epoch {epoch}/{}", config.epochs));
        if !options.progress {
            bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
        }
        let mut rng = ChaCha8Rng::seed_from_u64(
            config.seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        );
        let mut sums = LossSums::default();
        for (step, &source) in schedule.iter().enumerate() {
            let (set, sampler) = match (source, &mixed) {
                (BatchSource::Mix, Some((set, sampler))) => (set, sampler),
                _ => (&train_set, &sampler),
            };
            let indices = sampler.batch(&mut rng);
            let labels: Vec<u32> = indices.iter().map(|&i| set.labels[i]).collect();
            let images = augmented(set, &indices, &config.augment, &mut rng);
            let x = batch_tensor(
                &images.iter().collect::<Vec<_>>(),
                &config.preprocess,
                &device,
            )?;
            let loss =
                config
                    .loss
                    .compute(model.forward(x), &labels, config.margin, config.temperature);
            let value = loss.clone().into_scalar::<f32>() as f64;
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optimizer.step(config.learning_rate, model, grads);
            sums.add(source, value);
            bar.inc(1);
            let rate = ((step + 1) * sampler.batch_size()) as f64 / started.elapsed().as_secs_f64();
            bar.set_message(format!("loss {:.4}, {rate:.0} img/s", sums.primary()));
        }
        let train_seconds = started.elapsed().as_secs_f64();
        bar.finish_and_clear();

        let scores = evaluate(
            &model.valid(),
            &eval_set,
            &config.preprocess,
            &eval_device,
            EVAL_BATCH,
        )?;
        save_checkpoint(&run, epoch, &model, &optimizer)?;
        metrics.push(EpochMetrics {
            epoch,
            loss: sums.primary(),
            mix_loss: sums.mix(),
            recall_at_1: scores.recall_at_1,
            seconds: started.elapsed().as_secs_f64(),
            train_images_per_second: (steps * sampler.batch_size()) as f64 / train_seconds,
        });
        run.save_metrics(&metrics)?;
        plot_curves(&run, &metrics)?;
        if epoch > 1 {
            for old in [checkpoint_file(epoch - 1), optimizer_file(epoch - 1)] {
                let _ = std::fs::remove_file(run.file(&old));
            }
        }
        if options.progress {
            let m = metrics.last().expect("just pushed");
            let mix_loss = m
                .mix_loss
                .map_or(String::new(), |l| format!(" (mixed-in set {l:.4})"));
            eprintln!(
                "epoch {epoch}/{}: loss {:.4}{mix_loss}, Recall@1 {:.3}, {:.1} s ({:.0} img/s)",
                config.epochs, m.loss, m.recall_at_1, m.seconds, m.train_images_per_second
            );
        }
    }
    Ok(metrics)
}

/// The mixed-in set's training pictures and their sampler (same P and K as the primary's).
fn load_mix(
    mix: &MixConfig,
    config: &TrainConfig,
) -> Result<(LabelledImages, PkSampler), EmbedderError> {
    let set = data::load_train(&mix.data)?;
    let sampler = PkSampler::new(&set.labels, config.p, config.k).map_err(|e| {
        EmbedderError::Invalid(format!(
            "the mixed-in set {} ({:?}): {e}",
            mix.data.dir.display(),
            mix.data.format
        ))
    })?;
    Ok((set, sampler))
}

/// Running loss sums of an epoch, per batch source.
#[derive(Debug, Default)]
struct LossSums {
    primary: (f64, usize),
    mix: (f64, usize),
}

impl LossSums {
    fn add(&mut self, source: BatchSource, loss: f64) {
        let sum = match source {
            BatchSource::Primary => &mut self.primary,
            BatchSource::Mix => &mut self.mix,
        };
        sum.0 += loss;
        sum.1 += 1;
    }

    /// Mean loss of the primary batches so far (0 before the first).
    fn primary(&self) -> f64 {
        self.primary.0 / self.primary.1.max(1) as f64
    }

    /// Mean loss of the mixed-in batches; `None` when there were none.
    fn mix(&self) -> Option<f64> {
        (self.mix.1 > 0).then(|| self.mix.0 / self.mix.1 as f64)
    }
}

/// The batch's pictures, each distorted with its own seed drawn from `rng` so the work can
/// run in parallel and still be reproducible.
fn augmented(
    set: &LabelledImages,
    indices: &[usize],
    augment: &Augment,
    rng: &mut ChaCha8Rng,
) -> Vec<RgbImage> {
    let seeds: Vec<u64> = indices.iter().map(|_| rng.random()).collect();
    indices
        .par_iter()
        .zip(seeds)
        .map(|(&i, seed)| augment.apply(&set.images[i], &mut ChaCha8Rng::seed_from_u64(seed)))
        .collect()
}

fn save_checkpoint(
    run: &RunDir,
    epoch: usize,
    model: &Embedder,
    optimizer: &ModuleOptimizer,
) -> Result<(), EmbedderError> {
    let record_err = |name: String| {
        let path = run.file(&name);
        move |e: burn::store::RecordError| EmbedderError::Checkpoint {
            path,
            message: e.to_string(),
        }
    };
    let name = checkpoint_file(epoch);
    let bytes = model
        .clone()
        .into_record()
        .into_bytes()
        .map_err(record_err(name.clone()))?;
    write_atomic(&run.file(&name), &bytes)?;
    let name = optimizer_file(epoch);
    let bytes = optimizer.into_bytes().map_err(record_err(name.clone()))?;
    write_atomic(&run.file(&name), &bytes)?;
    Ok(())
}

fn plot_curves(run: &RunDir, metrics: &[EpochMetrics]) -> Result<(), EmbedderError> {
    let series = |label: &str, f: fn(&EpochMetrics) -> f64| Series {
        label: label.into(),
        points: metrics.iter().map(|m| (m.epoch as f64, f(m))).collect(),
    };
    let mut losses = vec![series("loss", |m| m.loss)];
    if metrics.iter().any(|m| m.mix_loss.is_some()) {
        losses.push(Series {
            label: "mixed-in set".into(),
            points: metrics
                .iter()
                .filter_map(|m| Some((m.epoch as f64, m.mix_loss?)))
                .collect(),
        });
    }
    let panels = [
        Panel {
            title: "training loss".into(),
            series: losses,
        },
        Panel {
            title: "held-out Recall@1".into(),
            series: vec![series("R@1", |m| m.recall_at_1)],
        },
    ];
    let path = run.file(PLOT_FILE);
    plot::save(&path, &panels).map_err(|e| EmbedderError::Checkpoint {
        path,
        message: format!("cannot write the plot: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::inshop::test_fixture;
    use crate::embedder::data::DataFormat;
    use crate::embedder::model::Arch;
    use burn::tensor::Device;

    fn config(dir: &Path, epochs: usize) -> TrainConfig {
        let model = EmbedderConfig::tiny(Arch::Cnn);
        TrainConfig {
            preprocess: PreprocessSpec {
                size: model.input_size as u32,
                ..PreprocessSpec::default()
            },
            model,
            data: DataSource {
                dir: dir.to_path_buf(),
                format: DataFormat::Inshop,
                limit: None,
                eval_limit: None,
            },
            loss: LossKind::Triplet,
            margin: 0.3,
            temperature: default_temperature(),
            learning_rate: 1e-3,
            p: 2,
            k: 2,
            epochs,
            steps_per_epoch: Some(1),
            seed: 4,
            augment: Augment::default(),
            mix: None,
        }
    }

    #[test]
    fn configs_saved_before_the_temperature_field_still_load() {
        let config = config(Path::new("/data"), 3);
        let mut json = serde_json::to_value(&config).unwrap();
        json.as_object_mut().unwrap().remove("temperature");
        let old: TrainConfig = serde_json::from_value(json).unwrap();
        assert_eq!(old, config);
    }

    #[test]
    fn a_mixed_run_trains_on_both_sets_records_the_mix_and_resumes() {
        let data = test_fixture::inshop();
        let fmnist = crate::data::fmnist::test_fixture::fmnist(12, 4, 3);
        let runs = tempfile::tempdir().unwrap();
        let out = runs.path().join("mixed");
        let mixed = |epochs| TrainConfig {
            steps_per_epoch: Some(3),
            mix: Some(MixConfig {
                data: DataSource {
                    dir: fmnist.path().to_path_buf(),
                    format: DataFormat::Fmnist,
                    limit: Some(9),
                    eval_limit: None,
                },
                ratio: 2,
            }),
            ..config(data.path(), epochs)
        };
        let first = train(&mixed(1), &out, Backend::Flex, Default::default()).unwrap();
        // Steps 0 and 1 are In-shop batches, step 2 a Fashion-MNIST one.
        assert!(first[0].loss.is_finite() && first[0].loss > 0.0);
        let mix_loss = first[0].mix_loss.expect("a Fashion-MNIST batch ran");
        assert!(mix_loss.is_finite() && mix_loss > 0.0);

        let run = RunDir::open(&out).unwrap();
        let saved: TrainConfig = run.read_json(CONFIG_FILE).unwrap().unwrap();
        assert_eq!(saved, mixed(1));
        let loaded = crate::embedder::TrainedEmbedder::load(&out, &Device::flex()).unwrap();
        assert_eq!(loaded.config.mix, mixed(1).mix);

        // The mix is part of the run: a different ratio is another run, a longer one resumes.
        let mut other = mixed(2);
        other.mix.as_mut().unwrap().ratio = 1;
        let err = train(&other, &out, Backend::Flex, Default::default()).unwrap_err();
        assert!(
            err.to_string().contains("only --epochs may change"),
            "{err}"
        );
        let resumed = train(&mixed(2), &out, Backend::Flex, Default::default()).unwrap();
        assert_eq!(resumed.len(), 2);
        assert!(resumed[1].mix_loss.is_some());
    }

    #[test]
    fn a_mixed_in_set_with_too_few_classes_for_p_names_the_set() {
        let data = test_fixture::inshop();
        let fmnist = crate::data::fmnist::test_fixture::fmnist(6, 2, 1);
        let runs = tempfile::tempdir().unwrap();
        let config = TrainConfig {
            mix: Some(MixConfig {
                data: DataSource {
                    dir: fmnist.path().to_path_buf(),
                    format: DataFormat::Fmnist,
                    limit: None,
                    eval_limit: None,
                },
                ratio: 1,
            }),
            ..config(data.path(), 1)
        };
        let err = train(
            &config,
            &runs.path().join("r"),
            Backend::Flex,
            Default::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("mixed-in set") && err.contains("--pk"),
            "{err}"
        );
    }

    #[test]
    fn runs_of_one_set_save_no_mix_and_old_metrics_load() {
        let config = config(Path::new("/data"), 3);
        let json = serde_json::to_value(&config).unwrap();
        assert!(json.get("mix").is_none());
        let metrics: EpochMetrics = serde_json::from_str(
            r#"{"epoch":1,"loss":0.5,"recall_at_1":0.25,"seconds":2.0,"train_images_per_second":9.0}"#,
        )
        .unwrap();
        assert_eq!(metrics.mix_loss, None);
    }

    #[test]
    fn resumes_only_the_same_run_and_checkpoints_load_back() {
        let data = test_fixture::inshop();
        let runs = tempfile::tempdir().unwrap();
        let out = runs.path().join("r");
        let first = train(
            &config(data.path(), 1),
            &out,
            Backend::Flex,
            Default::default(),
        )
        .unwrap();
        assert_eq!(first.len(), 1);
        let run = RunDir::open(&out).unwrap();
        let (epoch, path) = latest_checkpoint(&run).unwrap().unwrap();
        assert_eq!(
            (epoch, path.file_name().unwrap()),
            (1, "checkpoint-0001.bpk".as_ref())
        );

        let mut changed = config(data.path(), 2);
        changed.seed = 5;
        let err = train(&changed, &out, Backend::Flex, Default::default()).unwrap_err();
        assert!(
            err.to_string().contains("only --epochs may change"),
            "{err}"
        );

        let resumed = train(
            &config(data.path(), 2),
            &out,
            Backend::Flex,
            Default::default(),
        )
        .unwrap();
        assert_eq!(resumed.len(), 2);
        // metrics.json round-trips floats to within serde_json's parsing precision.
        assert_eq!(resumed[0].epoch, first[0].epoch);
        assert!((resumed[0].loss - first[0].loss).abs() < 1e-12);
        assert!((resumed[0].recall_at_1 - first[0].recall_at_1).abs() < 1e-12);

        let loaded = crate::embedder::TrainedEmbedder::load(&out, &Device::flex()).unwrap();
        assert_eq!(loaded.epoch, 2);
        assert_eq!(
            loaded.model.num_params(),
            config(data.path(), 2)
                .model
                .init(&Device::flex())
                .unwrap()
                .num_params()
        );
    }
}
