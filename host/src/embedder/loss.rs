//! Metric-learning losses over a P×K batch of L2-normalised embeddings.
//!
//! Both use Euclidean distances and a margin; they differ in how many hard examples drive
//! the gradient:
//! - **MSML** (margin sample mining loss, Xiao et al. 2017): one term for the whole batch,
//!   `max(0, max_{pos pairs} d − min_{neg pairs} d + margin)` — only the single hardest
//!   positive pair and the single hardest negative pair of the batch get gradient.
//! - **Batch-hard triplet** (Hermans et al. 2017): the same, per anchor, averaged.
//! - **Soft MSML** (a variant of ours, not the published loss): MSML with the batch max and
//!   min replaced by their log-sum-exp relaxations at temperature `τ`. It still makes one
//!   batch-level term out of "hardest positive − hardest negative + margin", but the
//!   gradient reaches every pair in proportion to how hard it is (a softmax over pairs)
//!   instead of exactly one positive and one negative pair. As `τ → 0` it becomes MSML.

use burn::prelude::*;
use burn::tensor::activation::relu;
use serde::{Deserialize, Serialize};

/// Added to masked-out entries so they never win a max/min (distances of unit vectors ≤ 2).
const MASK: f32 = 1e4;
/// Floor under the squared distance, so `sqrt` has a finite gradient at 0.
const DIST_EPS: f32 = 1e-12;

/// `--loss`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LossKind {
    Msml,
    Triplet,
    /// Soft MSML, a variant: see the module docs and [`soft_msml_loss`].
    #[serde(rename = "soft-msml")]
    #[value(name = "soft-msml")]
    SoftMsml,
}

impl LossKind {
    /// The loss of a batch (`labels[i]` is the identity of row `i`). `temperature` is read
    /// by [`LossKind::SoftMsml`] only.
    pub fn compute(
        self,
        embeddings: Tensor<2>,
        labels: &[u32],
        margin: f32,
        temperature: f32,
    ) -> Tensor<1> {
        match self {
            LossKind::Msml => msml_loss(embeddings, labels, margin),
            LossKind::Triplet => batch_hard_triplet_loss(embeddings, labels, margin),
            LossKind::SoftMsml => soft_msml_loss(embeddings, labels, margin, temperature),
        }
    }
}

/// Euclidean distances between all rows: `sqrt(max(Σ_e (a_e − b_e)², ε))`.
///
/// Computed from explicit differences rather than `|a|² + |b|² − 2 a·b`: once training pulls
/// embeddings close together, the expanded form's cancellation error (~1e-7 on unit
/// vectors) swamps the distances and their gradients. A P×K batch is small, so the
/// `[B, B, E]` difference tensor is cheap.
pub fn pairwise_distances(x: Tensor<2>) -> Tensor<2> {
    let diff = x.clone().unsqueeze_dim::<3>(1) - x.unsqueeze_dim::<3>(0);
    let [b, _, _] = diff.dims();
    diff.square()
        .sum_dim(2)
        .reshape([b, b])
        .clamp_min(DIST_EPS)
        .sqrt()
}

/// `(positive, negative)` masks as 0/1 floats: positives share a label (the diagonal
/// excluded), negatives do not.
fn masks(labels: &[u32], device: &Device) -> (Tensor<2>, Tensor<2>) {
    let n = labels.len();
    let mut pos = vec![0f32; n * n];
    let mut neg = vec![0f32; n * n];
    for i in 0..n {
        for j in 0..n {
            if labels[i] == labels[j] {
                if i != j {
                    pos[i * n + j] = 1.0;
                }
            } else {
                neg[i * n + j] = 1.0;
            }
        }
    }
    let t = |v: Vec<f32>| Tensor::<2>::from_data(TensorData::new(v, [n, n]), device);
    (t(pos), t(neg))
}

/// Distances with non-positives pushed to `-MASK` and non-negatives to `+MASK`.
fn masked(embeddings: Tensor<2>, labels: &[u32]) -> (Tensor<2>, Tensor<2>) {
    let device = embeddings.device();
    let d = pairwise_distances(embeddings);
    let (pos, neg) = masks(labels, &device);
    let positives = d.clone() * pos.clone() - (pos.neg() + 1.0) * MASK;
    let negatives = d + (neg.neg() + 1.0) * MASK;
    (positives, negatives)
}

/// MSML: `max(0, max_{i≠j, y_i = y_j} d_ij − min_{y_i ≠ y_j} d_ij + margin)`, shape `[1]`.
pub fn msml_loss(embeddings: Tensor<2>, labels: &[u32], margin: f32) -> Tensor<1> {
    let (positives, negatives) = masked(embeddings, labels);
    relu(positives.max() - negatives.min() + margin)
}

/// Soft MSML (a variant, see the module docs):
/// `max(0, τ·log Σ_{i≠j, y_i = y_j} e^{d_ij/τ} + τ·log Σ_{y_i ≠ y_j} e^{−d_ij/τ} + margin)`,
/// shape `[1]`.
///
/// Each log-sum-exp bounds its max (min) from above (below) by at most `τ·ln(pairs)`, so the
/// soft loss is never below MSML's, and it tends to MSML as `τ → 0`.
pub fn soft_msml_loss(
    embeddings: Tensor<2>,
    labels: &[u32],
    margin: f32,
    temperature: f32,
) -> Tensor<1> {
    let (positives, negatives) = masked(embeddings, labels);
    let hardest_positive = soft_max(positives, temperature);
    let hardest_negative = -soft_max(-negatives, temperature);
    relu(hardest_positive - hardest_negative + margin)
}

/// `τ·log Σ e^{x/τ}` over all entries, shifted by the max so `exp` cannot overflow (masked
/// entries underflow to 0), shape `[1]`.
fn soft_max(x: Tensor<2>, temperature: f32) -> Tensor<1> {
    let top = x.clone().max();
    let shifted = (x - top.clone().reshape([1, 1])) / temperature;
    top + shifted.exp().sum().log() * temperature
}

/// Batch-hard triplet: mean over anchors `a` of
/// `max(0, max_{p: y_p = y_a, p≠a} d_ap − min_{n: y_n ≠ y_a} d_an + margin)`, shape `[1]`.
pub fn batch_hard_triplet_loss(embeddings: Tensor<2>, labels: &[u32], margin: f32) -> Tensor<1> {
    let (positives, negatives) = masked(embeddings, labels);
    let per_anchor = relu(positives.max_dim(1) - negatives.min_dim(1) + margin);
    per_anchor.mean()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embedder::model::{Arch, EmbedderConfig, l2_normalize};

    const LABELS: [u32; 6] = [0, 0, 1, 1, 2, 2];

    fn embeddings() -> Vec<Vec<f32>> {
        let raw: [[f32; 3]; 6] = [
            [1.0, 0.2, 0.0],
            [0.1, 1.0, 0.3],
            [0.9, 0.1, 0.2],
            [0.0, 0.2, 1.0],
            [0.3, 0.9, 0.1],
            [0.5, 0.5, 0.5],
        ];
        raw.iter()
            .map(|r| {
                let n = r.iter().map(|v| v * v).sum::<f32>().sqrt();
                r.iter().map(|v| v / n).collect()
            })
            .collect()
    }

    fn naive_distance(a: &[f32], b: &[f32]) -> f64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| ((x - y) as f64).powi(2))
            .sum::<f64>()
            .sqrt()
    }

    /// Hardest positive and hardest negative distance of each anchor, by loops.
    fn naive_hardest(e: &[Vec<f32>], labels: &[u32]) -> Vec<(f64, f64)> {
        (0..e.len())
            .map(|a| {
                let mut hp = f64::NEG_INFINITY;
                let mut hn = f64::INFINITY;
                for b in 0..e.len() {
                    let d = naive_distance(&e[a], &e[b]);
                    if labels[a] == labels[b] && a != b {
                        hp = hp.max(d);
                    } else if labels[a] != labels[b] {
                        hn = hn.min(d);
                    }
                }
                (hp, hn)
            })
            .collect()
    }

    fn tensor(e: &[Vec<f32>], device: &Device) -> Tensor<2> {
        let flat: Vec<f32> = e.iter().flatten().copied().collect();
        Tensor::from_data(TensorData::new(flat, [e.len(), e[0].len()]), device)
    }

    fn scalar(t: Tensor<1>) -> f64 {
        t.into_data().try_to_vec::<f32>().unwrap()[0] as f64
    }

    #[test]
    fn losses_match_naive_loops() {
        let device = Device::flex();
        let e = embeddings();
        let hardest = naive_hardest(&e, &LABELS);
        for margin in [0.0f32, 0.3, 1.5] {
            let m = margin as f64;
            let max_pos = hardest
                .iter()
                .map(|h| h.0)
                .fold(f64::NEG_INFINITY, f64::max);
            let min_neg = hardest.iter().map(|h| h.1).fold(f64::INFINITY, f64::min);
            let msml = (max_pos - min_neg + m).max(0.0);
            let triplet = hardest
                .iter()
                .map(|(p, n)| (p - n + m).max(0.0))
                .sum::<f64>()
                / e.len() as f64;
            let got_msml = scalar(msml_loss(tensor(&e, &device), &LABELS, margin));
            let got_triplet = scalar(batch_hard_triplet_loss(
                tensor(&e, &device),
                &LABELS,
                margin,
            ));
            assert!((got_msml - msml).abs() < 1e-4, "msml {got_msml} vs {msml}");
            assert!(
                (got_triplet - triplet).abs() < 1e-4,
                "triplet {got_triplet} vs {triplet}"
            );
        }
    }

    #[test]
    fn soft_msml_matches_naive_loops_bounds_msml_and_tends_to_it() {
        let device = Device::flex();
        let e = embeddings();
        let (mut pos, mut neg) = (Vec::new(), Vec::new());
        for i in 0..e.len() {
            for j in 0..e.len() {
                let d = naive_distance(&e[i], &e[j]);
                if LABELS[i] == LABELS[j] && i != j {
                    pos.push(d);
                } else if LABELS[i] != LABELS[j] {
                    neg.push(d);
                }
            }
        }
        let margin = 0.3f32;
        for tau in [0.05f32, 0.1, 0.5] {
            let t = tau as f64;
            let soft_pos = t * pos.iter().map(|d| (d / t).exp()).sum::<f64>().ln();
            let soft_neg = -t * neg.iter().map(|d| (-d / t).exp()).sum::<f64>().ln();
            let want = (soft_pos - soft_neg + margin as f64).max(0.0);
            let got = scalar(soft_msml_loss(tensor(&e, &device), &LABELS, margin, tau));
            assert!((got - want).abs() < 1e-4, "τ {tau}: {got} vs {want}");
        }
        let hard = scalar(msml_loss(tensor(&e, &device), &LABELS, margin));
        let soft = |tau| scalar(soft_msml_loss(tensor(&e, &device), &LABELS, margin, tau));
        assert!(soft(0.1) >= hard - 1e-6, "soft {} < hard {hard}", soft(0.1));
        assert!(
            (soft(1e-3) - hard).abs() < 1e-2,
            "τ → 0: {} vs {hard}",
            soft(1e-3)
        );
    }

    #[test]
    fn loss_names_round_trip_through_serde() {
        for (kind, name) in [
            (LossKind::Msml, "\"msml\""),
            (LossKind::Triplet, "\"triplet\""),
            (LossKind::SoftMsml, "\"soft-msml\""),
        ] {
            assert_eq!(serde_json::to_string(&kind).unwrap(), name);
            assert_eq!(serde_json::from_str::<LossKind>(name).unwrap(), kind);
        }
    }

    #[test]
    fn distances_match_naive_loops() {
        let device = Device::flex();
        let e = embeddings();
        let d: Vec<f32> = pairwise_distances(tensor(&e, &device))
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        for i in 0..e.len() {
            for j in 0..e.len() {
                let want = naive_distance(&e[i], &e[j]);
                assert!((d[i * e.len() + j] as f64 - want).abs() < 1e-3);
            }
        }
    }

    #[test]
    fn gradients_reach_inputs_and_model_weights() {
        let device = Device::flex().autodiff();
        for kind in [LossKind::Msml, LossKind::Triplet, LossKind::SoftMsml] {
            let x = tensor(&embeddings(), &device).require_grad();
            let loss = kind.compute(l2_normalize(x.clone()), &LABELS, 1.0, 0.1);
            let grads = loss.backward();
            let g: Vec<f32> = x.grad(&grads).unwrap().into_data().try_to_vec().unwrap();
            assert!(
                g.iter().any(|v| v.abs() > 1e-6),
                "{kind:?}: zero input grad"
            );

            let model = EmbedderConfig::tiny(Arch::Capsnet).init(&device).unwrap();
            let images = Tensor::<4>::random(
                [6, 3, 32, 32],
                burn::tensor::Distribution::Normal(0.0, 1.0),
                &device,
            );
            let loss = kind.compute(model.forward(images), &LABELS, 1.0, 0.1);
            let grads = loss.backward();
            let nonzero = |g: Option<Vec<f32>>| {
                g.expect("weight has a gradient")
                    .iter()
                    .any(|v| v.abs() > 1e-9)
            };
            let stem = model.stem.conv.weight.val().grad(&grads);
            let head = model
                .capsules
                .as_ref()
                .unwrap()
                .transform
                .val()
                .grad(&grads);
            let vec4 = |t: Option<Tensor<4>>| t.map(|t| t.into_data().try_to_vec::<f32>().unwrap());
            let vec3 = |t: Option<Tensor<3>>| t.map(|t| t.into_data().try_to_vec::<f32>().unwrap());
            assert!(nonzero(vec4(stem)), "{kind:?}: zero stem grad");
            assert!(nonzero(vec3(head)), "{kind:?}: zero capsule transform grad");
        }
    }
}
