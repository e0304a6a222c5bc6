//! Generated wardrobes of any size, for benchmarks (`capsule bench`, the criterion
//! benches): unit embeddings, types in turn, and about two outfit edges per garment, all
//! from a seed. Costs depend on sizes, not on what the garments look like.

use super::NodeFeatures;
use crate::engine::normalize;
use crate::garment::{GarmentType, STYLE_DIM};
use crate::wardrobe::{EdgeProvenance, Garment, GarmentId, GarmentStatus, OutfitEdge};

/// Deterministic pseudo-random unit vectors.
pub fn unit_vectors(count: usize, dim: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    };
    (0..count)
        .map(|_| {
            let mut v: Vec<f32> = (0..dim).map(|_| next()).collect();
            normalize(&mut v);
            v
        })
        .collect()
}

/// `n` garments whose embeddings (and style statistics, when `rows` has them) fill `rows`,
/// with about two outfit edges each.
pub fn generated_wardrobe(
    n: usize,
    rows: NodeFeatures,
    seed: u64,
) -> (Vec<Garment>, Vec<OutfitEdge>) {
    let style_dim = if rows.style { STYLE_DIM } else { 0 };
    let mut styles = unit_vectors(if rows.style { n } else { 0 }, style_dim, seed ^ 1).into_iter();
    let garments = unit_vectors(n, rows.width.saturating_sub(style_dim), seed)
        .into_iter()
        .enumerate()
        .map(|(i, embedding)| Garment {
            style: styles.next().unwrap_or_default(),
            id: GarmentId(i as u64 + 1),
            garment_type: GarmentType::ALL[i % GarmentType::COUNT],
            name: String::new(),
            thumbnail_png: Vec::new(),
            embedding,
            added_unix: 0,
            last_worn_unix: None,
            status: GarmentStatus::Available,
        })
        .collect();
    let n = n as u64;
    let edges = (0..n)
        .flat_map(|i| {
            [(i * 7 + 3) % n, (i * 13 + 5) % n]
                .into_iter()
                .filter_map(move |j| {
                    OutfitEdge::new(
                        GarmentId(i + 1),
                        GarmentId(j + 1),
                        EdgeProvenance::Imported,
                        i,
                    )
                })
        })
        .collect();
    (garments, edges)
}
