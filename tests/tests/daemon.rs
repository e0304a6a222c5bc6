//! The running mirror owns the wardrobe: `capsule run`'s frame loop serves the commands sent
//! to its socket between frames, so a `capsule feedback reject` given from another shell
//! changes the very next suggestion it draws, and `wardrobe` commands reach it too.

use capsule_device::app::{Mirror, ModelSource, Models, Outfits};
use capsule_device::camera::{CameraError, Frame, FrameSource, read_picture};
use capsule_device::daemon::{SOCKET_FILE, Server};
use capsule_device::display::PngSink;
use capsule_device::input::Inputs;
use capsule_device::runtime::{self, Event, LoopConfig};
use capsule_e2e::{capsule, install_demo};
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
    let (pictures, camera_side) = mpsc::channel();
    let (suggested, suggestions) = mpsc::channel();
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
                if let Event::Suggested {
                    outfits,
                    anchor: Some(_),
                    ..
                } = event
                {
                    let keys = outfits.iter().map(|o| o.key.clone()).collect();
                    let _ = suggested.send(keys);
                }
            },
        )
        .unwrap();
    });
    is_ready.recv().unwrap();
    (pictures, suggestions, thread)
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
