//! Draws every screen the mirror shows at every supported display size, from a real run:
//! the shipped bundle and demo wardrobe, the demo photo as the camera, and the owner's
//! presses acted on by the frame loop's own interaction (in a scratch wardrobe). The PNGs go to
//! `docs/screens/` (or the folder given), where the README shows them.
//!
//!     cargo run --release -p capsule-device --example draw_screens [-- OUT_DIR]

use anyhow::{Context, Result};
use capsule_device::app::{Mirror, ModelSource, Models, Outfits, import_polyvore};
use capsule_device::camera::read_picture;
use capsule_device::display::{PngSink, Screen, ScreenSink};
use capsule_device::input::{Action, InputEvent};
use capsule_device::preprocess::WHOLE_PICTURE;
use capsule_device::runtime::{GarmentInView, Interaction};
use capsule_device::wardrobe::WardrobeStore;
use std::path::{Path, PathBuf};

/// The sizes of the common kiosk displays: SPI panels (240×240, 320×240, 480×320) and the
/// official 7" touch display (800×480).
const SIZES: [(u32, u32); 4] = [(240, 240), (320, 240), (480, 320), (800, 480)];

fn main() -> Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = std::env::args()
        .nth(1)
        .map_or_else(|| root.join("docs/screens"), PathBuf::from);
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let scratch = tempfile::tempdir()?;
    let data = scratch.path();
    let models = Models::open(
        data,
        None,
        ModelSource::Bundle(&root.join("models/default")),
    )?;
    {
        let store = WardrobeStore::open(data)?;
        let mut embedder = models.embedder()?;
        import_polyvore(
            &root.join("models/demo-wardrobe"),
            &store,
            None,
            0,
            &mut embedder,
        )?;
    }
    let mut mirror = Mirror::open(data, models, Outfits::Required)?;
    let photo = read_picture(&root.join("models/demo-wardrobe/camera.jpg"))?;
    let recognition = mirror.recognise(&photo, WHOLE_PICTURE, 3)?;
    let best = recognition.identification.top.first().cloned();
    let view = image::imageops::thumbnail(recognition.view.picture(), 240, 240);
    let draw = |what: &str, screen: &Screen<'_>| -> Result<()> {
        for (w, h) in SIZES {
            let path = out.join(format!("{what}-{w}x{h}.png"));
            PngSink::new(&path, w, h).show(screen)?;
            println!("{}", path.display());
        }
        Ok(())
    };
    draw(
        "scanning",
        &Screen::Scanning {
            frame: &photo,
            status: "hold a garment still in front of the camera",
        },
    )?;
    draw(
        "recognised",
        &Screen::Recognised {
            picture: &view,
            name: best.as_ref().map_or("new garment", |m| m.name.as_str()),
            kind: best.as_ref().map_or("", |m| m.garment_type.as_str()),
            similarity: best.as_ref().map_or(0.0, |m| m.similarity),
            new: recognition.identification.new,
            controls: true,
        },
    )?;
    // What a mirror with a touch display shows, through the frame loop's own interaction:
    // the outfits, the next one selected, after a "no", and the "add" question.
    let anchor = mirror.anchor_for(&recognition, None)?;
    let outfits = mirror.outfits(&anchor, 3)?;
    let mut interaction = Interaction::new(true, 3);
    interaction.show(GarmentInView::new(
        recognition,
        view.clone(),
        anchor,
        outfits,
        true,
    ));
    let steps = [
        ("outfits", None),
        ("outfits-next", Some(Action::Next)),
        ("outfits-rejected", Some(Action::Reject)),
        ("add", Some(Action::Add)),
    ];
    for (what, action) in steps {
        if let Some(action) = action {
            interaction.act(&mut mirror, InputEvent::Action(action), (800, 480), 0)?;
        }
        if let Some(screen) = interaction.screen() {
            draw(what, &screen)?;
        }
    }
    draw(
        "message",
        &Screen::Message {
            title: "camera",
            detail: "camera /dev/video0 is not connected; retrying every 2 s",
        },
    )?;
    Ok(())
}
