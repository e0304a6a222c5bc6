//! `inspect`: load whatever datasets a directory holds, count them, and draw a contact
//! sheet, so a person can see at a glance that the data (real or synthetic) is what the
//! trainer expects before spending hours on it.

use crate::data::error::DataError;
use crate::data::inshop::format::PARTITION_FILE;
use crate::data::inshop::{EvalStatus, InShopDataset, InShopImage};
use crate::data::polyvore::format::METADATA_FILE;
use crate::data::polyvore::{PolyvoreDataset, Split, Variant, load_items};
use capsule_device::GarmentType;
use capsule_device::display::RgbCanvas;
use embedded_graphics::mono_font::{MonoTextStyle, ascii::FONT_6X10};
use embedded_graphics::pixelcolor::Rgb888;
use embedded_graphics::prelude::*;
use embedded_graphics::text::{Baseline, Text};
use image::RgbImage;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

/// Sample garments drawn per type on the contact sheet.
pub const SAMPLES_PER_TYPE: usize = 4;
/// Polyvore outfits drawn on the contact sheet.
pub const SAMPLE_OUTFITS: usize = 3;
/// Thumbnails drawn per outfit at most.
const MAX_OUTFIT_ITEMS: usize = 8;
/// Side of the square a thumbnail is fitted into, in pixels.
const THUMB: u32 = 80;
const PAD: u32 = 8;
/// Height of a line of FONT_6X10 text plus a little space.
const LINE: u32 = 12;
const CELL_W: u32 = THUMB + PAD;
const CELL_H: u32 = THUMB + LINE + PAD;

/// What [`inspect`] found.
#[derive(Debug, Clone, Serialize)]
pub struct InspectReport {
    pub root: PathBuf,
    pub inshop: Option<InShopReport>,
    /// One per variant loaded: nondisjoint, then disjoint when present.
    pub polyvore: Vec<PolyvoreReport>,
    pub contact_sheet: PathBuf,
}

/// Pictures and distinct items.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImageItemCounts {
    pub images: usize,
    pub items: usize,
}

/// In-shop counts by evaluation status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StatusCounts {
    pub train: ImageItemCounts,
    pub query: ImageItemCounts,
    pub gallery: ImageItemCounts,
}

/// Counts of an In-shop dataset.
#[derive(Debug, Clone, Serialize)]
pub struct InShopReport {
    pub root: PathBuf,
    pub total: StatusCounts,
    pub by_type: BTreeMap<GarmentType, StatusCounts>,
    /// Category folders that map to no garment type (excluded from training by type).
    pub unmapped_categories: BTreeMap<String, StatusCounts>,
}

/// Counts of one Polyvore variant.
#[derive(Debug, Clone, Serialize)]
pub struct PolyvoreReport {
    pub root: PathBuf,
    pub variant: Variant,
    /// Items in the metadata file.
    pub items: usize,
    pub missing_images: usize,
    /// Metadata items by garment type.
    pub items_by_type: BTreeMap<GarmentType, usize>,
    pub splits: BTreeMap<Split, PolyvoreSplitReport>,
}

/// Counts of one Polyvore split; `None` where the question file is absent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolyvoreSplitReport {
    pub outfits: usize,
    pub fitb: Option<usize>,
    pub fitb_hard: Option<usize>,
    pub compatibility: Option<CompatibilityCounts>,
    /// Distinct items of the split's outfits by garment type.
    pub items_by_type: BTreeMap<GarmentType, usize>,
}

/// Lines of a compatibility file by label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CompatibilityCounts {
    pub positive: usize,
    pub negative: usize,
}

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

fn inshop_report(data: &InShopDataset) -> InShopReport {
    let mut by_type: BTreeMap<GarmentType, Vec<&InShopImage>> = BTreeMap::new();
    let mut unmapped: BTreeMap<&str, Vec<&InShopImage>> = BTreeMap::new();
    for image in &data.images {
        match image.garment_type() {
            Some(t) => by_type.entry(t).or_default().push(image),
            None => unmapped
                .entry(image.category.as_str())
                .or_default()
                .push(image),
        }
    }
    InShopReport {
        root: data.root.clone(),
        total: status_counts(&data.images.iter().collect::<Vec<_>>()),
        by_type: by_type
            .into_iter()
            .map(|(t, images)| (t, status_counts(&images)))
            .collect(),
        unmapped_categories: unmapped
            .into_iter()
            .map(|(category, images)| (category.to_string(), status_counts(&images)))
            .collect(),
    }
}

fn status_counts(images: &[&InShopImage]) -> StatusCounts {
    let counts = |status: EvalStatus| {
        let with_status = images.iter().filter(|image| image.status == status);
        ImageItemCounts {
            images: with_status.clone().count(),
            items: with_status
                .map(|image| image.item_id.as_str())
                .collect::<BTreeSet<_>>()
                .len(),
        }
    };
    StatusCounts {
        train: counts(EvalStatus::Train),
        query: counts(EvalStatus::Query),
        gallery: counts(EvalStatus::Gallery),
    }
}

fn polyvore_report(data: &PolyvoreDataset) -> PolyvoreReport {
    let mut items_by_type = BTreeMap::new();
    for item in data.items.values() {
        *items_by_type.entry(item.garment_type).or_insert(0) += 1;
    }
    let splits = Split::ALL
        .into_iter()
        .map(|split| {
            let s = data.split(split);
            let compatibility = s.compatibility.as_ref().map(|lines| {
                let positive = lines.iter().filter(|q| q.compatible).count();
                CompatibilityCounts {
                    positive,
                    negative: lines.len() - positive,
                }
            });
            let report = PolyvoreSplitReport {
                outfits: s.outfits.len(),
                fitb: s.fitb.as_ref().map(Vec::len),
                fitb_hard: s.fitb_hard.as_ref().map(Vec::len),
                compatibility,
                items_by_type: data.count_by_type(split),
            };
            (split, report)
        })
        .collect();
    PolyvoreReport {
        root: data.root.clone(),
        variant: data.variant,
        items: data.items.len(),
        missing_images: data.missing_images().len(),
        items_by_type,
        splits,
    }
}

// ---- contact sheet ----

/// A picture to draw and the label under it.
struct Sample {
    path: PathBuf,
    label: String,
}

/// A labelled row of pictures.
struct SheetRow {
    title: Option<String>,
    samples: Vec<Sample>,
}

/// Up to [`SAMPLES_PER_TYPE`] garments per type, alternating between the datasets present
/// (so both show), then up to [`SAMPLE_OUTFITS`] Polyvore outfits whose pictures all exist.
fn draw_contact_sheet(
    inshop: Option<&InShopDataset>,
    polyvore: &[PolyvoreDataset],
) -> Result<ContactSheet, DataError> {
    // Per source, per type: candidate pictures in a fixed order.
    let mut sources: Vec<BTreeMap<GarmentType, Vec<PathBuf>>> = Vec::new();
    if let Some(data) = inshop {
        // One picture per item: four views of one dress say little.
        let mut seen = BTreeSet::new();
        let mut by_type: BTreeMap<GarmentType, Vec<PathBuf>> = BTreeMap::new();
        for image in &data.images {
            if let Some(t) = image.garment_type()
                && seen.insert(image.item_id.as_str())
            {
                by_type.entry(t).or_default().push(image.path.clone());
            }
        }
        sources.push(by_type);
    }
    if let Some(data) = polyvore.first() {
        let mut by_type: BTreeMap<GarmentType, Vec<PathBuf>> = BTreeMap::new();
        for item in data.items.values().filter(|item| item.image.is_file()) {
            by_type
                .entry(item.garment_type)
                .or_default()
                .push(item.image.clone());
        }
        sources.push(by_type);
    }

    let mut rows = Vec::new();
    for garment_type in GarmentType::ALL {
        let lists: Vec<&[PathBuf]> = sources
            .iter()
            .map(|s| s.get(&garment_type).map_or(&[][..], Vec::as_slice))
            .collect();
        let longest = lists.iter().map(|l| l.len()).max().unwrap_or(0);
        let samples: Vec<Sample> = (0..longest)
            .flat_map(|i| lists.iter().filter_map(move |l| l.get(i)))
            .take(SAMPLES_PER_TYPE)
            .map(|path| Sample {
                path: path.clone(),
                label: garment_type.as_str().to_string(),
            })
            .collect();
        if !samples.is_empty() {
            rows.push(SheetRow {
                title: None,
                samples,
            });
        }
    }
    if let Some(data) = polyvore.first() {
        let outfits = Split::ALL
            .into_iter()
            .flat_map(|split| data.split(split).outfits.iter());
        let complete = outfits.filter(|o| {
            o.items
                .iter()
                .all(|id| data.items.get(id).is_some_and(|i| i.image.is_file()))
        });
        for outfit in complete.take(SAMPLE_OUTFITS) {
            let samples = outfit
                .items
                .iter()
                .filter_map(|id| data.items.get(id))
                .take(MAX_OUTFIT_ITEMS)
                .map(|item| Sample {
                    path: item.image.clone(),
                    label: item.garment_type.as_str().to_string(),
                })
                .collect();
            rows.push(SheetRow {
                title: Some(format!("outfit {}", outfit.set_id)),
                samples,
            });
        }
    }
    ContactSheet::draw(&rows)
}

/// The drawn contact sheet, ready to save.
struct ContactSheet(RgbImage);

impl ContactSheet {
    fn draw(rows: &[SheetRow]) -> Result<Self, DataError> {
        let columns = rows
            .iter()
            .map(|r| r.samples.len())
            .max()
            .unwrap_or(0)
            .max(SAMPLES_PER_TYPE) as u32;
        let height = PAD
            + rows
                .iter()
                .map(|r| CELL_H + if r.title.is_some() { LINE } else { 0 })
                .sum::<u32>();
        let width = PAD + columns * CELL_W;
        let mut canvas = RgbCanvas::new(width, height.max(PAD + LINE), Rgb888::WHITE);
        if rows.is_empty() {
            label(&mut canvas, "no pictures found", PAD, PAD, width - PAD);
        }
        let mut y = PAD;
        for row in rows {
            if let Some(title) = &row.title {
                label(&mut canvas, title, PAD, y, width - 2 * PAD);
                y += LINE;
            }
            for (i, sample) in row.samples.iter().enumerate() {
                let x = PAD + i as u32 * CELL_W;
                let thumb = thumbnail(&sample.path)?;
                let (dx, dy) = ((THUMB - thumb.width()) / 2, (THUMB - thumb.height()) / 2);
                canvas.blit(&thumb, i64::from(x + dx), i64::from(y + dy));
                label(&mut canvas, &sample.label, x, y + THUMB + 1, THUMB);
            }
            y += CELL_H;
        }
        Ok(Self(canvas.into_image()))
    }

    fn save(self, path: &Path) -> Result<(), DataError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| DataError::io(parent, e))?;
        }
        self.0
            .save_with_format(path, image::ImageFormat::Png)
            .map_err(|e| DataError::file(path, format!("cannot write the contact sheet: {e}")))
    }
}

/// The picture scaled to fit a `THUMB`-pixel square, keeping its aspect ratio.
fn thumbnail(path: &Path) -> Result<RgbImage, DataError> {
    let picture = image::open(path)
        .map_err(|e| DataError::file(path, format!("cannot decode image: {e}")))?;
    let (w, h) = (picture.width().max(1), picture.height().max(1));
    let scale = f64::from(THUMB) / f64::from(w.max(h));
    let size = |side: u32| ((f64::from(side) * scale).round() as u32).clamp(1, THUMB);
    Ok(image::imageops::resize(
        &picture.to_rgb8(),
        size(w),
        size(h),
        image::imageops::FilterType::Triangle,
    ))
}

/// Draws `text` with its top-left corner at (x, y), cut to fit `max_width` pixels.
fn label(canvas: &mut RgbCanvas, text: &str, x: u32, y: u32, max_width: u32) {
    let font = &FONT_6X10;
    let fits = (max_width / font.character_size.width) as usize;
    let text: String = text.chars().take(fits).collect();
    let style = MonoTextStyle::new(font, Rgb888::BLACK);
    let position = Point::new(x as i32, y as i32);
    let Ok(_) = Text::with_baseline(&text, position, style, Baseline::Top).draw(canvas);
}

// ---- the printed table ----

impl fmt::Display for InspectReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Datasets under {}", self.root.display())?;
        if let Some(inshop) = &self.inshop {
            writeln!(f)?;
            write!(f, "{inshop}")?;
        }
        for polyvore in &self.polyvore {
            writeln!(f)?;
            write!(f, "{polyvore}")?;
        }
        writeln!(f)?;
        writeln!(f, "Contact sheet: {}", self.contact_sheet.display())
    }
}

impl fmt::Display for InShopReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "DeepFashion In-shop at {}  (images/items)",
            self.root.display()
        )?;
        let cell = |c: ImageItemCounts| format!("{}/{}", c.images, c.items);
        let row = |name: String, c: &StatusCounts| {
            vec![name, cell(c.train), cell(c.query), cell(c.gallery)]
        };
        let mut rows = vec![row("all".into(), &self.total)];
        rows.extend(self.by_type.iter().map(|(t, c)| row(t.to_string(), c)));
        rows.extend(
            self.unmapped_categories
                .iter()
                .map(|(name, c)| row(format!("({name}, unmapped)"), c)),
        );
        table(f, &["type", "train", "query", "gallery"], &rows)
    }
}

impl fmt::Display for PolyvoreReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Polyvore Outfits ({}) at {}  ({} items, {} without an image)",
            self.variant.dir_name(),
            self.root.display(),
            self.items,
            self.missing_images
        )?;
        let optional = |n: Option<usize>| n.map_or_else(|| "-".to_string(), |n| n.to_string());
        let by_type = |counts: &BTreeMap<GarmentType, usize>| {
            GarmentType::ALL.map(|t| counts.get(&t).copied().unwrap_or(0).to_string())
        };
        let mut header = vec!["split", "outfits", "fitb", "fitb hard", "compat +/-"];
        header.extend(GarmentType::ALL.map(GarmentType::as_str));
        let mut rows: Vec<Vec<String>> = self
            .splits
            .iter()
            .map(|(split, s)| {
                let compatibility = s.compatibility.map_or_else(
                    || "-".to_string(),
                    |c| format!("{}/{}", c.positive, c.negative),
                );
                let mut row = vec![
                    split.to_string(),
                    s.outfits.to_string(),
                    optional(s.fitb),
                    optional(s.fitb_hard),
                    compatibility,
                ];
                row.extend(by_type(&s.items_by_type));
                row
            })
            .collect();
        let mut all = vec![
            "metadata".to_string(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ];
        all.extend(by_type(&self.items_by_type));
        rows.push(all);
        table(f, &header, &rows)
    }
}

/// Writes a table: the first column left-aligned, the others right-aligned.
fn table(f: &mut fmt::Formatter<'_>, header: &[&str], rows: &[Vec<String>]) -> fmt::Result {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (i, (cell, width)) in row.iter().zip(&widths).enumerate() {
            if i == 0 {
                line.push_str(&format!("  {cell:<width$}"));
            } else {
                line.push_str(&format!("  {cell:>width$}"));
            }
        }
        writeln!(f, "{}", line.trim_end())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::inshop::test_fixture as inshop_fixture;
    use crate::data::polyvore::test_fixture as polyvore_fixture;

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
