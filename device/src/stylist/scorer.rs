//! Pair scores for outfit assembly around one anchor garment, in two decoder calls.
//!
//! Scoring every pair of a 10k-garment wardrobe is 50 M pairs; an outfit search needs far
//! fewer. The anchor is scored against every suggestible garment of the types an outfit can
//! add (one call, linear in the wardrobe); the best `per_type` of each type form a pool,
//! and every pair inside the pool is scored (a second call of constant size). Outfit
//! assembly then searches the pool with table lookups.

use super::StylistError;
use super::cache::EncodedWardrobe;
use super::engine::StylistModels;
use super::graph::EncoderInputs;
use crate::garment::{GarmentType, type_pair_index};
use crate::suggest::{OPTIONAL, PairScorer, TEMPLATES};
use crate::wardrobe::{Garment, GarmentId};
use std::collections::HashMap;

/// The garment outfits are built around.
pub enum Anchor<'a> {
    /// A garment of the wardrobe (its node embedding comes from the cache).
    Known(&'a Garment),
    /// A garment not in the wardrobe yet (its embedding, style statistics and type; no id).
    /// It has no edges, so its node embedding is its own term alone.
    New(&'a Garment),
}

impl Anchor<'_> {
    pub fn garment(&self) -> &Garment {
        match self {
            Anchor::Known(g) | Anchor::New(g) => g,
        }
    }
}

/// Decoder scores of the anchor and its pool.
pub struct PoolScores {
    /// The anchor and the pooled garments, anchor first.
    pub pool: Vec<Garment>,
    scores: HashMap<(GarmentId, GarmentId), f32>,
}

impl PairScorer for PoolScores {
    fn score(&self, a: GarmentId, b: GarmentId) -> f32 {
        self.scores
            .get(&ordered(a, b))
            .copied()
            .unwrap_or(f32::NEG_INFINITY)
    }
}

impl PoolScores {
    /// Scores of `anchor` with the suggestible garments of `wardrobe` (those in `encoded`),
    /// keeping the `per_type` best of each type, plus every pair in that pool.
    pub fn around(
        models: &StylistModels,
        encoded: &EncodedWardrobe,
        anchor: &Anchor,
        wardrobe: &[Garment],
        per_type: usize,
    ) -> Result<Self, StylistError> {
        let hidden = encoded.hidden();
        let anchor_garment = anchor.garment();
        let anchor_z: Vec<f32> = match anchor {
            Anchor::Known(g) => encoded
                .embedding(g.id)
                .ok_or(StylistError::NotInGraph(g.id))?
                .to_vec(),
            Anchor::New(garment) => models.encode(&EncoderInputs::isolated(
                &models.node_features().row(garment)?,
                garment.garment_type,
            ))?,
        };
        let wanted = outfit_types(anchor_garment.garment_type);
        let candidates: Vec<(&Garment, &[f32])> = wardrobe
            .iter()
            .filter(|g| {
                g.id != anchor_garment.id
                    && g.status.is_suggestible()
                    && wanted.contains(&g.garment_type)
            })
            .filter_map(|g| encoded.embedding(g.id).map(|z| (g, z)))
            .collect();
        let mut a = Vec::with_capacity(candidates.len() * hidden);
        let mut b = Vec::with_capacity(candidates.len() * hidden);
        let mut rows = Vec::with_capacity(candidates.len());
        for (g, z) in &candidates {
            a.extend_from_slice(&anchor_z);
            b.extend_from_slice(z);
            rows.push(pair_row(anchor_garment, g));
        }
        let with_anchor = models.score(&a, &b, &rows)?;

        // The pool: the best `per_type` of each type by their score with the anchor.
        let mut order: Vec<usize> = (0..candidates.len()).collect();
        order.sort_by(|&x, &y| {
            with_anchor[y]
                .total_cmp(&with_anchor[x])
                .then(candidates[x].0.id.cmp(&candidates[y].0.id))
        });
        let mut taken: HashMap<GarmentType, usize> = HashMap::new();
        let mut pool_members = Vec::new();
        let mut scores = HashMap::new();
        for i in order {
            let count = taken.entry(candidates[i].0.garment_type).or_default();
            if *count < per_type {
                *count += 1;
                pool_members.push(i);
                let key = ordered(anchor_garment.id, candidates[i].0.id);
                scores.insert(key, with_anchor[i]);
            }
        }

        // Every pair inside the pool, in one call.
        let (mut a, mut b, mut rows, mut keys) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (k, &i) in pool_members.iter().enumerate() {
            for &j in &pool_members[k + 1..] {
                let ((gi, zi), (gj, zj)) = (candidates[i], candidates[j]);
                a.extend_from_slice(zi);
                b.extend_from_slice(zj);
                rows.push(pair_row(gi, gj));
                keys.push(ordered(gi.id, gj.id));
            }
        }
        for (key, score) in keys.into_iter().zip(models.score(&a, &b, &rows)?) {
            scores.insert(key, score);
        }
        let mut pool = vec![anchor_garment.clone()];
        pool.extend(pool_members.iter().map(|&i| candidates[i].0.clone()));
        Ok(Self { pool, scores })
    }
}

/// The types an outfit around a garment of type `anchor` can add: those of the templates
/// it fits in (as a required or an optional piece) and the optional pieces, not its own.
fn outfit_types(anchor: GarmentType) -> Vec<GarmentType> {
    let mut types: Vec<GarmentType> = TEMPLATES
        .iter()
        .filter(|t| t.required.contains(&anchor) || OPTIONAL.contains(&anchor))
        .flat_map(|t| t.required.iter().copied())
        .chain(OPTIONAL)
        .filter(|&t| t != anchor)
        .collect();
    types.sort_by_key(|t| t.index());
    types.dedup();
    types
}

fn pair_row(a: &Garment, b: &Garment) -> usize {
    type_pair_index(a.garment_type.index(), b.garment_type.index())
}

fn ordered(a: GarmentId, b: GarmentId) -> (GarmentId, GarmentId) {
    if a < b { (a, b) } else { (b, a) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use GarmentType::*;

    #[test]
    fn an_anchor_is_scored_only_against_types_its_outfits_can_add() {
        assert_eq!(
            outfit_types(Top),
            [Bottom, Outerwear, Shoes, Bag, Accessory]
        );
        assert_eq!(outfit_types(Dress), [Outerwear, Shoes, Bag, Accessory]);
        // An optional piece rides along with either template.
        assert_eq!(
            outfit_types(Bag),
            [Top, Bottom, Dress, Outerwear, Shoes, Accessory]
        );
    }
}
