//! The training loop: P×K batches of augmented pictures, MSML or batch-hard triplet loss,
//! Adam, and after every epoch a `.bpk` checkpoint (weights and optimizer state), the
//! held-out Recall@1, `metrics.json` and a curve plot. Re-running the same command resumes
//! after the last complete epoch and reproduces the uninterrupted run: each epoch's batches
//! and augmentations come from an RNG seeded by `(seed, epoch)` alone.

use super::backbone::load_pretrained;
use super::config::TrainConfig;
use super::data;
use super::error::EmbedderError;
use super::evaluate::evaluate;
use super::feed::{self, BatchPlan, CacheOutcome, FeedOptions, Feeder, LabelledPictures};
use super::frozen::FrozenRun;
use super::mix::{self, BatchSource, MixConfig};
use super::sampler::PkSampler;
use super::step::{Devices, StepInput, train_step};
use crate::training::checkpoint::{self, Resumed, reseed_after_first_epoch, store_or_check_config};
use crate::training::plot::{self, Panel, Series};
use crate::training::{Backend, RunDir, progress};
use burn::module::Module;
use burn::optim::AdamConfig;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Name of the curve plot in a run directory.
pub const PLOT_FILE: &str = "curves.png";
/// Pictures per forward pass when embedding the held-out set.
const EVAL_BATCH: usize = 128;

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

/// How a training run runs; none of it changes what it learns (beyond float rounding and,
/// with several devices, per-shard batch norm statistics), so none of it is part of the
/// run's config and a run may resume with other options.
#[derive(Debug, Clone, Default)]
pub struct TrainOptions {
    /// Draw a progress bar on stderr (hidden anyway when stderr is not a terminal).
    pub progress: bool,
    /// Worker threads and queue of the data path.
    pub feed: FeedOptions,
    /// Keep decoded training pictures in this folder (`--data-cache`), so epochs and runs
    /// after the first skip JPEG decoding.
    pub cache: Option<PathBuf>,
    /// Device numbers of the backend to train on data-parallel (`--devices`); empty: one.
    pub devices: Vec<usize>,
}

/// Trains (or resumes) the run in `run_dir`. Returns every epoch's metrics so far.
pub fn train(
    config: &TrainConfig,
    run_dir: &Path,
    backend: Backend,
    options: TrainOptions,
) -> Result<Vec<EpochMetrics>, EmbedderError> {
    config.validate()?;
    let run = RunDir::create(run_dir)?;
    store_or_check_config(&run, config)?;
    let mut metrics: Vec<EpochMetrics> = run.metrics()?;
    if metrics.len() >= config.epochs {
        return Ok(metrics);
    }

    let feeder = Feeder::new(options.feed)?;
    let mut train_set = feed::load_train(&config.data, &config.preprocess)?;
    if let Some(dir) = &options.cache {
        let outcome = feed::attach_cache(
            &mut train_set,
            dir,
            &config.preprocess,
            &feeder,
            options.progress,
        )?;
        if let (true, Some(CacheOutcome::Built { seconds })) = (options.progress, outcome) {
            eprintln!(
                "decoded {} training pictures into {} in {seconds:.1} s",
                train_set.len(),
                dir.display()
            );
        }
    }
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

    let devices = Devices(backend.training_devices(&options.devices)?);
    let device = devices.first().clone();
    let eval_device = backend.device()?;
    device.seed(config.seed);
    let mut fresh = config.model.init(&device)?;
    if let (Some(path), Some(backbone)) = (&config.pretrained, &config.model.backbone) {
        fresh.backbone = Some(load_pretrained(path, backbone, &device)?);
    }
    let Resumed {
        epochs_done,
        mut model,
        mut optimizer,
    } = checkpoint::resume(&run, fresh, AdamConfig::new().init())?;
    model = config.model.prepare(model);
    metrics.truncate(epochs_done);
    let mut sets = vec![&train_set];
    sets.extend(mixed.as_ref().map(|(set, _)| set));
    let frozen = match &config.frozen_features {
        Some(frozen) => Some(FrozenRun::prepare(
            config,
            frozen,
            &run,
            options.cache.as_deref(),
            &sets,
            &eval_set,
            &model.valid(),
            &eval_device,
            &feeder,
            options.progress,
        )?),
        None => None,
    };
    let pictures = StepInput::Pictures {
        channels: 3,
        side: config.preprocess.size as usize,
    };

    for epoch in epochs_done + 1..=config.epochs {
        let started = Instant::now();
        let bar = progress::bar(steps as u64, "batches");
        bar.set_prefix(format!("epoch {epoch}/{}", config.epochs));
        if !options.progress {
            bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
        }
        let epoch_seed = config.seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut rng = ChaCha8Rng::seed_from_u64(epoch_seed);
        reseed_after_first_epoch(&device, epoch, epoch_seed);
        let mut sums = LossSums::default();
        let plans = plan_epoch(&schedule, &sampler, mixed.as_ref(), &mut rng);
        let mut step = 0;
        let mut training = Some(model);
        let mut on_batch = |values, labels: &[u32]| -> Result<(), EmbedderError> {
            let current = training.take().ok_or_else(|| {
                EmbedderError::Invalid("the model was lost in a failed step".into())
            })?;
            let (updated, value) =
                train_step(current, &mut optimizer, &devices, config, values, labels);
            training = Some(updated);
            sums.add(schedule[step], value);
            step += 1;
            bar.inc(1);
            let rate = (step * sampler.batch_size()) as f64 / started.elapsed().as_secs_f64();
            bar.set_message(format!("loss {:.4}, {rate:.0} img/s", sums.primary()));
            Ok(())
        };
        match &frozen {
            Some(frozen) => {
                for plan in &plans {
                    let (values, labels) = frozen.batch(&sets, plan)?;
                    on_batch((frozen.input, values), &labels)?;
                }
            }
            None => feeder.run(&sets, plans, &config.augment, &config.preprocess, |batch| {
                on_batch((pictures, batch.pixels), &batch.labels)
            })?,
        }
        model = training
            .take()
            .ok_or_else(|| EmbedderError::Invalid("the model was lost in a failed step".into()))?;
        let train_seconds = started.elapsed().as_secs_f64();
        bar.finish_and_clear();

        let scores = match &frozen {
            Some(frozen) => frozen.eval.evaluate(&model.valid(), EVAL_BATCH),
            None => evaluate(
                &model.valid(),
                &eval_set,
                &config.preprocess,
                &eval_device,
                EVAL_BATCH,
            )?,
        };
        checkpoint::save(&run, epoch, &model, &optimizer)?;
        metrics.push(EpochMetrics {
            epoch,
            loss: sums.primary(),
            mix_loss: sums.mix(),
            recall_at_1: scores.recall_at_1,
            seconds: started.elapsed().as_secs_f64(),
            train_images_per_second: (steps * sampler.batch_size()) as f64 / train_seconds,
        });
        run.save_metrics(&metrics)?;
        checkpoint::prune(&run, epoch);
        plot_curves(&run, &metrics)?;
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
) -> Result<(LabelledPictures, PkSampler), EmbedderError> {
    let set = feed::load_train(&mix.data, &config.preprocess)?;
    let sampler = PkSampler::new(&set.labels, config.p, config.k).map_err(|source| {
        EmbedderError::MixSampler {
            dir: mix.data.dir.clone(),
            source,
        }
    })?;
    Ok((set, sampler))
}

/// Every batch of an epoch, drawn from `rng` in step order, each from the set the schedule
/// names.
fn plan_epoch(
    schedule: &[BatchSource],
    primary: &PkSampler,
    mixed: Option<&(LabelledPictures, PkSampler)>,
    rng: &mut ChaCha8Rng,
) -> Vec<BatchPlan> {
    schedule
        .iter()
        .map(|&source| match (source, mixed) {
            (BatchSource::Mix, Some((_, sampler))) => BatchPlan::draw(1, sampler, rng),
            _ => BatchPlan::draw(0, primary, rng),
        })
        .collect()
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
    Ok(plot::save(&run.file(PLOT_FILE), &panels)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::inshop::test_fixture;
    use crate::embedder::config::tests::tiny as config;
    use crate::embedder::data::{DataFormat, DataSource};
    use crate::training::checkpoint::latest_weights;
    use crate::training::run::CONFIG_FILE;
    use burn::tensor::Device;

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
        let err = train(&other, &out, Backend::Flex, Default::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`mix.ratio` was 2, now 1") && err.contains("only --epochs may change"),
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
    fn metrics_saved_before_mixing_load() {
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
        let (epoch, path) = latest_weights(&run).unwrap().unwrap();
        assert_eq!(
            (epoch, path.file_name().unwrap()),
            (1, "checkpoint-0001.bpk".as_ref())
        );

        let mut changed = config(data.path(), 2);
        changed.seed = 5;
        let err = train(&changed, &out, Backend::Flex, Default::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`seed` was 4, now 5") && err.contains("only --epochs may change"),
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
