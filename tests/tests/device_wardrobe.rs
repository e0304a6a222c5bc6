//! End to end on the device side: import a folder of garment pictures with an embedder, list,
//! identify, change status, export and remove, all through the `capsule` command line.

use capsule_device::wardrobe::{GarmentStatus, WardrobeStore};
use std::path::Path;

fn capsule(data: &Path, args: &[&str]) -> anyhow::Result<()> {
    let mut all = vec![
        "capsule".to_string(),
        "--data-dir".into(),
        data.display().to_string(),
    ];
    all.extend(args.iter().map(|s| s.to_string()));
    capsule_device::cli::run(all)
}

#[test]
fn import_identify_update_export_remove() {
    let dir = tempfile::tempdir().unwrap();
    let (data, model) = (dir.path().join("data"), dir.path().join("embedder.onnx"));
    capsule_e2e::write_tiny_embedder(&model);
    capsule_e2e::garment_photos(&dir.path().join("photos"), 14);
    let m = model.display().to_string();
    capsule(
        &data,
        &[
            "wardrobe",
            "import",
            &dir.path().join("photos").display().to_string(),
            "--embedder",
            &m,
        ],
    )
    .unwrap();

    let store = WardrobeStore::open(&data).unwrap();
    let garments = store.garments().unwrap();
    assert_eq!(garments.len(), 14);
    assert!(
        garments
            .iter()
            .all(|g| g.embedding.len() == capsule_e2e::DIM)
    );
    assert!(
        store
            .garment(garments[0].id)
            .unwrap()
            .unwrap()
            .thumbnail_png
            .starts_with(b"\x89PNG")
    );
    drop(store);

    // The very picture a garment was added from is that garment.
    let photos = dir.path().join("photos/top");
    let first_top = std::fs::read_dir(&photos)
        .unwrap()
        .map(|e| e.unwrap().path())
        .min()
        .unwrap();
    capsule(
        &data,
        &[
            "identify",
            &first_top.display().to_string(),
            "--embedder",
            &m,
            "--json",
        ],
    )
    .unwrap();

    let id = garments[0].id.to_string();
    capsule(&data, &["wardrobe", "set-status", &id, "in-laundry"]).unwrap();
    let out = dir.path().join("export.json");
    capsule(
        &data,
        &["wardrobe", "export", "--out", &out.display().to_string()],
    )
    .unwrap();
    let exported: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(exported["garments"].as_array().unwrap().len(), 14);
    capsule(&data, &["wardrobe", "remove", &id]).unwrap();
    assert!(
        capsule(&data, &["wardrobe", "remove", &id]).is_err(),
        "removing twice is an error"
    );
    let store = WardrobeStore::open(&data).unwrap();
    assert_eq!(store.garments().unwrap().len(), 13);
    assert!(
        store
            .garments()
            .unwrap()
            .iter()
            .all(|g| g.status == GarmentStatus::Available)
    );
}

#[test]
fn a_garment_with_a_second_view_is_recognised_by_it() {
    let dir = tempfile::tempdir().unwrap();
    let (data, model) = (dir.path().join("data"), dir.path().join("embedder.onnx"));
    capsule_e2e::write_tiny_embedder(&model);
    // A folder import: `top/striped-shirt/` holds the shirt's front and back, `bottom/`
    // one picture per garment.
    let photos = dir.path().join("photos");
    let shirt = photos.join("top/striped-shirt");
    std::fs::create_dir_all(&shirt).unwrap();
    std::fs::create_dir_all(photos.join("bottom")).unwrap();
    let front = shirt.join("1-front.png");
    let back = shirt.join("2-back.png");
    image::RgbImage::from_fn(40, 40, |x, _| image::Rgb([200, (x * 5) as u8, 30]))
        .save(&front)
        .unwrap();
    image::RgbImage::from_fn(40, 40, |_, y| image::Rgb([20, 60, (y * 6) as u8]))
        .save(&back)
        .unwrap();
    image::RgbImage::from_fn(40, 40, |x, y| image::Rgb([90, (x * y % 200) as u8, 90]))
        .save(photos.join("bottom/green-skirt.png"))
        .unwrap();
    let m = model.display().to_string();
    let list = |data: &Path| -> serde_json::Value {
        let args = [
            "capsule",
            "--data-dir",
            &data.display().to_string(),
            "wardrobe",
            "list",
            "--json",
        ];
        let out = capsule_device::cli::run_captured(args.map(String::from).to_vec()).unwrap();
        serde_json::from_str(&out).unwrap()
    };
    let photos_arg = photos.display().to_string();
    capsule(
        &data,
        &["wardrobe", "import", &photos_arg, "--embedder", &m],
    )
    .unwrap();
    let listed = list(&data);
    let garments = listed["garments"].as_array().unwrap();
    assert_eq!(garments.len(), 2, "{listed}");
    let shirt_entry = garments
        .iter()
        .find(|g| g["name"] == "striped shirt")
        .unwrap();
    assert_eq!(shirt_entry["views"], 2, "{listed}");

    // A third view through `wardrobe add --to`, then recognition by the best view.
    let folded = dir.path().join("folded.png");
    image::RgbImage::from_fn(40, 40, |x, y| {
        image::Rgb([(x * 6) as u8, 240, (y * 3) as u8])
    })
    .save(&folded)
    .unwrap();
    let id = shirt_entry["id"].as_str().unwrap().to_string();
    let folded_arg = folded.display().to_string();
    capsule(
        &data,
        &[
            "wardrobe",
            "add",
            &folded_arg,
            "--to",
            &id,
            "--embedder",
            &m,
        ],
    )
    .unwrap();
    assert_eq!(
        list(&data)["garments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["id"] == id.as_str())
            .unwrap()["views"],
        3
    );
    let mut mirror = capsule_e2e::tiny_mirror(&data, &model, 0.99);
    for picture in [&front, &back, &folded] {
        let picture = image::open(picture).unwrap().to_rgb8();
        let result = mirror
            .recognise(&picture, capsule_device::preprocess::WHOLE_PICTURE, 2)
            .unwrap()
            .identification;
        assert_eq!(result.top[0].id.to_string(), id, "{result:?}");
        assert!(result.top[0].similarity > 0.999, "{result:?}");
        assert_eq!(result.top.len(), 2, "one entry per garment: {result:?}");
    }
    drop(mirror);
    // The export keeps the views; a view needs a garment that exists.
    let out = dir.path().join("export.json");
    capsule(
        &data,
        &["wardrobe", "export", "--out", &out.display().to_string()],
    )
    .unwrap();
    let exported: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(exported["views"].as_array().unwrap().len(), 2, "{exported}");
    let err = capsule(
        &data,
        &[
            "wardrobe",
            "add",
            &folded_arg,
            "--to",
            "g99",
            "--embedder",
            &m,
        ],
    )
    .unwrap_err();
    assert!(format!("{err:#}").contains("g99"), "{err:#}");
}

#[test]
fn identify_matches_the_same_picture_and_bad_input_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let (data, model) = (dir.path().join("data"), dir.path().join("embedder.onnx"));
    capsule_e2e::write_tiny_embedder(&model);
    let picture = dir.path().join("red.png");
    image::RgbImage::from_fn(40, 40, |x, _| image::Rgb([200, (x * 5) as u8, 30]))
        .save(&picture)
        .unwrap();
    let m = model.display().to_string();
    let p = picture.display().to_string();
    capsule(
        &data,
        &[
            "wardrobe",
            "add",
            &p,
            "--type",
            "top",
            "--name",
            "red top",
            "--embedder",
            &m,
        ],
    )
    .unwrap();

    let mut mirror = capsule_e2e::tiny_mirror(&data, &model, 0.99);
    let picture = image::open(&picture).unwrap().to_rgb8();
    let result = mirror
        .recognise(&picture, capsule_device::preprocess::WHOLE_PICTURE, 3)
        .unwrap()
        .identification;
    drop(mirror);
    assert!(!result.new);
    assert_eq!(result.top[0].name, "red top");
    assert!(result.top[0].similarity > 0.999);

    let bad = dir.path().join("bad.jpg");
    std::fs::write(&bad, b"not a jpeg").unwrap();
    let err = capsule(
        &data,
        &[
            "wardrobe",
            "add",
            &bad.display().to_string(),
            "--type",
            "top",
            "--name",
            "x",
            "--embedder",
            &m,
        ],
    )
    .unwrap_err();
    assert!(format!("{err:#}").contains("bad.jpg"), "{err:#}");
    assert!(
        capsule(
            &data,
            &[
                "wardrobe",
                "add",
                &p,
                "--type",
                "hat",
                "--name",
                "x",
                "--embedder",
                &m
            ]
        )
        .is_err()
    );
    assert!(capsule(&data, &["wardrobe", "set-status", "g999", "stored"]).is_err());
}

#[test]
fn polyvore_sets_import_as_garments_and_outfit_edges() {
    use capsule_host::data::polyvore::{PolyvoreDataset, Split, Variant};
    use std::collections::BTreeSet;
    let dir = tempfile::tempdir().unwrap();
    let (data, model, synth) = (
        dir.path().join("data"),
        dir.path().join("embedder.onnx"),
        dir.path().join("synth"),
    );
    capsule_e2e::write_tiny_embedder(&model);
    let config = capsule_host::synth::SynthConfig {
        garments: 40,
        views: 2,
        outfits: 20,
        seed: 9,
        ..Default::default()
    };
    capsule_e2e::synth(&synth, config);
    let polyvore = synth.join("polyvore");
    capsule(
        &data,
        &[
            "wardrobe",
            "import",
            &polyvore.display().to_string(),
            "--embedder",
            &model.display().to_string(),
            "--outfits",
            "5",
        ],
    )
    .unwrap();

    // What the host's loader says the first five outfits hold.
    let set = PolyvoreDataset::load(&polyvore, Variant::Nondisjoint).unwrap();
    let outfits: Vec<_> = Split::ALL
        .iter()
        .flat_map(|&s| set.split(s).outfits.clone())
        .take(5)
        .collect();
    let items: BTreeSet<&String> = outfits.iter().flat_map(|o| &o.items).collect();
    let store = WardrobeStore::open(&data).unwrap();
    let garments = store.garments().unwrap();
    assert_eq!(garments.len(), items.len());
    let edges = store.edges().unwrap();
    assert!(
        edges.len() >= 5 * 3,
        "every outfit of 3+ items gives 3+ edges, got {}",
        edges.len()
    );
    assert!(
        edges
            .iter()
            .all(|e| e.provenance == capsule_device::wardrobe::EdgeProvenance::Imported)
    );
    let titles: BTreeSet<&str> = items.iter().map(|i| set.items[*i].title.as_str()).collect();
    assert!(garments.iter().all(|g| titles.contains(g.name.as_str())));
    drop(store);

    std::fs::write(
        polyvore.join("polyvore_item_metadata.json"),
        b"{\"1\": {\"title\": 5}}",
    )
    .unwrap();
    let err = capsule(
        &data,
        &[
            "wardrobe",
            "import",
            &polyvore.display().to_string(),
            "--embedder",
            &model.display().to_string(),
        ],
    )
    .unwrap_err();
    assert!(
        format!("{err:#}").contains("polyvore_item_metadata.json"),
        "{err:#}"
    );
}

#[test]
fn feedback_becomes_edges_and_worn_dates() {
    use capsule_device::wardrobe::EdgeProvenance;
    let dir = tempfile::tempdir().unwrap();
    let (data, model) = (dir.path().join("data"), dir.path().join("embedder.onnx"));
    capsule_e2e::write_tiny_embedder(&model);
    capsule_e2e::garment_photos(&dir.path().join("photos"), 14);
    capsule(
        &data,
        &[
            "wardrobe",
            "import",
            &dir.path().join("photos").display().to_string(),
            "--embedder",
            &model.display().to_string(),
        ],
    )
    .unwrap();
    capsule(&data, &["feedback", "reject", "g1+g2+g3"]).unwrap();
    capsule(&data, &["feedback", "wore", "g1+g4"]).unwrap();
    assert!(
        capsule(&data, &["feedback", "accept", "g1"]).is_err(),
        "one garment is not an outfit"
    );
    assert!(
        capsule(&data, &["feedback", "accept", "g1+g999"]).is_err(),
        "unknown garment"
    );
    let store = WardrobeStore::open(&data).unwrap();
    let edges = store.edges().unwrap();
    assert_eq!(
        edges
            .iter()
            .filter(|e| e.provenance == EdgeProvenance::Rejected)
            .count(),
        3
    );
    assert_eq!(
        edges
            .iter()
            .filter(|e| e.provenance == EdgeProvenance::Worn)
            .count(),
        1
    );
    let g1 = store
        .garment(capsule_device::wardrobe::GarmentId(1))
        .unwrap()
        .unwrap();
    assert!(g1.last_worn_unix.is_some());
}
