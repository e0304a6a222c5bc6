//! Camera-like views of a garment: the same piece held up in a room, at another pose,
//! scale, light and white balance, with clutter, a hand in the way, blur and sensor noise;
//! in front of a real photo, also the JPEG artefacts of a cheap camera.

use super::render::Product;
use image::{Rgb, RgbImage};
use rand::Rng;

/// Renders one view of `product` at `size` × `size`, in front of a drawn room, or of a part
/// of one of `photos` when there are any.
pub fn view(product: &Product, size: u32, photos: &[RgbImage], rng: &mut impl Rng) -> RgbImage {
    let mut frame = if photos.is_empty() {
        background(size, rng)
    } else {
        photo_background(&photos[rng.random_range(0..photos.len())], size, rng)
    };
    place_garment(&mut frame, product, rng);
    if rng.random_bool(0.35) {
        occlude(&mut frame, rng);
    }
    light(&mut frame, rng);
    let mut frame = if rng.random_bool(0.5) {
        image::imageops::blur(&frame, rng.random_range(0.4..1.2))
    } else {
        frame
    };
    add_noise(&mut frame, rng.random_range(1.0..6.0), rng);
    if !photos.is_empty() {
        frame = jpeg_round_trip(&frame, rng.random_range(30..90));
    }
    frame
}

/// A random square part of `photo` (a quarter of its short side up to all of it), scaled to
/// `size`, maybe mirrored.
fn photo_background(photo: &RgbImage, size: u32, rng: &mut impl Rng) -> RgbImage {
    let (w, h) = photo.dimensions();
    let short = w.min(h).max(1);
    let side = ((short as f32 * rng.random_range(0.25..1.0)) as u32).clamp(1, short);
    let (x, y) = (
        rng.random_range(0..=w - side),
        rng.random_range(0..=h - side),
    );
    let part = image::imageops::crop_imm(photo, x, y, side, side).to_image();
    let mut frame =
        image::imageops::resize(&part, size, size, image::imageops::FilterType::Triangle);
    if rng.random_bool(0.5) {
        image::imageops::flip_horizontal_in_place(&mut frame);
    }
    frame
}

/// The frame as a camera's JPEG of `quality` shows it.
fn jpeg_round_trip(frame: &RgbImage, quality: u8) -> RgbImage {
    let mut bytes = Vec::new();
    let encoded =
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, quality).encode_image(frame);
    match encoded
        .ok()
        .and_then(|_| image::load_from_memory(&bytes).ok())
    {
        Some(decoded) => decoded.to_rgb8(),
        // Encoding an in-memory RGB picture does not fail; if it did, the view stays sharp.
        None => frame.clone(),
    }
}

/// A wall with a floor and a few objects in muted colours.
fn background(size: u32, rng: &mut impl Rng) -> RgbImage {
    let muted = |rng: &mut dyn rand::RngCore| {
        let grey: f32 = rng.random_range(90.0..215.0);
        [0; 3].map(|_| (grey + rng.random_range(-25.0..25.0)).clamp(0.0, 255.0))
    };
    let wall = muted(rng);
    let floor = muted(rng).map(|c| c * 0.7);
    let horizon = rng.random_range(0.72..0.92) * size as f32;
    let mut frame = RgbImage::from_fn(size, size, |_, y| {
        let c = if (y as f32) < horizon {
            wall.map(|c| c * (0.9 + 0.1 * y as f32 / horizon))
        } else {
            floor
        };
        Rgb(c.map(|c| c as u8))
    });
    for _ in 0..rng.random_range(2..6) {
        let c = Rgb(muted(rng).map(|c| c as u8));
        let (w, h) = (
            rng.random_range(0.08..0.35) * size as f32,
            rng.random_range(0.08..0.5) * size as f32,
        );
        let (x0, y0) = (
            rng.random_range(-0.1..0.95) * size as f32,
            rng.random_range(0.0..0.95) * size as f32,
        );
        let round = rng.random_bool(0.5);
        for y in y0.max(0.0) as u32..((y0 + h) as u32).min(size) {
            for x in x0.max(0.0) as u32..((x0 + w) as u32).min(size) {
                let (dx, dy) = ((x as f32 - x0) / w - 0.5, (y as f32 - y0) / h - 0.5);
                if !round || dx * dx + dy * dy <= 0.25 {
                    frame.put_pixel(x, y, c);
                }
            }
        }
    }
    frame
}

/// Composites the garment after a random similarity transform (and maybe a mirror).
fn place_garment(frame: &mut RgbImage, product: &Product, rng: &mut impl Rng) {
    let size = frame.width() as f32;
    let (pw, ph) = product.colour.dimensions();
    let scale = rng.random_range(0.72..1.0);
    let angle = rng.random_range(-0.26f32..0.26);
    let (tx, ty) = (rng.random_range(-0.1..0.1), rng.random_range(-0.08..0.08));
    let flip = rng.random_bool(0.5);
    let (s, c) = angle.sin_cos();
    for y in 0..frame.height() {
        for x in 0..frame.width() {
            // Inverse map: frame point -> product point, both in unit coordinates.
            let (fx, fy) = (
                (x as f32 + 0.5) / size - 0.5 - tx,
                (y as f32 + 0.5) / size - 0.5 - ty,
            );
            let (mut u, v) = ((c * fx + s * fy) / scale, (-s * fx + c * fy) / scale);
            if flip {
                u = -u;
            }
            let (u, v) = ((u + 0.5) * pw as f32 - 0.5, (v + 0.5) * ph as f32 - 0.5);
            if let Some((colour, alpha)) = sample(product, u, v) {
                let bg = frame.get_pixel(x, y).0;
                let out = [0, 1, 2].map(|k| colour[k] * alpha + bg[k] as f32 * (1.0 - alpha));
                frame.put_pixel(x, y, Rgb(out.map(|v| v.round().clamp(0.0, 255.0) as u8)));
            }
        }
    }
}

/// Bilinear sample of colour and coverage; `None` outside the product picture.
fn sample(product: &Product, u: f32, v: f32) -> Option<([f32; 3], f32)> {
    let (w, h) = product.colour.dimensions();
    if u < 0.0 || v < 0.0 || u > (w - 1) as f32 || v > (h - 1) as f32 {
        return None;
    }
    let (x0, y0) = (u.floor() as u32, v.floor() as u32);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let (fx, fy) = (u - x0 as f32, v - y0 as f32);
    let mut colour = [0.0; 3];
    let mut alpha = 0.0;
    for (x, y, wgt) in [
        (x0, y0, (1.0 - fx) * (1.0 - fy)),
        (x1, y0, fx * (1.0 - fy)),
        (x0, y1, (1.0 - fx) * fy),
        (x1, y1, fx * fy),
    ] {
        let a = product.alpha.get_pixel(x, y).0[0] as f32 / 255.0 * wgt;
        let c = product.colour.get_pixel(x, y).0;
        for k in 0..3 {
            colour[k] += c[k] as f32 * a;
        }
        alpha += a;
    }
    (alpha > 0.0).then(|| (colour.map(|c| c / alpha), alpha))
}

/// A hand or a bar reaching in from an edge.
fn occlude(frame: &mut RgbImage, rng: &mut impl Rng) {
    let size = frame.width() as f32;
    let skin = [
        [224.0, 172.0, 140.0],
        [198.0, 134.0, 96.0],
        [141.0, 85.0, 54.0],
        [90.0, 90.0, 96.0],
    ][rng.random_range(0..4)];
    let (cx, cy) = (
        if rng.random_bool(0.5) { 0.05 } else { 0.95 } * size,
        rng.random_range(0.3..0.9) * size,
    );
    let (rx, ry) = (
        rng.random_range(0.1..0.2) * size,
        rng.random_range(0.06..0.12) * size,
    );
    for y in 0..frame.height() {
        for x in 0..frame.width() {
            let (dx, dy) = ((x as f32 - cx) / rx, (y as f32 - cy) / ry);
            if dx * dx + dy * dy <= 1.0 {
                let shade = 1.0 - 0.15 * dy.max(0.0);
                frame.put_pixel(x, y, Rgb(skin.map(|c| (c * shade) as u8)));
            }
        }
    }
}

/// Exposure, white balance and a light gradient across the frame.
fn light(frame: &mut RgbImage, rng: &mut impl Rng) {
    let gain = rng.random_range(0.7..1.25);
    let balance = [0; 3].map(|_| rng.random_range(0.88..1.12));
    let (gx, gy) = (rng.random_range(-0.15..0.15), rng.random_range(-0.15..0.15));
    let size = frame.width() as f32;
    for (x, y, p) in frame.enumerate_pixels_mut() {
        let ramp = 1.0 + gx * (x as f32 / size - 0.5) * 2.0 + gy * (y as f32 / size - 0.5) * 2.0;
        for (channel, white) in p.0.iter_mut().zip(balance) {
            *channel = (*channel as f32 * gain * white * ramp)
                .round()
                .clamp(0.0, 255.0) as u8;
        }
    }
}

/// Roughly Gaussian sensor noise (sum of three uniforms).
fn add_noise(frame: &mut RgbImage, sigma: f32, rng: &mut impl Rng) {
    for p in frame.pixels_mut() {
        for k in 0..3 {
            let n: f32 = (0..3).map(|_| rng.random_range(-1.0f32..1.0)).sum::<f32>() * sigma;
            p.0[k] = (p.0[k] as f32 + n).round().clamp(0.0, 255.0) as u8;
        }
    }
}
