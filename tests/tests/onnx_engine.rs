//! End to end: an ONNX file written by the host's graph builder is loaded by the device
//! engine and gives the embedding a plain reference computation gives.

use capsule_device::engine::Embedder;
use capsule_device::preprocess::{PreprocessSpec, ResizePolicy, preprocess};
use capsule_e2e::{
    DIM, SIZE, reference_embedding as reference, write_tiny_embedder as write_model,
};
use image::{Rgb, RgbImage};

#[test]
fn tract_runs_what_the_host_wrote_and_matches_a_reference() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("embedder.onnx");
    let (conv_w, conv_b, fc_w) = write_model(&path);
    let spec = PreprocessSpec {
        size: SIZE as u32,
        resize: ResizePolicy::Stretch,
        ..PreprocessSpec::default()
    };
    let picture = RgbImage::from_fn(20, 12, |x, y| {
        Rgb([(x * 12) as u8, (y * 20) as u8, ((x + y) * 5) as u8])
    });
    let expected = reference(
        preprocess(&picture, &spec).unwrap().as_slice().unwrap(),
        &conv_w,
        &conv_b,
        &fc_w,
    );
    for threads in [1, 2] {
        let mut embedder = Embedder::load(&path, &spec, threads).unwrap();
        let got = embedder.embed_picture(&picture).unwrap();
        assert_eq!(got.len(), DIM);
        for (a, b) in got.iter().zip(&expected) {
            assert!(
                (a - b).abs() < 1e-5,
                "threads {threads}: {got:?} vs {expected:?}"
            );
        }
    }
}

#[test]
fn broken_model_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let spec = PreprocessSpec::default();
    let missing = dir.path().join("missing.onnx");
    let err = Embedder::load(&missing, &spec, 1).err().unwrap();
    assert!(err.to_string().contains("missing.onnx"), "{err}");
    let junk = dir.path().join("junk.onnx");
    std::fs::write(&junk, b"\x08\x01garbage that is not a protobuf model").unwrap();
    assert!(Embedder::load(&junk, &spec, 1).is_err());
    // A valid model for another input size fails at load, not on the first frame.
    let path = dir.path().join("embedder.onnx");
    write_model(&path);
    assert!(
        Embedder::load(&path, &PreprocessSpec { size: 16, ..spec }, 1).is_ok(),
        "global pooling accepts any size"
    );
}
