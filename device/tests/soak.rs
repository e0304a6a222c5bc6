//! Soak: the real `capsule run` loops over a short MJPEG recording (garments held still,
//! moved, and one corrupt frame per pass) with its memory sampled, for a fixed number of
//! frames. Every frame is accounted for, the only errors are the injected ones, the memory
//! log stays bounded and resident memory after warm-up does not grow.
//!
//! CI runs 3,000 frames; the full soak is
//! `CAPSULE_SOAK_FRAMES=100000 cargo test --release -p capsule-device --test soak -- --nocapture`
//! (results in docs/reliability.md).

mod common;

use capsule_device::runtime::soak::MAX_SAMPLES;

/// One pass of the recording: garment A held still, a move, garment B still, a corrupt
/// frame, another move. Returns the JPEG bytes and the index of the corrupt frame.
fn recording() -> (Vec<u8>, usize, usize) {
    let frame = |shade: u32, shift: u32| {
        let picture = image::RgbImage::from_fn(160, 120, |x, y| {
            let inside = (40..120).contains(&(x + shift)) && (20..100).contains(&y);
            if inside {
                image::Rgb([(shade * 3 % 256) as u8, (x * 2 % 256) as u8, shade as u8])
            } else {
                image::Rgb([30, 30, 30])
            }
        });
        let mut bytes = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 85)
            .encode_image(&picture)
            .unwrap();
        bytes
    };
    let mut frames: Vec<Vec<u8>> = Vec::new();
    frames.extend((0..10).map(|_| frame(200, 0)));
    frames.extend((0..6).map(|i| frame(120, i * 9)));
    frames.extend((0..10).map(|_| frame(60, 0)));
    let corrupt = frames.len();
    frames.push(vec![0xFF, 0xD8, 0x00, 0x01, 0x02, 0xFF, 0xD9]);
    frames.extend((0..6).map(|i| frame(90, 40 - i * 7)));
    let len = frames.len();
    (frames.concat(), corrupt, len)
}

#[test]
fn looping_recording_runs_every_frame_with_flat_memory() {
    let frames: u64 = std::env::var("CAPSULE_SOAK_FRAMES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    let tmp = tempfile::tempdir().unwrap();
    let (data, bundle) = (tmp.path().join("data"), tmp.path().join("bundle"));
    common::write_bundle(&bundle, 1);
    let model = bundle.join(common::EMBEDDER_FILE).display().to_string();
    let picture = tmp.path().join("garment.png");
    common::write_picture(&picture, 3);
    let added = common::run_capsule(
        &data,
        &[
            "wardrobe",
            "add",
            picture.to_str().unwrap(),
            "--type",
            "top",
            "--name",
            "shirt",
            "--embedder",
            &model,
        ],
    );
    assert!(added.status.success(), "{}", common::stderr(&added));
    let (bytes, corrupt, pass) = recording();
    let stream = tmp.path().join("stream.mjpeg");
    std::fs::write(&stream, bytes).unwrap();
    let (screen, log) = (tmp.path().join("screen.png"), tmp.path().join("rss.csv"));
    let frames_arg = frames.to_string();
    let output = common::run_capsule(
        &data,
        &[
            "run",
            "--source",
            stream.to_str().unwrap(),
            "--repeat",
            "--frames",
            &frames_arg,
            "--embedder",
            &model,
            "--screen",
            screen.to_str().unwrap(),
            "--rss-log",
            log.to_str().unwrap(),
            "--json",
        ],
    );
    let stderr = common::stderr(&output);
    assert!(output.status.success(), "{stderr}");
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let find = |key: &str| {
        lines
            .iter()
            .find_map(|l| l.get(key).cloned())
            .unwrap_or_else(|| panic!("no {key:?} line"))
    };
    let (stats, soak) = (find("stats"), find("soak"));
    eprintln!("soak of {frames} frames: {soak}\nstats: {stats}");

    let injected = (0..frames)
        .filter(|i| *i as usize % pass == corrupt)
        .count() as u64;
    assert_eq!(stats["frames"], frames);
    assert_eq!(
        stats["bad_frames"], injected,
        "only the injected frames are bad"
    );
    for counter in ["source_failures", "embed_failures", "display_failures"] {
        assert_eq!(stats[counter], 0, "{counter}: {stderr}");
    }
    assert!(stats["steady_views"].as_u64().unwrap() >= frames / pass as u64);
    // Every warning is one of the injected corrupt frames.
    let warnings = stderr.lines().filter(|l| l.starts_with("warning:")).count() as u64;
    assert_eq!(warnings, injected, "{stderr}");

    let samples = soak["samples"].as_u64().unwrap() as usize;
    assert!((2..=MAX_SAMPLES).contains(&samples), "{soak}");
    let csv = std::fs::read_to_string(&log).unwrap();
    assert!(csv.starts_with("frame,rss_kib\n"));
    // The log holds every sample but the final one `finish` adds.
    assert!(csv.lines().count() >= samples, "{csv}");
    // A leak of even one frame buffer (160x120 RGB, 56 KiB) per frame would pass this in
    // a few hundred frames; allocator noise stays far below it.
    let (warm, last) = (
        soak["rss_warm_kib"].as_u64().unwrap(),
        soak["rss_last_kib"].as_u64().unwrap(),
    );
    assert!(
        last <= warm + 16 * 1024,
        "memory grew from {warm} KiB to {last} KiB"
    );
}
