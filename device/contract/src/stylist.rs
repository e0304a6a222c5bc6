//! The stylist's ONNX interface: what the host's exporter writes and the device feeds.
//!
//! **Encoder** — one GCN pass over a graph of `N` garments, each averaging at most `K`
//! neighbours:
//! - `features [N, F]`: the garment's embedder output (raw; the z-scoring with the training
//!   statistics is inside the graph);
//! - `types [N, 7]`: the garment type, one-hot in contract order;
//! - `neighbours [N, K]`: node indices of each garment's neighbours (padding: any valid
//!   index with weight 0);
//! - `neighbour_weights [N, K]`: `1/|list|` for a real neighbour, 0 for padding;
//! - output `node_embedding [N, H]`.
//!
//! **Decoder** — compatibility of `M` pairs of node embeddings:
//! - `a [M, H]`, `b [M, H]`: the two garments' node embeddings;
//! - `pair [M]`: the decoder row of the pair's garment types
//!   ([`crate::garment::type_pair_index`]);
//! - output `compatibility [M]`: the pair's logit (manifest format 3, `decoder_output:
//!   logit`), or its probability in 0..1 in format-2 bundles. Boards work in logits
//!   ([`pair_logit`] turns an old bundle's probabilities back), because an outfit's score
//!   averages them: see [`outfit_score`].
//!
//! Indices travel as float32 and are cast to int64 inside the graph, so every input (and
//! every golden `.npy` file) has one element type. float32 holds integers exactly below
//! 2^24 (16.7 M garments), far beyond a wardrobe.

/// Encoder inputs, in order.
pub const ENCODER_INPUTS: [&str; 4] = ["features", "types", "neighbours", "neighbour_weights"];
/// Encoder output.
pub const ENCODER_OUTPUT: &str = "node_embedding";
/// Decoder inputs, in order.
pub const DECODER_INPUTS: [&str; 3] = ["a", "b", "pair"];
/// Decoder output.
pub const DECODER_OUTPUT: &str = "compatibility";
/// Symbol of the node axis.
pub const NODES: &str = "N";
/// Symbol of the neighbour-slot axis.
pub const SLOTS: &str = "K";
/// Symbol of the pair axis.
pub const PAIRS: &str = "M";
/// Largest node index a float32 input carries exactly.
pub const MAX_EXACT_INDEX: usize = 1 << 24;

use crate::garment::GarmentType;
use crate::tensor::{Dim, TensorSpec};

fn float(name: &str, shape: Vec<Dim>) -> TensorSpec {
    TensorSpec {
        name: name.into(),
        shape,
        dtype: "float".into(),
    }
}

fn sym(s: &str) -> Dim {
    Dim::Symbol(s.into())
}

/// The encoder's inputs for node feature rows of `feature_dim` numbers, in order.
pub fn encoder_inputs(feature_dim: usize) -> Vec<TensorSpec> {
    let [features, types, neighbours, weights] = ENCODER_INPUTS;
    vec![
        float(features, vec![sym(NODES), Dim::Fixed(feature_dim)]),
        float(types, vec![sym(NODES), Dim::Fixed(GarmentType::COUNT)]),
        float(neighbours, vec![sym(NODES), sym(SLOTS)]),
        float(weights, vec![sym(NODES), sym(SLOTS)]),
    ]
}

/// The decoder's inputs for node embeddings of `hidden` numbers, in order.
pub fn decoder_inputs(hidden: usize) -> Vec<TensorSpec> {
    let [a, b, pair] = DECODER_INPUTS;
    vec![
        float(a, vec![sym(PAIRS), Dim::Fixed(hidden)]),
        float(b, vec![sym(PAIRS), Dim::Fixed(hidden)]),
        float(pair, vec![sym(PAIRS)]),
    ]
}

/// An outfit's score: the mean of its garment pairs' compatibility **logits** (0 for an
/// outfit of fewer than two garments). Suggestions on the board and the host's FITB and AUC
/// evaluation rank outfits by it; [`probability`] of it is what a screen shows.
///
/// Why logits: averaging probabilities lets one saturated pair (0.999 vs 0.99999) count
/// for nothing, and measured on the shipped stylist it cost 1–2 points of hard FITB and
/// 0.4 of AUC against the logit mean the stylist is trained and evaluated with
/// (docs/results.md, "run vs bundle").
pub fn outfit_score<T>(garments: &[T], mut pair_logit: impl FnMut(&T, &T) -> f64) -> f64 {
    let mut sum = 0.0;
    let mut n = 0usize;
    for (i, a) in garments.iter().enumerate() {
        for b in &garments[i + 1..] {
            sum += pair_logit(a, b);
            n += 1;
        }
    }
    if n == 0 { 0.0 } else { sum / n as f64 }
}

/// Probabilities closer to 0 or 1 than this are clamped before [`pair_logit`]: float32
/// rounds a sigmoid to exactly 1 above a logit of about 16.6, and the logit of 0 or 1 is
/// infinite.
const PROBABILITY_CLAMP: f32 = 1e-7;

/// The logit of a compatibility probability (clamped to ±16.1), for decoders that output
/// probabilities (format-2 bundles) and for fixed scores given as probabilities.
pub fn pair_logit(probability: f32) -> f32 {
    let p = probability.clamp(PROBABILITY_CLAMP, 1.0 - PROBABILITY_CLAMP);
    (p / (1.0 - p)).ln()
}

/// The probability of a logit: what a compatibility or an outfit score is shown as.
pub fn probability(logit: f64) -> f32 {
    (1.0 / (1.0 + (-logit).exp())) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logits_and_probabilities_round_trip_and_stay_finite() {
        for l in [-12.0f32, -1.5, 0.0, 0.7, 9.0] {
            assert!((pair_logit(probability(l.into())) - l).abs() < 1e-3, "{l}");
        }
        assert!(pair_logit(0.0).is_finite() && pair_logit(0.0) < -16.0);
        assert!(pair_logit(1.0).is_finite() && pair_logit(1.0) > 15.0);
        assert_eq!(probability(0.0), 0.5);
    }

    #[test]
    fn outfit_score_is_the_mean_over_pairs() {
        assert_eq!(outfit_score(&[1.0], |a: &f64, b: &f64| a * b), 0.0);
        // pairs (1,2) (1,4) (2,4): 2 + 4 + 8 = 14, over 3
        let s = outfit_score(&[1.0, 2.0, 4.0], |a: &f64, b: &f64| a * b);
        assert!((s - 14.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn input_specs_name_every_input_once() {
        let names: Vec<String> = encoder_inputs(82).into_iter().map(|s| s.name).collect();
        assert_eq!(names, ENCODER_INPUTS);
        assert_eq!(decoder_inputs(16)[2].shape, vec![sym(PAIRS)]);
    }
}
