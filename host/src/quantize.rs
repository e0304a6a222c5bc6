//! Precision variants of a trained embedder: the float export rewritten as int8 (calibrated
//! on training pictures) or f16 weights by [`crate::onnx::quantize`], and what each one
//! costs: file and weight bytes, max error against burn on the golden batch, Recall@1 on the
//! held-out set and single-thread latency, all measured in tract.

use crate::embedder::data::{DataSource, EvalSet, LabelledImages, load_eval};
use crate::embedder::evaluate::{KS, recall_at_k};
use crate::embedder::feed::load_train;
use crate::embedder::pictures::Pictures;
use crate::embedder::{EmbedderError, TrainedEmbedder};
use crate::golden::{GOLDEN_PICTURES, golden_pictures};
use crate::onnx::embedder::BATCH_SYMBOL;
use crate::onnx::quantize::{
    Int8Options, QuantizeError, calibrate, calibration_targets, f16_weights, quantize_int8_with,
    weight_bytes,
};
use crate::onnx::{ExportError, encode, export_embedder};
use capsule_device::bundle::Precision;
use capsule_device::engine::{EngineError, InputShape, OnnxModel};
use capsule_device::fsutil::{AtomicWriteError, write_atomic};
use capsule_device::preprocess::{PreprocessSpec, preprocess_into};
use image::RgbImage;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;
use tract_onnx::pb;
use tract_onnx::prelude::{Tensor, tvec};

/// Pictures the int8 activation ranges are calibrated on, by default.
pub const DEFAULT_CALIBRATION: usize = 128;
/// Largest max |variant − burn| on the golden batch accepted for an int8 embedder: beyond
/// it the quantization is broken, not merely coarse (outputs are unit vectors).
pub const MAX_INT8_ERROR: f32 = 0.1;
/// The same for f16 weights.
pub const MAX_F16_ERROR: f32 = 1e-2;

/// Making or measuring a variant failed.
#[derive(Debug, thiserror::Error)]
pub enum VariantError {
    #[error(transparent)]
    Embedder(#[from] EmbedderError),
    #[error(transparent)]
    Export(#[from] ExportError),
    #[error(transparent)]
    Quantize(#[from] QuantizeError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Write(#[from] AtomicWriteError),
    #[error("cannot write the quantize report as JSON: {0}")]
    Report(#[source] serde_json::Error),
    #[error("{0}")]
    Invalid(String),
}

/// One model file of a given precision.
#[derive(Debug, Clone)]
pub struct Variant {
    pub precision: Precision,
    pub model: pb::ModelProto,
}

impl Variant {
    /// The `.onnx` file name a bundle gives this variant, e.g. `embedder.int8.onnx`.
    pub fn file_name(&self) -> String {
        format!("embedder.{}.onnx", precision_name(self.precision))
    }

    pub fn bytes(&self) -> Vec<u8> {
        encode(&self.model)
    }
}

/// `f32`, `f16`, `int8`: the manifest's spelling.
pub fn precision_name(p: Precision) -> &'static str {
    match p {
        Precision::F32 => "f32",
        Precision::F16 => "f16",
        Precision::Int8 => "int8",
    }
}

/// Preprocessed NCHW floats of `pictures`.
pub fn preprocess_all(
    pictures: &[RgbImage],
    spec: &PreprocessSpec,
) -> Result<Vec<f32>, EmbedderError> {
    let mut input = vec![0.0; pictures.len() * spec.input_len()];
    for (picture, chunk) in pictures.iter().zip(input.chunks_mut(spec.input_len())) {
        preprocess_into(picture, spec, chunk)?;
    }
    Ok(input)
}

/// `count` pictures spread evenly over the run's training set (every label is likely to
/// appear), or over the pictures in `from` when given (read in the run's data format).
pub fn calibration_pictures(
    trained: &TrainedEmbedder,
    from: Option<&Path>,
    count: usize,
) -> Result<Vec<RgbImage>, EmbedderError> {
    let mut source = trained.config.data.clone();
    if let Some(dir) = from {
        source.dir = dir.to_path_buf();
    }
    let train = load_train(&source, trained.spec())?;
    if train.is_empty() {
        return Err(EmbedderError::Invalid(format!(
            "{}: no training pictures to calibrate on",
            source.dir.display()
        )));
    }
    let n = count.clamp(1, train.len());
    (0..n)
        .map(|i| Ok(train.pictures.get(i * train.len() / n)?.into_owned()))
        .collect()
}

/// The float export of `trained` and the variants asked for (f32 is always first).
pub fn make_variants(
    trained: &TrainedEmbedder,
    calibration: &[RgbImage],
    precisions: &[Precision],
) -> Result<Vec<Variant>, VariantError> {
    make_variants_with(trained, calibration, precisions, Int8Options::default())
}

/// [`make_variants`] with explicit int8 choices.
pub fn make_variants_with(
    trained: &TrainedEmbedder,
    calibration: &[RgbImage],
    precisions: &[Precision],
    int8: Int8Options,
) -> Result<Vec<Variant>, VariantError> {
    let float = export_embedder(&trained.model, &trained.config.model)?;
    let mut variants = vec![Variant {
        precision: Precision::F32,
        model: float.clone(),
    }];
    for &precision in precisions {
        let model = match precision {
            Precision::F32 => continue,
            Precision::F16 => f16_weights(&float)?,
            Precision::Int8 => {
                let spec = trained.spec();
                let input = preprocess_all(calibration, spec)?;
                let batches: Vec<(Vec<usize>, Vec<f32>)> = input
                    .chunks(32 * spec.input_len())
                    .map(|c| {
                        let n = c.len() / spec.input_len();
                        (spec.input_shape(n).to_vec(), c.to_vec())
                    })
                    .collect();
                let ranges = calibrate(&float, &batches, &calibration_targets(&float)?)?;
                quantize_int8_with(&float, &ranges, int8)?
            }
        };
        variants.push(Variant { precision, model });
    }
    Ok(variants)
}

/// A model file loaded in tract for any batch size.
pub fn load_batched(path: &Path, spec: &PreprocessSpec) -> Result<OnnxModel, EngineError> {
    OnnxModel::load(
        path,
        &[InputShape::SymbolicFirst(
            BATCH_SYMBOL.into(),
            spec.input_shape(1)[1..].to_vec(),
        )],
        1,
    )
}

/// Embeddings of a preprocessed batch (`n × 3 × S × S`) from a tract model.
pub fn embed_tract(
    model: &OnnxModel,
    spec: &PreprocessSpec,
    input: &[f32],
) -> Result<Vec<f32>, VariantError> {
    let n = input.len() / spec.input_len();
    let tensor = Tensor::from_shape(&spec.input_shape(n), input)
        .map_err(|e| VariantError::Invalid(format!("batch of {n} pictures: {e}")))?;
    Ok(model.run_f32(tvec!(tensor.into()))?.1)
}

/// Largest |a − b| (infinite where `a` is not finite).
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| {
            if x.is_finite() {
                (x - y).abs()
            } else {
                f32::INFINITY
            }
        })
        .fold(0.0, f32::max)
}

/// Recall@1 of embeddings made by `embed` on the held-out set.
fn recall_at_1(
    set: &EvalSet,
    mut embed: impl FnMut(&Pictures) -> Result<(Vec<f32>, usize), VariantError>,
) -> Result<f64, VariantError> {
    let values = match set {
        EvalSet::QueryGallery { query, gallery } => {
            let (q, dim) = embed(&query.pictures)?;
            let (g, _) = embed(&gallery.pictures)?;
            recall_at_k(&q, &query.labels, &g, &gallery.labels, dim, &KS, false)
        }
        EvalSet::LeaveOneOut(LabelledImages { pictures, labels }) => {
            let (e, dim) = embed(pictures)?;
            recall_at_k(&e, labels, &e, labels, dim, &KS, true)
        }
    };
    Ok(values[0])
}

/// What one variant costs and keeps.
#[derive(Debug, Clone, Serialize)]
pub struct VariantReport {
    pub precision: &'static str,
    pub file: String,
    pub file_bytes: usize,
    /// Bytes of all initializers (weights, biases, scales, shape constants).
    pub weight_bytes: usize,
    /// f32 weight bytes / this variant's.
    pub weight_ratio: f64,
    /// Max |tract output − burn output| on the golden batch.
    pub golden_max_error: f32,
    /// Recall@1 on the held-out set, embeddings from tract.
    pub recall_at_1: f64,
    /// Change against burn's own Recall@1, in points (×100).
    pub recall_at_1_delta_points: f64,
    /// Median milliseconds per picture at batch 1, one thread, in tract.
    pub latency_ms_1thread: f64,
}

/// The whole `quantize` report.
#[derive(Debug, Clone, Serialize)]
pub struct QuantizeReport {
    pub run: PathBuf,
    pub epoch: usize,
    pub evaluation: String,
    pub calibration_pictures: usize,
    /// Recall@1 of burn's own forward pass (the reference).
    pub burn_recall_at_1: f64,
    pub variants: Vec<VariantReport>,
}

impl std::fmt::Display for QuantizeReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{} (epoch {}), {}; burn Recall@1 {:.4}; int8 calibrated on {} pictures",
            self.run.display(),
            self.epoch,
            self.evaluation,
            self.burn_recall_at_1,
            self.calibration_pictures
        )?;
        write!(
            f,
            "{:<6} {:>10} {:>10} {:>7} {:>11} {:>8} {:>9} {:>10}",
            "prec", "file B", "weight B", "ratio", "max |err|", "R@1", "ΔR@1 pt", "ms (1 thr)"
        )?;
        for v in &self.variants {
            write!(
                f,
                "\n{:<6} {:>10} {:>10} {:>6.2}x {:>11.3e} {:>8.4} {:>+9.2} {:>10.2}",
                v.precision,
                v.file_bytes,
                v.weight_bytes,
                v.weight_ratio,
                v.golden_max_error,
                v.recall_at_1,
                v.recall_at_1_delta_points,
                v.latency_ms_1thread
            )?;
        }
        Ok(())
    }
}

/// Median milliseconds of `runs` single-picture runs (after two warm-up runs).
pub fn latency_ms(path: &Path, spec: &PreprocessSpec, runs: usize) -> Result<f64, VariantError> {
    let model = OnnxModel::load(path, &[InputShape::Fixed(spec.input_shape(1).to_vec())], 1)?;
    let input = preprocess_all(&golden_pictures(1), spec)?;
    let once = || -> Result<f64, VariantError> {
        let start = Instant::now();
        embed_tract(&model, spec, &input)?;
        Ok(start.elapsed().as_secs_f64() * 1e3)
    };
    once()?;
    once()?;
    let mut samples = (0..runs.max(1))
        .map(|_| once())
        .collect::<Result<Vec<_>, _>>()?;
    samples.sort_by(f64::total_cmp);
    Ok(samples[samples.len() / 2])
}

/// What `quantize` measures on.
#[derive(Debug, Clone, Default)]
pub struct QuantizeOptions {
    pub precisions: Vec<Precision>,
    /// Training pictures for the int8 calibration.
    pub calibration: usize,
    /// Held-out data in the run's format (default: the run's own).
    pub eval_data: Option<PathBuf>,
    /// Fashion-MNIST: the first N test pictures (default: the run's setting).
    pub eval_limit: Option<usize>,
    /// Timed single-picture runs per variant.
    pub latency_runs: usize,
    pub int8: Int8Options,
}

/// `capsule-host quantize`: writes the f32 export and every asked variant of the run at
/// `run_dir` into `out`, measures each and writes `quantize-report.json` beside them.
pub fn quantize_run(
    run_dir: &Path,
    out: &Path,
    options: &QuantizeOptions,
) -> Result<QuantizeReport, VariantError> {
    let device = burn::prelude::Device::flex();
    let trained = TrainedEmbedder::load(run_dir, &device)?;
    let eval = DataSource {
        dir: options
            .eval_data
            .clone()
            .unwrap_or_else(|| trained.config.data.dir.clone()),
        eval_limit: options.eval_limit.or(trained.config.data.eval_limit),
        ..trained.config.data.clone()
    };
    let (precisions, calibration, latency_runs) = (
        &options.precisions,
        options.calibration,
        options.latency_runs,
    );
    let spec = trained.spec().clone();
    let sample = calibration_pictures(&trained, None, calibration)?;
    let variants = make_variants_with(&trained, &sample, precisions, options.int8)?;

    let golden = preprocess_all(&golden_pictures(GOLDEN_PICTURES), &spec)?;
    let reference = trained.embed_preprocessed(&golden, GOLDEN_PICTURES)?;
    let set = load_eval(&eval)?;
    let burn_recall = recall_at_1(&set, |pictures| Ok(trained.embed_set(pictures)?))?;
    let f32_weights = weight_bytes(&variants[0].model).max(1);
    let mut reports = Vec::new();
    for variant in &variants {
        let path = out.join(variant.file_name());
        let bytes = variant.bytes();
        write_atomic(&path, &bytes)?;
        let model = load_batched(&path, &spec)?;
        let golden_max_error = max_abs_diff(&embed_tract(&model, &spec, &golden)?, &reference);
        let recall = recall_at_1(&set, |pictures| {
            let mut all = Vec::new();
            for chunk in pictures.chunks(64) {
                let chunk = chunk.map_err(EmbedderError::from)?;
                all.extend(embed_tract(&model, &spec, &preprocess_all(&chunk, &spec)?)?);
            }
            Ok((all, trained.config.model.embedding_dim))
        })?;
        let weights = weight_bytes(&variant.model);
        reports.push(VariantReport {
            precision: precision_name(variant.precision),
            file: variant.file_name(),
            file_bytes: bytes.len(),
            weight_bytes: weights,
            weight_ratio: f32_weights as f64 / weights.max(1) as f64,
            golden_max_error,
            recall_at_1: recall,
            recall_at_1_delta_points: (recall - burn_recall) * 100.0,
            latency_ms_1thread: latency_ms(&path, &spec, latency_runs)?,
        });
    }
    let report = QuantizeReport {
        run: run_dir.to_path_buf(),
        epoch: trained.epoch,
        evaluation: set.describe(),
        calibration_pictures: sample.len(),
        burn_recall_at_1: burn_recall,
        variants: reports,
    };
    let json = serde_json::to_vec_pretty(&report).map_err(VariantError::Report)?;
    write_atomic(&out.join("quantize-report.json"), &json)?;
    Ok(report)
}
