//! Outfits from the style rules, and the evaluation questions built on them: fill in the
//! blank (standard and hard) and compatibility (positive and negative outfits).

use super::garment::GarmentSpec;
use super::rules::{StyleKey, StyleRules};
use capsule_device::GarmentType;
use rand::Rng;
use rand::seq::SliceRandom;
use std::collections::{BTreeMap, BTreeSet};

/// A fill-in-the-blank question: outfit `outfit` of its split with garment `blank` removed.
#[derive(Debug, Clone, PartialEq)]
pub struct FitbPlan {
    pub outfit: usize,
    /// Position of the blank in the outfit.
    pub blank: usize,
    /// Three garments that do not complete the outfit.
    pub distractors: [usize; 3],
}

/// One line of the compatibility file.
#[derive(Debug, Clone, PartialEq)]
pub struct CompatibilityPlan {
    pub compatible: bool,
    /// For a positive line, the outfit index; for a negative one, garment indices.
    pub garments: Vec<usize>,
    pub outfit: Option<usize>,
}

/// Everything of one split, in garment indices.
#[derive(Debug, Clone, Default)]
pub struct SplitPlan {
    pub outfits: Vec<Vec<usize>>,
    pub fitb: Vec<FitbPlan>,
    pub fitb_hard: Vec<FitbPlan>,
    pub compatibility: Vec<CompatibilityPlan>,
}

/// The rules cannot produce what was asked.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Infeasible(pub String);

fn styles(specs: &[GarmentSpec], garments: &[usize]) -> Vec<StyleKey> {
    garments.iter().map(|&g| specs[g].style()).collect()
}

/// Draws `count` distinct outfits from `pool`, each following a template and every rule.
pub fn build_outfits(
    specs: &[GarmentSpec],
    rules: &StyleRules,
    pool: &[usize],
    count: usize,
    rng: &mut impl Rng,
) -> Result<Vec<Vec<usize>>, Infeasible> {
    let mut by_type: BTreeMap<GarmentType, Vec<usize>> = BTreeMap::new();
    for &g in pool {
        by_type.entry(specs[g].garment_type).or_default().push(g);
    }
    let mut seen = BTreeSet::new();
    let mut outfits = Vec::with_capacity(count);
    let max_attempts = 1_000 + 300 * count;
    let mut attempts = 0;
    'outfit: while outfits.len() < count {
        attempts += 1;
        if attempts > max_attempts {
            return Err(Infeasible(format!(
                "found only {} of {count} distinct outfits among {} garments after {max_attempts} tries: \
                 ask for more garments or fewer outfits",
                outfits.len(),
                pool.len()
            )));
        }
        let template = &rules.outfits.templates[rng.random_range(0..rules.outfits.templates.len())];
        let mut order: Vec<usize> = (0..template.len()).collect();
        order.shuffle(rng);
        let mut chosen = vec![usize::MAX; template.len()];
        let mut picked: Vec<StyleKey> = Vec::new();
        for slot in order {
            let candidates: Vec<usize> = by_type
                .get(&template[slot])
                .map(|gs| {
                    gs.iter()
                        .copied()
                        .filter(|&g| {
                            let mut with = picked.clone();
                            with.push(specs[g].style());
                            rules.check(&with).is_ok()
                        })
                        .collect()
                })
                .unwrap_or_default();
            if candidates.is_empty() {
                continue 'outfit;
            }
            let g = candidates[rng.random_range(0..candidates.len())];
            chosen[slot] = g;
            picked.push(specs[g].style());
        }
        let mut key = chosen.clone();
        key.sort_unstable();
        if seen.insert(key) {
            outfits.push(chosen);
        }
    }
    Ok(outfits)
}

/// FITB questions, hard FITB questions and compatibility lines for one split's outfits.
pub fn build_questions(
    specs: &[GarmentSpec],
    rules: &StyleRules,
    plan: &mut SplitPlan,
    rng: &mut impl Rng,
) {
    // Distractors and negative outfits may only use garments of this split's outfits, as
    // the files name items by their place in an outfit.
    let in_split: Vec<usize> = plan
        .outfits
        .iter()
        .flatten()
        .copied()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let known: BTreeSet<Vec<usize>> = plan
        .outfits
        .iter()
        .map(|o| {
            let mut k = o.clone();
            k.sort_unstable();
            k
        })
        .collect();
    for (index, outfit) in plan.outfits.iter().enumerate() {
        if let Some(q) = fitb_question(specs, rules, &in_split, index, outfit, false, rng) {
            plan.fitb.push(q);
        }
        if let Some(q) = fitb_question(specs, rules, &in_split, index, outfit, true, rng) {
            plan.fitb_hard.push(q);
        }
        plan.compatibility.push(CompatibilityPlan {
            compatible: true,
            garments: outfit.clone(),
            outfit: Some(index),
        });
        if let Some(negative) = negative_outfit(specs, rules, &in_split, &known, outfit, rng) {
            plan.compatibility.push(CompatibilityPlan {
                compatible: false,
                garments: negative,
                outfit: None,
            });
        }
    }
    plan.compatibility.shuffle(rng);
}

/// A question whose three distractors each leave the outfit broken: they break a style
/// rule or (standard variant only) repeat a type the outfit already has. Hard distractors
/// share the blank's type, so only appearance tells them apart. `None` when no blank
/// position of this outfit has three such distractors.
fn fitb_question(
    specs: &[GarmentSpec],
    rules: &StyleRules,
    in_split: &[usize],
    index: usize,
    outfit: &[usize],
    hard: bool,
    rng: &mut impl Rng,
) -> Option<FitbPlan> {
    let mut positions: Vec<usize> = (0..outfit.len()).collect();
    positions.shuffle(rng);
    for blank in positions {
        let answer = &specs[outfit[blank]];
        let rest: Vec<usize> = outfit
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != blank)
            .map(|(_, &g)| g)
            .collect();
        let rest_styles = styles(specs, &rest);
        let mut candidates: Vec<usize> = in_split
            .iter()
            .copied()
            .filter(|g| !outfit.contains(g))
            .filter(|&g| {
                let c = &specs[g];
                let mut with = rest_styles.clone();
                with.push(c.style());
                let breaks_rules = rules.check(&with).is_err();
                if hard {
                    c.garment_type == answer.garment_type && breaks_rules
                } else {
                    breaks_rules
                        || rest
                            .iter()
                            .any(|&r| specs[r].garment_type == c.garment_type)
                }
            })
            .collect();
        if candidates.len() >= 3 {
            candidates.shuffle(rng);
            return Some(FitbPlan {
                outfit: index,
                blank,
                distractors: [candidates[0], candidates[1], candidates[2]],
            });
        }
    }
    None
}

/// Garments of the same types as `outfit`, drawn at random until they break a rule.
fn negative_outfit(
    specs: &[GarmentSpec],
    rules: &StyleRules,
    in_split: &[usize],
    known: &BTreeSet<Vec<usize>>,
    outfit: &[usize],
    rng: &mut impl Rng,
) -> Option<Vec<usize>> {
    let of_type = |t: GarmentType| -> Vec<usize> {
        in_split
            .iter()
            .copied()
            .filter(|&g| specs[g].garment_type == t)
            .collect()
    };
    let pools: Vec<Vec<usize>> = outfit
        .iter()
        .map(|&g| of_type(specs[g].garment_type))
        .collect();
    for _ in 0..100 {
        let candidate: Vec<usize> = pools
            .iter()
            .map(|p| p[rng.random_range(0..p.len())])
            .collect();
        let mut key = candidate.clone();
        key.sort_unstable();
        if rules.check(&styles(specs, &candidate)).is_err() && !known.contains(&key) {
            return Some(candidate);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn wardrobe(n: usize, rules: &StyleRules) -> Vec<GarmentSpec> {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        (0..n)
            .map(|i| {
                GarmentSpec::sample(i, GarmentType::ALL[i % GarmentType::COUNT], rules, &mut rng)
            })
            .collect()
    }

    #[test]
    fn outfits_follow_the_rules_and_questions_are_unambiguous() {
        let rules = StyleRules::shipped().unwrap();
        let specs = wardrobe(140, &rules);
        let pool: Vec<usize> = (0..specs.len()).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let outfits = build_outfits(&specs, &rules, &pool, 40, &mut rng).unwrap();
        assert_eq!(outfits.len(), 40);
        for o in &outfits {
            assert!((3..=5).contains(&o.len()));
            assert_eq!(rules.check(&styles(&specs, o)), Ok(()));
        }
        let mut plan = SplitPlan {
            outfits,
            ..SplitPlan::default()
        };
        build_questions(&specs, &rules, &mut plan, &mut rng);
        assert!(
            plan.fitb_hard.len() >= 35,
            "only {} hard questions",
            plan.fitb_hard.len()
        );
        for q in &plan.fitb_hard {
            let outfit = &plan.outfits[q.outfit];
            let answer_type = specs[outfit[q.blank]].garment_type;
            let rest: Vec<usize> = outfit
                .iter()
                .enumerate()
                .filter(|&(i, _)| i != q.blank)
                .map(|(_, &g)| g)
                .collect();
            for &d in &q.distractors {
                assert_eq!(specs[d].garment_type, answer_type);
                let mut with = styles(&specs, &rest);
                with.push(specs[d].style());
                assert!(
                    rules.check(&with).is_err(),
                    "a distractor completes the outfit"
                );
            }
        }
        let negatives: Vec<_> = plan
            .compatibility
            .iter()
            .filter(|c| !c.compatible)
            .collect();
        assert_eq!(negatives.len(), 40);
        for n in negatives {
            assert!(rules.check(&styles(&specs, &n.garments)).is_err());
        }
    }

    #[test]
    fn impossible_requests_fail_with_advice() {
        let rules = StyleRules::shipped().unwrap();
        let specs = wardrobe(14, &rules);
        let pool: Vec<usize> = (0..specs.len()).collect();
        let err = build_outfits(
            &specs,
            &rules,
            &pool,
            5_000,
            &mut ChaCha8Rng::seed_from_u64(1),
        )
        .unwrap_err();
        assert!(err.0.contains("more garments"), "{}", err.0);
    }
}
