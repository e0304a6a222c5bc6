//! Criterion benchmarks of the device's hot paths, with models of the shipped shapes
//! (weights do not change the cost): embedding a frame (compact CapsNet-SE, 64 px, at 1 and
//! 2 threads), a garment's style statistics, identification, stylist encoding of the whole wardrobe graph, and outfit
//! suggestion, at 1k / 10k / 100k generated garments.
//!
//! `cargo bench -p capsule-e2e --bench device` (the machine it ran on goes with any figure).

use burn::tensor::Device;
use capsule_device::engine::Embedder;
use capsule_device::garment::{STYLE_DIM, style_features};
use capsule_device::identify::EmbeddingIndex;
use capsule_device::preprocess::PreprocessSpec;
use capsule_device::stylist::generated::generated_wardrobe;
use capsule_device::stylist::{Anchor, NodeFeatures, StylistModels, Suggester};
use capsule_device::wardrobe::{Garment, OutfitEdge};
use capsule_e2e::{StylistShape, write_untrained_stylist};
use capsule_host::embedder::{Arch, EmbedderConfig};
use capsule_host::onnx::{encode, export_embedder};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use std::path::Path;

const FEATURES: usize = 128;
const SIZES: [usize; 3] = [1_000, 10_000, 100_000];
/// Rows as wide as the shipped stylist's (embedding, then style statistics); the generated
/// garments carry them all as their embedding, which costs the same.
const STYLIST_ROWS: NodeFeatures = NodeFeatures {
    width: FEATURES + STYLE_DIM,
    style: false,
};

fn wardrobe(n: usize) -> (Vec<Garment>, Vec<OutfitEdge>) {
    generated_wardrobe(n, STYLIST_ROWS, n as u64)
}

fn embeddings(n: usize) -> Vec<Garment> {
    generated_wardrobe(n, NodeFeatures::embedding(FEATURES), n as u64).0
}

fn stylist_models(dir: &Path) -> StylistModels {
    let shape = StylistShape {
        features: STYLIST_ROWS.width,
        hidden: 64,
        layers: 3,
        max_neighbours: 15,
    };
    write_untrained_stylist(dir, &shape, 1)
}

fn embed(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let config = EmbedderConfig::compact(Arch::Capsnet);
    let model = config.init(&Device::flex()).unwrap();
    let path = dir.path().join("embedder.onnx");
    std::fs::write(&path, encode(&export_embedder(&model, &config).unwrap())).unwrap();
    let frame = image::RgbImage::from_fn(640, 480, |x, y| {
        image::Rgb([(x % 251) as u8, (y % 241) as u8, ((x + y) % 239) as u8])
    });
    let mut group = c.benchmark_group("embed_640x480_compact_capsnet");
    for threads in [1, 2] {
        let mut embedder = Embedder::load(&path, &PreprocessSpec::default(), threads).unwrap();
        group.bench_function(BenchmarkId::new("threads", threads), |b| {
            b.iter(|| embedder.embed_picture(&frame).unwrap())
        });
    }
    group.finish();
}

/// Style statistics of a garment picture, as `capsule wardrobe add` and a new garment in
/// front of the mirror compute them.
fn style(c: &mut Criterion) {
    let garment = image::RgbImage::from_fn(200, 260, |x, y| {
        if (30..170).contains(&x) && (20..240).contains(&y) {
            if (x / 9) % 2 == 0 {
                image::Rgb([40, 96, 210])
            } else {
                image::Rgb([236, 236, 230])
            }
        } else {
            image::Rgb([250, 250, 250])
        }
    });
    c.bench_function("style_features_striped_garment", |b| {
        b.iter(|| style_features(&garment))
    });
}

fn identify(c: &mut Criterion) {
    let mut group = c.benchmark_group("identify");
    let query = embeddings(1).remove(0).embedding;
    for n in SIZES {
        let (index, _) = EmbeddingIndex::build(&embeddings(n));
        group.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| index.identify(&query, 5, 0.8))
        });
    }
    group.finish();
}

fn stylist(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut encode_group = c.benchmark_group("stylist_encode_wardrobe");
    encode_group.sample_size(10);
    for n in SIZES {
        let (garments, edges) = wardrobe(n);
        let models = stylist_models(dir.path());
        encode_group.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| {
                let graph =
                    capsule_device::stylist::WardrobeGraph::new(&garments, &edges, STYLIST_ROWS)
                        .unwrap();
                capsule_device::stylist::EncodedWardrobe::encode(&models, graph).unwrap()
            })
        });
    }
    encode_group.finish();

    let mut suggest_group = c.benchmark_group("suggest_3_outfits");
    for n in SIZES {
        let (garments, edges) = wardrobe(n);
        let anchor = garments[0].clone();
        let suggester = Suggester::new(stylist_models(dir.path()), garments, edges).unwrap();
        suggest_group.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| suggester.suggest(&Anchor::Known(&anchor), 3).unwrap())
        });
    }
    suggest_group.finish();
}

criterion_group!(benches, embed, style, identify, stylist);
criterion_main!(benches);
