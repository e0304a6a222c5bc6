//! End to end: train a tiny capsnet and a tiny CNN for one short epoch, export each with
//! `capsule-host export`, and check tract's output against burn's on the same preprocessed
//! pictures at batch sizes 1 and 3 (one loaded model, symbolic batch).

mod common;

use burn::prelude::*;
use capsule_device::engine::{InputShape, OnnxModel};
use capsule_device::preprocess::preprocess_into;
use capsule_host::embedder::TrainedEmbedder;
use capsule_host::onnx::embedder::BATCH_SYMBOL;
use capsule_host::synth::SynthConfig;
use common::{host, s, synth, train_embedder};
use prost::Message;
use std::path::Path;
use tract_onnx::prelude::{Tensor as TractTensor, tvec};

const TOLERANCE: f32 = 1e-4;

/// Preprocessed gallery pictures of the synthetic set, `n` of them, NCHW.
fn pictures(data: &Path, trained: &TrainedEmbedder, n: usize) -> Vec<f32> {
    let spec = trained.spec();
    let mut paths: Vec<_> = walk(&data.join("img"));
    paths.sort();
    assert!(paths.len() >= n, "only {} pictures", paths.len());
    let mut out = vec![0.0; n * spec.input_len()];
    for (path, chunk) in paths.iter().zip(out.chunks_mut(spec.input_len())) {
        let picture = image::open(path).unwrap().to_rgb8();
        preprocess_into(&picture, spec, chunk).unwrap();
    }
    out
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "jpg" || e == "png") {
            found.push(path);
        }
    }
    found
}

fn check_arch(dir: &Path, data: &Path, arch: &str) {
    let run = dir.join(format!("run-{arch}"));
    let loss = if arch == "cnn" { "triplet" } else { "msml" };
    let args = [
        "--arch", arch, "--loss", loss, "--preset", "tiny", "--seed", "9",
    ];
    train_embedder(data, &run, 1, &args);
    let onnx = dir.join(format!("{arch}/embedder.f32.onnx"));
    host(&["export", "--run", s(&run), "--out", s(&onnx)]);
    let bytes = std::fs::read(&onnx).unwrap();
    let proto = tract_onnx::pb::ModelProto::decode(&bytes[..]).unwrap();
    let graph = proto.graph.unwrap();
    assert!(
        graph.node.iter().all(|n| n.op_type != "BatchNormalization"),
        "batch norms must be folded into the convolutions"
    );
    let trained = TrainedEmbedder::load(&run, &Device::flex()).unwrap();
    let spec = trained.spec().clone();
    let model = OnnxModel::load(
        &onnx,
        &[InputShape::SymbolicFirst(
            BATCH_SYMBOL.into(),
            spec.input_shape(1)[1..].to_vec(),
        )],
        1,
    )
    .unwrap();
    let all = pictures(data, &trained, 3);
    for n in [1, 3] {
        let input = &all[..n * spec.input_len()];
        let expected = trained.embed_preprocessed(input, n).unwrap();
        let tensor = TractTensor::from_shape(&spec.input_shape(n), input).unwrap();
        let (shape, got) = model.run_f32(tvec!(tensor.into())).unwrap();
        assert_eq!(shape, vec![n, trained.config.model.embedding_dim]);
        let max_err = got
            .iter()
            .zip(&expected)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        println!(
            "{arch}: batch {n}: max |tract - burn| = {max_err:.3e} ({} bytes of ONNX)",
            bytes.len()
        );
        assert!(
            max_err <= TOLERANCE,
            "{arch} batch {n}: max error {max_err}"
        );
    }
}

#[test]
fn exported_capsnet_and_cnn_match_burn_at_batch_1_and_3() {
    let dir = tempfile::tempdir().unwrap();
    let config = SynthConfig {
        garments: 16,
        views: 3,
        outfits: 10,
        seed: 2,
        ..SynthConfig::default()
    };
    let data = synth(&dir.path().join("synth"), config).join("inshop");
    check_arch(dir.path(), &data, "capsnet");
    check_arch(dir.path(), &data, "cnn");
}
