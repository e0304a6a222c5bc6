//! `capsule-host train embedder` and `capsule-host eval embedder`.

use super::report::print_report;
use crate::data::fmnist;
use crate::embedder::augment::Augment;
use crate::embedder::backbone::{PIXEL_MEAN, PIXEL_STD, default_weights_path};
use crate::embedder::config::FrozenFeatures;
use crate::embedder::data::{DataFormat, DataSource, EvalSet, load_eval};
use crate::embedder::evaluate::evaluate;
use crate::embedder::loss::LossKind;
use crate::embedder::mix::MixConfig;
use crate::embedder::{Arch, EmbedderConfig, RetrievalScores, TrainConfig, TrainedEmbedder, train};
use crate::training::Backend;
use anyhow::{Context, Result};
use burn::module::Module;
use capsule_device::bundle::Precision;
use capsule_device::preprocess::PreprocessSpec;
use clap::{Args, ValueEnum};
use serde::Serialize;
use std::path::PathBuf;

/// Held-out Fashion-MNIST test pictures scored after each training epoch unless
/// `--eval-limit` says otherwise (the full 10k leave-one-out is for `eval embedder`).
const FMNIST_TRAIN_EVAL_LIMIT: usize = 1000;

/// Network size presets.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum Preset {
    /// 16/32/64 channels, 128-d embedding (see `EmbedderConfig::new`).
    Default,
    /// 16/32/48 channels, SE reduction 8, same capsule head and 128-d embedding (see
    /// `EmbedderConfig::compact`): the capsule network below the default CNN's size.
    Compact,
    /// A few thousand weights, 32 px, 32-d: for tests and smoke runs.
    Tiny,
    /// EfficientNet-Lite0 with ImageNet weights (frozen, cut after its 40-channel stage) under
    /// SE-residual stages and the capsule head, 128 px (see `EmbedderConfig::lite0`). Needs
    /// the weights of `scripts/fetch-pretrained` (or --pretrained FILE).
    Lite0,
}

/// `train embedder`.
#[derive(Args, Debug)]
pub struct TrainEmbedderArgs {
    /// Dataset directory (Fashion-MNIST defaults to the installed copy).
    #[arg(long)]
    pub data: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = DataFormat::Inshop)]
    pub format: DataFormat,
    #[arg(long, value_enum, default_value_t = Arch::Capsnet)]
    pub arch: Arch,
    #[arg(long, value_enum, default_value_t = LossKind::Msml)]
    pub loss: LossKind,
    #[arg(long, default_value_t = 10)]
    pub epochs: usize,
    /// Identities per batch and pictures per identity, as `P,K`.
    #[arg(long, default_value = "8,4", value_parser = parse_pk)]
    pub pk: (usize, usize),
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    pub backend: Backend,
    #[command(flatten)]
    pub machine: super::args::TrainMachineArgs,
    /// Run directory: config, checkpoints, metrics.json, curves.png. Re-run to resume.
    #[arg(long)]
    pub out: PathBuf,
    /// Batches per epoch (default: about one pass over the training pictures).
    #[arg(long)]
    pub steps_per_epoch: Option<usize>,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Fashion-MNIST: train on the first N training pictures only.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Fashion-MNIST: score Recall@1 after each epoch on the first N test pictures.
    #[arg(long)]
    pub eval_limit: Option<usize>,
    #[arg(long, value_enum, default_value_t = Preset::Default)]
    pub preset: Preset,
    /// The ImageNet weights of a preset with a backbone (default: where
    /// `scripts/fetch-pretrained` puts them).
    #[arg(long)]
    pub pretrained: Option<PathBuf>,
    /// Input side in pixels (overrides the preset; written into the preprocessing spec).
    #[arg(long)]
    pub input_size: Option<usize>,
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    #[arg(long, default_value_t = 0.3)]
    pub margin: f32,
    /// Temperature of `--loss soft-msml` (smaller: closer to plain MSML).
    #[arg(long, default_value_t = crate::embedder::config::default_temperature())]
    pub temperature: f32,
    /// Train on unaltered pictures (no camera-like augmentation).
    #[arg(long)]
    pub no_augment: bool,
    /// Also train on Fashion-MNIST (its 10 classes as identities), read from DIR or, without
    /// a value, from the installed copy (`apt-get install dataset-fashion-mnist`). Each P×K
    /// batch comes from one set only, so hard negatives stay within a domain; per-epoch
    /// Recall@1 stays on the `--data` set.
    #[arg(long, value_name = "DIR", num_args = 0..=1, default_missing_value = fmnist::DEFAULT_DIR)]
    pub mix_fmnist: Option<PathBuf>,
    /// With --mix-fmnist: `--data` batches per Fashion-MNIST batch (2: two of yours, then
    /// one Fashion-MNIST, and again).
    #[arg(long, default_value_t = 2, requires = "mix_fmnist")]
    pub mix_ratio: usize,
    /// With --mix-fmnist: use only the first N Fashion-MNIST training pictures.
    #[arg(long, value_name = "N", requires = "mix_fmnist")]
    pub mix_limit: Option<usize>,
    /// With a frozen backbone (lite0): run it once over N augmented copies of every training
    /// picture, store its features in the run directory, and train the layers above on
    /// them (about five times faster here; each picture's augmentation is then one of N
    /// fixed draws). Evaluation after each epoch reads stored features too.
    #[arg(long, value_name = "N")]
    pub frozen_features: Option<usize>,
    /// With --frozen-features and --mix-fmnist: copies of every Fashion-MNIST picture.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 1,
        requires = "frozen_features"
    )]
    pub frozen_mix_variants: usize,
}

fn parse_pk(s: &str) -> Result<(usize, usize), String> {
    let (p, k) = s
        .split_once(',')
        .ok_or_else(|| format!("expected P,K such as 8,4; got {s:?}"))?;
    let n = |v: &str| {
        v.trim()
            .parse::<usize>()
            .ok()
            .filter(|&v| v >= 2)
            .ok_or_else(|| format!("P and K must be integers ≥ 2; got {v:?}"))
    };
    Ok((n(p)?, n(k)?))
}

/// The evaluation set of `source` (Fashion-MNIST cut to `limit` test pictures), and a line
/// saying what it is.
pub(super) fn load_eval_set(
    mut source: DataSource,
    limit: Option<usize>,
) -> Result<(EvalSet, String)> {
    if limit.is_some() && source.format != DataFormat::Fmnist {
        anyhow::bail!("--limit applies to Fashion-MNIST (--format fmnist) only");
    }
    source.eval_limit = limit;
    let set = load_eval(&source)
        .with_context(|| format!("loading evaluation data from {}", source.dir.display()))?;
    let mut protocol = match source.format {
        DataFormat::Inshop => format!("In-shop query/gallery: {}", set.describe()),
        DataFormat::Fmnist => format!("Fashion-MNIST class retrieval: {}", set.describe()),
    };
    if let Some(n) = limit {
        protocol.push_str(&format!(
            " (subset: first {n} test pictures, not the full 10k)"
        ));
    }
    Ok((set, protocol))
}

pub(super) fn data_dir(data: &Option<PathBuf>, format: DataFormat) -> Result<PathBuf> {
    match (data, format) {
        (Some(d), _) => Ok(d.clone()),
        (None, DataFormat::Fmnist) => Ok(PathBuf::from(fmnist::DEFAULT_DIR)),
        (None, DataFormat::Inshop) => {
            anyhow::bail!(
                "--data is required for In-shop data (make some with `capsule-host data synth`)"
            )
        }
    }
}

impl TrainEmbedderArgs {
    /// The run config these arguments describe.
    pub fn config(&self) -> Result<TrainConfig> {
        let mut model = match self.preset {
            Preset::Default => EmbedderConfig::new(self.arch),
            Preset::Compact => EmbedderConfig::compact(self.arch),
            Preset::Tiny => EmbedderConfig::tiny(self.arch),
            Preset::Lite0 => EmbedderConfig::lite0(self.arch),
        };
        if let Some(size) = self.input_size {
            model.input_size = size;
        }
        let mut preprocess = PreprocessSpec {
            size: model.input_size as u32,
            ..PreprocessSpec::default()
        };
        let pretrained = match &model.backbone {
            Some(_) => {
                // The pictures as the ImageNet weights were trained on them.
                preprocess.mean = PIXEL_MEAN;
                preprocess.std = PIXEL_STD;
                let path = self.pretrained.clone().or_else(default_weights_path);
                match path {
                    Some(path) if path.exists() => Some(path),
                    Some(path) => anyhow::bail!(
                        "the pretrained backbone weights {} are missing: run \
                         scripts/fetch-pretrained (or pass --pretrained FILE)",
                        path.display()
                    ),
                    None => anyhow::bail!(
                        "no HOME or CAPSULE_PRETRAINED_DIR to find the pretrained weights in: \
                         pass --pretrained FILE"
                    ),
                }
            }
            None => None,
        };
        let fmnist = self.format == DataFormat::Fmnist;
        if !fmnist && (self.limit.is_some() || self.eval_limit.is_some()) {
            anyhow::bail!("--limit and --eval-limit apply to Fashion-MNIST (--format fmnist) only");
        }
        if fmnist && self.mix_fmnist.is_some() {
            anyhow::bail!(
                "--mix-fmnist mixes Fashion-MNIST into another set; with --format fmnist it is already the only one"
            );
        }
        if self.mix_ratio == 0 {
            anyhow::bail!(
                "--mix-ratio must be at least 1 (batches of --data per Fashion-MNIST batch)"
            );
        }
        let mix = self.mix_fmnist.as_ref().map(|dir| MixConfig {
            data: DataSource {
                dir: dir.clone(),
                format: DataFormat::Fmnist,
                limit: self.mix_limit,
                eval_limit: None,
            },
            ratio: self.mix_ratio,
        });
        Ok(TrainConfig {
            model,
            preprocess,
            data: DataSource {
                dir: data_dir(&self.data, self.format)?,
                format: self.format,
                limit: self.limit,
                eval_limit: fmnist.then(|| self.eval_limit.unwrap_or(FMNIST_TRAIN_EVAL_LIMIT)),
            },
            loss: self.loss,
            margin: self.margin,
            temperature: self.temperature,
            learning_rate: self.lr,
            p: self.pk.0,
            k: self.pk.1,
            epochs: self.epochs,
            steps_per_epoch: self.steps_per_epoch,
            seed: self.seed,
            augment: if self.no_augment {
                Augment::none()
            } else {
                Augment::default()
            },
            mix,
            pretrained,
            frozen_features: self.frozen_features.map(|variants| FrozenFeatures {
                variants,
                mix_variants: self.frozen_mix_variants,
            }),
        })
    }
}

/// `eval embedder`.
#[derive(Args, Debug)]
pub struct EvalEmbedderArgs {
    /// A run directory written by `train embedder`.
    #[arg(long, required_unless_present = "bundle", conflicts_with = "bundle")]
    pub run: Option<PathBuf>,
    /// A model bundle instead of a run: its ONNX embedder runs in tract through the board's
    /// own path (garment crop, preprocessing, unit length), so this measures what ships.
    #[arg(long)]
    pub bundle: Option<PathBuf>,
    /// With --bundle: which of its embedder files.
    #[arg(long, requires = "bundle", default_value_t = Precision::F32)]
    pub precision: Precision,
    /// Dataset directory (default: the one the run trained on; with --bundle, the
    /// format's default place).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Dataset format (default: the run's; with --bundle, fmnist).
    #[arg(long, value_enum)]
    pub format: Option<DataFormat>,
    /// Fashion-MNIST: evaluate on the first N test pictures instead of all 10,000.
    #[arg(long)]
    pub limit: Option<usize>,
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    pub backend: Backend,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// What `eval embedder` prints.
#[derive(Debug, Serialize)]
pub struct EmbedderEvalReport {
    pub run: PathBuf,
    pub arch: Arch,
    #[serde(flatten)]
    pub scores: RetrievalScores,
    pub params: usize,
    /// Parameters above the pretrained backbone (the SE-residual stage and the head); equal
    /// to `params` for nets without a backbone.
    pub params_above_backbone: usize,
    pub embedding_dim: usize,
    pub epoch: usize,
    pub protocol: String,
}

impl std::fmt::Display for EmbedderEvalReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{} ({:?}, {} params, {} above the backbone, {}-d, epoch {})",
            self.run.display(),
            self.arch,
            self.params,
            self.params_above_backbone,
            self.embedding_dim,
            self.epoch
        )?;
        writeln!(f, "{}", self.protocol)?;
        write!(f, "{}", self.scores)
    }
}

pub fn run_train(args: TrainEmbedderArgs) -> Result<()> {
    let config = args.config()?;
    let metrics = train(&config, &args.out, args.backend, args.machine.options())
        .with_context(|| format!("training the embedder in {}", args.out.display()))?;
    if let Some(last) = metrics.last() {
        println!(
            "{}: epoch {} of {}, loss {:.4}, held-out Recall@1 {:.3}",
            args.out.display(),
            last.epoch,
            config.epochs,
            last.loss,
            last.recall_at_1
        );
    }
    Ok(())
}

pub fn run_eval(args: EvalEmbedderArgs) -> Result<()> {
    let Some(run) = args.run.clone() else {
        anyhow::bail!("pass --run RUN_DIR or --bundle BUNDLE_DIR");
    };
    let device = args.backend.device()?;
    let trained = TrainedEmbedder::load(&run, &device)
        .with_context(|| format!("loading the embedder run {}", run.display()))?;
    let mut source = trained.config.data.clone();
    if let Some(format) = args.format {
        source.format = format;
    }
    source.dir = match &args.data {
        Some(d) => d.clone(),
        // A format other than the run's own: the set mixed into its training if that is
        // the one asked for, else the format's default place.
        None if args.format.is_some_and(|f| f != trained.config.data.format) => {
            match &trained.config.mix {
                Some(m) if m.data.format == source.format => m.data.dir.clone(),
                _ => data_dir(&None, source.format)?,
            }
        }
        None => source.dir,
    };
    let (set, protocol) = load_eval_set(source, args.limit)?;
    let scores = evaluate(&trained.model, &set, trained.spec(), &device, 128)?;
    let report = EmbedderEvalReport {
        run,
        arch: trained.config.model.arch,
        scores,
        params: trained.model.num_params(),
        params_above_backbone: trained.model.num_params()
            - trained
                .model
                .backbone
                .as_ref()
                .map_or(0, |b| b.num_params()),
        embedding_dim: trained.config.model.embedding_dim,
        epoch: trained.epoch,
        protocol,
    };
    print_report(&report, args.json)?;
    Ok(())
}
