//! Bundles of the device tests' tiny real embedder (`fixtures/`): manifests, golden pairs,
//! signatures, pictures, and the mirror service over it. Also included by the
//! `write_fuzz_seeds` example.
#![allow(dead_code)]

use capsule_contract::bundle::manifest::sample;
use capsule_contract::embedder::input_spec;
use capsule_device::PreprocessSpec;
use capsule_device::app::{Mirror, Models, Outfits};
use capsule_device::bundle::signature::{SigningKey, public_key_hex, sign_manifest};
use capsule_device::bundle::{MANIFEST_FILE, NpyArray, Precision, SIGNATURE_FILE, sha256_hex};
use capsule_device::engine::{InputShape, OnnxModel};
use std::path::{Path, PathBuf};
use tract_onnx::prelude::{Tensor, tvec};

/// Conv 3x3 → ReLU → global average pool → linear → unit length; 5-d output for any
/// picture size. Written by `capsule_e2e::write_tiny_embedder` (the host's ONNX writer).
pub fn model_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny-embedder.onnx")
}

pub const EMBEDDER_FILE: &str = "embedder.f32.onnx";
pub const GOLDEN_IN: &str = "golden/embedder.input.npy";
pub const GOLDEN_OUT: &str = "golden/embedder.output.npy";

/// The key the tests sign bundles with.
pub fn signing_key() -> SigningKey {
    SigningKey::from_bytes(&[0x17; 32])
}

pub fn public_key() -> String {
    public_key_hex(&signing_key().verifying_key())
}

/// The files of a bundle of the tiny embedder with `version`: manifest, model, golden pair
/// (the golden output computed by tract), unsigned.
pub fn bundle_files(version: u64) -> Vec<(&'static str, Vec<u8>)> {
    let onnx = std::fs::read(model_path()).unwrap();
    let shape = vec![2, 3, 8, 8];
    let input: Vec<f32> = (0..2 * 3 * 64)
        .map(|i| ((i * 37) % 101) as f32 / 50.0 - 1.0)
        .collect();
    let model = OnnxModel::load(&model_path(), &[InputShape::Fixed(shape.clone())], 1).unwrap();
    let tensor = Tensor::from_shape(&shape, &input).unwrap();
    let (out_shape, output) = model.run_f32(tvec!(tensor.into())).unwrap();
    let mut manifest = sample();
    manifest.bundle_version = version;
    manifest.created_unix = 1_700_000_000 + version;
    manifest.preprocessing = PreprocessSpec {
        size: 16,
        ..PreprocessSpec::default()
    };
    manifest.metrics.clear();
    manifest.training.datasets = vec!["none: fixed test weights".into()];
    let entry = &mut manifest.models[0];
    entry.file = EMBEDDER_FILE.into();
    entry.sha256 = sha256_hex(&onnx);
    entry.inputs = vec![input_spec(16)];
    entry.output_dim = *out_shape.last().unwrap();
    entry.golden.inputs = vec![GOLDEN_IN.into()];
    entry.golden.output = GOLDEN_OUT.into();
    entry.params = 0;
    vec![
        (MANIFEST_FILE, manifest.to_bytes()),
        (EMBEDDER_FILE, onnx),
        (GOLDEN_IN, NpyArray::new(shape, input).unwrap().to_bytes()),
        (
            GOLDEN_OUT,
            NpyArray::new(out_shape, output).unwrap().to_bytes(),
        ),
    ]
}

/// The mirror service over the wardrobe in `data` with the tiny embedder (recognition only).
pub fn tiny_mirror(data: &Path) -> Mirror {
    let models = Models {
        bundle: None,
        manifest: sample(),
        embedder_file: model_path(),
        precision: Precision::F32,
        threshold: 0.8,
        threads: 1,
        note: None,
        board: None,
        embedder_id: "tiny-test-embedder".into(),
        from_slot: false,
        wanted: Precision::F32,
    };
    Mirror::open(data, models, Outfits::Off).unwrap()
}

/// Writes `files` under `dir`, then (re)signs the manifest with `key` when given.
pub fn write_files(dir: &Path, files: &[(&str, Vec<u8>)], key: Option<&SigningKey>) {
    for (name, bytes) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
    }
    if let Some(key) = key {
        let manifest = std::fs::read(dir.join(MANIFEST_FILE)).unwrap();
        std::fs::write(dir.join(SIGNATURE_FILE), sign_manifest(&manifest, key)).unwrap();
    }
}

/// The tiny embedder as a command names it: its file inside a bundle written under `dir`,
/// beside the manifest that says how pictures are prepared for it.
pub fn tiny_embedder(dir: &Path) -> String {
    let bundle = dir.join("tiny-bundle");
    write_bundle(&bundle, 1);
    bundle.join(EMBEDDER_FILE).display().to_string()
}

/// A signed bundle of `version` at `dir`.
pub fn write_bundle(dir: &Path, version: u64) {
    write_files(dir, &bundle_files(version), Some(&signing_key()));
}

/// A picture with a pattern that depends on `seed`, as PNG at `path`.
pub fn write_picture(path: &Path, seed: u32) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    image::RgbImage::from_fn(40, 30, |x, y| {
        let v = (x * 7 + y * 13 + seed * 29) % 256;
        image::Rgb([v as u8, (255 - v) as u8, ((seed * 53) % 256) as u8])
    })
    .save(path)
    .unwrap();
}

/// The fuzz targets' folder (`fuzz/`: seeds, corpus, regressions per target).
pub fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// The files in `dir`, in name order (none when it is missing).
pub fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}
