//! P×K batches: P distinct identities (In-shop item ids or Fashion-MNIST classes), K images
//! of each. Every batch then has positives and negatives for every anchor, which both losses
//! need.

use rand::Rng;
use rand::seq::{IndexedRandom, SliceRandom};

/// The sampler cannot form P×K batches from these labels.
#[derive(Debug, thiserror::Error)]
#[error(
    "P×K sampling needs at least P={p} identities with 2 or more images; the training data has {usable}. Lower P with --pk or use more data"
)]
pub struct SamplerError {
    pub p: usize,
    pub usable: usize,
}

/// Draws P×K batches of dataset indices.
#[derive(Debug, Clone)]
pub struct PkSampler {
    /// Indices of each identity that has at least two images.
    groups: Vec<Vec<usize>>,
    pub p: usize,
    pub k: usize,
}

impl PkSampler {
    /// Groups `labels` (one per dataset index) by identity.
    pub fn new(labels: &[u32], p: usize, k: usize) -> Result<Self, SamplerError> {
        let mut by_label = std::collections::BTreeMap::<u32, Vec<usize>>::new();
        for (i, &l) in labels.iter().enumerate() {
            by_label.entry(l).or_default().push(i);
        }
        let groups: Vec<Vec<usize>> = by_label.into_values().filter(|g| g.len() >= 2).collect();
        if groups.len() < p.max(2) || k < 2 {
            return Err(SamplerError {
                p: p.max(2),
                usable: groups.len(),
            });
        }
        Ok(Self { groups, p, k })
    }

    /// Batch size P·K.
    pub fn batch_size(&self) -> usize {
        self.p * self.k
    }

    /// One batch: P identities without replacement, K images of each (without replacement
    /// when the identity has K or more, with replacement otherwise). Grouped by identity.
    pub fn batch(&self, rng: &mut impl Rng) -> Vec<usize> {
        let mut out = Vec::with_capacity(self.batch_size());
        for group in self.groups.choose_multiple(rng, self.p) {
            if group.len() >= self.k {
                out.extend(group.choose_multiple(rng, self.k).copied());
            } else {
                let mut picks: Vec<usize> = group.clone();
                picks.shuffle(rng);
                while picks.len() < self.k {
                    picks.push(*group.choose(rng).expect("groups are non-empty"));
                }
                out.extend(picks);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn batches_have_p_identities_of_k_and_are_seeded() {
        // Identity 3 has a single image and must never be drawn; 1 has fewer than K.
        let labels = [0, 0, 0, 0, 1, 1, 2, 2, 2, 3, 4, 4, 4];
        let sampler = PkSampler::new(&labels, 3, 3).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for _ in 0..20 {
            let batch = sampler.batch(&mut rng);
            assert_eq!(batch.len(), 9);
            let ids: Vec<u32> = batch.iter().map(|&i| labels[i]).collect();
            for chunk in ids.chunks(3) {
                assert!(chunk.iter().all(|&l| l == chunk[0] && l != 3));
            }
            let mut distinct: Vec<u32> = ids.chunks(3).map(|c| c[0]).collect();
            distinct.sort();
            distinct.dedup();
            assert_eq!(distinct.len(), 3);
        }
        let a = sampler.batch(&mut ChaCha8Rng::seed_from_u64(1));
        let b = sampler.batch(&mut ChaCha8Rng::seed_from_u64(1));
        assert_eq!(a, b);
    }

    #[test]
    fn too_few_identities_is_an_error_that_says_what_to_do() {
        let err = PkSampler::new(&[0, 0, 1, 2], 2, 2).unwrap_err();
        assert!(err.to_string().contains("--pk"));
    }
}
