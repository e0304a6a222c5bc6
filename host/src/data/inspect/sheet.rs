//! The contact sheet: sample garments per type and a few outfits, drawn on the canvas the
//! device display uses.

use crate::data::error::DataError;
use crate::data::inshop::InShopDataset;
use crate::data::polyvore::{PolyvoreDataset, Split};
use capsule_device::GarmentType;
use capsule_device::display::RgbCanvas;
use embedded_graphics::mono_font::{MonoTextStyle, ascii::FONT_6X10};
use embedded_graphics::pixelcolor::Rgb888;
use embedded_graphics::prelude::*;
use embedded_graphics::text::{Baseline, Text};
use image::RgbImage;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Sample garments drawn per type on the contact sheet.
pub const SAMPLES_PER_TYPE: usize = 4;
/// Polyvore outfits drawn on the contact sheet.
pub const SAMPLE_OUTFITS: usize = 3;
/// Thumbnails drawn per outfit at most.
const MAX_OUTFIT_ITEMS: usize = 8;
/// Side of the square a thumbnail is fitted into, in pixels.
const THUMB: u32 = 80;
pub(super) const PAD: u32 = 8;
/// Height of a line of FONT_6X10 text plus a little space.
pub(super) const LINE: u32 = 12;
pub(super) const CELL_W: u32 = THUMB + PAD;
pub(super) const CELL_H: u32 = THUMB + LINE + PAD;

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
pub fn draw_contact_sheet(
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
pub struct ContactSheet(RgbImage);

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

    /// Writes the sheet as a PNG, creating the parent folder.
    pub fn save(self, path: &Path) -> Result<(), DataError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| DataError::io(parent, e))?;
        }
        self.0
            .save_with_format(path, image::ImageFormat::Png)
            .map_err(|e| DataError::image(path, "write", e))
    }
}

/// The picture scaled to fit a `THUMB`-pixel square, keeping its aspect ratio.
fn thumbnail(path: &Path) -> Result<RgbImage, DataError> {
    let picture = image::open(path).map_err(|e| DataError::image(path, "decode", e))?;
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
