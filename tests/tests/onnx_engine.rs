//! End to end: an ONNX file written by the host's graph builder is loaded by the device
//! engine and gives the embedding a plain reference computation gives.

use capsule_device::bundle::Dim;
use capsule_device::engine::Embedder;
use capsule_device::preprocess::{PreprocessSpec, ResizePolicy, preprocess};
use capsule_host::onnx::{Attr, GraphBuilder, encode};
use image::{Rgb, RgbImage};

const SIZE: usize = 8;
const CHANNELS: usize = 4;
const DIM: usize = 5;

/// Deterministic weights in [-1, 1].
fn weights(n: usize, salt: u32) -> Vec<f32> {
    (0..n as u32)
        .map(|i| ((i.wrapping_mul(2654435761) ^ salt) % 2001) as f32 / 1000.0 - 1.0)
        .collect()
}

/// Conv 3x3 (pad 1) -> ReLU -> global average pool -> linear -> unit length.
fn write_model(path: &std::path::Path) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let conv_w = weights(CHANNELS * 3 * 9, 1);
    let conv_b = weights(CHANNELS, 2);
    let fc_w = weights(CHANNELS * DIM, 3);
    let mut g = GraphBuilder::new("tiny-embedder");
    let n = || Dim::Symbol("N".into());
    let x = g.input(
        "image",
        &[n(), Dim::Fixed(3), Dim::Fixed(SIZE), Dim::Fixed(SIZE)],
    );
    let w = g.initializer("conv.weight", &[CHANNELS, 3, 3, 3], &conv_w);
    let b = g.initializer("conv.bias", &[CHANNELS], &conv_b);
    let y = g.node(
        "Conv",
        "conv",
        &[&x, &w, &b],
        vec![
            ("kernel_shape", Attr::Ints(vec![3, 3])),
            ("pads", Attr::Ints(vec![1, 1, 1, 1])),
        ],
    );
    let y = g.node("Relu", "relu", &[&y], vec![]);
    let y = g.node("GlobalAveragePool", "pool", &[&y], vec![]);
    let y = g.node("Flatten", "flatten", &[&y], vec![("axis", Attr::Int(1))]);
    let fw = g.initializer("fc.weight", &[CHANNELS, DIM], &fc_w);
    let y = g.node("MatMul", "fc", &[&y, &fw], vec![]);
    let norm = g.node(
        "ReduceL2",
        "norm",
        &[&y],
        vec![("axes", Attr::Ints(vec![1])), ("keepdims", Attr::Int(1))],
    );
    let y = g.node("Div", "unit", &[&y, &norm], vec![]);
    g.output(&y, &[n(), Dim::Fixed(DIM)]);
    std::fs::write(path, encode(&g.finish("capsule-e2e").unwrap())).unwrap();
    (conv_w, conv_b, fc_w)
}

fn reference(input: &[f32], conv_w: &[f32], conv_b: &[f32], fc_w: &[f32]) -> Vec<f32> {
    let at = |c: usize, y: isize, x: isize| {
        if y < 0 || x < 0 || y >= SIZE as isize || x >= SIZE as isize {
            0.0
        } else {
            input[c * SIZE * SIZE + y as usize * SIZE + x as usize]
        }
    };
    let mut pooled = [0.0f32; CHANNELS];
    for (o, p) in pooled.iter_mut().enumerate() {
        for y in 0..SIZE as isize {
            for x in 0..SIZE as isize {
                let mut s = conv_b[o];
                for c in 0..3 {
                    for ky in 0..3 {
                        for kx in 0..3 {
                            s += conv_w[((o * 3 + c) * 3 + ky) * 3 + kx]
                                * at(c, y + ky as isize - 1, x + kx as isize - 1);
                        }
                    }
                }
                *p += s.max(0.0);
            }
        }
        *p /= (SIZE * SIZE) as f32;
    }
    let mut out: Vec<f32> = (0..DIM)
        .map(|d| (0..CHANNELS).map(|c| pooled[c] * fc_w[c * DIM + d]).sum())
        .collect();
    let norm = out.iter().map(|v| v * v).sum::<f32>().sqrt();
    out.iter_mut().for_each(|v| *v /= norm);
    out
}

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
        let got = embedder.embed(&picture).unwrap();
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
