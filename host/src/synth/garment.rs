//! One synthetic garment: everything needed to draw it, sampled from a seeded RNG.

use super::rules::{Pattern, StyleKey, StyleRules};
use capsule_device::GarmentType;
use rand::Rng;
use rand::distr::{Distribution, weighted::WeightedIndex};
use serde::Serialize;

/// Surface texture, multiplied into the fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Texture {
    Smooth,
    Knit,
    Twill,
    Grain,
}

/// A small mark that tells two otherwise similar garments apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogoShape {
    Disc,
    Square,
    Triangle,
    Bar,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Logo {
    pub shape: LogoShape,
    /// Offset from the shape's anchor, in picture fractions.
    pub dx: f32,
    pub dy: f32,
    pub size: f32,
    /// Palette index.
    pub colour: usize,
}

/// Everything about one garment. Serialised into `synth.json` as ground truth.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GarmentSpec {
    pub index: usize,
    pub garment_type: GarmentType,
    /// Index into the rules' variants.
    pub variant: usize,
    /// Palette index of the main colour.
    pub colour: usize,
    /// Brightness shift of the main colour, so two "red" garments differ.
    pub shade: f32,
    /// Palette index (a neutral) of pattern accents and trims.
    pub accent: usize,
    pub pattern: Pattern,
    /// Pattern period as a fraction of the picture, its angle (radians) and phase.
    pub pattern_scale: f32,
    pub pattern_angle: f32,
    pub pattern_phase: f32,
    pub texture: Texture,
    pub texture_strength: f32,
    pub logo: Option<Logo>,
    /// Silhouette stretch, so shapes of one variant differ a little.
    pub stretch_x: f32,
    pub stretch_y: f32,
}

impl GarmentSpec {
    /// Samples garment `index` of type `garment_type`.
    pub fn sample(
        index: usize,
        garment_type: GarmentType,
        rules: &StyleRules,
        rng: &mut impl Rng,
    ) -> Self {
        let variants = rules.variants_of(garment_type);
        let variant = variants[rng.random_range(0..variants.len())];
        let pattern_weights: Vec<u32> = Pattern::ALL
            .iter()
            .map(|p| rules.patterns.weights.get(p).copied().unwrap_or(0))
            .collect();
        // Validation guarantees a positive total, so the fallback is never taken.
        let pattern = WeightedIndex::new(&pattern_weights)
            .map(|w| Pattern::ALL[w.sample(rng)])
            .unwrap_or(Pattern::Solid);
        let colour = rng.random_range(0..rules.colour.len());
        let neutrals = rules.neutrals();
        // The accent must stand out from the main colour: pick the neutral farthest from it.
        let main = rules.colour[colour].rgb;
        let mut accents: Vec<usize> = neutrals.clone();
        accents.sort_by_key(|&n| std::cmp::Reverse(rgb_distance(rules.colour[n].rgb, main)));
        let accent = accents[rng.random_range(0..accents.len().min(2))];
        let texture = [
            Texture::Smooth,
            Texture::Knit,
            Texture::Twill,
            Texture::Grain,
        ][rng.random_range(0..4)];
        let logo = rng.random_bool(0.6).then(|| Logo {
            shape: [
                LogoShape::Disc,
                LogoShape::Square,
                LogoShape::Triangle,
                LogoShape::Bar,
            ][rng.random_range(0..4)],
            dx: rng.random_range(-0.08..0.08),
            dy: rng.random_range(-0.06..0.06),
            size: rng.random_range(0.035..0.07),
            colour: rng.random_range(0..rules.colour.len()),
        });
        Self {
            index,
            garment_type,
            variant,
            colour,
            shade: rng.random_range(-0.18..0.18),
            accent,
            pattern,
            pattern_scale: rng.random_range(0.05..0.13),
            pattern_angle: [
                0.0,
                std::f32::consts::FRAC_PI_2,
                std::f32::consts::FRAC_PI_4,
                -std::f32::consts::FRAC_PI_4,
            ][rng.random_range(0..4)],
            pattern_phase: rng.random_range(0.0..1.0),
            texture,
            texture_strength: rng.random_range(0.02..0.12),
            logo,
            stretch_x: rng.random_range(0.9..1.06),
            stretch_y: rng.random_range(0.92..1.05),
        }
    }

    /// What the style rules look at.
    pub fn style(&self) -> StyleKey {
        StyleKey {
            colour: self.colour,
            pattern: self.pattern,
            variant: self.variant,
        }
    }

    /// A product title such as "navy striped shirt".
    pub fn title(&self, rules: &StyleRules) -> String {
        let colour = &rules.colour[self.colour].name;
        let shape = rules.variant[self.variant].name.replace('-', " ");
        match self.pattern {
            Pattern::Solid => format!("{colour} {shape}"),
            p => format!("{colour} {} {shape}", p.as_str()),
        }
    }
}

fn rgb_distance(a: [u8; 3], b: [u8; 3]) -> u32 {
    a.iter()
        .zip(b)
        .map(|(&x, y)| (x as i32 - y as i32).unsigned_abs())
        .sum()
}
