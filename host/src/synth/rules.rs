//! Style rules (`style_rules.toml`): the palette, the silhouettes with their formality and
//! season, and the checks that decide whether garments go together.

use capsule_device::GarmentType;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The rules shipped with capsule.
pub const DEFAULT_RULES: &str = include_str!("style_rules.toml");

/// A fill pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pattern {
    Solid,
    Stripes,
    Checks,
    Dots,
    Print,
}

impl Pattern {
    pub const ALL: [Pattern; 5] = [
        Pattern::Solid,
        Pattern::Stripes,
        Pattern::Checks,
        Pattern::Dots,
        Pattern::Print,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Pattern::Solid => "solid",
            Pattern::Stripes => "striped",
            Pattern::Checks => "checked",
            Pattern::Dots => "dotted",
            Pattern::Print => "printed",
        }
    }
}

/// A palette colour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColourDef {
    pub name: String,
    pub rgb: [u8; 3],
    #[serde(default)]
    pub neutral: bool,
    /// Hue in degrees; chromatic colours only.
    pub hue: Option<f32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HarmonyRules {
    pub analogous_spread: f32,
    pub complementary_tolerance: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatternRules {
    pub weights: BTreeMap<Pattern, u32>,
    pub bold: Vec<Pattern>,
    pub max_bold: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormalityRules {
    pub levels: Vec<String>,
    pub max_spread: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeasonRules {
    pub clash: [String; 2],
}

/// A silhouette: one drawable shape of one garment type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariantDef {
    #[serde(rename = "type")]
    pub garment_type: GarmentType,
    pub name: String,
    pub formality: String,
    pub season: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutfitRules {
    pub templates: Vec<Vec<GarmentType>>,
    pub type_weights: BTreeMap<GarmentType, u32>,
}

/// The whole rule file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StyleRules {
    pub colour: Vec<ColourDef>,
    pub harmony: HarmonyRules,
    pub patterns: PatternRules,
    pub formality: FormalityRules,
    pub season: SeasonRules,
    pub variant: Vec<VariantDef>,
    pub outfits: OutfitRules,
}

/// The style attributes of one garment that the rules look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StyleKey {
    /// Index into [`StyleRules::colour`].
    pub colour: usize,
    pub pattern: Pattern,
    /// Index into [`StyleRules::variant`].
    pub variant: usize,
}

/// Which rule a set of garments breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Violation {
    Colour,
    Pattern,
    Formality,
    Season,
}

/// The rule file is not usable; the message says which entry and why.
#[derive(Debug, thiserror::Error)]
#[error("style rules: {0}")]
pub struct RulesError(pub String);

impl StyleRules {
    /// The rules shipped with capsule.
    pub fn shipped() -> Result<Self, RulesError> {
        Self::parse(DEFAULT_RULES)
    }

    /// Parses and checks rule text.
    pub fn parse(text: &str) -> Result<Self, RulesError> {
        let rules: StyleRules = toml::from_str(text).map_err(|e| RulesError(e.to_string()))?;
        rules.validate()?;
        Ok(rules)
    }

    fn validate(&self) -> Result<(), RulesError> {
        let fail = |m: String| Err(RulesError(m));
        for c in &self.colour {
            if c.neutral == c.hue.is_some() {
                return fail(format!(
                    "colour {:?} needs either `neutral = true` or a `hue`",
                    c.name
                ));
            }
        }
        if !self.colour.iter().any(|c| c.neutral) {
            return fail(
                "the palette needs at least one neutral colour (pattern accents use them)".into(),
            );
        }
        for v in &self.variant {
            if self.formality_level(&v.formality).is_none() {
                return fail(format!(
                    "variant {:?}: formality {:?} is not in [formality].levels",
                    v.name, v.formality
                ));
            }
            if !super::shapes::SHAPE_NAMES.contains(&v.name.as_str()) {
                return fail(format!(
                    "variant {:?} of type {}: the renderer has no such shape",
                    v.name, v.garment_type
                ));
            }
        }
        for t in GarmentType::ALL {
            if !self.variant.iter().any(|v| v.garment_type == t) {
                return fail(format!("garment type {t} has no [[variant]]"));
            }
            if self.outfits.type_weights.get(&t).copied().unwrap_or(0) == 0 {
                return fail(format!("[outfits].type_weights gives {t} no weight"));
            }
        }
        for (i, template) in self.outfits.templates.iter().enumerate() {
            let mut types = template.clone();
            types.sort();
            types.dedup();
            if !(3..=5).contains(&template.len()) || types.len() != template.len() {
                return fail(format!(
                    "outfit template {i} {template:?} needs 3 to 5 distinct types"
                ));
            }
        }
        if self.outfits.templates.is_empty() {
            return fail("[outfits].templates is empty".into());
        }
        if self.patterns.weights.values().sum::<u32>() == 0 {
            return fail("[patterns].weights are all zero".into());
        }
        Ok(())
    }

    /// Position of a formality name in `[formality].levels`.
    pub fn formality_level(&self, name: &str) -> Option<usize> {
        self.formality.levels.iter().position(|l| l == name)
    }

    /// Indices of the variants of one garment type.
    pub fn variants_of(&self, garment_type: GarmentType) -> Vec<usize> {
        (0..self.variant.len())
            .filter(|&i| self.variant[i].garment_type == garment_type)
            .collect()
    }

    /// Indices of the neutral colours.
    pub fn neutrals(&self) -> Vec<usize> {
        (0..self.colour.len())
            .filter(|&i| self.colour[i].neutral)
            .collect()
    }

    /// Checks a set of garments against every rule; the first broken rule is returned.
    pub fn check(&self, garments: &[StyleKey]) -> Result<(), Violation> {
        let bold = garments
            .iter()
            .filter(|g| self.patterns.bold.contains(&g.pattern))
            .count();
        if bold > self.patterns.max_bold {
            return Err(Violation::Pattern);
        }
        let levels: Vec<usize> = garments
            .iter()
            .filter_map(|g| self.formality_level(&self.variant[g.variant].formality))
            .collect();
        if let (Some(lo), Some(hi)) = (levels.iter().min(), levels.iter().max())
            && hi - lo > self.formality.max_spread
        {
            return Err(Violation::Formality);
        }
        let has_season = |s: &str| garments.iter().any(|g| self.variant[g.variant].season == s);
        if has_season(&self.season.clash[0]) && has_season(&self.season.clash[1]) {
            return Err(Violation::Season);
        }
        let hues: Vec<f32> = garments
            .iter()
            .filter_map(|g| self.colour[g.colour].hue)
            .collect();
        if !self.harmonious(&hues) {
            return Err(Violation::Colour);
        }
        Ok(())
    }

    /// Analogous: every hue within `analogous_spread` of one of them. Complementary: every
    /// hue within `complementary_tolerance` of one of them or of its opposite.
    fn harmonious(&self, hues: &[f32]) -> bool {
        let h = &self.harmony;
        hues.is_empty()
            || hues.iter().any(|&c| {
                hues.iter()
                    .all(|&x| hue_distance(x, c) <= h.analogous_spread)
            })
            || hues.iter().any(|&c| {
                hues.iter().all(|&x| {
                    hue_distance(x, c) <= h.complementary_tolerance
                        || hue_distance(x, c + 180.0) <= h.complementary_tolerance
                })
            })
    }
}

/// Distance in degrees around the colour wheel (0..=180).
pub fn hue_distance(a: f32, b: f32) -> f32 {
    let d = (a - b).rem_euclid(360.0);
    d.min(360.0 - d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> StyleRules {
        StyleRules::shipped().unwrap()
    }

    fn key(r: &StyleRules, colour: &str, pattern: Pattern, variant: &str) -> StyleKey {
        StyleKey {
            colour: r.colour.iter().position(|c| c.name == colour).unwrap(),
            pattern,
            variant: r.variant.iter().position(|v| v.name == variant).unwrap(),
        }
    }

    #[test]
    fn shipped_rules_parse_and_cover_every_type() {
        let r = rules();
        for t in GarmentType::ALL {
            assert!(!r.variants_of(t).is_empty());
        }
    }

    #[test]
    fn each_rule_rejects_what_it_should() {
        let r = rules();
        let ok = [
            key(&r, "navy", Pattern::Solid, "shirt"),
            key(&r, "grey", Pattern::Stripes, "trousers"),
            key(&r, "black", Pattern::Solid, "heel"),
        ];
        assert_eq!(r.check(&ok), Ok(()));
        let two_bold = [
            ok[0],
            key(&r, "grey", Pattern::Checks, "trousers"),
            key(&r, "beige", Pattern::Stripes, "heel"),
        ];
        assert_eq!(r.check(&two_bold), Err(Violation::Pattern));
        let casual_formal = [ok[0], key(&r, "black", Pattern::Solid, "sandal")];
        assert_eq!(r.check(&casual_formal), Err(Violation::Formality));
        let seasons = [
            key(&r, "navy", Pattern::Solid, "sweater"),
            key(&r, "navy", Pattern::Solid, "skirt"),
        ];
        assert_eq!(r.check(&seasons), Err(Violation::Season));
        let clash = [
            key(&r, "red", Pattern::Solid, "shirt"),
            key(&r, "green", Pattern::Solid, "trousers"),
        ];
        assert_eq!(r.check(&clash), Err(Violation::Colour));
    }

    #[test]
    fn colour_schemes() {
        let r = rules();
        let pair = |a: &str, b: &str| {
            r.check(&[
                key(&r, a, Pattern::Solid, "shirt"),
                key(&r, b, Pattern::Solid, "trousers"),
            ])
        };
        assert_eq!(pair("red", "teal"), Ok(()), "complementary");
        assert_eq!(pair("red", "orange"), Ok(()), "analogous");
        assert_eq!(pair("red", "white"), Ok(()), "neutral");
        assert_eq!(pair("yellow", "purple"), Err(Violation::Colour));
        assert!((hue_distance(350.0, 10.0) - 20.0).abs() < 1e-4);
    }

    #[test]
    fn broken_rule_files_say_what_is_wrong() {
        let broken = DEFAULT_RULES.replace("name = \"tshirt\"", "name = \"toga\"");
        assert!(
            StyleRules::parse(&broken)
                .unwrap_err()
                .to_string()
                .contains("toga")
        );
        let broken = DEFAULT_RULES.replace("hue = 0\n", "");
        assert!(
            StyleRules::parse(&broken)
                .unwrap_err()
                .to_string()
                .contains("red")
        );
        assert!(StyleRules::parse("colour = 1").is_err());
    }
}
