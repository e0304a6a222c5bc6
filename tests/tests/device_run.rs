//! End to end: the frame loop recognises wardrobe garments in a slideshow and a recording,
//! draws its screens, and keeps going through bad pictures and corrupt frames.

use capsule_device::camera::{ImageDir, RecordedStream, StreamFormat};
use capsule_device::display::PngSink;
use capsule_device::runtime::{self, Event, LoopConfig};
use capsule_e2e::tiny_mirror;
use std::path::Path;

fn capsule(data: &Path, args: &[&str]) {
    let mut all = vec![
        "capsule".to_string(),
        "--data-dir".into(),
        data.display().to_string(),
    ];
    all.extend(args.iter().map(|s| s.to_string()));
    capsule_device::cli::run(all).unwrap();
}

/// A wardrobe of the first three shirts/tops and a slideshow of those three and two others.
fn setup(
    dir: &Path,
) -> (
    std::path::PathBuf,
    std::path::PathBuf,
    Vec<std::path::PathBuf>,
) {
    let (data, model, photos, slides) = (
        dir.join("data"),
        dir.join("embedder.onnx"),
        dir.join("photos"),
        dir.join("slides"),
    );
    capsule_e2e::write_tiny_embedder(&model);
    capsule_e2e::garment_photos(&photos, 14);
    let mut pictures: Vec<_> = ["top", "bottom", "shoes", "dress", "bag"]
        .iter()
        .map(|t| {
            std::fs::read_dir(photos.join(t))
                .unwrap()
                .map(|e| e.unwrap().path())
                .min()
                .unwrap()
        })
        .collect();
    pictures.sort();
    std::fs::create_dir_all(&slides).unwrap();
    for (i, p) in pictures.iter().enumerate() {
        std::fs::copy(p, slides.join(format!("{i:02}.jpg"))).unwrap();
    }
    let m = model.display().to_string();
    for p in &pictures[..3] {
        capsule(
            &data,
            &[
                "wardrobe",
                "add",
                &p.display().to_string(),
                "--type",
                "top",
                "--name",
                &p.file_stem().unwrap().to_string_lossy(),
                "--embedder",
                &m,
            ],
        );
    }
    (data, model, pictures)
}

#[test]
fn slideshow_is_recognised_and_drawn() {
    let dir = tempfile::tempdir().unwrap();
    let (data, model, pictures) = setup(dir.path());
    let mut mirror = tiny_mirror(&data, &model, 0.999);
    let screen = dir.path().join("screen.png");
    let mut sink = PngSink::new(&screen, 480, 320);
    let mut source = ImageDir::open(&dir.path().join("slides"), 6, false).unwrap();
    let mut best = Vec::new();
    let stats = runtime::run(
        &mut source,
        &mut mirror,
        &mut sink,
        &LoopConfig::default(),
        |e| {
            if let Event::Identified { identification, .. } = e {
                best.push(
                    identification
                        .top
                        .first()
                        .map(|m| (m.name.clone(), m.similarity)),
                );
            }
        },
    )
    .unwrap();
    assert_eq!(stats.frames, 30);
    assert_eq!(
        stats.steady_views, 5,
        "one embedding per picture held still"
    );
    for (i, p) in pictures[..3].iter().enumerate() {
        let (name, similarity) = best[i].clone().unwrap();
        assert_eq!(name, p.file_stem().unwrap().to_string_lossy(), "slide {i}");
        assert!(similarity > 0.999);
    }
    assert!(image::open(&screen).is_ok());

    // The same through the command line, with a broken picture in the show.
    std::fs::write(dir.path().join("slides/02b.jpg"), b"broken").unwrap();
    let s = dir.path().join("cli-screen.png");
    capsule(
        &data,
        &[
            "run",
            "--source",
            &dir.path().join("slides").display().to_string(),
            "--hold",
            "6",
            "--embedder",
            &model.display().to_string(),
            "--screen",
            &s.display().to_string(),
            "--json",
        ],
    );
    assert!(image::open(&s).is_ok());
}

#[test]
fn corrupt_frames_in_a_recording_are_counted_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let (data, model, pictures) = setup(dir.path());
    let mut stream = Vec::new();
    for _ in 0..5 {
        stream.extend(std::fs::read(&pictures[0]).unwrap());
    }
    stream.extend_from_slice(&[0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0xFF, 0xD9]);
    for _ in 0..5 {
        stream.extend(std::fs::read(&pictures[1]).unwrap());
    }
    let recording = dir.path().join("camera.mjpeg");
    std::fs::write(&recording, stream).unwrap();
    let mut mirror = tiny_mirror(&data, &model, 0.8);
    let mut sink = PngSink::new(&dir.path().join("s.png"), 240, 240);
    let mut source = RecordedStream::open(&recording, StreamFormat::Mjpeg).unwrap();
    let stats = runtime::run(
        &mut source,
        &mut mirror,
        &mut sink,
        &LoopConfig::default(),
        |_| {},
    )
    .unwrap();
    assert_eq!((stats.frames, stats.bad_frames), (11, 1));
    assert_eq!(stats.steady_views, 2);
    assert_eq!(stats.recognised + stats.new_garments, 2);

    // A display that cannot be written is reported each time and the loop goes on.
    let mut source = RecordedStream::open(&recording, StreamFormat::Mjpeg).unwrap();
    let mut broken = PngSink::new(&dir.path().join("missing-dir/\0/s.png"), 240, 240);
    let stats = runtime::run(
        &mut source,
        &mut mirror,
        &mut broken,
        &LoopConfig::default(),
        |_| {},
    )
    .unwrap();
    assert!(stats.display_failures >= 2);
    assert_eq!(stats.frames, 11);
}

#[test]
fn bench_times_embedding_and_search() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("embedder.onnx");
    capsule_e2e::write_tiny_embedder(&model);
    let data = dir.path().join("data");
    let mut args = vec![
        "capsule".to_string(),
        "--data-dir".into(),
        data.display().to_string(),
    ];
    args.extend(
        [
            "bench",
            "--embedder",
            &model.display().to_string(),
            "--pictures",
            "3",
            "--wardrobes",
            "10,100",
            "--json",
        ]
        .map(String::from),
    );
    let said = capsule_device::cli::run_captured(args).unwrap();
    let report: serde_json::Value = serde_json::from_str(&said).unwrap();
    // A positive median and p90 ≥ median for the frame timing and each wardrobe size.
    let well_formed = |t: &serde_json::Value| {
        let (median, p90) = (
            t["median_ms"].as_f64().unwrap(),
            t["p90_ms"].as_f64().unwrap(),
        );
        median > 0.0 && p90 >= median
    };
    assert!(well_formed(&report["embed"]), "{report}");
    let identify = report["identify"].as_array().unwrap();
    let sizes: Vec<u64> = identify.iter().map(|e| e[0].as_u64().unwrap()).collect();
    assert_eq!(sizes, [10, 100]);
    assert!(identify.iter().all(|e| well_formed(&e[1])), "{report}");
    // Without a bundle there is no stylist or per-precision table to time.
    assert!(report["embedders"].as_array().unwrap().is_empty());
    assert!(report["stylist"].as_array().unwrap().is_empty());
}
