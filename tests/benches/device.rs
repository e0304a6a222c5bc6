//! Criterion benchmarks of the device's hot paths, with models of the shipped shapes
//! (weights do not change the cost): embedding a frame (compact CapsNet-SE, 64 px, at 1 and
//! 2 threads), identification, stylist encoding of the whole wardrobe graph, and outfit
//! suggestion, at 1k / 10k / 100k generated garments.
//!
//! `cargo bench -p capsule-e2e --bench device` (the machine it ran on goes with any figure).

use burn::tensor::Device;
use capsule_device::engine::Embedder;
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

fn wardrobe(n: usize) -> (Vec<Garment>, Vec<OutfitEdge>) {
    generated_wardrobe(n, NodeFeatures::embedding(FEATURES), n as u64)
}

fn stylist_models(dir: &Path) -> StylistModels {
    let shape = StylistShape {
        features: FEATURES,
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
            b.iter(|| embedder.embed(&frame).unwrap())
        });
    }
    group.finish();
}

fn identify(c: &mut Criterion) {
    let mut group = c.benchmark_group("identify");
    let query = wardrobe(1).0.remove(0).embedding;
    for n in SIZES {
        let (index, _) = EmbeddingIndex::build(&wardrobe(n).0);
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
                let graph = capsule_device::stylist::WardrobeGraph::new(
                    &garments,
                    &edges,
                    NodeFeatures::embedding(FEATURES),
                )
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

criterion_group!(benches, embed, identify, stylist);
criterion_main!(benches);
