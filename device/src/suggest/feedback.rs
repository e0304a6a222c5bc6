//! Owner feedback on suggested outfits becomes outfit edges, and the edges change the next
//! suggestion at once: a rejected pair is never suggested again, an accepted or worn one is
//! preferred — no retraining needed.

use super::assemble::PairScorer;
use crate::wardrobe::{EdgeProvenance, GarmentId, OutfitEdge};
use std::collections::BTreeMap;

/// What the owner said about an outfit.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// I like it: suggest it (and its pairs) more.
    Accept,
    /// Not for me: never pair these again.
    Reject,
    /// I wore it today: like accept, and the garments' last-worn date is set.
    Wore,
}

impl Verdict {
    pub fn provenance(self) -> EdgeProvenance {
        match self {
            Verdict::Accept => EdgeProvenance::Accepted,
            Verdict::Reject => EdgeProvenance::Rejected,
            Verdict::Wore => EdgeProvenance::Worn,
        }
    }
}

/// Every pair of an outfit as an edge with the verdict's provenance.
pub fn feedback_edges(outfit: &[GarmentId], verdict: Verdict, at_unix: u64) -> Vec<OutfitEdge> {
    let mut edges = Vec::new();
    for (i, &a) in outfit.iter().enumerate() {
        for &b in &outfit[i + 1..] {
            edges.extend(OutfitEdge::new(a, b, verdict.provenance(), at_unix));
        }
    }
    edges
}

/// Parses `g3+g7+g9` (or `3+7+9`) into garment ids.
pub fn parse_outfit_key(key: &str) -> Option<Vec<GarmentId>> {
    let ids: Option<Vec<GarmentId>> = key
        .split('+')
        .map(|part| {
            part.trim()
                .trim_start_matches('g')
                .parse()
                .ok()
                .map(GarmentId)
        })
        .collect();
    ids.filter(|ids| ids.len() >= 2)
}

/// Score floor for pairs the owner accepted or wore together: the logit of 0.95
/// (`pair_logit(0.95)`, spelt out because a `const` cannot take a logarithm).
pub const CONFIRMED_SCORE: f32 = 2.944_439;

/// A model's scores with the owner's word on top.
pub struct WithFeedback<'a> {
    model: &'a dyn PairScorer,
    edges: BTreeMap<(GarmentId, GarmentId), EdgeProvenance>,
}

impl<'a> WithFeedback<'a> {
    pub fn new(model: &'a dyn PairScorer, edges: &[OutfitEdge]) -> Self {
        Self {
            model,
            edges: edges.iter().map(|e| ((e.a, e.b), e.provenance)).collect(),
        }
    }
}

impl PairScorer for WithFeedback<'_> {
    fn score(&self, a: GarmentId, b: GarmentId) -> f32 {
        let key = if a < b { (a, b) } else { (b, a) };
        let model = self.model.score(a, b);
        match self.edges.get(&key) {
            // Minus infinity, not a low logit: no mean with other pairs can lift it.
            Some(EdgeProvenance::Rejected) => f32::NEG_INFINITY,
            Some(EdgeProvenance::Accepted | EdgeProvenance::Worn) => model.max(CONFIRMED_SCORE),
            Some(EdgeProvenance::Imported) | None => model,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::assemble::suggest;
    use super::super::assemble::tests::{Table, wardrobe};
    use super::*;

    #[test]
    fn a_rejection_changes_the_next_suggestion_at_once() {
        let scorer = Table(BTreeMap::from([
            ((1, 3), 0.9),
            ((1, 5), 0.9),
            ((3, 5), 0.9),
            ((1, 2), 0.6),
            ((2, 4), 0.6),
            ((1, 4), 0.6),
        ]));
        let w = wardrobe();
        let first = suggest(&w[0], &w, &WithFeedback::new(&scorer, &[]), 1);
        assert_eq!(
            first[0].garments[..3],
            [GarmentId(1), GarmentId(3), GarmentId(5)]
        );

        let rejected = feedback_edges(&first[0].garments, Verdict::Reject, 1);
        let next = suggest(&w[0], &w, &WithFeedback::new(&scorer, &rejected), 4);
        assert_ne!(next[0].garments, first[0].garments);
        // No suggestion keeps a rejected pair.
        let rejected_pairs: Vec<_> = rejected.iter().map(|e| (e.a, e.b)).collect();
        for outfit in &next {
            for e in feedback_edges(&outfit.garments, Verdict::Accept, 1) {
                assert!(!rejected_pairs.contains(&(e.a, e.b)), "{}", outfit.key());
            }
        }

        let worn = feedback_edges(
            &[GarmentId(1), GarmentId(2), GarmentId(4)],
            Verdict::Wore,
            2,
        );
        let with_worn = WithFeedback::new(&scorer, &worn);
        assert_eq!(with_worn.score(GarmentId(4), GarmentId(2)), CONFIRMED_SCORE);
    }

    #[test]
    fn the_confirmed_floor_is_the_logit_of_its_probability() {
        let want = capsule_contract::stylist::pair_logit(0.95);
        assert!((CONFIRMED_SCORE - want).abs() < 1e-5, "{want}");
    }

    #[test]
    fn outfit_keys_parse() {
        assert_eq!(
            parse_outfit_key("g3+g7+9"),
            Some(vec![GarmentId(3), GarmentId(7), GarmentId(9)])
        );
        assert_eq!(parse_outfit_key("g3"), None);
        assert_eq!(parse_outfit_key("g3+shirt"), None);
        assert_eq!(
            feedback_edges(
                &[GarmentId(1), GarmentId(2), GarmentId(3)],
                Verdict::Accept,
                0
            )
            .len(),
            3
        );
    }
}
