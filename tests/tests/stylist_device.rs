//! The stylist on the device, from exported ONNX files: incremental re-encoding equals a
//! full one, and feedback changes the next suggestion at once.

use capsule_device::GarmentType;
use capsule_device::stylist::{
    Anchor, EncodedWardrobe, NodeFeatures, StylistModels, Suggester, WardrobeGraph,
};
use capsule_device::suggest::{Verdict, feedback_edges};
use capsule_device::wardrobe::{EdgeProvenance, Garment, GarmentId, GarmentStatus, OutfitEdge};
use capsule_e2e::{StylistShape, write_untrained_stylist};

const FEATURES: usize = 5;
const HIDDEN: usize = 6;
const LAYERS: usize = 2;

fn models(dir: &std::path::Path, max_neighbours: usize) -> StylistModels {
    let shape = StylistShape {
        features: FEATURES,
        hidden: HIDDEN,
        layers: LAYERS,
        max_neighbours,
    };
    write_untrained_stylist(dir, &shape, 21)
}

const TYPES: [GarmentType; 7] = GarmentType::ALL;

fn garment(id: u64) -> Garment {
    let t = TYPES[(id as usize * 5) % TYPES.len()];
    Garment {
        id: GarmentId(id),
        garment_type: t,
        name: format!("{t} {id}"),
        thumbnail_png: vec![],
        embedding: (0..FEATURES)
            .map(|k| (((id * 7 + k as u64 * 13) % 17) as f32 / 8.0) - 1.0)
            .collect(),
        style: Vec::new(),
        added_unix: 0,
        last_worn_unix: None,
        status: GarmentStatus::Available,
    }
}

fn edge(a: u64, b: u64, at: u64) -> OutfitEdge {
    OutfitEdge::new(GarmentId(a), GarmentId(b), EdgeProvenance::Imported, at).unwrap()
}

/// A chain-and-star wardrobe graph so that hop distances matter.
fn wardrobe(n: u64) -> (Vec<Garment>, Vec<OutfitEdge>) {
    let garments = (1..=n).map(garment).collect();
    let mut edges: Vec<OutfitEdge> = (1..n).map(|i| edge(i, i + 1, i)).collect();
    edges.extend((3..n).step_by(4).map(|i| edge(1, i, 100 + i)));
    (garments, edges)
}

fn max_error(a: &EncodedWardrobe, b: &EncodedWardrobe) -> f32 {
    let mut worst = 0f32;
    for &id in a.ids() {
        let (x, y) = (a.embedding(id).unwrap(), b.embedding(id).unwrap());
        for (p, q) in x.iter().zip(y) {
            worst = worst.max((p - q).abs());
        }
    }
    worst
}

#[test]
fn incremental_refresh_equals_full_encoding_and_touches_only_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    // A cap of 3 also checks that capped lists stay consistent between the two paths.
    let models = models(dir.path(), 3);
    let (mut garments, mut edges) = wardrobe(40);
    let graph = WardrobeGraph::new(&garments, &edges, NodeFeatures::embedding(FEATURES)).unwrap();
    let mut cached = EncodedWardrobe::encode(&models, graph).unwrap();

    // A new garment worn with garment 30, and a new edge far from it.
    garments.push(garment(41));
    edges.push(edge(30, 41, 500));
    edges.push(edge(10, 12, 501));
    let graph = WardrobeGraph::new(&garments, &edges, NodeFeatures::embedding(FEATURES)).unwrap();
    let refresh = cached
        .refresh(
            &models,
            graph.clone(),
            &[GarmentId(41), GarmentId(30), GarmentId(10), GarmentId(12)],
        )
        .unwrap();
    let full = EncodedWardrobe::encode(&models, graph).unwrap();
    let err = max_error(&cached, &full);
    assert!(err < 1e-5, "incremental differs from full by {err}");
    assert!(
        refresh.targets < garments.len() / 2,
        "refreshed {} of {} nodes",
        refresh.targets,
        garments.len()
    );
    // Something did move: garment 30's embedding now sees garment 41.
    let before = WardrobeGraph::new(
        &garments[..40],
        &edges[..edges.len() - 2],
        NodeFeatures::embedding(FEATURES),
    )
    .unwrap();
    let old = EncodedWardrobe::encode(&models, before).unwrap();
    assert_ne!(old.embedding(GarmentId(30)), full.embedding(GarmentId(30)));
}

#[test]
fn feedback_changes_the_next_suggestion_without_retraining() {
    let dir = tempfile::tempdir().unwrap();
    let (garments, edges) = wardrobe(40);
    let anchor_id = garments
        .iter()
        .find(|g| g.garment_type == GarmentType::Top)
        .unwrap()
        .id;
    let mut suggester = Suggester::new(models(dir.path(), 15), garments, edges).unwrap();
    let anchor = suggester.garment(anchor_id).unwrap().clone();
    let first = suggester.suggest(&Anchor::Known(&anchor), 3).unwrap();
    assert!(!first.is_empty(), "a 40-garment wardrobe yields outfits");
    assert!(first.windows(2).all(|w| w[0].score >= w[1].score));
    for outfit in &first {
        assert_eq!(outfit.garments[0], anchor_id);
        let types: Vec<GarmentType> = outfit
            .garments
            .iter()
            .map(|&id| suggester.garment(id).unwrap().garment_type)
            .collect();
        assert!(types.contains(&GarmentType::Shoes), "{types:?}");
    }

    // The owner rejects the best outfit: it never comes back.
    let rejected = feedback_edges(&first[0].garments, Verdict::Reject, 1_000);
    suggester.add_edges(&rejected).unwrap();
    let next = suggester.suggest(&Anchor::Known(&anchor), 3).unwrap();
    assert!(!next.is_empty());
    assert_ne!(next[0].garments, first[0].garments);
    for outfit in &next {
        for e in &rejected {
            assert!(
                !(outfit.garments.contains(&e.a) && outfit.garments.contains(&e.b)),
                "rejected pair {}-{} suggested again in {}",
                e.a,
                e.b,
                outfit.key()
            );
        }
    }

    // A garment not in the wardrobe gets outfits too (no edges: its own term only).
    let new = garment(99);
    let around_new = suggester.suggest(&Anchor::New(&new), 2).unwrap();
    assert!(around_new.iter().all(|o| o.garments[0] == GarmentId(99)));
}
