//! Shared by the device's reliability tests: a tiny real embedder (`fixtures/`), signed
//! bundles made from it, pictures, and the `capsule` binary.
#![allow(dead_code)]

use capsule_device::bundle::signature::{SigningKey, public_key_hex, sign_manifest};
use capsule_device::bundle::{
    Dim, GoldenPair, MANIFEST_FILE, MANIFEST_FORMAT, Manifest, ModelEntry, ModelRole, NpyArray,
    Precision, SIGNATURE_FILE, TensorSpec, TrainingInfo, sha256_hex,
};
use capsule_device::engine::{InputShape, OnnxModel};
use capsule_device::{GarmentType, PreprocessSpec};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
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
    let manifest = Manifest {
        format: MANIFEST_FORMAT,
        bundle_version: version,
        created_unix: 1_700_000_000 + version,
        garment_types: GarmentType::names(),
        preprocessing: PreprocessSpec {
            size: 16,
            ..PreprocessSpec::default()
        },
        models: vec![ModelEntry {
            role: ModelRole::Embedder,
            file: EMBEDDER_FILE.into(),
            sha256: sha256_hex(&onnx),
            precision: Precision::F32,
            inputs: vec![TensorSpec {
                name: "image".into(),
                shape: vec![
                    Dim::Symbol("N".into()),
                    Dim::Fixed(3),
                    Dim::Fixed(16),
                    Dim::Fixed(16),
                ],
                dtype: "float".into(),
            }],
            output_dim: *out_shape.last().unwrap(),
            golden: GoldenPair {
                inputs: vec![GOLDEN_IN.into()],
                output: GOLDEN_OUT.into(),
                tolerance: 1e-4,
            },
            params: 0,
        }],
        training: TrainingInfo {
            datasets: vec!["none: fixed test weights".into()],
            commands: vec![],
        },
        metrics: Default::default(),
        stylist: None,
    };
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

/// How to start a binary of this build: empty natively; for a cross build run under
/// qemu-user, `CAPSULE_TEST_RUNNER` (the same runner as `.cargo/config.toml`), because a
/// process started from the tests is not under qemu unless the kernel's binfmt_misc says
/// so, and CI containers lack it.
pub fn runner() -> Vec<String> {
    std::env::var("CAPSULE_TEST_RUNNER")
        .map(|r| r.split_whitespace().map(String::from).collect())
        .unwrap_or_default()
}

/// The `capsule` binary of this build, with `--data-dir data` and `args`.
pub fn capsule(data: &Path, args: &[&str]) -> Command {
    let runner = runner();
    let mut command = match runner.split_first() {
        Some((program, rest)) => {
            let mut c = Command::new(program);
            c.args(rest).arg(env!("CARGO_BIN_EXE_capsule"));
            c
        }
        None => Command::new(env!("CARGO_BIN_EXE_capsule")),
    };
    command.arg("--data-dir").arg(data).args(args);
    command
}

/// Runs `capsule` to the end; returns its output.
pub fn run_capsule(data: &Path, args: &[&str]) -> Output {
    capsule(data, args).output().unwrap()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}
