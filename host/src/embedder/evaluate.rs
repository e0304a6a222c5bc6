//! Recall@K retrieval metrics and the embedder's evaluation on a protocol's held-out set.

use super::data::{EvalSet, embed_images};
use super::error::EmbedderError;
use super::model::Embedder;
use super::pictures::Pictures;
use burn::prelude::*;
use capsule_device::preprocess::PreprocessSpec;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// The K of the published In-shop protocol.
pub const KS: [usize; 4] = [1, 5, 10, 20];

/// Recall@K: the fraction of queries with at least one item of their label among their K
/// nearest gallery items (squared Euclidean distance).
///
/// `queries` and `gallery` are row-major `[n, dim]`. With `leave_one_out`, the gallery is
/// the query set itself and each query skips its own row. Ties are broken against the query
/// (a negative at the same distance as the nearest positive ranks first), and a query with no
/// positive in the gallery counts as a miss, so the numbers never flatter the model.
/// Returns one value per entry of `ks`; empty queries give zeros.
pub fn recall_at_k(
    queries: &[f32],
    query_labels: &[u32],
    gallery: &[f32],
    gallery_labels: &[u32],
    dim: usize,
    ks: &[usize],
    leave_one_out: bool,
) -> Vec<f64> {
    assert_eq!(queries.len(), query_labels.len() * dim, "query rows");
    assert_eq!(gallery.len(), gallery_labels.len() * dim, "gallery rows");
    let n = query_labels.len();
    // Rank of each query's nearest positive: how many negatives are at least as close.
    let ranks: Vec<Option<usize>> = (0..n)
        .into_par_iter()
        .map(|q| {
            let query = &queries[q * dim..(q + 1) * dim];
            let distances: Vec<f32> = gallery
                .chunks_exact(dim)
                .map(|g| query.iter().zip(g).map(|(a, b)| (a - b) * (a - b)).sum())
                .collect();
            let candidates =
                || (0..gallery_labels.len()).filter(move |&g| !(leave_one_out && g == q));
            let nearest_positive = candidates()
                .filter(|&g| gallery_labels[g] == query_labels[q])
                .map(|g| distances[g])
                .min_by(f32::total_cmp)?;
            Some(
                candidates()
                    .filter(|&g| {
                        gallery_labels[g] != query_labels[q] && distances[g] <= nearest_positive
                    })
                    .count(),
            )
        })
        .collect();
    ks.iter()
        .map(|&k| {
            let hits = ranks
                .iter()
                .filter(|r| matches!(r, Some(r) if *r < k))
                .count();
            if n == 0 { 0.0 } else { hits as f64 / n as f64 }
        })
        .collect()
}

/// Recall@1/5/10/20 of one evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RetrievalScores {
    pub recall_at_1: f64,
    pub recall_at_5: f64,
    pub recall_at_10: f64,
    pub recall_at_20: f64,
}

impl std::fmt::Display for RetrievalScores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "Recall@1  {:.4}", self.recall_at_1)?;
        writeln!(f, "Recall@5  {:.4}", self.recall_at_5)?;
        writeln!(f, "Recall@10 {:.4}", self.recall_at_10)?;
        write!(f, "Recall@20 {:.4}", self.recall_at_20)
    }
}

impl RetrievalScores {
    pub(crate) fn from_values(v: &[f64]) -> Self {
        Self {
            recall_at_1: v[0],
            recall_at_5: v[1],
            recall_at_10: v[2],
            recall_at_20: v[3],
        }
    }
}

/// Embeds the held-out pictures with `model` (inference mode) and measures Recall@K.
pub fn evaluate(
    model: &Embedder,
    set: &EvalSet,
    spec: &PreprocessSpec,
    device: &Device,
    batch_size: usize,
) -> Result<RetrievalScores, EmbedderError> {
    evaluate_with(set, |images| {
        embed_images(model, images, spec, device, batch_size)
    })
}

/// Recall@K of `set` with any embedder: `embed` returns the row-major embeddings of a
/// picture list and their width (a burn model here, a bundle's ONNX file in tract for
/// `eval embedder --bundle`).
pub fn evaluate_with<E>(
    set: &EvalSet,
    mut embed: impl FnMut(&Pictures) -> Result<(Vec<f32>, usize), E>,
) -> Result<RetrievalScores, E> {
    let values = match set {
        EvalSet::QueryGallery { query, gallery } => {
            let (q, dim) = embed(&query.pictures)?;
            let (g, _) = embed(&gallery.pictures)?;
            recall_at_k(&q, &query.labels, &g, &gallery.labels, dim, &KS, false)
        }
        EvalSet::LeaveOneOut(set) => {
            let (e, dim) = embed(&set.pictures)?;
            recall_at_k(&e, &set.labels, &e, &set.labels, dim, &KS, true)
        }
    };
    Ok(RetrievalScores::from_values(&values))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_against_gallery_by_hand() {
        // Query 0.9 (label 0): nearest is 1.0 (label 1), then 0.0 (label 0) → hit at K=2.
        // Query 2.9 (label 1): nearest is 3.0 (label 1) → hit at K=1.
        let gallery = [0.0, 1.0, 2.0, 3.0];
        let r = recall_at_k(
            &[0.9, 2.9],
            &[0, 1],
            &gallery,
            &[0, 1, 0, 1],
            1,
            &[1, 2],
            false,
        );
        assert_eq!(r, vec![0.5, 1.0]);
    }

    #[test]
    fn leave_one_out_skips_self_and_counts_missing_positives_as_misses() {
        // 5.0 is the only label 1: no positive → miss at every K. 5.2 finds 5.0 (label 1)
        // first, then 0.1 (label 0) → hit at K=2.
        let set = [0.0, 0.1, 5.0, 5.2];
        let labels = [0, 0, 1, 0];
        let r = recall_at_k(&set, &labels, &set, &labels, 1, &[1, 2, 3], true);
        assert_eq!(r, vec![0.5, 0.75, 0.75]);
    }

    #[test]
    fn ties_go_against_the_query_and_rows_use_all_dimensions() {
        let r = recall_at_k(
            &[0.0, 0.0],
            &[1],
            &[1.0, 0.0, 0.0, 1.0],
            &[1, 0],
            2,
            &[1, 2],
            false,
        );
        assert_eq!(r, vec![0.0, 1.0]);
        assert_eq!(
            recall_at_k(&[], &[], &[0.0], &[0], 1, &[1], false),
            vec![0.0]
        );
    }

    /// Recall@K by sorting: every candidate ordered by distance, negatives before positives
    /// at equal distance, hit if a positive is among the first K.
    fn naive(q: &[f32], ql: &[u32], g: &[f32], gl: &[u32], dim: usize, k: usize, loo: bool) -> f64 {
        let mut hits = 0;
        for i in 0..ql.len() {
            let mut order: Vec<(f32, bool)> = (0..gl.len())
                .filter(|&j| !(loo && i == j))
                .map(|j| {
                    let d = (0..dim)
                        .map(|e| (q[i * dim + e] - g[j * dim + e]).powi(2))
                        .sum();
                    (d, gl[j] == ql[i])
                })
                .collect();
            order.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            hits += order.iter().take(k).any(|o| o.1) as usize;
        }
        hits as f64 / ql.len() as f64
    }

    #[test]
    fn matches_sorting_on_random_sets_with_ties() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        for case in 0..40 {
            let dim = rng.random_range(1..4);
            let (nq, ng) = (rng.random_range(1..12), rng.random_range(1..15));
            let loo = case % 2 == 0;
            let ng = if loo { nq } else { ng };
            // Small integers make equal distances common.
            let mut values = |n: usize| -> Vec<f32> {
                (0..n * dim)
                    .map(|_| rng.random_range(0..3) as f32)
                    .collect()
            };
            let q = values(nq);
            let g = if loo { q.clone() } else { values(ng) };
            let ql: Vec<u32> = (0..nq).map(|_| rng.random_range(0..3)).collect();
            let gl: Vec<u32> = if loo {
                ql.clone()
            } else {
                (0..ng).map(|_| rng.random_range(0..3)).collect()
            };
            let ks = [1, 2, 5];
            let got = recall_at_k(&q, &ql, &g, &gl, dim, &ks, loo);
            for (k, r) in ks.iter().zip(got) {
                assert!(
                    (r - naive(&q, &ql, &g, &gl, dim, *k, loo)).abs() < 1e-12,
                    "case {case} K={k}"
                );
            }
        }
    }
}
