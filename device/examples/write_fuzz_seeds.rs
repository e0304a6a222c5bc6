//! Writes the fuzz targets' seed inputs (`fuzz/seeds/<target>/`) from the real formats:
//! bundles, frames, models, Polyvore sets and board profiles, in each target's input layout.
//! Run after a format changes:
//! `cargo run --release -p capsule-device --features fuzzing --example write_fuzz_seeds`.

#[path = "../tests/common/bundles.rs"]
mod common;

use capsule_device::bundle::signature::sign_manifest;
use capsule_device::bundle::{MANIFEST_FILE, SIGNATURE_FILE};
use capsule_device::camera::decode::encode_yuyv;
use capsule_device::fuzz_targets::{encode_bundle_input, fuzz_signing_key};
use common::{files_in, fuzz_dir};
use std::path::Path;

/// Writes the seed inputs: real bundles, frames, models, Polyvore sets and board profiles,
/// in each target's input layout.
fn main() {
    let seeds = fuzz_dir().join("seeds");
    let put = |target: &str, name: &str, bytes: &[u8]| {
        let dir = seeds.join(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), bytes).unwrap();
    };

    // Bundles signed by the fuzz key: flags 0 keeps the given signature, 1 re-signs.
    let mut files = common::bundle_files(3);
    let manifest = files[0].1.clone();
    let signature = sign_manifest(&manifest, &fuzz_signing_key());
    files.insert(1, (SIGNATURE_FILE, signature.clone().into_bytes()));
    put(
        "update_apply",
        "signed-bundle",
        &encode_bundle_input(0, &files),
    );
    put(
        "update_apply",
        "resigned-bundle",
        &encode_bundle_input(1, &files[..1]),
    );
    let mut escaping = manifest.clone();
    let text = String::from_utf8(manifest.clone()).unwrap();
    escaping.clear();
    escaping.extend(
        text.replace("\"embedder.f32.onnx\"", "\"../embedder.f32.onnx\"")
            .bytes(),
    );
    files[0] = (MANIFEST_FILE, escaping);
    put(
        "update_apply",
        "escaping-path",
        &encode_bundle_input(1, &files),
    );

    let mut pair = manifest.clone();
    pair.push(0);
    pair.extend_from_slice(signature.as_bytes());
    put("bundle_manifest", "signed-manifest", &pair);

    let picture =
        image::RgbImage::from_fn(8, 4, |x, y| image::Rgb([x as u8 * 30, y as u8 * 60, 90]));
    let mut yuyv = vec![8, 0, 4, 0];
    yuyv.extend(encode_yuyv(&picture));
    put("camera_frame", "yuyv-8x4", &yuyv);
    let mut jpeg = vec![0, 0, 0, 0];
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 80)
        .encode_image(&picture)
        .unwrap();
    put("camera_frame", "mjpeg-8x4", &jpeg);

    put(
        "onnx_load",
        "tiny-embedder.onnx",
        &std::fs::read(common::model_path()).unwrap(),
    );

    let metadata = r#"{"1": {"title": "red shirt", "category_id": "11", "semantic_category": "tops"},
 "2": {"title": "jeans", "category_id": 27, "semantic_category": "bottoms", "catgeories": ["a"]},
 "../images/1": {"title": "escape", "category_id": "11", "semantic_category": "tops"}}"#;
    let outfits = r#"[{"set_id": "s1", "items": [{"item_id": "1", "index": 1}, {"item_id": "2", "index": 2}]},
 {"set_id": "s2", "items": [{"item_id": "1", "index": 1}, {"item_id": "../images/1", "index": 2}]}]"#;
    put(
        "polyvore_import",
        "small-set",
        format!("{metadata}\0{outfits}\x001 s1_1 s1_2\n0 s_2_1 x_3\n").as_bytes(),
    );

    let boards = files_in(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../boards"));
    for profile in boards
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
    {
        let name = profile.file_name().unwrap().to_string_lossy().into_owned();
        put("board_profile", &name, &std::fs::read(profile).unwrap());
    }
}
