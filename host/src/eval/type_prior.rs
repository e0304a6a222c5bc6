//! The type-only baseline: scores a pair of items by how often their garment types appear
//! together in training outfits, and looks at nothing else. Whatever a model scores above
//! this baseline comes from what the garments look like.

use super::metrics::PairScorer;
use crate::data::polyvore::PolyvoreDataset;
use crate::data::polyvore::format::Split;
use capsule_device::GarmentType;
use std::collections::BTreeMap;

/// Pointwise mutual information of garment types in training outfits.
pub struct TypePrior {
    types: BTreeMap<String, GarmentType>,
    /// `pmi[a][b]` for type indices, with add-one smoothing.
    pmi: [[f64; GarmentType::COUNT]; GarmentType::COUNT],
}

impl TypePrior {
    /// Fits the co-occurrence table on the train split of `data`.
    pub fn fit(data: &PolyvoreDataset) -> Self {
        let n = GarmentType::COUNT;
        let mut pair = [[1.0f64; GarmentType::COUNT]; GarmentType::COUNT];
        let mut single = [1.0f64; GarmentType::COUNT];
        let type_of = |id: &str| data.items.get(id).map(|i| i.garment_type.index());
        for outfit in &data.split(Split::Train).outfits {
            let types: Vec<usize> = outfit.items.iter().filter_map(|i| type_of(i)).collect();
            for (k, &a) in types.iter().enumerate() {
                single[a] += 1.0;
                for &b in &types[k + 1..] {
                    pair[a][b] += 1.0;
                    pair[b][a] += 1.0;
                }
            }
        }
        let pair_total: f64 = pair.iter().flatten().sum();
        let single_total: f64 = single.iter().sum();
        let mut pmi = [[0.0; GarmentType::COUNT]; GarmentType::COUNT];
        for a in 0..n {
            for b in 0..n {
                let joint = pair[a][b] / pair_total;
                pmi[a][b] =
                    (joint / ((single[a] / single_total) * (single[b] / single_total))).ln();
            }
        }
        let types = data
            .items
            .iter()
            .map(|(id, item)| (id.clone(), item.garment_type))
            .collect();
        Self { types, pmi }
    }
}

impl PairScorer for TypePrior {
    fn pair(&self, a: &str, b: &str) -> f64 {
        match (self.types.get(a), self.types.get(b)) {
            (Some(x), Some(y)) => self.pmi[x.index()][y.index()],
            _ => f64::NEG_INFINITY,
        }
    }
}
