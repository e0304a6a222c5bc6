//! Fault injection, the bad-input matrix: a camera that disappears and comes back (or never
//! does), frames of the wrong size and format, a disk that fills while saving, a data
//! directory that cannot be written, a model file that vanishes, a Polyvore set whose item
//! ids point outside it. Each gives a clear error naming what failed, and the frame loop
//! goes on or the command exits cleanly, as docs/reliability.md says.

mod common;

use capsule_device::app::import_polyvore;
use capsule_device::camera::{CameraError, Frame, FrameSource, ImageDir};
use capsule_device::display::PngSink;
use capsule_device::engine::{Embedder, check_bundle};
use capsule_device::runtime::{self, Event, LoopConfig};
use capsule_device::update::slots::Slots;
use capsule_device::wardrobe::WardrobeStore;
use std::path::{Path, PathBuf};

/// A real slideshow whose camera "unplugs" for a stretch of calls: from call `from`, the
/// next `outage` calls fail the way a lost V4L2 device does.
struct Unplugged {
    inner: ImageDir,
    calls: u64,
    from: u64,
    outage: u64,
}

impl FrameSource for Unplugged {
    fn next_frame(&mut self) -> Result<Option<Frame>, CameraError> {
        self.calls += 1;
        if (self.from..self.from + self.outage).contains(&self.calls) {
            return Err(CameraError::Device {
                device: "/dev/video0".into(),
                problem: "No such device (os error 19); reconnecting".into(),
            });
        }
        self.inner.next_frame()
    }

    fn name(&self) -> String {
        "camera /dev/video0".into()
    }
}

fn slides(dir: &Path) -> PathBuf {
    let slides = dir.join("slides");
    for i in 0..3 {
        common::write_picture(&slides.join(format!("{i}.png")), i);
    }
    slides
}

fn run_loop(source: &mut dyn FrameSource, screen: &Path) -> (Result<u64, String>, Vec<String>) {
    let data = tempfile::tempdir().unwrap();
    let mut mirror = common::tiny_mirror(data.path());
    let mut sink = PngSink::new(screen, 120, 80);
    let mut problems = Vec::new();
    let result = runtime::run(
        source,
        &mut mirror,
        &mut sink,
        &LoopConfig {
            max_consecutive_failures: 10,
            ..LoopConfig::default()
        },
        |e| {
            if let Event::Problem(p) = e {
                problems.push(p.clone());
            }
        },
    );
    (
        result
            .map(|s| {
                assert_eq!(s.source_failures, problems.len() as u64, "{problems:?}");
                s.frames
            })
            .map_err(|e| e.to_string()),
        problems,
    )
}

#[test]
fn camera_that_disappears_and_returns_is_waited_for() {
    let tmp = tempfile::tempdir().unwrap();
    let screen = tmp.path().join("screen.png");
    let mut source = Unplugged {
        inner: ImageDir::open(&slides(tmp.path()), 5, false).unwrap(),
        calls: 0,
        from: 4,
        outage: 9,
    };
    let (frames, problems) = run_loop(&mut source, &screen);
    assert_eq!(frames, Ok(15), "every slide frame is still shown");
    assert_eq!(problems.len(), 9);
    assert!(problems[0].contains("/dev/video0"), "{problems:?}");
    // The camera screen told the owner; the last screen is a normal one again.
    assert!(image::open(&screen).is_ok());

    // A camera that never comes back stops the loop with an error naming it.
    let mut gone = Unplugged {
        inner: ImageDir::open(&slides(tmp.path()), 5, false).unwrap(),
        calls: 0,
        from: 2,
        outage: u64::MAX / 2,
    };
    let (result, _) = run_loop(&mut gone, &screen);
    let error = result.unwrap_err();
    assert!(
        error.contains("10 failures in a row of camera /dev/video0")
            && error.contains("No such device"),
        "{error}"
    );
}

/// `capsule run` on `source` with the test embedder; returns (success, stdout, stderr).
fn capsule_run(dir: &Path, source: &Path, extra: &[&str]) -> (bool, String, String) {
    let model = common::tiny_embedder(dir);
    let screen = dir.join("screen.png").display().to_string();
    let mut args = vec![
        "run",
        "--source",
        source.to_str().unwrap(),
        "--embedder",
        &model,
        "--screen",
        &screen,
    ];
    args.extend_from_slice(extra);
    let out = common::run_capsule(&dir.join("data"), &args);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        common::stderr(&out),
    )
}

#[test]
fn frames_of_the_wrong_size_or_format_are_counted_and_skipped() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // Four 16x8 YUYV frames read as 16x12: two whole frames and a short one, which is
    // counted; the run ends cleanly at the end of the file.
    let picture = image::RgbImage::from_pixel(16, 8, image::Rgb([10, 200, 30]));
    let frame = capsule_device::camera::decode::encode_yuyv(&picture);
    let yuyv = dir.join("stream.yuyv");
    std::fs::write(&yuyv, frame.repeat(4)).unwrap();
    let (ok, stdout, stderr) = capsule_run(dir, &yuyv, &["--yuyv-size", "16x12", "--json"]);
    assert!(ok, "{stderr}");
    assert!(stderr.contains("needs 384 bytes, got 256"), "{stderr}");
    assert!(stdout.contains(r#""bad_frames":1"#), "{stdout}");
    // A size no YUYV frame can have is refused when the recording opens.
    let (ok, _, stderr) = capsule_run(dir, &yuyv, &["--yuyv-size", "15x8"]);
    assert!(!ok);
    assert!(stderr.contains("YUYV width 15 must be even"), "{stderr}");
    // A claimed size too large to allocate is refused before any buffer is made.
    let (ok, _, stderr) = capsule_run(dir, &yuyv, &["--yuyv-size", "100000x100000"]);
    assert!(!ok);
    assert!(
        stderr.contains("stream.yuyv") && stderr.contains("larger than"),
        "{stderr}"
    );
    // An MJPEG recording holding a PNG, garbage and a good frame of another size.
    let mut png = Vec::new();
    picture
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let mut mjpeg = vec![0xFF, 0xD8];
    mjpeg.extend(&png);
    mjpeg.extend([0xFF, 0xD9, 0xFF, 0xD8, 1, 2, 3, 0xFF, 0xD9]);
    image::codecs::jpeg::JpegEncoder::new(&mut mjpeg)
        .encode_image(&image::RgbImage::from_pixel(64, 48, image::Rgb([9, 9, 9])))
        .unwrap();
    let stream = dir.join("stream.mjpeg");
    std::fs::write(&stream, mjpeg).unwrap();
    let (ok, stdout, stderr) = capsule_run(dir, &stream, &["--json"]);
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains("frame 0") && stderr.contains("frame 1"),
        "{stderr}"
    );
    assert!(stdout.contains(r#""bad_frames":2"#), "{stdout}");
    assert!(stdout.contains(r#""frames":3"#), "{stdout}");
}

/// Runs a shell command line with the file-size limit at `blocks` × 512 bytes; writes past
/// it fail with EFBIG, as a full disk fails them with ENOSPC (SIGXFSZ is ignored, so the
/// write returns the error instead of killing the process).
fn with_file_size_limit(blocks: u32, data: &Path, args: &[&str]) -> std::process::Output {
    let mut line = format!(
        "trap '' XFSZ; ulimit -f {blocks}; exec {} \"$0\" --data-dir \"{}\"",
        common::runner().join(" "),
        data.display()
    );
    for a in args {
        line.push_str(&format!(" '{a}'"));
    }
    std::process::Command::new("sh")
        .arg("-c")
        .arg(line)
        .arg(env!("CARGO_BIN_EXE_capsule"))
        .output()
        .unwrap()
}

#[test]
fn a_full_disk_while_saving_is_an_error_and_loses_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let data = dir.join("data");
    let model = common::tiny_embedder(dir);
    let picture = dir.join("garment.png");
    common::write_picture(&picture, 1);
    let add = |name: &str| {
        vec![
            "wardrobe".to_string(),
            "add".into(),
            picture.display().to_string(),
            "--type".into(),
            "top".into(),
            "--name".into(),
            name.into(),
            "--embedder".into(),
            model.clone(),
        ]
    };
    let first = add("first");
    let out = common::run_capsule(&data, &first.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(out.status.success(), "{}", common::stderr(&out));

    // No file may grow past 512 bytes: adding fails, clearly.
    let second = add("second");
    let args: Vec<&str> = second.iter().map(String::as_str).collect();
    let out = with_file_size_limit(1, &data, &args);
    let stderr = common::stderr(&out);
    assert!(!out.status.success(), "the add cannot have been stored");
    assert!(
        stderr.contains("too large") || stderr.contains("No space"),
        "{stderr}"
    );
    let garments = WardrobeStore::open(&data).unwrap().garments().unwrap();
    assert_eq!(
        garments.iter().map(|g| g.name.as_str()).collect::<Vec<_>>(),
        ["first"],
        "the acknowledged garment survives, the failed one left nothing"
    );

    // `capsule run` opens the store with a write transaction, so on a full disk it stops
    // at start-up with the store's error (docs/reliability.md); the display's own write
    // failures are exercised in the read-only test below.
    let slides = slides(dir);
    let screen = dir.join("screen.png").display().to_string();
    let run = [
        "run",
        "--source",
        slides.to_str().unwrap(),
        "--embedder",
        &model,
        "--screen",
        &screen,
    ];
    let out = with_file_size_limit(1, &dir.join("other-data"), &run);
    let stderr = common::stderr(&out);
    assert!(!out.status.success());
    assert!(
        stderr.contains("wardrobe.redb") && stderr.contains("too large"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_data_directory_that_cannot_be_written_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    // A path under a regular file: no user, root included, can create it.
    let blocker = tmp.path().join("not-a-directory");
    std::fs::write(&blocker, b"x").unwrap();
    let data = blocker.join("data");
    let picture = tmp.path().join("garment.png");
    common::write_picture(&picture, 2);
    let model = common::tiny_embedder(tmp.path());
    let bundle = tmp.path().join("bundle");
    common::write_bundle(&bundle, 1);
    let key = common::public_key();
    let commands: [Vec<&str>; 3] = [
        vec![
            "wardrobe",
            "add",
            picture.to_str().unwrap(),
            "--type",
            "top",
            "--name",
            "x",
            "--embedder",
            &model,
        ],
        vec!["feedback", "accept", "g1+g2"],
        vec![
            "update",
            "apply",
            bundle.to_str().unwrap(),
            "--trusted-key",
            &key,
        ],
    ];
    for args in &commands {
        let out = common::run_capsule(&data, args);
        let stderr = common::stderr(&out);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(stderr.contains("not-a-directory"), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    // A screen that cannot be written (procfs refuses new files): reported, the loop runs.
    let slides = slides(tmp.path());
    let model = common::tiny_embedder(tmp.path());
    let out = common::run_capsule(
        &tmp.path().join("data"),
        &[
            "run",
            "--source",
            slides.to_str().unwrap(),
            "--embedder",
            &model,
            "--screen",
            "/proc/capsule-screen.png",
            "--json",
        ],
    );
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), common::stderr(&out));
    assert!(out.status.success(), "{stderr}");
    assert!(!stdout.contains(r#""display_failures":0"#), "{stdout}");
    assert!(stderr.contains("/proc/capsule-screen.png"), "{stderr}");
    assert!(stdout.contains(r#""frames":15"#), "{stdout}");
}

#[test]
fn a_model_file_that_vanishes_is_reported_and_an_update_repairs_it() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let key = common::public_key();
    let apply = |version: u64| {
        let bundle = tmp.path().join(format!("bundle-{version}"));
        common::write_bundle(&bundle, version);
        common::run_capsule(
            &data,
            &[
                "update",
                "apply",
                bundle.to_str().unwrap(),
                "--trusted-key",
                &key,
            ],
        )
    };
    assert!(apply(1).status.success());
    let slots = Slots::new(&data);
    let active = slots.active_bundle().unwrap().unwrap();
    let model = active.dir.join(common::EMBEDDER_FILE);
    std::fs::remove_file(&model).unwrap();

    // Status names the missing file; running on it is a clear error, not a crash.
    let out = common::run_capsule(&data, &["update", "status"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(common::EMBEDDER_FILE), "{stdout}");
    let slides = slides(tmp.path());
    let out = common::run_capsule(
        &data,
        &[
            "run",
            "--source",
            slides.to_str().unwrap(),
            "--embedder",
            model.to_str().unwrap(),
        ],
    );
    let stderr = common::stderr(&out);
    assert!(!out.status.success());
    assert!(
        stderr.contains("cannot load model") && stderr.contains(common::EMBEDDER_FILE),
        "{stderr}"
    );
    // Rolling back to nothing is refused; a newer bundle installs and runs again, and an
    // older one is still refused (downgrade protection survives the broken slot).
    let out = apply(1);
    assert!(
        common::stderr(&out).contains("not newer"),
        "{}",
        common::stderr(&out)
    );
    let out = apply(2);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let active = slots.active_bundle().unwrap().unwrap();
    assert_eq!(active.manifest.bundle_version, 2);
    check_bundle(&active, 1).unwrap();
}

#[test]
fn polyvore_item_ids_cannot_reach_pictures_outside_the_set() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("set");
    std::fs::create_dir_all(root.join("images")).unwrap();
    std::fs::create_dir_all(root.join("nondisjoint")).unwrap();
    // A picture beside the set, which an id like `../../secret` would otherwise reach.
    common::write_picture(&tmp.path().join("secret.jpg"), 5);
    common::write_picture(&root.join("images/1.jpg"), 6);
    std::fs::write(
        root.join("polyvore_item_metadata.json"),
        r#"{"1": {"title": "shirt", "category_id": "11", "semantic_category": "tops"},
            "../../secret": {"title": "secret", "category_id": "11", "semantic_category": "tops"}}"#,
    )
    .unwrap();
    std::fs::write(
        root.join("nondisjoint/train.json"),
        r#"[{"set_id": "s", "items": [{"item_id": "1", "index": 1}, {"item_id": "../../secret", "index": 2}]}]"#,
    )
    .unwrap();
    let store = WardrobeStore::open(&tmp.path().join("data")).unwrap();
    let mut embedder = Embedder::load(&common::model_path(), &Default::default(), 1).unwrap();
    let summary = import_polyvore(&root, &store, None, 0, &mut embedder).unwrap();
    assert_eq!(summary.garments, 1);
    assert!(
        summary
            .skipped
            .iter()
            .any(|s| s.contains("not a plain file name")),
        "{:?}",
        summary.skipped
    );
}
