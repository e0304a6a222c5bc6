//! `inspect`: load whatever datasets a directory holds, count them, and draw a contact
//! sheet, so a person can see at a glance that the data (real or synthetic) is what the
//! trainer expects before spending hours on it.

//!
//! [`report`] counts, [`sheet`] draws the contact sheet, [`table`] prints the counts.

pub mod report;
pub mod sheet;
pub mod table;

pub use report::{
    CompatibilityCounts, ImageItemCounts, InShopReport, InspectReport, PolyvoreReport,
    PolyvoreSplitReport, StatusCounts,
};
pub use sheet::{SAMPLE_OUTFITS, SAMPLES_PER_TYPE};

use crate::data::error::DataError;
use crate::data::inshop::InShopDataset;
use crate::data::inshop::format::PARTITION_FILE;
use crate::data::polyvore::format::METADATA_FILE;
use crate::data::polyvore::{PolyvoreDataset, Variant, load_items};
use report::{inshop_report, polyvore_report};
use sheet::draw_contact_sheet;
use std::path::{Path, PathBuf};

/// Loads the datasets under `root`, counts them and writes a contact sheet PNG to
/// `contact_sheet`.
///
/// `root` may hold `inshop/` and/or `polyvore/`, or be an In-shop directory (it has
/// `list_eval_partition.txt`) or a Polyvore one (it has `polyvore_item_metadata.json`).
/// Polyvore's nondisjoint variant is required, the disjoint one is loaded when present.
pub fn inspect(root: &Path, contact_sheet: &Path) -> Result<InspectReport, DataError> {
    let (inshop_root, polyvore_root) = locate(root)?;
    let inshop = inshop_root
        .map(|dir| InShopDataset::load(&dir))
        .transpose()?;
    let polyvore = match polyvore_root {
        Some(dir) => load_polyvore(&dir)?,
        None => Vec::new(),
    };
    draw_contact_sheet(inshop.as_ref(), &polyvore)?.save(contact_sheet)?;
    Ok(InspectReport {
        root: root.to_path_buf(),
        inshop: inshop.as_ref().map(inshop_report),
        polyvore: polyvore.iter().map(polyvore_report).collect(),
        contact_sheet: contact_sheet.to_path_buf(),
    })
}

/// Where the In-shop and Polyvore datasets are, if any.
fn locate(root: &Path) -> Result<(Option<PathBuf>, Option<PathBuf>), DataError> {
    let find = |marker: &str, sub: &str| {
        if root.join(marker).is_file() {
            Some(root.to_path_buf())
        } else {
            Some(root.join(sub)).filter(|dir| dir.is_dir())
        }
    };
    let found = (
        find(PARTITION_FILE, "inshop"),
        find(METADATA_FILE, "polyvore"),
    );
    if found == (None, None) {
        return Err(DataError::file(
            root,
            format!(
                "no dataset here: expected inshop/ or polyvore/, or a directory holding {PARTITION_FILE} \
                 (In-shop) or {METADATA_FILE} (Polyvore)"
            ),
        ));
    }
    Ok(found)
}

/// The nondisjoint variant, then the disjoint one when its folder exists; both share one
/// read of the metadata.
fn load_polyvore(root: &Path) -> Result<Vec<PolyvoreDataset>, DataError> {
    let items = load_items(root)?;
    let nondisjoint = PolyvoreDataset::load_with_items(root, Variant::Nondisjoint, items.clone())?;
    let mut datasets = vec![nondisjoint];
    if root.join(Variant::Disjoint.dir_name()).is_dir() {
        datasets.push(PolyvoreDataset::load_with_items(
            root,
            Variant::Disjoint,
            items,
        )?);
    }
    Ok(datasets)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::inshop::test_fixture as inshop_fixture;
    use crate::data::polyvore::Split;
    use crate::data::polyvore::test_fixture as polyvore_fixture;
    use capsule_device::GarmentType;
    use sheet::{CELL_H, CELL_W, LINE, PAD};

    /// A root with `inshop/` and `polyvore/` built from the fixtures.
    fn combined_root() -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        let inshop = inshop_fixture::inshop();
        let polyvore = polyvore_fixture::polyvore();
        std::fs::rename(inshop.path(), root.path().join("inshop")).unwrap();
        std::fs::rename(polyvore.path(), root.path().join("polyvore")).unwrap();
        root
    }

    #[test]
    fn counts_both_datasets_and_draws_a_sheet() {
        let root = combined_root();
        let sheet = root.path().join("out/sheet.png");
        let report = inspect(root.path(), &sheet).unwrap();

        let inshop = report.inshop.as_ref().unwrap();
        let counts = |images, items| ImageItemCounts { images, items };
        assert_eq!(
            inshop.total,
            StatusCounts {
                train: counts(7, 4),
                query: counts(3, 3),
                gallery: counts(4, 3)
            }
        );
        assert_eq!(
            inshop.by_type[&GarmentType::Dress],
            StatusCounts {
                train: counts(2, 1),
                query: counts(1, 1),
                gallery: counts(1, 1)
            }
        );
        assert_eq!(inshop.by_type[&GarmentType::Bottom].train, counts(1, 1));
        assert!(inshop.unmapped_categories.is_empty());

        assert_eq!(
            report
                .polyvore
                .iter()
                .map(|p| p.variant)
                .collect::<Vec<_>>(),
            [Variant::Nondisjoint, Variant::Disjoint]
        );
        let nondisjoint = &report.polyvore[0];
        assert_eq!((nondisjoint.items, nondisjoint.missing_images), (13, 0));
        assert_eq!(nondisjoint.items_by_type[&GarmentType::Shoes], 3);
        let test = &nondisjoint.splits[&Split::Test];
        assert_eq!(
            (test.outfits, test.fitb, test.fitb_hard),
            (2, Some(2), Some(1))
        );
        assert_eq!(
            test.compatibility,
            Some(CompatibilityCounts {
                positive: 2,
                negative: 1
            })
        );
        assert_eq!(nondisjoint.splits[&Split::Train].fitb, None);
        assert_eq!(report.polyvore[1].splits[&Split::Train].outfits, 2);

        let image = image::open(&sheet).unwrap().to_rgb8();
        // 7 type rows (In-shop has 4 types, Polyvore all 7) and 3 outfits with a title line.
        assert_eq!(
            image.dimensions(),
            (PAD + 4 * CELL_W, PAD + 7 * CELL_H + 3 * (CELL_H + LINE))
        );
        assert!(image.pixels().any(|p| p.0 == [0, 0, 0]), "labels drawn");

        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["inshop"]["by_type"]["dress"]["query"]["images"], 1);
        assert_eq!(
            json["polyvore"][0]["splits"]["test"]["compatibility"]["negative"],
            1
        );
    }

    #[test]
    fn table_lists_every_split_and_type() {
        let root = combined_root();
        let report = inspect(root.path(), &root.path().join("sheet.png")).unwrap();
        let text = report.to_string();
        for needle in [
            "DeepFashion In-shop",
            "Polyvore Outfits (nondisjoint)",
            "(disjoint)",
            "gallery",
            "accessory",
            "compat +/-",
        ] {
            assert!(text.contains(needle), "{needle:?} missing from\n{text}");
        }
        let test_line = text
            .lines()
            .find(|l| l.trim_start().starts_with("test"))
            .unwrap();
        assert_eq!(
            test_line.split_whitespace().take(5).collect::<Vec<_>>(),
            ["test", "2", "2", "1", "2/1"]
        );
        assert!(
            text.lines()
                .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["all", "7/4", "3/3", "4/3"]),
            "{text}"
        );
    }

    #[test]
    fn sheet_is_deterministic() {
        let root = combined_root();
        let (a, b) = (root.path().join("a.png"), root.path().join("b.png"));
        inspect(root.path(), &a).unwrap();
        inspect(root.path(), &b).unwrap();
        assert_eq!(std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
    }

    #[test]
    fn a_dataset_directory_itself_is_accepted() {
        let inshop = inshop_fixture::inshop();
        let report = inspect(inshop.path(), &inshop.path().join("sheet.png")).unwrap();
        assert!(report.inshop.is_some() && report.polyvore.is_empty());
        let image = image::open(inshop.path().join("sheet.png")).unwrap();
        assert_eq!(image.height(), PAD + 4 * CELL_H, "one row per In-shop type");

        // Polyvore without images: counts still come, the sheet says there is nothing to show.
        let polyvore = inshop_fixture::copy_committed("polyvore");
        let report = inspect(polyvore.path(), &polyvore.path().join("sheet.png")).unwrap();
        assert_eq!(report.polyvore[0].missing_images, 13);
        assert!(report.inshop.is_none());
    }

    #[test]
    fn an_empty_directory_says_what_was_expected() {
        let dir = tempfile::tempdir().unwrap();
        let message = inspect(dir.path(), &dir.path().join("sheet.png"))
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("inshop/") && message.contains(METADATA_FILE),
            "{message}"
        );
    }

    #[test]
    fn a_broken_dataset_fails_with_the_loader_error() {
        let root = combined_root();
        std::fs::remove_file(root.path().join("polyvore/nondisjoint/test.json")).unwrap();
        let message = inspect(root.path(), &root.path().join("sheet.png"))
            .unwrap_err()
            .to_string();
        assert!(message.contains("test.json"), "{message}");
    }
}
