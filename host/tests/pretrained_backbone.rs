//! The imported EfficientNet-Lite0 weights, checked where they can fail: the whole
//! ImageNet classifier must name what is in two real photographs (a cat, a cup of coffee)
//! first among its top five, and the exported backbone must give tract burn's features.
//!
//! Needs the checkpoint `scripts/fetch-pretrained` fetches; without it each test says so
//! and passes, so a machine that never ran the script still builds and tests.

use burn::prelude::*;
use capsule_device::engine::{InputShape, OnnxModel};
use capsule_host::embedder::backbone::{
    BackboneConfig, EfficientNetLite0, default_weights_path, load_pretrained,
};
use capsule_host::onnx::backbone::export_backbone;
use capsule_host::onnx::embedder::BATCH_SYMBOL;
use capsule_host::onnx::encode;
use std::path::{Path, PathBuf};
use tract_onnx::prelude::{Tensor as TractTensor, tvec};

const SIDE: usize = 224;

/// The checkpoint, or `None` (with a note on stderr) when it was never fetched.
fn weights() -> Option<PathBuf> {
    match default_weights_path().filter(|p| p.is_file()) {
        Some(path) => Some(path),
        None => {
            eprintln!(
                "skipped: no EfficientNet-Lite0 checkpoint at {:?}; run scripts/fetch-pretrained",
                default_weights_path()
            );
            None
        }
    }
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/imagenet")
        .join(name)
}

/// A 224 px picture as the TensorFlow Lite models take it: `(x − 127) / 128`, RGB, CHW.
fn picture(name: &str) -> Vec<f32> {
    let rgb = image::open(fixture(name)).unwrap().to_rgb8();
    assert_eq!(rgb.dimensions(), (SIDE as u32, SIDE as u32));
    let plane = SIDE * SIDE;
    let mut out = vec![0.0; 3 * plane];
    for (i, pixel) in rgb.pixels().enumerate() {
        for c in 0..3 {
            out[c * plane + i] = (pixel[c] as f32 - 127.0) / 128.0;
        }
    }
    out
}

fn batch(names: &[&str], device: &Device) -> (Vec<f32>, Tensor<4>) {
    let values: Vec<f32> = names.iter().flat_map(|n| picture(n)).collect();
    let shape = [names.len(), 3, SIDE, SIDE];
    let tensor = Tensor::from_data(TensorData::new(values.clone(), shape), device);
    (values, tensor)
}

fn load(path: &Path, config: &BackboneConfig, device: &Device) -> EfficientNetLite0 {
    load_pretrained(path, config, device).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_imagenet_classifier_names_a_cat_and_a_coffee_cup() {
    let Some(path) = weights() else { return };
    let device = Device::flex();
    let model = load(&path, &BackboneConfig::imagenet(), &device).valid();
    let cases: [(&str, &[usize]); 2] = [
        ("cat-224.jpg", &[281, 282, 285]),
        ("coffee-224.jpg", &[504, 967, 968]),
    ];
    let (_, x) = batch(&cases.map(|(name, _)| name), &device);
    let logits = model
        .logits(x)
        .expect("the ImageNet config keeps the classifier");
    let probabilities = burn::tensor::activation::softmax(logits, 1);
    let rows: Vec<f32> = probabilities.into_data().try_to_vec().unwrap();
    for ((name, accepted), row) in cases.iter().zip(rows.chunks(1000)) {
        let mut ranked: Vec<usize> = (0..1000).collect();
        ranked.sort_by(|&a, &b| row[b].total_cmp(&row[a]));
        let top5 = &ranked[..5];
        let shown: Vec<String> = top5
            .iter()
            .map(|&c| format!("{c} ({:.3})", row[c]))
            .collect();
        println!("{name}: top 5 {}", shown.join(", "));
        // Right at the top, and not by a hair: the accepted classes (the cat breeds, the
        // cup kinds, which ImageNet itself tells apart poorly) hold most of the mass.
        assert!(
            accepted.contains(&top5[0]),
            "{name}: top 5 {shown:?} does not start with one of {accepted:?}"
        );
        let mass: f32 = accepted.iter().map(|&c| row[c]).sum();
        assert!(mass > 0.5, "{name}: {accepted:?} hold only {mass:.3}");
    }
}

#[test]
fn the_exported_pretrained_backbone_matches_burn_in_tract() {
    let Some(path) = weights() else { return };
    let device = Device::flex();
    let config = BackboneConfig::new(7);
    let model = load(&path, &config, &device).valid();
    let dir = tempfile::tempdir().unwrap();
    let onnx = dir.path().join("backbone.onnx");
    std::fs::write(
        &onnx,
        encode(&export_backbone(&model, &config, SIDE).unwrap()),
    )
    .unwrap();
    let engine = OnnxModel::load(
        &onnx,
        &[InputShape::SymbolicFirst(
            BATCH_SYMBOL.into(),
            vec![3, SIDE, SIDE],
        )],
        1,
    )
    .unwrap();
    let (values, x) = batch(&["cat-224.jpg", "coffee-224.jpg"], &device);
    let expected: Vec<f32> = model.forward(x).into_data().try_to_vec().unwrap();
    let input = TractTensor::from_shape(&[2, 3, SIDE, SIDE], &values).unwrap();
    let (shape, got) = engine.run_f32(tvec!(input.into())).unwrap();
    assert_eq!(shape, vec![2, 320, 7, 7]);
    let scale = expected.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let max_err = got
        .iter()
        .zip(&expected)
        .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
    println!("pretrained backbone: max |tract − burn| = {max_err:.2e}, max |y| = {scale:.2}");
    assert!(max_err <= 1e-4, "max error {max_err}");
}
