//! The synthetic wardrobe: procedurally drawn garments, camera-like views of them, and
//! outfits that follow explicit style rules (`style_rules.toml`), written in the published
//! DeepFashion In-shop and Polyvore Outfits formats so the real loaders read them.
//!
//! Seeded and deterministic: every garment draws from its own RNG stream, so the output is
//! byte-identical for a seed however many threads render it.

pub mod backgrounds;
pub mod camera;
pub mod garment;
pub mod outfits;
pub mod render;
pub mod rules;
pub mod shapes;
pub mod writer;

use crate::data::polyvore::format::{Split, Variant};
use capsule_device::GarmentType;
use garment::GarmentSpec;
use outfits::SplitPlan;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use rules::StyleRules;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What to generate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SynthConfig {
    pub garments: usize,
    /// Camera views per garment in the In-shop set (at least 2: query and gallery).
    pub views: usize,
    /// Outfits per split family (train 70 %, valid 10 %, test 20 %).
    pub outfits: usize,
    pub seed: u64,
    /// Side of every picture, in pixels.
    pub image_size: u32,
    /// Also write the `disjoint/` family (garments split first, outfits within each part).
    pub disjoint: bool,
    /// Also put each garment's product shot into the In-shop set as one more view (in the
    /// gallery of evaluation items): an embedder trained on it matches camera views to the
    /// product shots a wardrobe is often imported from.
    pub product_view: bool,
    /// Real photos behind the camera views instead of drawn rooms (and JPEG artefacts).
    pub backgrounds: Option<backgrounds::Backgrounds>,
    /// A staged-camera evaluation set: every garment is an evaluation item, its camera views
    /// the queries and its product shot the gallery (implies `product_view`).
    pub staged: bool,
}

impl Default for SynthConfig {
    fn default() -> Self {
        Self {
            garments: 200,
            views: 4,
            outfits: 150,
            seed: 7,
            image_size: 128,
            disjoint: false,
            product_view: false,
            backgrounds: None,
            staged: false,
        }
    }
}

/// Why generation failed.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot encode {path}: {message}")]
    Image { path: PathBuf, message: String },
    #[error("invalid settings: {0}")]
    Config(String),
    #[error("{0}")]
    Infeasible(String),
    #[error(transparent)]
    Rules(#[from] rules::RulesError),
}

impl SynthError {
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

impl From<outfits::Infeasible> for SynthError {
    fn from(e: outfits::Infeasible) -> Self {
        SynthError::Infeasible(e.0)
    }
}

/// Counts of what was written.
#[derive(Debug, Clone, Serialize)]
pub struct SynthSummary {
    pub garments: usize,
    pub inshop_images: usize,
    pub inshop_train_items: usize,
    pub garments_per_type: BTreeMap<GarmentType, usize>,
    /// Per family (`nondisjoint`, `disjoint`) and split: outfits, FITB, hard FITB, compatibility lines.
    pub polyvore: BTreeMap<String, BTreeMap<Split, [usize; 4]>>,
}

/// Independent RNG stream `stream`/`index` of a seed (SplitMix64 finaliser).
pub fn derive_seed(seed: u64, stream: u64, index: u64) -> u64 {
    let mut z = seed
        ^ stream.wrapping_mul(0x9e37_79b9_7f4a_7c15)
        ^ index.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn rng(seed: u64, stream: u64, index: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(derive_seed(seed, stream, index))
}

// RNG streams, one per decision, so changing one part never reshuffles another.
const STREAM_TYPES: u64 = 1;
const STREAM_GARMENT: u64 = 2;
const STREAM_VIEWS: u64 = 3;
const STREAM_INSHOP_SPLIT: u64 = 4;
const STREAM_OUTFITS: u64 = 5;
const STREAM_QUESTIONS: u64 = 6;
const STREAM_FILES: u64 = 7;

/// Garment types for `n` garments in proportion to the rules' weights (largest remainder),
/// in a seeded order.
fn assign_types(n: usize, rules: &StyleRules, seed: u64) -> Vec<GarmentType> {
    let weights: Vec<(GarmentType, f64)> = GarmentType::ALL
        .iter()
        .map(|&t| {
            (
                t,
                rules.outfits.type_weights.get(&t).copied().unwrap_or(0) as f64,
            )
        })
        .collect();
    let total: f64 = weights.iter().map(|(_, w)| w).sum();
    let mut counts: Vec<(GarmentType, usize, f64)> = weights
        .iter()
        .map(|&(t, w)| {
            let exact = n as f64 * w / total;
            (t, exact.floor() as usize, exact - exact.floor())
        })
        .collect();
    let mut left = n - counts.iter().map(|c| c.1).sum::<usize>();
    let mut by_remainder: Vec<usize> = (0..counts.len()).collect();
    by_remainder.sort_by(|&a, &b| counts[b].2.total_cmp(&counts[a].2).then(a.cmp(&b)));
    for i in by_remainder {
        if left == 0 {
            break;
        }
        counts[i].1 += 1;
        left -= 1;
    }
    let mut types: Vec<GarmentType> = counts
        .iter()
        .flat_map(|&(t, c, _)| std::iter::repeat_n(t, c))
        .collect();
    types.shuffle(&mut rng(seed, STREAM_TYPES, 0));
    types
}

/// Outfits per split: valid 10 %, test 20 % (each at least 1), train the rest.
pub fn split_sizes(outfits: usize) -> BTreeMap<Split, usize> {
    let valid = ((outfits as f64 * 0.1).round() as usize).max(1);
    let test = ((outfits as f64 * 0.2).round() as usize).max(1);
    BTreeMap::from([
        (Split::Train, outfits.saturating_sub(valid + test)),
        (Split::Valid, valid),
        (Split::Test, test),
    ])
}

/// Generates the whole set into `out` (`out/inshop`, `out/polyvore`, `out/synth.json`).
/// `on_garment` is called once per garment drawn, from worker threads (for progress bars).
pub fn generate(
    out: &Path,
    config: &SynthConfig,
    rules: &StyleRules,
    on_garment: &(dyn Fn() + Sync),
) -> Result<SynthSummary, SynthError> {
    validate(config)?;
    let photos = match &config.backgrounds {
        Some(b) => b.load()?,
        None => Vec::new(),
    };
    let product_view = config.product_view || config.staged;
    let seed = config.seed;
    let types = assign_types(config.garments, rules, seed);
    let specs: Vec<GarmentSpec> = types
        .iter()
        .enumerate()
        .map(|(i, &t)| GarmentSpec::sample(i, t, rules, &mut rng(seed, STREAM_GARMENT, i as u64)))
        .collect();

    let inshop = out.join("inshop");
    let polyvore = out.join("polyvore");
    specs
        .par_iter()
        .try_for_each(|g| -> Result<(), SynthError> {
            let product = render::render(g, rules, config.image_size);
            let shot = product.on_white();
            writer::save_jpeg(&shot, &writer::polyvore_image_path(&polyvore, g.index))?;
            if product_view {
                writer::save_jpeg(&shot, &inshop.join(writer::inshop_product_name(g)))?;
            }
            let mut view_rng = rng(seed, STREAM_VIEWS, g.index as u64);
            for v in 0..config.views {
                let picture = camera::view(&product, config.image_size, &photos, &mut view_rng);
                writer::save_jpeg(&picture, &inshop.join(writer::inshop_image_name(g, v)))?;
            }
            on_garment();
            Ok(())
        })?;

    let mut order: Vec<usize> = (0..specs.len()).collect();
    order.shuffle(&mut rng(seed, STREAM_INSHOP_SPLIT, 0));
    let mut is_train = vec![false; specs.len()];
    let train_items = if config.staged { 0 } else { specs.len() / 2 };
    for &g in &order[..train_items] {
        is_train[g] = true;
    }
    let layout = if config.staged {
        writer::EvalLayout::ViewsAgainstProduct
    } else {
        writer::EvalLayout::SplitViews { product_view }
    };
    writer::write_inshop_partition(&inshop, &specs, config.views, &is_train, layout)?;
    writer::write_polyvore_metadata(&polyvore, &specs, rules)?;

    let mut summary = SynthSummary {
        garments: specs.len(),
        inshop_images: specs.len() * (config.views + usize::from(product_view)),
        inshop_train_items: train_items,
        garments_per_type: GarmentType::ALL
            .iter()
            .map(|&t| (t, types.iter().filter(|&&x| x == t).count()))
            .collect(),
        polyvore: BTreeMap::new(),
    };
    let mut families = vec![(Variant::Nondisjoint, 100_000)];
    if config.disjoint {
        families.push((Variant::Disjoint, 500_000));
    }
    for (family_index, (variant, set_id_base)) in families.into_iter().enumerate() {
        let family = family_index as u64;
        let plans = plan_family(&specs, rules, config, variant, family)?;
        summary.polyvore.insert(
            variant.dir_name().to_string(),
            plans
                .iter()
                .map(|(&s, p)| {
                    (
                        s,
                        [
                            p.outfits.len(),
                            p.fitb.len(),
                            p.fitb_hard.len(),
                            p.compatibility.len(),
                        ],
                    )
                })
                .collect(),
        );
        writer::write_polyvore_split_family(
            &polyvore,
            variant,
            &plans,
            set_id_base,
            &mut rng(seed, STREAM_FILES, family),
        )?;
    }

    let record = serde_json::json!({
        "generator": "capsule-host data synth",
        "config": config,
        "style_rules": rules,
        "garments": specs.iter().map(|g| serde_json::json!({
            "polyvore_item_id": writer::polyvore_item_id(g.index),
            "inshop_item_id": writer::inshop_item_id(g.index),
            "variant": rules.variant[g.variant].name,
            "formality": rules.variant[g.variant].formality,
            "season": rules.variant[g.variant].season,
            "colour": rules.colour[g.colour].name,
            "spec": g,
        })).collect::<Vec<_>>(),
        "summary": &summary,
    });
    let bytes = serde_json::to_vec_pretty(&record)
        .map_err(|e| SynthError::io(out, std::io::Error::other(e)))?;
    writer::write_file(&out.join("synth.json"), &bytes)?;
    Ok(summary)
}

fn validate(config: &SynthConfig) -> Result<(), SynthError> {
    let bad = |m: &str| Err(SynthError::Config(m.to_string()));
    if config.garments < 2 * GarmentType::COUNT {
        return bad("--garments must be at least 14 (two of each garment type)");
    }
    if config.views < 2 {
        return bad("--views must be at least 2 (test items need a query and a gallery picture)");
    }
    if config.outfits < 10 {
        return bad("--outfits must be at least 10 (train, valid and test each need outfits)");
    }
    if !(32..=512).contains(&config.image_size) {
        return bad("--size must be 32..=512 pixels");
    }
    Ok(())
}

/// Outfits and questions of every split of one family.
fn plan_family(
    specs: &[GarmentSpec],
    rules: &StyleRules,
    config: &SynthConfig,
    variant: Variant,
    family: u64,
) -> Result<BTreeMap<Split, SplitPlan>, SynthError> {
    let sizes = split_sizes(config.outfits);
    let mut outfit_rng = rng(config.seed, STREAM_OUTFITS, family);
    let mut plans: BTreeMap<Split, SplitPlan> = BTreeMap::new();
    match variant {
        Variant::Nondisjoint => {
            let pool: Vec<usize> = (0..specs.len()).collect();
            let mut all =
                outfits::build_outfits(specs, rules, &pool, config.outfits, &mut outfit_rng)?
                    .into_iter();
            for (&split, &n) in &sizes {
                plans.insert(
                    split,
                    SplitPlan {
                        outfits: all.by_ref().take(n).collect(),
                        ..SplitPlan::default()
                    },
                );
            }
        }
        Variant::Disjoint => {
            // Garments are divided in the outfits' proportions, by type, so each part can
            // still make outfits.
            let mut parts: BTreeMap<Split, Vec<usize>> = BTreeMap::new();
            for t in GarmentType::ALL {
                let mut of_type: Vec<usize> = (0..specs.len())
                    .filter(|&g| specs[g].garment_type == t)
                    .collect();
                of_type.shuffle(&mut outfit_rng);
                let n = of_type.len() as f64;
                let valid = (n * 0.15).round() as usize;
                let test = (n * 0.25).round() as usize;
                parts
                    .entry(Split::Valid)
                    .or_default()
                    .extend(of_type.drain(..valid));
                parts
                    .entry(Split::Test)
                    .or_default()
                    .extend(of_type.drain(..test.min(of_type.len())));
                parts.entry(Split::Train).or_default().extend(of_type);
            }
            for (&split, &n) in &sizes {
                let pool = parts.remove(&split).unwrap_or_default();
                let outfits = outfits::build_outfits(specs, rules, &pool, n, &mut outfit_rng)
                    .map_err(|e| SynthError::Infeasible(format!("disjoint {split}: {}", e.0)))?;
                plans.insert(
                    split,
                    SplitPlan {
                        outfits,
                        ..SplitPlan::default()
                    },
                );
            }
        }
    }
    let mut question_rng = rng(config.seed, STREAM_QUESTIONS, family);
    for plan in plans.values_mut() {
        outfits::build_questions(specs, rules, plan, &mut question_rng);
    }
    Ok(plans)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_assignment_is_proportional_and_complete() {
        let rules = StyleRules::shipped().unwrap();
        let types = assign_types(17, &rules, 1);
        assert_eq!(types.len(), 17);
        for t in GarmentType::ALL {
            assert!(types.contains(&t), "{t} missing");
        }
        assert_eq!(assign_types(200, &rules, 3), assign_types(200, &rules, 3));
    }

    #[test]
    fn split_sizes_add_up() {
        for n in [10, 150, 1001] {
            assert_eq!(split_sizes(n).values().sum::<usize>(), n);
        }
        assert_eq!(split_sizes(150)[&Split::Test], 30);
    }

    #[test]
    fn seeds_give_independent_streams() {
        assert_ne!(derive_seed(7, 1, 0), derive_seed(7, 2, 0));
        assert_ne!(derive_seed(7, 1, 0), derive_seed(7, 1, 1));
        assert_eq!(derive_seed(7, 1, 5), derive_seed(7, 1, 5));
    }
}
