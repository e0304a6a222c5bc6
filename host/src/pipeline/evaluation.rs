//! The measured figures of a pipeline run (what the model card quotes): the embedder and the
//! stylist on data of seeds they never saw.

use super::PipelineError;
use crate::data::fmnist;
use crate::data::polyvore::{PolyvoreDataset, Split, Variant};
use crate::embedder::data::{DataFormat, DataSource, load_eval};
use crate::embedder::evaluate::evaluate as evaluate_embedder;
use crate::embedder::{RetrievalScores, TrainedEmbedder};
use crate::stylist::{self, Checkpoint, StylistScores, TrainedStylist, features};
use crate::training::Backend;
use serde::Serialize;
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
#[derive(Debug, Serialize)]
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
}

/// The embedder of `embedder_run` on `test`'s In-shop views and Fashion-MNIST (when
/// installed in `fmnist::DEFAULT_DIR`), the stylist of `stylist_run` on `stylist_test`'s
/// outfits.
pub fn evaluate(
    embedder_run: &Path,
    stylist_run: &Path,
    test: &Path,
    stylist_test: &Path,
) -> Result<Evaluation, PipelineError> {
    let device = burn::tensor::Device::flex();
    let embedder = TrainedEmbedder::load(embedder_run, &device)?;
    let retrieval = |source: DataSource| -> Result<RetrievalScores, PipelineError> {
        let set = load_eval(&source)?;
        Ok(evaluate_embedder(
            &embedder.model,
            &set,
            embedder.spec(),
            &device,
            BATCH,
        )?)
    };
    let inshop = retrieval(DataSource {
        dir: test.join("inshop"),
        format: DataFormat::Inshop,
        limit: None,
        eval_limit: None,
    })?;
    let fmnist_dir = Path::new(fmnist::DEFAULT_DIR);
    let fmnist = if fmnist_dir.exists() {
        Some(retrieval(DataSource {
            dir: fmnist_dir.to_path_buf(),
            format: DataFormat::Fmnist,
            limit: None,
            eval_limit: Some(FMNIST_EVAL),
        })?)
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
    Ok(Evaluation {
        embedder_synthetic_inshop: inshop,
        embedder_fmnist: fmnist,
        stylist: scores,
    })
}
