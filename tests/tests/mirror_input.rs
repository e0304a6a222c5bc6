//! The mirror driven as its owner drives it, without hardware: the demo photo held up to the
//! camera (a slideshow of one picture) and a script of touches and presses on the 7" touch
//! display's layout. Everything goes through `capsule run` — frame loop, interaction, mirror
//! service, store — and the test reads back what changed and what was shown.

use capsule_device::display::{Hit, Press, Screen, ShownGarment, ShownOutfit, hits};
use capsule_device::garment::GarmentType;
use capsule_device::input::Action;
use capsule_device::wardrobe::{EdgeProvenance, GarmentId, WardrobeStore};
use capsule_e2e::{capsule, install_demo};
use embedded_graphics::prelude::{Point, Size};
use image::RgbImage;
use std::path::Path;

const SIZE: Size = Size::new(800, 480);

/// The centre of the place on `screen` that does `press`, as the owner would touch it.
fn centre_of(screen: &Screen<'_>, press: Press) -> Point {
    let found: Vec<Hit> = hits(screen, SIZE)
        .into_iter()
        .filter(|h| h.press == press)
        .collect();
    assert_eq!(found.len(), 1, "one place does {press:?}");
    found[0].area.center()
}

/// A desktop board with the official 7" display's size.
fn seven_inch_board(dir: &Path) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let text = std::fs::read_to_string(root.join("boards/desktop.toml")).unwrap();
    let text = text
        .replace("width = 480\nheight = 320", "width = 800\nheight = 480")
        .replace(
            "path = \"capsule-screen.png\"",
            &format!("path = \"{}\"", dir.join("screen.png").display()),
        );
    assert!(text.contains("width = 800\nheight = 480"));
    let path = dir.join("board.toml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn touches_and_presses_change_the_wardrobe_and_the_screens() {
    let dir = tempfile::tempdir().unwrap();
    let data = install_demo(dir.path());
    let board = seven_inch_board(dir.path());
    let store = WardrobeStore::open(&data).unwrap();
    let before = store.garments().unwrap();
    let edges_before = store.edges().unwrap().len();
    drop(store);
    let shirt = before.iter().find(|g| g.name == "grey shirt").unwrap().id;

    // Where the buttons and choices are on the 7" layout (the same geometry the mirror
    // draws with and matches touches against).
    let blank = RgbImage::new(8, 8);
    let card = ShownOutfit {
        key: String::new(),
        score: 0.5,
        why: String::new(),
        garments: vec![ShownGarment {
            id: GarmentId(1),
            name: String::new(),
            garment_type: GarmentType::Top,
        }],
        pictures: vec![blank.clone()],
    };
    let cards = vec![card; 3];
    let outfits = Screen::Outfits {
        picture: &blank,
        name: "",
        outfits: &cards,
        selected: 1,
        status: "",
        controls: true,
    };
    let no = centre_of(&outfits, Press::Action(Action::Reject));
    let choices: Vec<String> = (0..8).map(|i| i.to_string()).collect();
    let question = Screen::Choose {
        picture: &blank,
        question: "",
        choices: &choices,
        selected: 0,
    };
    // Choices: a view of the garment in view, then a new garment of each type, tops first.
    let new_top = centre_of(&question, Press::Pick(1));

    let script = dir.path().join("touches.txt");
    std::fs::write(
        &script,
        format!(
            "# the demo photo is steady and dressed within the first frames\n\
             8  press next\n\
             10 touch {} {}\n\
             12 press wore\n\
             14 press add\n\
             16 press accept\n\
             18 press add\n\
             20 touch {} {}\n\
             22 touch 5 5\n",
            no.x, no.y, new_top.x, new_top.y
        ),
    )
    .unwrap();
    let screens = dir.path().join("screens");
    let photo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/demo-wardrobe/camera.jpg");
    capsule(
        &data,
        &[
            "--board",
            &board,
            "run",
            "--source",
            &photo.display().to_string(),
            "--hold",
            "26",
            "--frames",
            "26",
            "--input",
            &script.display().to_string(),
            "--screen-log",
            &screens.display().to_string(),
        ],
    );

    let store = WardrobeStore::open(&data).unwrap();
    let garments = store.garments().unwrap();
    // "add", "ok" on the selected first choice: another view of the grey shirt.
    let views = store.views().unwrap();
    assert_eq!(
        views.iter().filter(|v| v.garment == shirt).count(),
        1,
        "the grey shirt got a second view"
    );
    // "add", then the "new top" choice touched: a new garment.
    assert_eq!(garments.len(), before.len() + 1);
    let added = garments
        .iter()
        .find(|g| !before.iter().any(|b| b.id == g.id))
        .unwrap();
    assert_eq!(added.garment_type, GarmentType::Top);
    assert!(added.name.starts_with("top "), "{}", added.name);
    // "no" on the second outfit, then "wore" on the first of the outfits shown after it.
    let edges = store.edges().unwrap();
    assert!(edges.len() > edges_before);
    let rejected: Vec<_> = edges
        .iter()
        .filter(|e| e.provenance == EdgeProvenance::Rejected)
        .collect();
    let worn: Vec<_> = edges
        .iter()
        .filter(|e| e.provenance == EdgeProvenance::Worn)
        .collect();
    assert!(
        !rejected.is_empty() && !worn.is_empty(),
        "{rejected:?} {worn:?}"
    );
    assert!(rejected.iter().any(|e| e.a == shirt || e.b == shirt));
    // The outfit worn after the "no" is not the one rejected: a rejected pair is never
    // suggested again.
    for r in &rejected {
        assert!(
            !worn.iter().any(|w| (w.a, w.b) == (r.a, r.b)),
            "a rejected pair came back: {r:?}"
        );
    }
    let shirt_now = garments.iter().find(|g| g.id == shirt).unwrap();
    assert!(shirt_now.last_worn_unix.is_some(), "wore it marks the day");

    // Every screen it drew is there, at the display's size.
    let mut drawn: Vec<_> = std::fs::read_dir(&screens)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    drawn.sort();
    assert!(drawn.len() >= 9, "{} screens drawn", drawn.len());
    for path in &drawn {
        assert_eq!(image::image_dimensions(path).unwrap(), (800, 480));
    }
}
