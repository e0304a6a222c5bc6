//! The running mirror owns the wardrobe: `capsule run`'s frame loop serves the commands sent
//! to its socket between frames, so a `capsule feedback reject` given from another shell
//! changes the very next suggestion it draws, and `wardrobe` commands reach it too; `capsule
//! update apply` makes it reload its models without a restart, or switch back when the new
//! ones will not run.

use capsule_device::app::{Mirror, ModelSource, Models, Outfits};
use capsule_device::camera::{CameraError, Frame, FrameSource, read_picture};
use capsule_device::daemon::{SOCKET_FILE, Server};
use capsule_device::display::PngSink;
use capsule_device::input::Inputs;
use capsule_device::runtime::{self, Event, LoopConfig};
use capsule_e2e::{capsule, capsule_result, copy_dir, host, install_demo, resign};
use image::RgbImage;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::Duration;

/// A camera the test holds: it shows the last picture it was given, frame after frame, and
/// ends when the test hangs up.
struct HeldCamera {
    pictures: Receiver<RgbImage>,
    current: RgbImage,
    sequence: u64,
}

impl FrameSource for HeldCamera {
    fn next_frame(&mut self) -> Result<Option<Frame>, CameraError> {
        match self.pictures.recv_timeout(Duration::from_millis(5)) {
            Ok(picture) => self.current = picture,
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return Ok(None),
        }
        self.sequence += 1;
        Ok(Some(Frame {
            image: self.current.clone(),
            sequence: self.sequence,
        }))
    }

    fn name(&self) -> String {
        "the test's camera".into()
    }
}

/// Runs the mirror over `data` in a thread; returns where to send pictures and where its
/// suggestions (outfit keys) arrive.
fn start_daemon(
    data: PathBuf,
) -> (
    Sender<RgbImage>,
    Receiver<Vec<String>>,
    std::thread::JoinHandle<()>,
) {
    let (camera, suggestions, _, thread) = start_daemon_announcing(data);
    (camera, suggestions, thread)
}

/// [`start_daemon`], also returning where the mirror's announcements (title: detail) arrive.
fn start_daemon_announcing(
    data: PathBuf,
) -> (
    Sender<RgbImage>,
    Receiver<Vec<String>>,
    Receiver<String>,
    std::thread::JoinHandle<()>,
) {
    let (pictures, camera_side) = mpsc::channel();
    let (suggested, suggestions) = mpsc::channel();
    let (announced, announcements) = mpsc::channel();
    let (ready, is_ready) = mpsc::channel();
    let thread = std::thread::spawn(move || {
        let models = Models::open(&data, None, ModelSource::Active).unwrap();
        let mut mirror = Mirror::open(&data, models, Outfits::Required).unwrap();
        let server = Server::bind(&data).unwrap();
        ready.send(()).unwrap();
        let mut camera = HeldCamera {
            pictures: camera_side,
            current: RgbImage::new(64, 64),
            sequence: 0,
        };
        let mut sink = PngSink::new(&data.join("screen.png"), 480, 320);
        runtime::serve(
            &mut camera,
            &mut mirror,
            &mut sink,
            &mut Inputs::default(),
            &LoopConfig::default(),
            &mut |between| {
                server.serve_pending(between.mirror);
            },
            |event| {
                // Only outfits around a wardrobe garment: the blank frame `hold_up` shows
                // between two holds is a garment the mirror has not seen, and its outfits
                // are not the ones the test asks about.
                match event {
                    Event::Suggested {
                        outfits,
                        anchor: Some(_),
                        ..
                    } => {
                        let keys = outfits.iter().map(|o| o.key.clone()).collect();
                        let _ = suggested.send(keys);
                    }
                    Event::Announced { title, detail } => {
                        let _ = announced.send(format!("{title}: {detail}"));
                    }
                    _ => {}
                }
            },
        )
        .unwrap();
    });
    is_ready.recv().unwrap();
    (pictures, suggestions, announcements, thread)
}

/// Holds `photo` up after something else was in view, and waits for the outfits drawn.
fn hold_up(
    camera: &Sender<RgbImage>,
    photo: &RgbImage,
    suggestions: &Receiver<Vec<String>>,
) -> Vec<String> {
    camera
        .send(RgbImage::from_pixel(
            photo.width(),
            photo.height(),
            image::Rgb([30, 30, 30]),
        ))
        .unwrap();
    std::thread::sleep(Duration::from_millis(50));
    camera.send(photo.clone()).unwrap();
    suggestions
        .recv_timeout(Duration::from_secs(30))
        .expect("the mirror suggests outfits for the garment held up")
}

#[test]
fn feedback_sent_to_the_running_mirror_changes_its_next_suggestion() {
    let tmp = tempfile::tempdir().unwrap();
    // The shipped bundle and demo wardrobe, installed as the demo does.
    let data = install_demo(tmp.path());
    let photo = read_picture(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/demo-wardrobe/camera.jpg"),
    )
    .unwrap();
    let (camera, suggestions, thread) = start_daemon(data.clone());
    let socket = data.join(SOCKET_FILE);
    let mode = std::fs::metadata(&socket).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o660, "owner and group only");

    let first = hold_up(&camera, &photo, &suggestions);
    assert!(!first.is_empty());
    let rejected = first[0].clone();
    // From another "shell": the command finds the running mirror and it answers.
    let said = capsule(&data, &["feedback", "reject", &rejected, "--json"]);
    let said: serde_json::Value = serde_json::from_str(&said).unwrap();
    assert_eq!(said["verdict"], "reject", "{said}");
    let next = hold_up(&camera, &photo, &suggestions);
    assert!(!next.is_empty());
    assert!(
        !next.contains(&rejected),
        "the rejected outfit {rejected} came back: {next:?}"
    );

    // Wardrobe commands reach it too: a garment put in the laundry leaves its outfits (the
    // first id of a key is the garment held up; the second is one dressed around it).
    let garment = next[0].split('+').nth(1).unwrap().to_string();
    capsule(&data, &["wardrobe", "set-status", &garment, "in-laundry"]);
    let listed: serde_json::Value =
        serde_json::from_str(&capsule(&data, &["wardrobe", "list", "--json"])).unwrap();
    let entry = listed["garments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] == garment.as_str())
        .unwrap()
        .clone();
    assert_eq!(entry["status"], "in-laundry", "{entry}");
    let after = hold_up(&camera, &photo, &suggestions);
    assert!(
        after
            .iter()
            .all(|key| !key.split('+').any(|g| g == garment)),
        "{garment} is in the laundry but still suggested: {after:?}"
    );

    drop(camera);
    thread.join().unwrap();
    assert!(!socket.exists(), "the socket goes with the mirror");
    // With no mirror running, the same command works on the store itself.
    capsule(&data, &["wardrobe", "set-status", &garment, "available"]);
}

/// `capsule ARGS` that must fail: its error chain.
fn capsule_fails(data: &Path, args: &[&str]) -> String {
    match capsule_result(data, args) {
        Ok(out) => panic!("capsule {args:?} succeeded: {out}"),
        Err(e) => e,
    }
}

fn slots_json(data: &Path) -> serde_json::Value {
    serde_json::from_str(&capsule(data, &["update", "status", "--json"])).unwrap()
}

fn active_version(status: &serde_json::Value) -> serde_json::Value {
    status["slots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["active"] == true)
        .map(|s| s["bundle_version"].clone())
        .unwrap_or_default()
}

#[test]
fn an_update_sent_to_the_running_mirror_is_loaded_without_a_restart_or_rolled_back() {
    let tmp = tempfile::tempdir().unwrap();
    let data = install_demo(tmp.path());
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/default");
    let photo = read_picture(&shipped.join("../demo-wardrobe/camera.jpg")).unwrap();
    let key = tmp.path().join("keys/bundle.key");
    host(&["keygen", "--out", key.to_str().unwrap()]);
    let public = std::fs::read_to_string(capsule_host::bundle::public_path(&key)).unwrap();
    let public = public.trim();
    // Bundle 2 ships only the int8 embedder: another embedder, so the wardrobe must be
    // embedded again. Bundle 3 has no stylist, which this mirror (outfits required) needs:
    // it passes every check of the update and still cannot run here.
    let v2 = tmp.path().join("bundle-2");
    copy_dir(&shipped, &v2);
    resign(&v2, &key, |m| {
        m["bundle_version"] = 2.into();
        m["models"]
            .as_array_mut()
            .unwrap()
            .retain(|e| !(e["role"] == "embedder" && e["precision"] == "f32"));
    });
    let v3 = tmp.path().join("bundle-3");
    copy_dir(&shipped, &v3);
    resign(&v3, &key, |m| {
        m["bundle_version"] = 3.into();
        m["models"]
            .as_array_mut()
            .unwrap()
            .retain(|e| e["role"] == "embedder");
        m.as_object_mut().unwrap().remove("stylist");
    });
    let garments =
        serde_json::from_str::<serde_json::Value>(&capsule(&data, &["wardrobe", "list", "--json"]))
            .unwrap()["garments"]
            .as_array()
            .unwrap()
            .len();

    let (camera, suggestions, announcements, thread) = start_daemon_announcing(data.clone());
    assert!(!hold_up(&camera, &photo, &suggestions).is_empty());
    assert_eq!(
        slots_json(&data)["running"],
        1,
        "the daemon says what it runs"
    );

    let said = capsule(
        &data,
        &[
            "update",
            "apply",
            v2.to_str().unwrap(),
            "--trusted-key",
            public,
            "--json",
        ],
    );
    let said: serde_json::Value = serde_json::from_str(&said).unwrap();
    assert_eq!(said["bundle_version"], 2, "{said}");
    assert_eq!(said["running"], true, "reloaded in place: {said}");
    assert_eq!(said["previous"]["bundle_version"], 1, "{said}");
    let views = said["reembedded"]["views"].as_u64().unwrap() as usize;
    assert!(views >= garments, "every garment embedded again: {said}");
    assert_eq!(said["reembedded"]["from_thumbnails"], 0, "{said}");
    let told = announcements.recv_timeout(Duration::from_secs(30)).unwrap();
    assert!(
        told.contains("Models updated") && told.contains("bundle 2"),
        "{told}"
    );
    assert_eq!(slots_json(&data)["running"], 2);
    // The new embedder still knows the wardrobe: the garment held up is one of it.
    assert!(!hold_up(&camera, &photo, &suggestions).is_empty());

    // Rolling back reloads too, and embeds the wardrobe with bundle 1's embedder again.
    let back: serde_json::Value =
        serde_json::from_str(&capsule(&data, &["update", "rollback", "--json"])).unwrap();
    assert_eq!(back["bundle_version"], 1, "{back}");
    assert_eq!(back["running"], true, "{back}");
    assert!(back["reembedded"]["views"].as_u64().unwrap() as usize >= garments);
    let told = announcements.recv_timeout(Duration::from_secs(30)).unwrap();
    assert!(told.contains("rolled back"), "{told}");
    assert_eq!(slots_json(&data)["running"], 1);

    // Bundle 3 goes into the slot bundle 2 was in, is loaded, fails, and the slots switch
    // back: the mirror never stopped running bundle 1.
    let refused = capsule_fails(
        &data,
        &[
            "update",
            "apply",
            v3.to_str().unwrap(),
            "--trusted-key",
            public,
        ],
    );
    assert!(
        refused.contains("bundle 3") && refused.contains("switched back to bundle 1"),
        "{refused}"
    );
    assert!(
        refused.contains("no stylist"),
        "the reason is given: {refused}"
    );
    let told = announcements.recv_timeout(Duration::from_secs(30)).unwrap();
    assert!(
        told.contains("Update not installed") && told.contains("Still on bundle 1"),
        "{told}"
    );
    let status = slots_json(&data);
    assert_eq!(status["running"], 1, "{status}");
    assert_eq!(
        active_version(&status),
        1,
        "the next start runs bundle 1 too: {status}"
    );
    assert!(
        !hold_up(&camera, &photo, &suggestions).is_empty(),
        "still suggesting"
    );

    drop(camera);
    thread.join().unwrap();
    // With no mirror running, status reads the slots alone.
    let status = slots_json(&data);
    assert_eq!(status["running"], serde_json::Value::Null, "{status}");
    assert_eq!(active_version(&status), 1);
}
