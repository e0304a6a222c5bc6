//! The measured figures of a pipeline run (what the model card quotes): the embedder and the
//! stylist on data of seeds they never saw.

use super::PipelineError;
use crate::bundle::evaluate as shipped;
use crate::data::fmnist;
use crate::data::polyvore::{PolyvoreDataset, Split, Variant};
use crate::embedder::data::{DataFormat, DataSource, EvalSet, load_eval};
use crate::embedder::evaluate::evaluate as evaluate_embedder;
use crate::embedder::{RetrievalScores, TrainedEmbedder};
use crate::eval::OpenSetScores;
use crate::stylist::{self, Checkpoint, StylistScores, TrainedStylist, features};
use crate::training::Backend;
use capsule_device::bundle::Precision;
use indicatif::ProgressBar;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Where a pipeline writes its [`Evaluation`].
pub const EVALUATION_FILE: &str = "evaluation.json";
/// Test-time context sizes the stylist is evaluated at.
const CONTEXTS: [usize; 2] = [0, 15];
/// Fashion-MNIST test pictures the embedder is evaluated on (class retrieval).
const FMNIST_EVAL: usize = 2000;
/// Pictures per forward pass of the embedder.
const BATCH: usize = 128;

/// What `evaluation.json` holds.
#[derive(Debug, Serialize, Deserialize)]
pub struct Evaluation {
    /// Synthetic In-shop of the unseen seed: camera views against camera views and product
    /// shots of other garments than those trained on.
    pub embedder_synthetic_inshop: RetrievalScores,
    /// Fashion-MNIST class retrieval on the first test pictures (never trained on: the
    /// default preset mixes in the training pictures only); `None` where Fashion-MNIST is
    /// not installed.
    pub embedder_fmnist: Option<RetrievalScores>,
    /// Stylist on an unseen seed's test outfits (the stylist's own test set), per test-time
    /// context K.
    pub stylist: Vec<StylistScores>,
    /// The same measured on what ships: the bundle's ONNX files in tract through the board's
    /// path (`eval embedder --bundle`, `eval stylist --bundle`); Fashion-MNIST on all 10k.
    pub shipped: ShippedEvaluation,
}

/// [`Evaluation`] of the signed bundle's f32 models.
#[derive(Debug, Serialize, Deserialize)]
pub struct ShippedEvaluation {
    pub embedder_synthetic_inshop: RetrievalScores,
    /// All 10,000 test pictures; `None` where Fashion-MNIST is not installed.
    pub embedder_fmnist: Option<RetrievalScores>,
    pub stylist: Vec<StylistScores>,
    /// Top-1 and open-set identification on the staged-camera set (`eval open-set`).
    pub staged: Option<OpenSetScores>,
}

/// The data sets of unseen seeds a pipeline is measured on.
#[derive(Debug, Clone, Copy)]
pub struct EvaluationSets<'a> {
    /// In-shop (`test/inshop`) and Polyvore data of the embedder's test seed.
    pub test: &'a Path,
    /// Outfits of the stylist's test seed (`polyvore/` inside).
    pub stylist_test: &'a Path,
    /// A staged-camera In-shop set (camera views on held-out photos against product shots).
    pub staged: Option<&'a Path>,
}

/// The embedder of `embedder_run` on the test In-shop views and Fashion-MNIST (when
/// installed in `fmnist::DEFAULT_DIR`), the stylist of `stylist_run` on the stylist test
/// outfits; then the same of the `bundle` made from them, and its staged-camera figures.
pub fn evaluate(
    embedder_run: &Path,
    stylist_run: &Path,
    bundle: &Path,
    sets: &EvaluationSets,
) -> Result<Evaluation, PipelineError> {
    let (test, stylist_test) = (sets.test, sets.stylist_test);
    let device = burn::tensor::Device::flex();
    let embedder = TrainedEmbedder::load(embedder_run, &device)?;
    let retrieval = |set: &EvalSet| -> Result<RetrievalScores, PipelineError> {
        Ok(evaluate_embedder(
            &embedder.model,
            set,
            embedder.spec(),
            &device,
            BATCH,
        )?)
    };
    let inshop_set = load_eval(&DataSource {
        dir: test.join("inshop"),
        format: DataFormat::Inshop,
        limit: None,
        eval_limit: None,
    })?;
    let inshop = retrieval(&inshop_set)?;
    let fmnist_dir = Path::new(fmnist::DEFAULT_DIR);
    let fmnist_set = |eval_limit| {
        load_eval(&DataSource {
            dir: fmnist_dir.to_path_buf(),
            format: DataFormat::Fmnist,
            limit: None,
            eval_limit,
        })
    };
    let fmnist = if fmnist_dir.exists() {
        Some(retrieval(&fmnist_set(Some(FMNIST_EVAL))?)?)
    } else {
        None
    };
    let stylist = TrainedStylist::load(stylist_run, Checkpoint::Best, Backend::Flex)?;
    let data = PolyvoreDataset::load(&stylist_test.join("polyvore"), Variant::Nondisjoint)?;
    let (source, style) = features::split_style(&stylist.config.feature_source);
    let features = features::compute_with_embedder(&data, &embedder, source.to_string(), style)?;
    let scores = CONTEXTS
        .iter()
        .map(|&k| stylist::evaluate(&stylist, &data, &features, Split::Test, k, 0))
        .collect::<Result<Vec<_>, _>>()?;
    let hidden = ProgressBar::hidden();
    let shipped_embedder = |set: &EvalSet| {
        shipped::evaluate_embedder(bundle, Precision::F32, set, &hidden).map(|e| e.scores)
    };
    let shipped_stylist = shipped::BundleStylist::open(bundle, &data, &hidden)?;
    let shipped = ShippedEvaluation {
        embedder_synthetic_inshop: shipped_embedder(&inshop_set)?,
        embedder_fmnist: match fmnist_dir.exists() {
            true => Some(shipped_embedder(&fmnist_set(None)?)?),
            false => None,
        },
        stylist: CONTEXTS
            .iter()
            .map(|&k| shipped_stylist.evaluate(&data, Split::Test, k, 0))
            .collect::<Result<Vec<_>, _>>()?,
        staged: match sets.staged {
            Some(dir) => {
                let set = load_eval(&DataSource {
                    dir: dir.to_path_buf(),
                    format: DataFormat::Inshop,
                    limit: None,
                    eval_limit: None,
                })?;
                Some(shipped::evaluate_open_set(bundle, Precision::F32, &set, &hidden)?.scores)
            }
            None => None,
        },
    };
    Ok(Evaluation {
        embedder_synthetic_inshop: inshop,
        embedder_fmnist: fmnist,
        stylist: scores,
        shipped,
    })
}
