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

/// Bounding box of the pixels unlike the border's median colour, with a 4 % margin.
fn foreground_box(region: &RgbImage) -> Option<(u32, u32, u32, u32)> {
    let (w, h) = region.dimensions();
    if w < 8 || h < 8 {
        return None;
    }
    let background = border_median(region);
    let (mut x0, mut y0, mut x1, mut y1) = (w, h, 0, 0);
    let mut count = 0u64;
    let [br, bg, bb] = background.map(u32::from);
    // Row by row over the raw bytes: the whole frame goes through here every frame.
    for (y, row) in region.as_raw().chunks_exact(w as usize * 3).enumerate() {
        let (mut first, mut last, mut in_row) = (u32::MAX, 0u32, 0u32);
        // Branch-free: on a textured frame the test is a coin toss per pixel.
        for (x, p) in (0u32..).zip(row.chunks_exact(3)) {
            let d = (p[0] as u32).abs_diff(br)
                + (p[1] as u32).abs_diff(bg)
                + (p[2] as u32).abs_diff(bb);
            let foreground = d > FOREGROUND_DISTANCE;
            in_row += foreground as u32;
            first = first.min(if foreground { x } else { u32::MAX });
            last = last.max(if foreground { x } else { 0 });
        }
        let in_row = in_row as u64;
        if in_row > 0 {
            count += in_row;
            x0 = x0.min(first);
            x1 = x1.max(last);
            y0 = y0.min(y as u32);
            y1 = y as u32;
        }
    }
    let area = w as u64 * h as u64;
    if count * 20 < area {
        return None; // under 5 %: noise, or nothing held up
    }
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
