//! Style statistics of a garment picture (`style-v1`): its main and second colours and how
//! much of the garment each covers, a hue histogram, how busy its pattern is and a coarse
//! silhouette. The stylist reads these beside the embedder's output.
//!
//! The embedder is trained to tell garments apart, which keeps only part of what decides
//! whether two garments go together (hue harmony, "one bold pattern per outfit"). These
//! numbers say those things directly. Host and device compute them with this one function
//! from the same pixels: the garment region scaled to the stored thumbnail's size
//! ([`style_view`]), so a wardrobe garment's statistics can always be recomputed from its
//! thumbnail.

use crate::preprocess::crop::border_median;
use image::RgbImage;

// A macro so the stylist's feature tag (`embedder+style-v1`) is built from this spelling
// at compile time rather than written twice.
macro_rules! style_source {
    () => {
        "style-v1"
    };
}
pub(crate) use style_source;

/// The feature-kind tag of these statistics (bundles name it in their stylist spec).
pub const STYLE_SOURCE: &str = style_source!();

/// Longest side of the picture the statistics are measured on (the thumbnail's side).
pub const STYLE_SIDE: u32 = 96;

const HUE_BINS: usize = 12;
const MASK: usize = 6;
const COLOUR: usize = 9;
/// Length of [`style_features`].
pub const STYLE_DIM: usize = 3 + 2 * COLOUR + HUE_BINS + PATTERN + 2 + MASK * MASK;
/// Pattern statistics: edge density and balance, run lengths, and what survives blurring.
const PATTERN: usize = 4 + 3 + 2 + 2;

/// L1 colour distance (0..765) within which a pixel belongs to a colour cluster. Shading and
/// fabric texture stay inside it; a pattern's second colour does not.
const CLUSTER_DISTANCE: i32 = 70;
/// L1 distance from the border colour above which a pixel is garment.
const FOREGROUND_DISTANCE: i32 = 40;

/// The picture the statistics are measured on: `picture` scaled so its longest side is
/// [`STYLE_SIDE`] (what `wardrobe::thumbnail_png` stores).
pub fn style_view(picture: &RgbImage) -> RgbImage {
    let (w, h) = picture.dimensions();
    let scale = STYLE_SIDE as f32 / w.max(h).max(1) as f32;
    let (tw, th) = (
        ((w as f32 * scale) as u32).max(1),
        ((h as f32 * scale) as u32).max(1),
    );
    if (tw, th) == (w, h) {
        return picture.clone();
    }
    image::imageops::thumbnail(picture, tw, th)
}

/// The `style-v1` statistics of a garment picture (a garment region, any size): always
/// [`STYLE_DIM`] finite numbers, whatever the picture holds.
pub fn style_features(picture: &RgbImage) -> Vec<f32> {
    style_of_view(&style_view(picture))
}

/// [`style_features`] of a picture already at thumbnail size (e.g. a decoded thumbnail).
pub fn style_of_view(view: &RgbImage) -> Vec<f32> {
    let (w, h) = view.dimensions();
    let background = border_median(view);
    let is_garment = |p: [u8; 3]| l1(p, background) > FOREGROUND_DISTANCE;
    let garment: Vec<[u8; 3]> = view
        .pixels()
        .map(|p| p.0)
        .filter(|&p| is_garment(p))
        .collect();
    let mut out = Vec::with_capacity(STYLE_DIM);

    // Colour clusters: the main colour, then the main colour of what is left.
    let total = garment.len().max(1) as f32;
    let main = dominant_colour(garment.iter().copied());
    let rest: Vec<[u8; 3]> = match main {
        Some(c) => garment
            .iter()
            .copied()
            .filter(|&p| l1(p, c) > CLUSTER_DISTANCE)
            .collect(),
        None => Vec::new(),
    };
    let second = dominant_colour(rest.iter().copied());
    let second_count = second.map_or(0, |c| {
        rest.iter()
            .filter(|&&p| l1(p, c) <= CLUSTER_DISTANCE)
            .count()
    });
    let main_share = (garment.len() - rest.len()) as f32 / total;
    let second_share = second_count as f32 / total;
    out.push(main_share);
    out.push(second_share);
    out.push((1.0 - main_share - second_share).max(0.0));
    push_colour(&mut out, main, 1.0);
    push_colour(&mut out, second, second_share);

    // Hue histogram of saturated garment pixels, soft-binned so a hue near a bin edge does
    // not jump between bins.
    let mut hues = [0f32; HUE_BINS];
    for &p in &garment {
        let (hue, s, v) = hsv(p);
        if s > 0.25 && v > 0.2 {
            let x = hue / 360.0 * HUE_BINS as f32;
            let lo = x.floor();
            let t = x - lo;
            let lo = lo as usize % HUE_BINS;
            hues[lo] += 1.0 - t;
            hues[(lo + 1) % HUE_BINS] += t;
        }
    }
    out.extend(hues.iter().map(|c| c / total));

    // Pattern: how often neighbouring garment pixels change colour cluster, per direction.
    let (mut across, mut down, mut diagonal, mut pairs) = (0f32, 0f32, 0f32, 0f32);
    let at = |x: u32, y: u32| view.get_pixel(x, y).0;
    for y in 0..h.saturating_sub(1) {
        for x in 0..w.saturating_sub(1) {
            let p = at(x, y);
            if !is_garment(p) {
                continue;
            }
            let (r, d, g) = (at(x + 1, y), at(x, y + 1), at(x + 1, y + 1));
            if !(is_garment(r) && is_garment(d) && is_garment(g)) {
                continue; // the silhouette's outline is not pattern
            }
            pairs += 1.0;
            across += f32::from(u8::from(l1(p, r) > CLUSTER_DISTANCE));
            down += f32::from(u8::from(l1(p, d) > CLUSTER_DISTANCE));
            diagonal += f32::from(u8::from(l1(p, g) > CLUSTER_DISTANCE));
        }
    }
    let pairs = pairs.max(1.0);
    let (across, down, diagonal) = (across / pairs, down / pairs, diagonal / pairs);
    out.push(across + down);
    out.push((across - down).abs() / (across + down).max(1e-3));
    out.push(diagonal);
    out.push(diagonal / (across + down).max(1e-3));

    // How big the pattern's marks are: mean run length of off-main pixels along rows and
    // columns (small dots make short runs both ways, stripes long runs one way, prints and
    // checks long runs both ways).
    let off_main = |p: [u8; 3]| is_garment(p) && main.is_some_and(|c| l1(p, c) > CLUSTER_DISTANCE);
    let row_runs = mean_run(w, h, |x, y| off_main(at(x, y)));
    let column_runs = mean_run(h, w, |y, x| off_main(at(x, y)));
    out.push((1.0 + row_runs.max(column_runs)).ln());
    out.push((1.0 + row_runs.min(column_runs)).ln());
    out.push(((1.0 + row_runs) / (1.0 + column_runs)).ln().abs());
    // What survives 2× and 4× box blurs: small marks melt into the main colour, large ones
    // stay (share of off-main blocks over the off-main share at full size).
    let full = off_main_share(view, main, &is_garment, 1);
    for block in [2, 4] {
        out.push(off_main_share(view, main, &is_garment, block) / full.max(0.02));
    }
    // Whether the marks repeat (stripes, checks, dots) or wander (prints).
    let (strongest, mean) =
        periodicity(w, h, |x, y| off_main(at(x, y)), |x, y| is_garment(at(x, y)));
    out.push(strongest);
    out.push(mean);

    // Silhouette: garment share of the picture, aspect ratio, and a coarse mask.
    out.push(garment.len() as f32 / (w * h).max(1) as f32);
    out.push((w as f32 / h.max(1) as f32).ln());
    let mut mask = [0f32; MASK * MASK];
    let mut cells = [0f32; MASK * MASK];
    for (x, y, p) in view.enumerate_pixels() {
        let cell = (y as usize * MASK / h as usize) * MASK + x as usize * MASK / w as usize;
        cells[cell] += 1.0;
        if is_garment(p.0) {
            mask[cell] += 1.0;
        }
    }
    out.extend(mask.iter().zip(&cells).map(|(m, n)| m / n.max(1.0)));
    debug_assert_eq!(out.len(), STYLE_DIM);
    out
}

/// Mean length of the runs of `on(i, line)` along `len`-long lines (0 without any).
fn mean_run(len: u32, lines: u32, on: impl Fn(u32, u32) -> bool) -> f32 {
    let (mut runs, mut total, mut current) = (0u32, 0u32, 0u32);
    for line in 0..lines {
        for i in 0..=len {
            if i < len && on(i, line) {
                current += 1;
            } else if current > 0 {
                runs += 1;
                total += current;
                current = 0;
            }
        }
    }
    if runs == 0 {
        0.0
    } else {
        total as f32 / runs as f32
    }
}

/// Longest shift [`periodicity`] looks at, in pixels.
const MAX_SHIFT: i64 = 24;

/// How strongly the `mark` mask repeats inside the garment: along each of four directions,
/// the autocorrelation's rebound after its first dip (zero for a mask that only decays
/// with distance, as irregular blobs do). Returns the strongest and the mean rebound.
fn periodicity(
    w: u32,
    h: u32,
    mark: impl Fn(u32, u32) -> bool,
    inside: impl Fn(u32, u32) -> bool,
) -> (f32, f32) {
    let cells: Vec<Option<bool>> = (0..h)
        .flat_map(|y| (0..w).map(move |x| (x, y)))
        .map(|(x, y)| inside(x, y).then(|| mark(x, y)))
        .collect();
    let (w, h) = (w as i64, h as i64);
    let cell = |x: i64, y: i64| {
        if x < 0 || y < 0 || x >= w || y >= h {
            None
        } else {
            cells[(y * w + x) as usize]
        }
    };
    let marked = cells.iter().flatten().filter(|&&m| m).count() as f32;
    let total = cells.iter().flatten().count() as f32;
    let share = marked / total.max(1.0);
    if share <= 0.01 || share >= 0.99 {
        return (0.0, 0.0);
    }
    let variance = share - share * share;
    let mut rebounds = [0f32; 4];
    for (direction, (dx, dy)) in [(1, 0), (0, 1), (1, 1), (1, -1)].into_iter().enumerate() {
        let mut lowest = f32::MAX;
        for d in 1..=MAX_SHIFT {
            let (mut both, mut pairs) = (0f32, 0f32);
            for y in 0..h {
                for x in 0..w {
                    if let (Some(a), Some(b)) = (cell(x, y), cell(x + d * dx, y + d * dy)) {
                        pairs += 1.0;
                        both += f32::from(u8::from(a && b));
                    }
                }
            }
            if pairs < 16.0 {
                break;
            }
            let correlation = (both / pairs - share * share) / variance;
            lowest = lowest.min(correlation);
            rebounds[direction] = rebounds[direction].max(correlation - lowest);
        }
    }
    let strongest = rebounds.iter().copied().fold(0.0, f32::max);
    (strongest, rebounds.iter().sum::<f32>() / 4.0)
}

/// Share of the garment's `block`×`block` blocks whose mean colour is off the main colour.
fn off_main_share(
    view: &RgbImage,
    main: Option<[u8; 3]>,
    is_garment: &impl Fn([u8; 3]) -> bool,
    block: u32,
) -> f32 {
    let Some(main) = main else {
        return 0.0;
    };
    let (w, h) = view.dimensions();
    let (mut off, mut blocks) = (0u32, 0u32);
    for by in 0..h / block {
        for bx in 0..w / block {
            let (mut sum, mut all_garment) = ([0u32; 3], true);
            for y in by * block..(by + 1) * block {
                for x in bx * block..(bx + 1) * block {
                    let p = view.get_pixel(x, y).0;
                    all_garment &= is_garment(p);
                    for k in 0..3 {
                        sum[k] += p[k] as u32;
                    }
                }
            }
            if !all_garment {
                continue;
            }
            blocks += 1;
            let mean = sum.map(|s| (s / (block * block)) as u8);
            off += u32::from(l1(mean, main) > CLUSTER_DISTANCE);
        }
    }
    off as f32 / blocks.max(1) as f32
}

/// The colour as numbers the rules can use: hue as a direction and as a doubled angle (so
/// complementary hues coincide), each scaled by saturation, saturation, value and RGB, all
/// scaled by `weight` (zero when there is no such colour).
fn push_colour(out: &mut Vec<f32>, colour: Option<[u8; 3]>, weight: f32) {
    let Some(c) = colour else {
        out.extend([0.0; COLOUR]);
        return;
    };
    let (hue, s, v) = hsv(c);
    let angle = hue.to_radians();
    out.extend(
        [
            s * angle.cos(),
            s * angle.sin(),
            s * (2.0 * angle).cos(),
            s * (2.0 * angle).sin(),
            s,
            v,
            c[0] as f32 / 255.0,
            c[1] as f32 / 255.0,
            c[2] as f32 / 255.0,
        ]
        .map(|x| x * weight),
    );
}

/// The mean colour of the most common coarse colour and the pixels near it; `None` for no
/// pixels.
fn dominant_colour(pixels: impl Iterator<Item = [u8; 3]> + Clone) -> Option<[u8; 3]> {
    let mut bins = vec![0u32; 512];
    let mut any = false;
    for p in pixels.clone() {
        any = true;
        bins[((p[0] as usize >> 5) << 6) | ((p[1] as usize >> 5) << 3) | (p[2] as usize >> 5)] += 1;
    }
    if !any {
        return None;
    }
    let mode = (0..bins.len()).max_by_key(|&b| (bins[b], std::cmp::Reverse(b)))?;
    let mut centre = [(mode >> 6) & 7, (mode >> 3) & 7, mode & 7].map(|q| (q * 32 + 16) as u8);
    // Two mean-shift steps pull the bin centre onto the cluster's real colour.
    for _ in 0..2 {
        let (mut sum, mut n) = ([0u64; 3], 0u64);
        for p in pixels
            .clone()
            .filter(|&p| l1(p, centre) <= CLUSTER_DISTANCE)
        {
            for k in 0..3 {
                sum[k] += p[k] as u64;
            }
            n += 1;
        }
        if n == 0 {
            break;
        }
        centre = sum.map(|s| (s / n) as u8);
    }
    Some(centre)
}

fn l1(a: [u8; 3], b: [u8; 3]) -> i32 {
    (0..3).map(|k| (a[k] as i32 - b[k] as i32).abs()).sum()
}

/// Hue in degrees, saturation and value in 0..=1.
pub fn hsv([r, g, b]: [u8; 3]) -> (f32, f32, f32) {
    let (r, g, b) = (r as f32 / 255.0, g as f32 / 255.0, b as f32 / 255.0);
    let max = r.max(g).max(b);
    let min = r.min(g).min(b);
    let delta = max - min;
    let hue = if delta <= 0.0 {
        0.0
    } else if max == r {
        60.0 * ((g - b) / delta).rem_euclid(6.0)
    } else if max == g {
        60.0 * ((b - r) / delta + 2.0)
    } else {
        60.0 * ((r - g) / delta + 4.0)
    };
    let saturation = if max <= 0.0 { 0.0 } else { delta / max };
    (hue, saturation, max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    /// A 60×80 garment of `main` on a white picture, with every other 6-pixel column of
    /// `stripe` when given.
    fn garment(main: [u8; 3], stripe: Option<[u8; 3]>) -> RgbImage {
        RgbImage::from_fn(120, 120, |x, y| {
            if !(30..90).contains(&x) || !(20..100).contains(&y) {
                Rgb([255, 255, 255])
            } else if stripe.is_some() && (x / 6) % 2 == 1 {
                Rgb(stripe.unwrap_or(main))
            } else {
                Rgb(main)
            }
        })
    }

    #[test]
    fn a_solid_garment_is_one_colour_with_no_pattern() {
        let f = style_features(&garment([200, 36, 40], None));
        assert_eq!(f.len(), STYLE_DIM);
        assert!(f[0] > 0.99, "main share {}", f[0]);
        assert!(f[1] < 0.01 && f[2] < 0.01);
        // Red: hue 0, so cos > 0, sin ≈ 0; no pattern edges.
        assert!(f[3] > 0.7 && f[4].abs() < 0.05, "hue vector {:?}", &f[3..5]);
        let edges = 3 + 2 * COLOUR + HUE_BINS;
        assert_eq!(f[edges], 0.0);
        // The garment covers 60×80 of 120×120.
        assert!((f[edges + PATTERN] - 4800.0 / 14400.0).abs() < 0.02);
    }

    #[test]
    fn stripes_split_the_garment_into_two_colours_with_vertical_edges() {
        let f = style_features(&garment([40, 96, 210], Some([236, 236, 230])));
        assert!((f[0] - 0.5).abs() < 0.1, "main share {}", f[0]);
        assert!((f[1] - 0.5).abs() < 0.1, "second share {}", f[1]);
        let edges = 3 + 2 * COLOUR + HUE_BINS;
        assert!(f[edges] > 0.05, "edge density {}", f[edges]);
        // All changes are across the columns, none down them.
        assert!(f[edges + 1] > 0.9, "edge balance {}", f[edges + 1]);
    }

    #[test]
    fn complementary_hues_share_their_doubled_angle() {
        let red = style_features(&garment([200, 36, 40], None));
        let teal = style_features(&garment([24, 150, 150], None));
        let doubled = |f: &[f32]| [f[5], f[6]];
        let (a, b) = (doubled(&red), doubled(&teal));
        // Red at 0°, teal at 180°: opposite directions, the same doubled angle.
        assert!(red[3] * teal[3] < 0.0);
        let cos = (a[0] * b[0] + a[1] * b[1]) / ((a[0].hypot(a[1])) * (b[0].hypot(b[1]))).max(1e-6);
        assert!(cos > 0.95, "doubled-angle cosine {cos}");
    }

    #[test]
    fn any_picture_gives_finite_numbers() {
        for picture in [
            RgbImage::new(1, 1),
            RgbImage::from_pixel(3, 500, Rgb([10, 200, 30])),
            RgbImage::from_fn(64, 64, |x, y| Rgb([(x * 4) as u8, (y * 4) as u8, 77])),
        ] {
            let f = style_features(&picture);
            assert_eq!(f.len(), STYLE_DIM);
            assert!(f.iter().all(|v| v.is_finite()), "{f:?}");
        }
    }

    #[test]
    fn a_stored_thumbnail_gives_the_statistics_of_the_picture() {
        use crate::wardrobe::thumbnail::{decode_thumbnail, thumbnail_png};
        let picture = garment([46, 150, 60], Some([28, 28, 32]));
        let png = thumbnail_png(&picture).expect("encodes");
        let thumbnail = decode_thumbnail(&png);
        assert_eq!(thumbnail.width().max(thumbnail.height()), STYLE_SIDE);
        assert_eq!(style_features(&thumbnail), style_features(&picture));
    }
}
