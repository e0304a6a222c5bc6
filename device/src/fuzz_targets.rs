//! The bodies of the fuzz targets in `fuzz/`: one function per target, each taking the raw
//! fuzzer bytes. The same functions replay the committed corpus and every crash ever found
//! (`fuzz/corpus/<target>/`, `fuzz/regressions/<target>/`) in `device/tests/fuzz_corpus.rs`,
//! so stable `cargo test` guards what nightly fuzzing found.
//!
//! A body returns normally on any input; it panics only when a parser misbehaves (panics
//! itself) or breaks an invariant checked here (an accepted manifest that does not parse
//! again, a downgrade that is installed, a store that loses an imported garment).

use crate::app::import_polyvore;
use crate::board::BoardProfile;
use crate::bundle::signature::{SigningKey, VerifyingKey, sign_manifest, verify_manifest};
use crate::bundle::{MANIFEST_FILE, Manifest, SIGNATURE_FILE};
use crate::camera::decode::decode_frame;
use crate::camera::source::decode_buffer;
use crate::camera::{FrameSource, RecordedStream, StreamFormat};
use crate::engine::Embedder;
use crate::engine::{InputShape, OnnxModel};
use crate::formats::polyvore::{CompatibilityLine, IMAGES_DIR, ItemRef, METADATA_FILE};
use crate::update::slots::{ApplyOptions, Slots, UpdateError};
use crate::wardrobe::WardrobeStore;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use tract_onnx::prelude::{Tensor, tvec};

/// A target body: the raw fuzzer bytes in, a panic only on a bug.
pub type Body = fn(&[u8]);

/// Every target, by the name of its `fuzz/fuzz_targets/<name>.rs` and corpus folder.
pub const TARGETS: &[(&str, Body)] = &[
    ("bundle_manifest", bundle_manifest),
    ("update_apply", update_apply),
    ("camera_frame", camera_frame),
    ("onnx_load", onnx_load),
    ("polyvore_import", polyvore_import),
    ("board_profile", board_profile),
];

/// The key the fuzz bodies sign with and trust. It is for fuzzing only: no board profile
/// lists it.
pub fn fuzz_signing_key() -> SigningKey {
    SigningKey::from_bytes(&[0x42; 32])
}

fn fuzz_trusted() -> Vec<VerifyingKey> {
    vec![fuzz_signing_key().verifying_key()]
}

/// A fresh folder under the system temp dir, removed on drop (fuzz inputs become files).
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Option<Self> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("capsule-fuzz-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).ok()?;
        Some(Self(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Splits `data` at the first NUL byte (the usual way two inputs share one fuzz input).
fn split_nul(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[]),
    }
}

/// Manifest bytes, then NUL, then the text of `manifest.sig`: parse and validate the
/// manifest, check the fuzzed signature, and check that a manifest the device accepts
/// serialises to bytes it accepts again and that signing then verifying them agrees.
pub fn bundle_manifest(data: &[u8]) {
    let (manifest, signature) = split_nul(data);
    let trusted = fuzz_trusted();
    let _ = verify_manifest(manifest, &String::from_utf8_lossy(signature), &trusted);
    if let Ok(parsed) = Manifest::from_bytes(manifest) {
        let again = parsed.to_bytes();
        if let Err(e) = Manifest::from_bytes(&again) {
            panic!("an accepted manifest did not parse after writing it out: {e}");
        }
        let signature = sign_manifest(&again, &fuzz_signing_key());
        assert_eq!(verify_manifest(&again, &signature, &trusted).ok(), Some(0));
    }
}

/// Names a fuzzed bundle's files may have: the ones a real bundle has, one in a subfolder,
/// and one the manifest might point at sideways.
const BUNDLE_NAMES: [&str; 8] = [
    MANIFEST_FILE,
    SIGNATURE_FILE,
    "embedder.f32.onnx",
    "golden/embedder.input.npy",
    "golden/embedder.output.npy",
    "embedder.int8.onnx",
    "golden/extra.npy",
    "notes.txt",
];

/// Decodes a fuzz input into bundle files: a flags byte, then records of a name byte
/// (an index into the file names above), a little-endian u16 length and that many bytes.
/// Flag bit 0 set: the body signs `manifest.json` with the trusted fuzz key, so the fuzzer
/// explores everything after the signature check too.
pub fn decode_bundle_input(data: &[u8]) -> (u8, Vec<(&'static str, Vec<u8>)>) {
    let Some((&flags, mut rest)) = data.split_first() else {
        return (0, Vec::new());
    };
    let mut files: Vec<(&'static str, Vec<u8>)> = Vec::new();
    while rest.len() >= 3 {
        let name = BUNDLE_NAMES[rest[0] as usize % BUNDLE_NAMES.len()];
        let len = u16::from_le_bytes([rest[1], rest[2]]) as usize;
        let body = &rest[3..];
        let take = len.min(body.len());
        files.retain(|(n, _)| *n != name);
        files.push((name, body[..take].to_vec()));
        rest = &body[take..];
    }
    (flags, files)
}

/// The inverse of [`decode_bundle_input`], for writing seeds from real bundles.
pub fn encode_bundle_input(flags: u8, files: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut out = vec![flags];
    for (name, bytes) in files {
        let index = BUNDLE_NAMES.iter().position(|n| n == name).unwrap_or(0);
        let len = bytes.len().min(u16::MAX as usize);
        out.push(index as u8);
        out.extend_from_slice(&(len as u16).to_le_bytes());
        out.extend_from_slice(&bytes[..len]);
    }
    out
}

/// `capsule update apply` on a fuzzed bundle directory (see [`decode_bundle_input`]), into
/// an empty data directory. When it is installed, the slot must verify, and installing it
/// again must be refused as a downgrade.
pub fn update_apply(data: &[u8]) {
    let (flags, files) = decode_bundle_input(data);
    let Some(scratch) = Scratch::new() else {
        return;
    };
    let bundle = scratch.0.join("bundle");
    for (name, bytes) in &files {
        let path = bundle.join(name);
        if let Some(parent) = path.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        let _ = std::fs::write(&path, bytes);
    }
    if flags & 1 == 1
        && let Ok(manifest) = std::fs::read(bundle.join(MANIFEST_FILE))
    {
        let _ = std::fs::write(
            bundle.join(SIGNATURE_FILE),
            sign_manifest(&manifest, &fuzz_signing_key()),
        );
    }
    let slots = Slots::new(&scratch.0.join("data"));
    let options = ApplyOptions {
        trusted: fuzz_trusted(),
        allow_downgrade: false,
        threads: 1,
    };
    if let Ok(applied) = slots.apply(&bundle, &options) {
        let active = slots.active_bundle();
        assert!(
            matches!(&active, Ok(Some(b)) if b.manifest.bundle_version == applied.bundle_version),
            "installed bundle does not verify in its slot: {active:?}"
        );
        let again = slots.apply(&bundle, &options);
        assert!(
            matches!(again, Err(UpdateError::Downgrade { .. })),
            "the same version was installed twice: {again:?}"
        );
    }
}

/// A camera buffer: width and height (u16 each, little-endian) that the buffer claims, then
/// the buffer, decoded as YUYV and as MJPEG; the same bytes are also replayed as a
/// recorded MJPEG stream (which splits frames at JPEG markers).
pub fn camera_frame(data: &[u8]) {
    if data.len() < 4 {
        let _ = decode_frame(data, StreamFormat::Mjpeg);
        return;
    }
    let width = u16::from_le_bytes([data[0], data[1]]) as u32;
    let height = u16::from_le_bytes([data[2], data[3]]) as u32;
    let buffer = &data[4..];
    if let Ok(frame) = decode_buffer(buffer, StreamFormat::Yuyv { width, height }, 0, "fuzz") {
        assert_eq!(frame.image.dimensions(), (width, height));
    }
    let _ = decode_buffer(buffer, StreamFormat::Mjpeg, 0, "fuzz");
    let Some(scratch) = Scratch::new() else {
        return;
    };
    let path = scratch.0.join("stream.mjpeg");
    if std::fs::write(&path, buffer).is_err() {
        return;
    }
    if let Ok(mut stream) = RecordedStream::open(&path, StreamFormat::Mjpeg) {
        // Each frame consumes at least its two start bytes, so this ends; the bound is a
        // guard against a stream that never does.
        for _ in 0..=buffer.len() {
            match stream.next_frame() {
                Ok(Some(_)) => {}
                Err(e) if e.is_transient() => {}
                Ok(None) | Err(_) => break,
            }
        }
    }
}

/// Fuzzed bytes as an embedder model file: load it for a 1x3x8x8 input and, if it loads,
/// run it once on zeros.
pub fn onnx_load(data: &[u8]) {
    let Some(scratch) = Scratch::new() else {
        return;
    };
    let path = scratch.0.join("model.onnx");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let shape = vec![1, 3, 8, 8];
    if let Ok(model) = OnnxModel::load(&path, &[InputShape::Fixed(shape.clone())], 1)
        && let Ok(tensor) = Tensor::from_shape(&shape, &[0f32; 3 * 64])
    {
        let _ = model.run_f32(tvec!(tensor.into()));
    }
}

/// A Polyvore set: `polyvore_item_metadata.json`, NUL, `nondisjoint/train.json`, NUL, the
/// rest is tried as lines of a compatibility file. Item `1` has a picture. Everything the
/// import reports added must be in the store.
pub fn polyvore_import(data: &[u8]) {
    let (metadata, rest) = split_nul(data);
    let (outfits, compatibility) = split_nul(rest);
    for line in String::from_utf8_lossy(compatibility).lines() {
        if let Ok(parsed) = CompatibilityLine::parse(line) {
            let again = CompatibilityLine::parse(&parsed.to_string());
            assert_eq!(again.as_ref(), Ok(&parsed), "compatibility line {line:?}");
        }
        for word in line.split_whitespace() {
            if let Some(item) = ItemRef::parse(word) {
                assert_eq!(ItemRef::parse(&item.to_string()), Some(item));
            }
        }
    }
    let Some(scratch) = Scratch::new() else {
        return;
    };
    let root = scratch.0.join("set");
    let written = (|| -> std::io::Result<()> {
        std::fs::create_dir_all(root.join("nondisjoint"))?;
        std::fs::create_dir_all(root.join(IMAGES_DIR))?;
        std::fs::write(root.join(METADATA_FILE), metadata)?;
        std::fs::write(root.join("nondisjoint/train.json"), outfits)?;
        image::RgbImage::from_pixel(8, 8, image::Rgb([200, 40, 40]))
            .save(root.join(IMAGES_DIR).join("1.jpg"))
            .map_err(std::io::Error::other)
    })();
    if written.is_err() {
        return;
    }
    let Ok(store) = WardrobeStore::open(&scratch.0.join("data")) else {
        return;
    };
    // The device tests' tiny real embedder (the model is not what is fuzzed).
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny-embedder.onnx");
    let spec = crate::PreprocessSpec {
        size: 16,
        ..crate::PreprocessSpec::default()
    };
    let Ok(mut embedder) = Embedder::load(&model, &spec, 1) else {
        panic!("cannot load the fuzz embedder {}", model.display());
    };
    if let Ok(summary) = import_polyvore(&root, &store, Some(64), 0, &mut embedder) {
        let stored = store.garments().map(|g| g.len());
        assert_eq!(
            stored.ok(),
            Some(summary.garments),
            "imported garments lost"
        );
        assert_eq!(store.edges().map(|e| e.len()).ok(), Some(summary.edges));
    }
}

/// A board profile's text: parse and validate it; an accepted profile written back out as
/// TOML must be accepted again.
pub fn board_profile(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("fuzz.toml");
    if let Ok(profile) = BoardProfile::parse(text, path)
        && let Ok(again) = toml::to_string(&profile)
        && let Err(e) = BoardProfile::parse(&again, path)
    {
        panic!("an accepted profile did not parse after writing it out: {e}\n{again}");
    }
}
