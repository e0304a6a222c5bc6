//! Outfits around the garment in view: fill the slots of an outfit template with wardrobe
//! garments so that every pair goes well together, by beam search over the slots.

use crate::garment::GarmentType;
use crate::wardrobe::{Garment, GarmentId};
use capsule_contract::stylist::{outfit_score, probability};
use serde::Serialize;
use std::collections::BTreeSet;

/// How well two garments go together: a compatibility logit (higher = better;
/// `f32::NEG_INFINITY` for a pair that must never be suggested).
pub trait PairScorer {
    fn score(&self, a: GarmentId, b: GarmentId) -> f32;
}

/// The types that make a complete outfit, and those that may be added to one.
pub struct OutfitTemplate {
    pub required: &'static [GarmentType],
}

/// Complete outfits: separates or a dress, always with shoes.
pub const TEMPLATES: [OutfitTemplate; 2] = [
    OutfitTemplate {
        required: &[GarmentType::Top, GarmentType::Bottom, GarmentType::Shoes],
    },
    OutfitTemplate {
        required: &[GarmentType::Dress, GarmentType::Shoes],
    },
];

/// Types added to a complete outfit when they raise its score.
pub const OPTIONAL: [GarmentType; 3] = [
    GarmentType::Outerwear,
    GarmentType::Bag,
    GarmentType::Accessory,
];

/// Partial outfits kept per slot of the search.
const BEAM: usize = 12;

/// A suggested outfit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outfit {
    /// Garments in slot order, the anchor included.
    pub garments: Vec<GarmentId>,
    /// Mean pairwise logit (`contract::stylist::outfit_score`); [`Outfit::probability`]
    /// is what a screen shows.
    pub score: f32,
}

impl Outfit {
    /// The score as a compatibility probability, 0..1.
    pub fn probability(&self) -> f32 {
        probability(self.score.into())
    }

    /// The name `capsule feedback` takes: ids joined by `+` (e.g. `g3+g7+g9`).
    pub fn key(&self) -> String {
        self.garments
            .iter()
            .map(|g| g.to_string())
            .collect::<Vec<_>>()
            .join("+")
    }
}

/// The contract's outfit score (the mean pair logit), as the host's evaluation ranks them.
fn mean_pair_score(scorer: &dyn PairScorer, garments: &[GarmentId]) -> f32 {
    outfit_score(garments, |&a, &b| f64::from(scorer.score(a, b))) as f32
}

/// Up to `k` best distinct outfits containing `anchor`, from the suggestible garments of
/// `wardrobe` (laundry and stored garments are left out, the anchor always counts).
pub fn suggest(
    anchor: &Garment,
    wardrobe: &[Garment],
    scorer: &dyn PairScorer,
    k: usize,
) -> Vec<Outfit> {
    let of_type = |t: GarmentType| -> Vec<GarmentId> {
        wardrobe
            .iter()
            .filter(|g| g.garment_type == t && g.status.is_suggestible() && g.id != anchor.id)
            .map(|g| g.id)
            .collect()
    };
    let mut found: Vec<Outfit> = Vec::new();
    for template in &TEMPLATES {
        // The anchor takes its own slot, or rides along as an optional piece.
        let anchor_is_required = template.required.contains(&anchor.garment_type);
        if !anchor_is_required && !OPTIONAL.contains(&anchor.garment_type) {
            continue;
        }
        let mut beam: Vec<Vec<GarmentId>> = vec![vec![anchor.id]];
        for &slot in template
            .required
            .iter()
            .filter(|&&t| t != anchor.garment_type)
        {
            let candidates = of_type(slot);
            let mut next: Vec<(f32, Vec<GarmentId>)> = Vec::new();
            for partial in &beam {
                for &c in &candidates {
                    let mut extended = partial.clone();
                    extended.push(c);
                    next.push((mean_pair_score(scorer, &extended), extended));
                }
            }
            next.sort_by(|a, b| b.0.total_cmp(&a.0));
            next.truncate(BEAM);
            beam = next.into_iter().map(|(_, o)| o).collect();
            if beam.is_empty() {
                break;
            }
        }
        for mut outfit in beam
            .into_iter()
            .filter(|o| o.len() == template.required.len() + usize::from(!anchor_is_required))
        {
            // Optional pieces join only when they make the outfit better.
            for &slot in OPTIONAL.iter().filter(|&&t| t != anchor.garment_type) {
                let current = mean_pair_score(scorer, &outfit);
                let best = of_type(slot)
                    .into_iter()
                    .map(|c| {
                        let mut with = outfit.clone();
                        with.push(c);
                        (mean_pair_score(scorer, &with), c)
                    })
                    .max_by(|a, b| a.0.total_cmp(&b.0));
                if let Some((score, c)) = best
                    && score > current
                {
                    outfit.push(c);
                }
            }
            let score = mean_pair_score(scorer, &outfit);
            found.push(Outfit {
                garments: outfit,
                score,
            });
        }
    }
    found.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.garments.cmp(&b.garments))
    });
    // An outfit with a rejected pair scores minus infinity and is never suggested.
    found.retain(|o| o.score.is_finite());
    let mut seen = BTreeSet::new();
    found.retain(|o| {
        let mut key = o.garments.clone();
        key.sort();
        seen.insert(key)
    });
    found.truncate(k);
    found
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::wardrobe::GarmentStatus;
    use std::collections::BTreeMap;

    pub fn garment(id: u64, t: GarmentType) -> Garment {
        Garment {
            id: GarmentId(id),
            garment_type: t,
            name: format!("{t} {id}"),
            thumbnail_png: vec![],
            embedding: vec![],
            style: Vec::new(),
            added_unix: 0,
            last_worn_unix: None,
            status: GarmentStatus::Available,
        }
    }

    /// Pairs listed score high, the rest low.
    pub struct Table(pub BTreeMap<(u64, u64), f32>);
    impl PairScorer for Table {
        fn score(&self, a: GarmentId, b: GarmentId) -> f32 {
            let key = if a.0 < b.0 { (a.0, b.0) } else { (b.0, a.0) };
            self.0.get(&key).copied().unwrap_or(0.1)
        }
    }

    pub fn wardrobe() -> Vec<Garment> {
        use GarmentType::*;
        vec![
            garment(1, Top),
            garment(2, Bottom),
            garment(3, Bottom),
            garment(4, Shoes),
            garment(5, Shoes),
            garment(6, Bag),
            garment(7, Dress),
            garment(8, Accessory),
        ]
    }

    #[test]
    fn fills_every_required_slot_with_the_best_pairs() {
        let scorer = Table(BTreeMap::from([
            ((1, 3), 0.9),
            ((1, 5), 0.9),
            ((3, 5), 0.9),
            ((1, 6), 0.95),
            ((3, 6), 0.95),
            ((5, 6), 0.95),
        ]));
        let w = wardrobe();
        let outfits = suggest(&w[0], &w, &scorer, 3);
        assert_eq!(
            outfits[0].garments,
            vec![GarmentId(1), GarmentId(3), GarmentId(5), GarmentId(6)],
            "bag joins: it raises the score"
        );
        assert!(outfits[0].score > outfits[1].score);
        assert_eq!(outfits[0].key(), "g1+g3+g5+g6");
        assert!(outfits.iter().all(|o| o.garments[0] == GarmentId(1)));
    }

    #[test]
    fn laundry_is_left_out_and_missing_slots_give_nothing() {
        let scorer = Table(BTreeMap::new());
        let mut w = wardrobe();
        w[3].status = GarmentStatus::InLaundry;
        let outfits = suggest(&w[0], &w, &scorer, 10);
        assert!(outfits.iter().all(|o| !o.garments.contains(&GarmentId(4))));
        w[4].status = GarmentStatus::Stored;
        assert!(suggest(&w[0], &w, &scorer, 10).is_empty(), "no shoes left");
        // A dress makes its own outfit; a bag rides along with either kind.
        let w = wardrobe();
        assert!(
            suggest(&w[6], &w, &scorer, 5)
                .iter()
                .all(|o| o.garments.len() >= 2)
        );
        assert!(!suggest(&w[5], &w, &scorer, 5).is_empty());
    }
}
