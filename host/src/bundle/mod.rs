//! Making a model bundle from a trained run, signing keys, and signing: the host half of the
//! bundle contract in `capsule_device::bundle` (the device half verifies and installs).

pub mod evaluate;
pub mod stylist;
pub mod variants;

use crate::embedder::data::{DataSource, EvalSet, load_eval};
use crate::embedder::{EmbedderError, EpochMetrics, TrainedEmbedder};
use crate::golden::{GOLDEN_PICTURES, GOLDEN_TOLERANCE, golden_pictures};
use crate::onnx::embedder::input_spec;
use crate::onnx::{ExportError, write_embedder};
use crate::quantize::VariantError;
use crate::stylist::StylistError;
use crate::stylist::features::embedder_source;
use crate::training::RunDir;
use burn::module::Module;
use capsule_device::GarmentType;
use capsule_device::bundle::metrics as metric;
use capsule_device::bundle::signature::{
    SignatureError, SigningKey, VerifyingKey, parse_secret_key, public_key_hex, secret_key_text,
    sign_manifest,
};
use capsule_device::bundle::{
    BundleError as DeviceBundleError, GoldenPair, MANIFEST_FILE, MANIFEST_FORMAT, Manifest,
    ManifestError, ModelEntry, ModelRole, NpyArray, NpyError, Precision, SIGNATURE_FILE,
    TrainingInfo, sha256_hex, verify_signed,
};
use capsule_device::engine::{EngineError, check_bundle};
use capsule_device::fsutil::{AtomicWriteError, write_atomic};
use capsule_device::identify::calibrate_threshold;
use capsule_device::preprocess::preprocess_into;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The embedder's file inside a bundle.
pub const EMBEDDER_FILE: &str = "embedder.f32.onnx";
/// Golden input of the embedder.
pub const EMBEDDER_GOLDEN_IN: &str = "golden/embedder.in.npy";
/// Golden output of the embedder.
pub const EMBEDDER_GOLDEN_OUT: &str = "golden/embedder.out.npy";

/// Making, signing or checking a bundle failed.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error(transparent)]
    Embedder(#[from] EmbedderError),
    #[error(transparent)]
    Export(#[from] ExportError),
    #[error(transparent)]
    Device(#[from] DeviceBundleError),
    #[error(transparent)]
    Golden(#[from] capsule_device::engine::GoldenError),
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error(transparent)]
    Npy(#[from] NpyError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Variant(#[from] VariantError),
    #[error(transparent)]
    Write(#[from] AtomicWriteError),
    #[error("stylist run {run}: {source}")]
    Stylist {
        run: PathBuf,
        #[source]
        source: Box<StylistError>,
    },
    #[error("{what}: {reason}")]
    Key {
        what: String,
        #[source]
        reason: SignatureError,
    },
    #[error("{path}: {step}: {source}")]
    Io {
        path: PathBuf,
        step: &'static str,
        source: std::io::Error,
    },
    #[error("bundle: {0}")]
    Invalid(String),
}

fn io(path: &Path, step: &'static str) -> impl FnOnce(std::io::Error) -> BundleError {
    let path = path.to_path_buf();
    move |source| BundleError::Io { path, step, source }
}

/// What `bundle` is asked to make.
#[derive(Debug, Clone)]
pub struct BundleOptions {
    /// Monotonically increasing bundle version.
    pub version: u64,
    /// A held-out set in the run's data format to calibrate `identify_threshold` on.
    pub threshold_from: Option<PathBuf>,
    /// A stylist run trained on the embedder's features, to bundle with it.
    pub stylist: Option<PathBuf>,
    /// The command line, recorded in the manifest's training info.
    pub command: Option<String>,
}

/// Writes an unsigned bundle for the embedder run at `run_dir` into `out`: the ONNX file,
/// the golden pair (burn's output on [`golden_pictures`]) and `manifest.json`.
pub fn make_bundle(
    run_dir: &Path,
    out: &Path,
    options: &BundleOptions,
) -> Result<Manifest, BundleError> {
    let device = burn::prelude::Device::flex();
    let trained = TrainedEmbedder::load(run_dir, &device)?;
    let config = &trained.config.model;
    let spec = trained.spec().clone();
    let onnx = write_embedder(&trained.model, config, &out.join(EMBEDDER_FILE))?;

    let pictures = golden_pictures(GOLDEN_PICTURES);
    let mut input = vec![0.0; pictures.len() * spec.input_len()];
    for (picture, chunk) in pictures.iter().zip(input.chunks_mut(spec.input_len())) {
        preprocess_into(picture, &spec, chunk)
            .map_err(|e| BundleError::Invalid(format!("golden picture: {e}")))?;
    }
    let output = trained.embed_preprocessed(&input, pictures.len())?;
    let npy =
        |shape: Vec<usize>, data: Vec<f32>| NpyArray::new(shape, data).map_err(BundleError::from);
    let golden_in = npy(spec.input_shape(pictures.len()).to_vec(), input)?;
    let golden_out = npy(vec![pictures.len(), config.embedding_dim], output)?;
    write_atomic(&out.join(EMBEDDER_GOLDEN_IN), &golden_in.to_bytes())?;
    write_atomic(&out.join(EMBEDDER_GOLDEN_OUT), &golden_out.to_bytes())?;

    let mut metrics = BTreeMap::new();
    let run = RunDir::open(run_dir).map_err(EmbedderError::from)?;
    let epochs: Vec<EpochMetrics> = run.metrics().map_err(EmbedderError::from)?;
    if let Some(last) = epochs.iter().rev().find(|m| m.epoch == trained.epoch) {
        metrics.insert(metric::RECALL_AT_1.to_string(), last.recall_at_1);
    }
    if let Some(data) = &options.threshold_from {
        let threshold = calibrate(&trained, data)?;
        metrics.insert(metric::IDENTIFY_THRESHOLD.to_string(), threshold as f64);
    }
    let data = &trained.config.data;
    let mut datasets = vec![format!(
        "{:?} at {} ({:?} embedder, epoch {}, seed {})",
        data.format,
        data.dir.display(),
        config.arch,
        trained.epoch,
        trained.config.seed
    )];
    if let Some(mix) = &trained.config.mix {
        datasets.push(format!(
            "{:?} at {}{} mixed into the embedder's training (one batch per {} of the above)",
            mix.data.format,
            mix.data.dir.display(),
            mix.data
                .limit
                .map_or(String::new(), |n| format!(" (first {n} pictures)")),
            mix.ratio
        ));
    }
    let mut models = vec![ModelEntry {
        role: ModelRole::Embedder,
        file: EMBEDDER_FILE.into(),
        sha256: sha256_hex(&onnx),
        precision: Precision::F32,
        inputs: vec![input_spec(config)],
        output_dim: config.embedding_dim,
        golden: GoldenPair {
            inputs: vec![EMBEDDER_GOLDEN_IN.into()],
            output: EMBEDDER_GOLDEN_OUT.into(),
            tolerance: GOLDEN_TOLERANCE,
        },
        params: trained.model.num_params() as u64,
    }];
    let mut stylist_spec = None;
    if let Some(stylist_run) = &options.stylist {
        let source = embedder_source(run_dir, trained.epoch);
        let part = stylist::stylist_models(stylist_run, &source, config.embedding_dim, out)?;
        models.extend(part.models);
        metrics.extend(part.metrics);
        datasets.push(part.dataset);
        stylist_spec = Some(part.spec);
    }
    let manifest = Manifest {
        format: MANIFEST_FORMAT,
        bundle_version: options.version,
        created_unix: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        garment_types: GarmentType::names(),
        preprocessing: spec,
        models,
        training: TrainingInfo {
            datasets,
            commands: options.command.iter().cloned().collect(),
        },
        metrics,
        stylist: stylist_spec,
    };
    manifest.validate()?;
    write_atomic(&out.join(MANIFEST_FILE), &manifest.to_bytes())?;
    // A stale signature from an earlier bundle in the same folder would only mislead.
    let _ = std::fs::remove_file(out.join(SIGNATURE_FILE));
    Ok(manifest)
}

/// The equal-error similarity threshold between same-garment and different-garment pairs
/// of the held-out set at `data` (read in the run's data format).
pub fn calibrate(trained: &TrainedEmbedder, data: &Path) -> Result<f32, BundleError> {
    let source = DataSource {
        dir: data.to_path_buf(),
        ..trained.config.data.clone()
    };
    let (queries, gallery) = match load_eval(&source)? {
        EvalSet::QueryGallery { query, gallery } => (query, Some(gallery)),
        EvalSet::LeaveOneOut(all) => (all, None),
    };
    let (q, dim) = trained.embed_set(&queries.pictures)?;
    let g = match &gallery {
        Some(g) => trained.embed_set(&g.pictures)?.0,
        None => q.clone(),
    };
    let g_labels = gallery.as_ref().map_or(&queries.labels, |g| &g.labels);
    let (mut same, mut different) = (Vec::new(), Vec::new());
    for (i, (qe, ql)) in q.chunks(dim).zip(&queries.labels).enumerate() {
        for (j, (ge, gl)) in g.chunks(dim).zip(g_labels).enumerate() {
            if gallery.is_none() && j <= i {
                continue;
            }
            let sim: f32 = qe.iter().zip(ge).map(|(a, b)| a * b).sum();
            if ql == gl {
                same.push(sim);
            } else {
                different.push(sim);
            }
        }
    }
    calibrate_threshold(&same, &different).ok_or_else(|| {
        BundleError::Invalid(format!(
            "{}: need pairs of the same and of different garments to calibrate \
             ({} same, {} different)",
            data.display(),
            same.len(),
            different.len()
        ))
    })
}

/// Creates a new ed25519 key: the secret seed in `path` (mode 0600, never overwritten) and
/// its public half in `path.pub`. Returns the public key as hex.
pub fn keygen(path: &Path) -> Result<String, BundleError> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| BundleError::Io {
        path: path.to_path_buf(),
        step: "draw random key",
        source: std::io::Error::other(e.to_string()),
    })?;
    let key = SigningKey::from_bytes(&seed);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io(parent, "create folder"))?;
    }
    let mut file = options.open(path).map_err(io(
        path,
        "create key file (an existing key is never overwritten)",
    ))?;
    std::io::Write::write_all(&mut file, secret_key_text(&key).as_bytes())
        .map_err(io(path, "write"))?;
    file.sync_all().map_err(io(path, "fsync"))?;
    let public = public_key_hex(&key.verifying_key());
    let pub_path = public_path(path);
    write_atomic(&pub_path, format!("{public}\n").as_bytes())?;
    Ok(public)
}

/// `KEYFILE.pub`.
pub fn public_path(key: &Path) -> PathBuf {
    let mut name = key.as_os_str().to_owned();
    name.push(".pub");
    PathBuf::from(name)
}

/// Reads a secret key file written by [`keygen`].
pub fn read_key(path: &Path) -> Result<SigningKey, BundleError> {
    let text = std::fs::read_to_string(path).map_err(io(path, "read key"))?;
    parse_secret_key(&text, &path.display().to_string()).map_err(|reason| BundleError::Key {
        what: path.display().to_string(),
        reason,
    })
}

/// What [`sign_bundle`] checked.
#[derive(Debug, Clone)]
pub struct Signed {
    /// The key that verifies the signature.
    pub public: VerifyingKey,
    /// Each model file with its max |tract output − golden (burn) output|.
    pub golden_errors: Vec<(String, f32)>,
}

/// Signs the bundle at `dir` with the key in `key_path` (writes `manifest.sig`), then
/// verifies it as a device would: signature, hashes and golden outputs in tract.
pub fn sign_bundle(dir: &Path, key_path: &Path) -> Result<Signed, BundleError> {
    let key = read_key(key_path)?;
    let manifest_path = dir.join(MANIFEST_FILE);
    let bytes = std::fs::read(&manifest_path).map_err(io(&manifest_path, "read"))?;
    Manifest::from_bytes(&bytes)?;
    write_atomic(
        &dir.join(SIGNATURE_FILE),
        sign_manifest(&bytes, &key).as_bytes(),
    )?;
    let public = key.verifying_key();
    let golden_errors = check_bundle(&verify_signed(dir, &[public])?, 1)?;
    Ok(Signed {
        public,
        golden_errors,
    })
}
