//! Draws a garment as a product shot: its silhouette filled with colour, pattern, texture,
//! trims and logo, on white (as shop and Polyvore pictures are).

use super::garment::{GarmentSpec, LogoShape, Texture};
use super::rules::{Pattern, StyleRules};
use super::shapes::{self, Paint, Shape};
use image::{GrayImage, Luma, Rgb, RgbImage};

/// A rendered garment: its colours and how much of each pixel it covers.
pub struct Product {
    /// Garment colour where covered (white elsewhere).
    pub colour: RgbImage,
    /// Coverage, 0..=255.
    pub alpha: GrayImage,
}

impl Product {
    /// The garment on a white background.
    pub fn on_white(&self) -> RgbImage {
        let mut out = self.colour.clone();
        for (p, a) in out.pixels_mut().zip(self.alpha.pixels()) {
            let a = a.0[0] as f32 / 255.0;
            p.0 =
                p.0.map(|c| (c as f32 * a + 255.0 * (1.0 - a)).round() as u8);
        }
        out
    }
}

/// Samples per pixel side: 2 gives smooth edges at 4× the work.
const SUPERSAMPLE: u32 = 2;

/// Renders `garment` at `size` × `size`.
pub fn render(garment: &GarmentSpec, rules: &StyleRules, size: u32) -> Product {
    let shape = shapes::shape(&rules.variant[garment.variant].name).unwrap_or_else(|| Shape {
        ops: Vec::new(),
        logo_anchor: (0.5, 0.5),
    });
    let fill = Fill::new(garment, rules);
    let mut colour = RgbImage::from_pixel(size, size, Rgb([255, 255, 255]));
    let mut alpha = GrayImage::new(size, size);
    let step = 1.0 / (size * SUPERSAMPLE) as f32;
    for py in 0..size {
        for px in 0..size {
            let mut sum = [0.0f32; 3];
            let mut hits = 0u32;
            for sy in 0..SUPERSAMPLE {
                for sx in 0..SUPERSAMPLE {
                    let u = (px * SUPERSAMPLE + sx) as f32 * step + step / 2.0;
                    let v = (py * SUPERSAMPLE + sy) as f32 * step + step / 2.0;
                    // Undo the garment's stretch about the centre to find the shape point.
                    let x = 0.5 + (u - 0.5) / garment.stretch_x;
                    let y = 0.5 + (v - 0.5) / garment.stretch_y;
                    if let Some(paint) = shape.paint_at(x, y) {
                        let c = fill.colour(paint, x, y, &shape);
                        for k in 0..3 {
                            sum[k] += c[k];
                        }
                        hits += 1;
                    }
                }
            }
            if hits > 0 {
                let n = hits as f32;
                colour.put_pixel(
                    px,
                    py,
                    Rgb(sum.map(|s| (s / n).round().clamp(0.0, 255.0) as u8)),
                );
                alpha.put_pixel(
                    px,
                    py,
                    Luma([(255 * hits / (SUPERSAMPLE * SUPERSAMPLE)) as u8]),
                );
            }
        }
    }
    Product { colour, alpha }
}

/// Colours a point of the garment.
struct Fill<'a> {
    garment: &'a GarmentSpec,
    main: [f32; 3],
    accent: [f32; 3],
    logo: [f32; 3],
}

impl<'a> Fill<'a> {
    fn new(garment: &'a GarmentSpec, rules: &StyleRules) -> Self {
        let rgb = |i: usize| rules.colour[i].rgb.map(|c| c as f32);
        let main = rgb(garment.colour).map(|c| (c * (1.0 + garment.shade)).clamp(0.0, 255.0));
        let logo = garment.logo.map(|l| rgb(l.colour)).unwrap_or(main);
        Self {
            garment,
            main,
            accent: rgb(garment.accent),
            logo,
        }
    }

    fn colour(&self, paint: Paint, x: f32, y: f32, shape: &Shape) -> [f32; 3] {
        // Light from the upper left gives the flat shapes some volume.
        let light = 1.0 + 0.1 * (0.5 - y) + 0.06 * (0.5 - x);
        let base = match paint {
            Paint::Body => {
                if self.in_logo(x, y, shape) {
                    self.logo
                } else {
                    let t = 1.0 + self.garment.texture_strength * self.texture(x, y);
                    self.pattern(x, y).map(|c| c * t)
                }
            }
            Paint::Trim => self.accent,
            Paint::Detail => self.main.map(|c| c * 0.68),
            Paint::Dark => [34.0, 34.0, 38.0],
        };
        base.map(|c| c * light)
    }

    fn pattern(&self, x: f32, y: f32) -> [f32; 3] {
        let g = self.garment;
        let (s, c) = g.pattern_angle.sin_cos();
        let a = (x * c + y * s) / g.pattern_scale + g.pattern_phase;
        let b = (-x * s + y * c) / g.pattern_scale + g.pattern_phase * 0.7;
        match g.pattern {
            Pattern::Solid => self.main,
            Pattern::Stripes => {
                if a.rem_euclid(1.0) < 0.42 {
                    self.accent
                } else {
                    self.main
                }
            }
            Pattern::Checks => {
                let hits = u8::from(a.rem_euclid(1.0) < 0.5) + u8::from(b.rem_euclid(1.0) < 0.5);
                mix(self.main, self.accent, hits as f32 / 2.0)
            }
            Pattern::Dots => {
                let row = b.floor();
                let shift = if row.rem_euclid(2.0) < 1.0 { 0.0 } else { 0.5 };
                let (dx, dy) = ((a + shift).rem_euclid(1.0) - 0.5, b.rem_euclid(1.0) - 0.5);
                if dx * dx + dy * dy < 0.22 * 0.22 {
                    self.accent
                } else {
                    self.main
                }
            }
            Pattern::Print => {
                let n = value_noise(a * 0.8, b * 0.8, g.index as u32);
                if n > 0.64 {
                    self.accent
                } else if n > 0.56 {
                    mix(self.main, self.accent, 0.5)
                } else {
                    self.main
                }
            }
        }
    }

    fn texture(&self, x: f32, y: f32) -> f32 {
        use std::f32::consts::TAU;
        match self.garment.texture {
            Texture::Smooth => 0.0,
            Texture::Knit => (TAU * x * 48.0).sin() * (0.6 + 0.4 * (TAU * y * 36.0).sin()),
            Texture::Twill => (TAU * (x + y) * 40.0).sin(),
            Texture::Grain => 2.0 * value_noise(x * 70.0, y * 70.0, 17) - 1.0,
        }
    }

    fn in_logo(&self, x: f32, y: f32, shape: &Shape) -> bool {
        let Some(logo) = self.garment.logo else {
            return false;
        };
        let cx = shape.logo_anchor.0 + logo.dx;
        let cy = shape.logo_anchor.1 + logo.dy;
        let (dx, dy) = (x - cx, y - cy);
        let r = logo.size / 2.0;
        match logo.shape {
            LogoShape::Disc => dx * dx + dy * dy <= r * r,
            LogoShape::Square => dx.abs() <= r && dy.abs() <= r,
            LogoShape::Triangle => dy <= r && dy >= -r && dx.abs() <= (dy + r) / 2.0,
            LogoShape::Bar => dx.abs() <= r * 1.4 && dy.abs() <= r * 0.35,
        }
    }
}

fn mix(a: [f32; 3], b: [f32; 3], t: f32) -> [f32; 3] {
    [0, 1, 2].map(|k| a[k] * (1.0 - t) + b[k] * t)
}

/// Smooth lattice noise in 0..1, seeded; deterministic on every platform.
pub fn value_noise(x: f32, y: f32, seed: u32) -> f32 {
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let smooth = |t: f32| t * t * (3.0 - 2.0 * t);
    let (sx, sy) = (smooth(fx), smooth(fy));
    let corner = |i: i32, j: i32| lattice_hash(x0 as i32 + i, y0 as i32 + j, seed);
    let top = corner(0, 0) * (1.0 - sx) + corner(1, 0) * sx;
    let bottom = corner(0, 1) * (1.0 - sx) + corner(1, 1) * sx;
    top * (1.0 - sy) + bottom * sy
}

fn lattice_hash(i: i32, j: i32, seed: u32) -> f32 {
    let mut h = (i as u32).wrapping_mul(0x27d4_eb2d)
        ^ (j as u32).wrapping_mul(0x1656_67b1)
        ^ seed.wrapping_mul(0x9e37_79b9);
    h ^= h >> 15;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    (h & 0x00ff_ffff) as f32 / 16_777_216.0
}
