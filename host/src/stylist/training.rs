//! Training the stylist: full-batch link prediction on the training graph.
//!
//! Every step draws a fresh split of the positive edges into *message-passing* edges (the
//! graph the encoder sees) and *target* edges (the pairs the decoder must score high),
//! drops a share of the message-passing edges (edge dropout) and every edge of a share of
//! the nodes (node isolation — so a garment with no known outfits, or test time with
//! K = 0, is a case the model has met), and draws one negative per target edge. BCE on
//! targets vs negatives. A negative replaces one end of a target edge by a random item — of
//! the same garment type with probability `hard_negatives`, so the decoder cannot win on
//! types alone (the hard FITB protocol draws its distractors that way too).
//!
//! An epoch is `steps_per_epoch` steps; after each, the run directory gets the checkpoint
//! (weights and Adam's state, see [`crate::training::checkpoint`]), the epoch's metrics
//! (with validation FITB/AUC) and the curves, so a run resumes from its last complete epoch
//! and computes what the uninterrupted run would have. The epoch with the best validation
//! score so far (hard FITB + AUC, [`selection_score`]) is also kept as `best.bpk`.

use super::checkpoint::{BEST_CHECKPOINT_FILE, STANDARDIZER_FILE};
use super::config::TrainConfig;
use super::data::{fit_standardizer, load_dataset};
use super::error::StylistError;
use super::evaluate::evaluate;
use super::features::{FeatureFile, Standardizer, input_dim, node_inputs};
use super::graph::{ItemGraph, MessageEdges};
use super::inference::TrainedStylist;
use super::model::{Neighbourhood, to_vec};
use crate::data::polyvore::Split;
use crate::training::checkpoint::{
    self, Resumed, reseed_after_first_epoch, save_weights, store_or_check_config,
};
use crate::training::plot::{Panel, Series};
use crate::training::{RunDir, progress};
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Int, Tensor, TensorData};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::Path;
use std::time::Instant;

/// Training curves.
pub const CURVES_FILE: &str = "curves.png";

/// What `best.bpk` maximises: validation hard FITB + AUC (the two numbers the target is
/// set in; standard FITB is left out because garment types alone win much of it). `None`
/// when the validation split lacks either.
pub fn selection_score(m: &EpochMetrics) -> Option<f64> {
    Some(m.valid_fitb_hard? + m.valid_auc?)
}

/// The epoch of `metrics` with the highest [`selection_score`] (the first on ties).
pub fn best_epoch(metrics: &[EpochMetrics]) -> Option<&EpochMetrics> {
    metrics
        .iter()
        .filter_map(|m| Some((m, selection_score(m)?)))
        .fold(
            None,
            |best: Option<(&EpochMetrics, f64)>, (m, s)| match best {
                Some((_, b)) if b >= s => best,
                _ => Some((m, s)),
            },
        )
        .map(|(m, _)| m)
}

/// One epoch's line in `metrics.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EpochMetrics {
    pub epoch: usize,
    /// Mean BCE over the epoch's steps.
    pub loss: f64,
    /// Share of target edges and negatives on the right side of logit 0.
    pub accuracy: f64,
    pub valid_fitb: Option<f64>,
    pub valid_fitb_hard: Option<f64>,
    pub valid_auc: Option<f64>,
    pub seconds: f64,
}

/// Trains (or resumes) the run in `out`. A run directory with a `config.json` resumes after
/// its last complete epoch; its settings must be the same, except `epochs`, which may be
/// raised to train longer.
pub fn train(config: TrainConfig, out: &Path) -> Result<Vec<EpochMetrics>, StylistError> {
    config.validate()?;
    let run = RunDir::create(out)?;
    let data = load_dataset(&config.data)?;
    let features = FeatureFile::load(&config.features)?;
    let config = TrainConfig {
        feature_source: features.source.clone(),
        ..config
    };
    if config.model.input_dim != input_dim(features.dim) {
        return Err(StylistError::Config {
            path: config.features.clone(),
            message: format!(
                "features have dim {} but the model expects inputs of width {} (dim + {} types)",
                features.dim,
                config.model.input_dim,
                capsule_device::GarmentType::COUNT
            ),
        });
    }
    store_or_check_config(&run, &config)?;
    let graph = ItemGraph::from_dataset(&data);
    let standardizer = match run.read_json::<Standardizer>(STANDARDIZER_FILE)? {
        Some(s) => s,
        None => fit_standardizer(&graph, &data, &features)?,
    };
    run.write_json(STANDARDIZER_FILE, &standardizer)?;

    let device = config.backend.training_device()?;
    device.seed(config.seed);
    let Resumed {
        epochs_done,
        mut model,
        mut optimizer,
    } = checkpoint::resume(&run, config.model.init(&device), AdamConfig::new().init())?;
    let mut metrics: Vec<EpochMetrics> = run.metrics()?;
    metrics.truncate(epochs_done);
    let best_checkpoint = run.file(BEST_CHECKPOINT_FILE);
    // A resumed run without `best.bpk` has no saved weights for its earlier best epoch, so
    // only the epochs from here on compete.
    let mut best_score = match best_epoch(&metrics) {
        Some(m) if best_checkpoint.is_file() => selection_score(m),
        _ => None,
    };
    let inputs = node_inputs(&graph, &features, &standardizer)?;
    let x = Tensor::<2>::from_data(
        TensorData::new(inputs, [graph.len(), config.model.input_dim]),
        &device,
    );
    let by_type = nodes_by_type(&graph);

    let remaining = config.epochs.saturating_sub(epochs_done);
    let bar = progress::bar((remaining * config.steps_per_epoch) as u64, "steps");
    bar.set_prefix("stylist");
    for epoch in epochs_done + 1..=config.epochs {
        let started = Instant::now();
        // The edge splits and negatives are seeded by the epoch alone, and so are the
        // dropout masks from the second epoch on.
        let epoch_seed = config.seed ^ ((epoch as u64) << 20);
        let mut rng = ChaCha8Rng::seed_from_u64(epoch_seed);
        reseed_after_first_epoch(&device, epoch, epoch_seed);
        let (mut loss_sum, mut correct, mut seen) = (0.0, 0usize, 0usize);
        for _ in 0..config.steps_per_epoch {
            let batch = Batch::draw(&graph, &by_type, &config, &mut rng);
            let nb = Neighbourhood::edges(&batch.message, &device);
            let z = model.encoder.forward(x.clone(), &nb);
            let ints = |v: &[i64]| {
                Tensor::<1, Int>::from_data(TensorData::new(v.to_vec(), [v.len()]), &device)
            };
            let slots: Vec<i64> = batch
                .left
                .iter()
                .zip(&batch.right)
                .map(|(&a, &b)| {
                    model
                        .decoder
                        .slot(graph.types[a as usize], graph.types[b as usize])
                        as i64
                })
                .collect();
            let logits =
                model
                    .decoder
                    .forward(z, ints(&batch.left), ints(&batch.right), ints(&slots));
            let labels = Tensor::<1>::from_data(
                TensorData::new(batch.labels.clone(), [batch.labels.len()]),
                &device,
            );
            let loss = bce_with_logits(logits.clone(), labels);
            let loss_value = to_vec(loss.clone().into_data())[0] as f64;
            let logits = to_vec(logits.into_data());
            correct += logits
                .iter()
                .zip(&batch.labels)
                .filter(|(l, y)| (**l > 0.0) == (**y > 0.5))
                .count();
            seen += logits.len();
            loss_sum += loss_value;
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optimizer.step(config.learning_rate, model, grads);
            bar.inc(1);
            bar.set_message(format!("epoch {epoch} loss {loss_value:.4}"));
        }
        let valid = TrainedStylist::new(
            config.clone(),
            model.clone(),
            standardizer.clone(),
            device.clone(),
        );
        let scores = evaluate(
            &valid,
            &data,
            &features,
            Split::Valid,
            config.valid_context,
            config.seed,
        )?;
        let epoch_metrics = EpochMetrics {
            epoch,
            loss: loss_sum / config.steps_per_epoch.max(1) as f64,
            accuracy: correct as f64 / seen.max(1) as f64,
            valid_fitb: scores.fitb,
            valid_fitb_hard: scores.fitb_hard,
            valid_auc: scores.auc,
            seconds: started.elapsed().as_secs_f64(),
        };
        if let Some(score) = selection_score(&epoch_metrics)
            && best_score.is_none_or(|best| score > best)
        {
            save_weights(&model, &best_checkpoint)?;
            best_score = Some(score);
        }
        checkpoint::save(&run, epoch, &model, &optimizer)?;
        metrics.push(epoch_metrics);
        run.save_metrics(&metrics)?;
        checkpoint::prune(&run, epoch);
        plot(&run, &metrics, config.valid_context)?;
    }
    bar.finish_and_clear();
    Ok(metrics)
}

fn nodes_by_type(graph: &ItemGraph) -> Vec<Vec<u32>> {
    let mut by_type = vec![Vec::new(); capsule_device::GarmentType::COUNT];
    for (n, &t) in graph.types.iter().enumerate() {
        by_type[t].push(n as u32);
    }
    by_type
}

/// One training step's graph and pairs.
struct Batch {
    message: MessageEdges,
    left: Vec<i64>,
    right: Vec<i64>,
    labels: Vec<f32>,
}

impl Batch {
    fn draw(
        graph: &ItemGraph,
        by_type: &[Vec<u32>],
        config: &TrainConfig,
        rng: &mut ChaCha8Rng,
    ) -> Self {
        let mut edges = graph.edges.clone();
        edges.shuffle(rng);
        let targets_len = ((edges.len() as f64 * config.target_fraction).round() as usize)
            .clamp(1.min(edges.len()), edges.len());
        let (targets, rest) = edges.split_at(targets_len);
        let isolated: HashSet<u32> = (0..graph.len() as u32)
            .filter(|_| rng.random_bool(config.node_isolation))
            .collect();
        let message: Vec<(u32, u32)> = rest
            .iter()
            .copied()
            .filter(|(a, b)| !isolated.contains(a) && !isolated.contains(b))
            .filter(|_| !rng.random_bool(config.edge_dropout))
            .collect();
        let (mut left, mut right, mut labels) = (Vec::new(), Vec::new(), Vec::new());
        for &(a, b) in targets {
            left.push(a as i64);
            right.push(b as i64);
            labels.push(1.0);
            // Corrupt one end at random; retry a few times if the pair happens to be an edge.
            let (keep, replaced) = if rng.random_bool(0.5) { (a, b) } else { (b, a) };
            let pool: &[u32] = if rng.random_bool(config.hard_negatives) {
                &by_type[graph.types[replaced as usize]]
            } else {
                &[]
            };
            let mut negative = None;
            for _ in 0..10 {
                let n = if pool.is_empty() {
                    rng.random_range(0..graph.len() as u32)
                } else {
                    pool[rng.random_range(0..pool.len())]
                };
                if n != keep && !graph.has_edge(keep, n) {
                    negative = Some(n);
                    break;
                }
            }
            if let Some(n) = negative {
                left.push(keep as i64);
                right.push(n as i64);
                labels.push(0.0);
            }
        }
        Self {
            message: MessageEdges::from_undirected(graph.len(), &message),
            left,
            right,
            labels,
        }
    }
}

/// Mean binary cross-entropy of logits against 0/1 labels, in the overflow-free form
/// `max(x, 0) − x·y + log(1 + e^(−|x|))`.
fn bce_with_logits(logits: Tensor<1>, labels: Tensor<1>) -> Tensor<1> {
    let softplus = logits.clone().abs().neg().exp().add_scalar(1.0).log();
    (logits.clone().clamp_min(0.0) - logits * labels + softplus).mean()
}

fn plot(run: &RunDir, metrics: &[EpochMetrics], k: usize) -> Result<(), StylistError> {
    let series = |label: &str, f: &dyn Fn(&EpochMetrics) -> Option<f64>| Series {
        label: label.into(),
        points: metrics
            .iter()
            .map(|m| (m.epoch as f64, f(m).unwrap_or(f64::NAN)))
            .collect(),
    };
    let panels = [
        Panel {
            title: "BCE loss".into(),
            series: vec![series("train", &|m| Some(m.loss))],
        },
        Panel {
            title: "edge accuracy (train targets)".into(),
            series: vec![series("train", &|m| Some(m.accuracy))],
        },
        Panel {
            title: format!("validation, K = {k}"),
            series: vec![
                series("FITB", &|m| m.valid_fitb),
                series("FITB hard", &|m| m.valid_fitb_hard),
                series("AUC", &|m| m.valid_auc),
            ],
        },
    ];
    Ok(crate::training::plot::save(
        &run.file(CURVES_FILE),
        &panels,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::polyvore::Outfit;
    use crate::stylist::config::tests::tiny;
    use crate::stylist::model::{DecoderForm, DecoderKind};

    #[test]
    fn a_step_never_passes_messages_along_its_targets_and_negatives_are_not_edges() {
        let ids: Vec<String> = (0..40).map(|i| format!("{i:02}")).collect();
        let outfits: Vec<Outfit> = (0..10)
            .map(|o| Outfit {
                set_id: o.to_string(),
                items: (0..4).map(|k| ids[(o * 4 + k * 3) % 40].clone()).collect(),
            })
            .collect();
        let graph = ItemGraph::new(ids.iter().map(|id| (id.clone(), id.len() % 7)), &outfits);
        let config = tiny(8, DecoderKind::Shared, DecoderForm::Distance);
        let by_type = nodes_by_type(&graph);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for _ in 0..20 {
            let batch = Batch::draw(&graph, &by_type, &config, &mut rng);
            let message: HashSet<(i64, i64)> = batch
                .message
                .src
                .iter()
                .copied()
                .zip(batch.message.dst.iter().copied())
                .collect();
            let positives = batch.labels.iter().filter(|&&y| y == 1.0).count();
            assert!(positives > 0);
            for k in 0..batch.labels.len() {
                let (a, b) = (batch.left[k], batch.right[k]);
                if batch.labels[k] == 1.0 {
                    assert!(!message.contains(&(a, b)), "target {a}-{b} passes messages");
                } else {
                    assert!(a != b && !graph.has_edge(a as u32, b as u32));
                }
            }
        }
    }

    #[test]
    fn the_best_epoch_maximises_hard_fitb_plus_auc_and_skips_epochs_without_validation() {
        let epoch = |epoch, hard, auc| EpochMetrics {
            epoch,
            loss: 0.0,
            accuracy: 0.0,
            valid_fitb: Some(0.9),
            valid_fitb_hard: hard,
            valid_auc: auc,
            seconds: 0.0,
        };
        let metrics = [
            epoch(1, Some(0.80), Some(0.95)),
            epoch(2, Some(0.85), Some(0.96)),
            epoch(3, None, Some(0.99)),
            epoch(4, Some(0.86), Some(0.95)),
            epoch(5, Some(0.84), Some(0.97)),
        ];
        assert_eq!(best_epoch(&metrics).map(|m| m.epoch), Some(2));
        assert_eq!(best_epoch(&metrics[2..3]), None);
        assert_eq!(best_epoch(&[]), None);
    }
}
