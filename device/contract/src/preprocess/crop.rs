//! The garment crop of the preprocessing contract: the board's region of interest, then a
//! quick foreground/background split so the embedder sees the garment and not the wall.

use image::RgbImage;

/// A region of interest covering the whole picture (a photo of one garment).
pub const WHOLE_PICTURE: [f32; 4] = [0.0, 0.0, 1.0, 1.0];

/// Crops `region` to the bounding box of what differs from its border colour. Falls back to
/// the whole region when the foreground is too small or fills it (nothing to cut away).
pub fn foreground_region(region: RgbImage) -> RgbImage {
    match foreground_box(&region) {
        Some((x, y, w, h)) => crop_rows(&region, x, y, w, h),
        None => region,
    }
}

/// `frame` cut to `roi` (x, y, width, height as fractions of the frame; out-of-range and
/// non-finite values are clamped, and at least one pixel is kept).
pub fn crop_fraction(frame: &RgbImage, [fx, fy, fw, fh]: [f32; 4]) -> RgbImage {
    let (w, h) = frame.dimensions();
    let clamp = |v: f32| {
        if v.is_finite() {
            v.clamp(0.0, 1.0)
        } else {
            0.0
        }
    };
    let x = (clamp(fx) * w as f32) as u32;
    let y = (clamp(fy) * h as f32) as u32;
    let cw = ((clamp(fw) * w as f32) as u32).clamp(1, w.saturating_sub(x).max(1));
    let ch = ((clamp(fh) * h as f32) as u32).clamp(1, h.saturating_sub(y).max(1));
    crop_rows(
        frame,
        x.min(w.saturating_sub(1)),
        y.min(h.saturating_sub(1)),
        cw,
        ch,
    )
}

/// The `cw × ch` rectangle at (`x`, `y`) of `picture`, clipped to it, copied a row slice at
/// a time (`crop_imm(..).to_image()` copies pixel by pixel: 0.55 ms for a 640×480 frame).
fn crop_rows(picture: &RgbImage, x: u32, y: u32, cw: u32, ch: u32) -> RgbImage {
    let (w, h) = picture.dimensions();
    let (x, y) = (x.min(w), y.min(h));
    let (cw, ch) = (cw.min(w - x), ch.min(h - y));
    let row = w as usize * 3;
    let mut data = Vec::with_capacity(cw as usize * ch as usize * 3);
    for r in y..y + ch {
        let start = r as usize * row + x as usize * 3;
        data.extend_from_slice(&picture.as_raw()[start..start + cw as usize * 3]);
    }
    // The buffer holds exactly `cw * ch` pixels, so this cannot fail; an empty picture is
    // the fallback all the same rather than a panic.
    RgbImage::from_raw(cw, ch, data).unwrap_or_default()
}

/// Colour distance (sum over channels) above which a pixel is foreground.
const FOREGROUND_DISTANCE: u32 = 60;

/// Per-channel median of the picture's outermost pixels: the wall or backdrop around the
/// garment (white for an empty picture).
pub(crate) fn border_median(picture: &RgbImage) -> [u8; 3] {
    let (w, h) = picture.dimensions();
    let mut channels: [Vec<u8>; 3] = Default::default();
    let mut push = |x: u32, y: u32| {
        for (channel, value) in channels.iter_mut().zip(picture.get_pixel(x, y).0) {
            channel.push(value);
        }
    };
    // The outermost pixels only, each once (the median does not depend on their order).
    for y in 0..h {
        if y == 0 || y + 1 == h {
            (0..w).for_each(|x| push(x, y));
        } else {
            push(0, y);
            if w > 1 {
                push(w - 1, y);
            }
        }
    }
    channels.map(|mut c| {
        c.sort_unstable();
        c.get(c.len() / 2).copied().unwrap_or(255)
    })
}

/// Bounding box (x0, y0, x1, y1, inclusive) of the pixels further than
/// [`FOREGROUND_DISTANCE`] from `background`, or `None` when fewer than `enough` are.
///
/// Row by row over the raw bytes, since the whole frame goes through here every frame. Until
/// `enough` pixels are found every pixel is counted; after that only each row's first and
/// last foreground pixels matter, so a row is scanned from both ends and its middle skipped.
/// The result is the same as counting everything.
fn foreground_extent(
    region: &RgbImage,
    background: [u8; 3],
    enough: u64,
) -> Option<(u32, u32, u32, u32)> {
    let [br, bg, bb] = background.map(u32::from);
    let foreground = |p: &[u8]| {
        (p[0] as u32).abs_diff(br) + (p[1] as u32).abs_diff(bg) + (p[2] as u32).abs_diff(bb)
            > FOREGROUND_DISTANCE
    };
    let (w, h) = region.dimensions();
    let (mut x0, mut y0, mut x1, mut y1) = (w, h, 0, 0);
    let mut count = 0u64;
    for (y, row) in (0u32..).zip(region.as_raw().chunks_exact(w as usize * 3)) {
        let (first, last) = if count < enough {
            let (mut first, mut last, mut in_row) = (u32::MAX, 0u32, 0u32);
            // Branch-free: on a textured frame the test is a coin toss per pixel.
            for (x, p) in (0u32..).zip(row.chunks_exact(3)) {
                let is = foreground(p);
                in_row += is as u32;
                first = first.min(if is { x } else { u32::MAX });
                last = last.max(if is { x } else { 0 });
            }
            count += in_row as u64;
            (first, last)
        } else {
            let mut pixels = row.chunks_exact(3);
            match pixels.position(foreground) {
                Some(first) => {
                    // The right end, back to (not past) the first one.
                    let tail = pixels.rposition(foreground).map_or(0, |i| i + 1);
                    (first as u32, (first + tail) as u32)
                }
                None => (u32::MAX, 0),
            }
        };
        if first != u32::MAX {
            x0 = x0.min(first);
            x1 = x1.max(last);
            y0 = y0.min(y);
            y1 = y;
        }
    }
    (count >= enough).then_some((x0, y0, x1, y1))
}

/// Bounding box of the pixels unlike the border's median colour, with a 4 % margin.
fn foreground_box(region: &RgbImage) -> Option<(u32, u32, u32, u32)> {
    let (w, h) = region.dimensions();
    if w < 8 || h < 8 {
        return None;
    }
    let background = border_median(region);
    let area = w as u64 * h as u64;
    // Under 5 % of the region: noise, or nothing held up.
    let (x0, y0, x1, y1) = foreground_extent(region, background, area.div_ceil(20))?;
    let margin_x = w / 25 + 1;
    let margin_y = h / 25 + 1;
    let (x0, y0) = (x0.saturating_sub(margin_x), y0.saturating_sub(margin_y));
    let (x1, y1) = ((x1 + margin_x).min(w - 1), (y1 + margin_y).min(h - 1));
    let (bw, bh) = (x1 - x0 + 1, y1 - y0 + 1);
    if bw as u64 * bh as u64 * 10 > area * 9 {
        return None; // fills the region anyway
    }
    Some((x0, y0, bw, bh))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    /// Every pixel counted, the way the extent is defined.
    fn plain_extent(region: &RgbImage, background: [u8; 3]) -> (u64, Option<(u32, u32, u32, u32)>) {
        let (mut count, mut extent) = (0, None::<(u32, u32, u32, u32)>);
        for (x, y, p) in region.enumerate_pixels() {
            let d: u32 = (0..3).map(|k| p.0[k].abs_diff(background[k]) as u32).sum();
            if d > FOREGROUND_DISTANCE {
                count += 1;
                extent = Some(match extent {
                    None => (x, y, x, y),
                    Some((x0, y0, x1, y1)) => (x0.min(x), y0.min(y), x1.max(x), y1.max(y)),
                });
            }
        }
        (count, extent)
    }

    #[test]
    fn the_extent_skipping_row_middles_equals_counting_every_pixel() {
        let wall = [200, 200, 190];
        for seed in 0..40u32 {
            // Blobs and speckle of varying density on a wall, odd sizes.
            let (w, h) = (37 + seed % 11, 23 + seed % 7);
            let picture = RgbImage::from_fn(w, h, |x, y| {
                let hash = (x * 73 + y * 151 + seed * 977).wrapping_mul(2654435761) >> 24;
                let blob = (x + seed) % 17 < 5 && (y * 3 + seed) % 13 < 4;
                if blob || hash < seed * 2 {
                    Rgb([(hash as u8).wrapping_add(seed as u8), 40, 30])
                } else {
                    Rgb(wall)
                }
            });
            let (count, extent) = plain_extent(&picture, wall);
            for enough in [1, count / 3 + 1, count, count + 1, u64::MAX] {
                let want = if count >= enough { extent } else { None };
                assert_eq!(
                    foreground_extent(&picture, wall, enough),
                    want,
                    "seed {seed}, {count} foreground, enough {enough}"
                );
            }
        }
    }

    fn garment_region(frame: &RgbImage, roi: [f32; 4]) -> RgbImage {
        foreground_region(crop_fraction(frame, roi))
    }

    #[test]
    fn cuts_the_wall_away() {
        let mut frame = RgbImage::from_pixel(200, 100, Rgb([200, 200, 190]));
        for y in 30..70 {
            for x in 90..120 {
                frame.put_pixel(x, y, Rgb([180, 20, 30]));
            }
        }
        let garment = garment_region(&frame, [0.25, 0.0, 0.5, 1.0]);
        let (w, h) = garment.dimensions();
        assert!((30..45).contains(&w) && (40..55).contains(&h), "{w}x{h}");
        assert_eq!(garment.get_pixel(w / 2, h / 2).0, [180, 20, 30]);
    }

    #[test]
    fn empty_views_and_odd_rois_keep_the_region() {
        let wall = RgbImage::from_pixel(100, 100, Rgb([90, 90, 90]));
        assert_eq!(
            garment_region(&wall, [0.1, 0.1, 0.5, 0.5]).dimensions(),
            (50, 50)
        );
        for roi in [
            [0.0, 0.0, 0.0, 0.0],
            [2.0, 2.0, 5.0, -1.0],
            [f32::NAN; 4],
            [0.99, 0.99, 1.0, 1.0],
        ] {
            let r = garment_region(&wall, roi);
            assert!(r.width() >= 1 && r.height() >= 1);
        }
        assert_eq!(
            garment_region(&RgbImage::new(1, 1), [0.0, 0.0, 1.0, 1.0]).dimensions(),
            (1, 1)
        );
    }
}
