//! End to end: the synthetic generator writes both published formats, the real loaders read
//! them back with exactly the counts asked, the output is a pure function of the seed, and
//! garment types alone say nothing on the hard questions.

use capsule_device::GarmentType;
use capsule_host::data::inshop::{EvalStatus, InShopDataset};
use capsule_host::data::polyvore::{PolyvoreDataset, Split, Variant};
use capsule_host::eval::type_prior::TypePrior;
use capsule_host::eval::{Ties, compatibility_auc, fitb_accuracy};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn synth(out: &Path, garments: usize, views: usize, outfits: usize, seed: u64, extra: &[&str]) {
    let mut args: Vec<String> = ["capsule-host", "data", "synth", "--out"]
        .map(String::from)
        .to_vec();
    args.push(out.display().to_string());
    for (flag, value) in [
        ("--garments", garments),
        ("--views", views),
        ("--outfits", outfits),
        ("--seed", seed as usize),
    ] {
        args.push(flag.into());
        args.push(value.to_string());
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    capsule_host::cli::run(args).unwrap();
}

/// Every file under `root`, by relative path, with its bytes.
fn tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(root).unwrap().display().to_string();
                files.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

#[test]
fn synth_writes_both_formats_with_exactly_the_counts_asked() {
    let dir = tempfile::tempdir().unwrap();
    synth(dir.path(), 200, 4, 150, 7, &[]);

    let inshop = InShopDataset::load(&dir.path().join("inshop")).unwrap();
    assert_eq!(inshop.images.len(), 800);
    let items: BTreeSet<&str> = inshop.images.iter().map(|i| i.item_id.as_str()).collect();
    assert_eq!(items.len(), 200);
    let train = inshop.item_ids(EvalStatus::Train);
    let query = inshop.item_ids(EvalStatus::Query);
    assert_eq!(train.len(), 100);
    assert_eq!(
        query,
        inshop.item_ids(EvalStatus::Gallery),
        "every query item has gallery pictures"
    );
    assert!(
        train.is_disjoint(&query),
        "In-shop splits items, not pictures"
    );
    assert!(inshop.images.iter().all(|i| i.garment_type().is_some()));

    let polyvore =
        PolyvoreDataset::load(&dir.path().join("polyvore"), Variant::Nondisjoint).unwrap();
    assert_eq!(polyvore.items.len(), 200);
    assert!(polyvore.missing_images().is_empty());
    let outfits: Vec<usize> = Split::ALL
        .iter()
        .map(|&s| polyvore.split(s).outfits.len())
        .collect();
    assert_eq!(outfits, vec![105, 15, 30]);
    for split in Split::ALL {
        let data = polyvore.split(split);
        for outfit in &data.outfits {
            assert!((3..=5).contains(&outfit.items.len()));
            let types: BTreeSet<GarmentType> = outfit
                .items
                .iter()
                .map(|i| polyvore.items[i].garment_type)
                .collect();
            assert_eq!(
                types.len(),
                outfit.items.len(),
                "one garment per type in {}",
                outfit.set_id
            );
        }
        let fitb = data.fitb.as_ref().unwrap();
        let hard = data.fitb_hard.as_ref().unwrap();
        assert_eq!(fitb.len(), data.outfits.len());
        assert_eq!(hard.len(), data.outfits.len());
        for q in hard {
            let answer_type = polyvore.items[&q.candidates[q.answer]].garment_type;
            assert!(
                q.candidates
                    .iter()
                    .all(|c| polyvore.items[c].garment_type == answer_type)
            );
        }
        let compatibility = data.compatibility.as_ref().unwrap();
        let positives = compatibility.iter().filter(|c| c.compatible).count();
        assert_eq!(positives, data.outfits.len());
        assert_eq!(
            compatibility.len(),
            2 * positives,
            "half of the lines are incompatible"
        );
    }
}

#[test]
fn same_seed_gives_identical_bytes_and_another_seed_does_not() {
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    synth(a.path(), 120, 2, 40, 11, &["--disjoint"]);
    synth(b.path(), 120, 2, 40, 11, &["--disjoint"]);
    synth(c.path(), 120, 2, 40, 12, &["--disjoint"]);
    let (ta, tb, tc) = (tree(a.path()), tree(b.path()), tree(c.path()));
    assert!(ta.len() > 100);
    assert!(ta.keys().any(|k| k.starts_with("polyvore/disjoint/")));
    assert_eq!(ta, tb);
    assert_ne!(ta, tc);
    PolyvoreDataset::load(&a.path().join("polyvore"), Variant::Disjoint).unwrap();
}

#[test]
fn inspect_counts_and_draws_a_contact_sheet() {
    let dir = tempfile::tempdir().unwrap();
    synth(dir.path(), 30, 2, 20, 3, &[]);
    let sheet = dir.path().join("sheet.png");
    let args = [
        "capsule-host",
        "data",
        "inspect",
        &dir.path().display().to_string(),
        "--sheet",
        &sheet.display().to_string(),
    ];
    capsule_host::cli::run(args).unwrap();
    let image = image::open(&sheet).unwrap();
    assert!(image.width() >= 300 && image.height() >= 300);
}

#[test]
fn garment_types_alone_are_at_chance_on_hard_questions() {
    let dir = tempfile::tempdir().unwrap();
    synth(dir.path(), 300, 2, 400, 5, &[]);
    let data = PolyvoreDataset::load(&dir.path().join("polyvore"), Variant::Nondisjoint).unwrap();
    let prior = TypePrior::fit(&data);
    let test = data.split(Split::Test);
    let hard = fitb_accuracy(&prior, test.fitb_hard.as_ref().unwrap(), Ties::Random).unwrap();
    assert!((hard - 0.25).abs() < 0.02, "type-only hard FITB {hard}");
    let auc = compatibility_auc(&prior, test.compatibility.as_ref().unwrap()).unwrap();
    assert!((auc - 0.5).abs() < 0.05, "type-only AUC {auc}");
    // The standard questions do leak type information, as Polyvore's do.
    let standard = fitb_accuracy(&prior, test.fitb.as_ref().unwrap(), Ties::Random).unwrap();
    assert!(standard > 0.4, "type-only standard FITB {standard}");
}

#[test]
fn bad_requests_fail_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "capsule-host",
        "data",
        "synth",
        "--out",
        &dir.path().display().to_string(),
        "--views",
        "1",
    ];
    let err = capsule_host::cli::run(args).unwrap_err();
    assert!(format!("{err:#}").contains("--views"), "{err:#}");
    let args = [
        "capsule-host",
        "data",
        "inspect",
        &dir.path().display().to_string(),
    ];
    assert!(capsule_host::cli::run(args).is_err());
}
