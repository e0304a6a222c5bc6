//! End to end: train the default-size capsnet for one short epoch, make its int8 and f16-weight
//! variants with `capsule-host quantize`, and check each in tract against burn's forward pass
//! on pictures it was not calibrated on, at batch sizes 1 and 3. The tolerances are loose
//! enough for honest rounding and tight enough that a wrong scale, a lost bias or a
//! float-only graph fails.

mod common;

use burn::prelude::*;
use capsule_device::preprocess::preprocess_into;
use capsule_host::embedder::TrainedEmbedder;
use capsule_host::quantize::{embed_tract, load_batched, max_abs_diff};
use capsule_host::synth::SynthConfig;
use common::{host, s, synth, train_embedder};
use prost::Message;
use std::path::Path;

/// int8: per-channel weights, calibrated uint8 activations (unit-length outputs).
const INT8_TOLERANCE: f32 = 0.01;
/// f16 weights, f32 compute.
const F16_TOLERANCE: f32 = 1e-3;

/// Query pictures of the synthetic set (calibration reads training pictures only).
fn queries(data: &Path, trained: &TrainedEmbedder, n: usize) -> Vec<f32> {
    let spec = trained.spec();
    let list = std::fs::read_to_string(data.join("list_eval_partition.txt")).unwrap();
    let paths: Vec<_> = list
        .lines()
        .filter(|l| l.ends_with("query"))
        .filter_map(|l| l.split_whitespace().next())
        .map(|p| data.join(p))
        .take(n)
        .collect();
    assert_eq!(paths.len(), n, "query pictures in {}", data.display());
    let mut out = vec![0.0; n * spec.input_len()];
    for (path, chunk) in paths.iter().zip(out.chunks_mut(spec.input_len())) {
        preprocess_into(&image::open(path).unwrap().to_rgb8(), spec, chunk).unwrap();
    }
    out
}

fn op_types(path: &Path) -> Vec<String> {
    let bytes = std::fs::read(path).unwrap();
    let proto = tract_onnx::pb::ModelProto::decode(&bytes[..]).unwrap();
    proto
        .graph
        .unwrap()
        .node
        .into_iter()
        .map(|n| n.op_type)
        .collect()
}

#[test]
fn int8_and_f16_embedders_match_burn_within_their_tolerances() {
    let dir = tempfile::tempdir().unwrap();
    let config = SynthConfig {
        garments: 16,
        views: 3,
        outfits: 10,
        seed: 3,
        ..SynthConfig::default()
    };
    let data = synth(&dir.path().join("synth"), config).join("inshop");
    let run = dir.path().join("run");
    // The default (not the tiny) network: quantization must hold at the shipped size.
    train_embedder(&data, &run, 1, &["--seed", "5"]);
    let out = dir.path().join("variants");
    let report: serde_json::Value = serde_json::from_str(&host(&[
        "quantize",
        "--run",
        s(&run),
        "--out",
        s(&out),
        "--calibration",
        "32",
        "--latency-runs",
        "3",
        "--json",
    ]))
    .unwrap();
    let variants = report["variants"].as_array().unwrap();
    let by = |p: &str| variants.iter().find(|v| v["precision"] == p).unwrap();
    assert!(
        by("int8")["weight_ratio"].as_f64().unwrap() >= 3.5,
        "int8 weights must be at least 3.5x smaller: {report}"
    );
    assert!(
        by("f16")["weight_ratio"].as_f64().unwrap() >= 1.9,
        "{report}"
    );

    // Real integer compute: no float Conv/MatMul/Gemm left in the int8 graph.
    let ops = op_types(&out.join("embedder.int8.onnx"));
    assert!(ops.iter().any(|o| o == "QLinearConv"), "{ops:?}");
    assert!(ops.iter().any(|o| o == "MatMulInteger"), "{ops:?}");
    assert!(
        !ops.iter()
            .any(|o| o == "Conv" || o == "MatMul" || o == "Gemm"),
        "{ops:?}"
    );

    let trained = TrainedEmbedder::load(&run, &Device::flex()).unwrap();
    let spec = trained.spec().clone();
    let all = queries(&data, &trained, 3);
    for (file, tolerance) in [
        ("embedder.f32.onnx", 1e-4),
        ("embedder.int8.onnx", INT8_TOLERANCE),
        ("embedder.f16.onnx", F16_TOLERANCE),
    ] {
        let model = load_batched(&out.join(file), &spec).unwrap();
        for n in [1, 3] {
            let input = &all[..n * spec.input_len()];
            let expected = trained.embed_preprocessed(input, n).unwrap();
            let got = embed_tract(&model, &spec, input).unwrap();
            assert_eq!(got.len(), expected.len());
            let err = max_abs_diff(&got, &expected);
            println!("{file}: batch {n}: max |tract - burn| = {err:.3e}");
            assert!(err <= tolerance, "{file} batch {n}: {err} > {tolerance}");
            if file != "embedder.f32.onnx" {
                assert!(err > 0.0, "{file} gives burn's exact output: not quantized");
            }
        }
    }
}
