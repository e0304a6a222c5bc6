//! Open-set identification: does the mirror say "new garment" for a garment that is not in
//! the wardrobe, while still recognising those that are?
//!
//! Protocol (on a query/gallery set such as a staged-camera set): every query is asked
//! twice, once against the whole gallery (its garment is *known*) and once against the
//! gallery without its own garment (it is *new*: the leave-one-garment-out setting of a
//! wardrobe that lacks it). A rule that calls a garment new below a score threshold is good
//! when known queries score high and new ones low; AUROC measures that over all thresholds,
//! and the new-garment rate at 95 % known-recall at the threshold a mirror would need.
//!
//! Three scores are measured: the best similarity (what the board thresholds today), the
//! margin between the best and the second-best garment, and the best similarity less the
//! *crowding* of the garment it points at: that garment's similarity to its nearest other
//! garment in the wardrobe, which a board knows from its own members alone. A garment in a
//! crowded corner of the embedding space needs a closer match before it counts.

use super::metrics::roc_auc;
use serde::{Deserialize, Serialize};

/// Known-recall the operating point is read at.
pub const KNOWN_RECALL: f64 = 0.95;

/// Open-set figures of one embedder on one set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenSetScores {
    /// Queries whose best garment (whole gallery) is their own.
    pub top1: f64,
    /// AUROC of known vs new by best similarity.
    pub auroc: f64,
    /// The same by the margin between best and second-best garment.
    pub auroc_margin: f64,
    /// The same by best similarity less the matched garment's crowding (its similarity to
    /// the nearest other garment of the wardrobe the query is asked against).
    #[serde(default)]
    pub auroc_crowding: f64,
    /// Share of new queries called new at the similarity threshold that keeps
    /// [`KNOWN_RECALL`] of known queries recognised.
    pub new_rate_at_95_known: f64,
    /// That threshold.
    pub threshold_at_95_known: f32,
    /// At a given threshold (the bundle's calibrated one): share of known queries not called
    /// new, and share of new ones called new.
    pub at_threshold: Option<OperatingPoint>,
    pub queries: usize,
    pub garments: usize,
}

/// Both error sides at one similarity threshold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OperatingPoint {
    pub threshold: f32,
    pub known_recall: f64,
    pub new_rate: f64,
}

/// The two best garments of one query: `(similarity, garment)` each, best first.
type BestTwo = [(f32, Option<u32>); 2];

/// Open-set scores of unit-length `queries` against `gallery` (row-major, `dim` wide; one
/// label per row, a garment may have several gallery rows), and the operating point at
/// `threshold` when given. `None` when either side is empty or the gallery holds a single
/// garment (nothing is left when it is taken out).
pub fn open_set_scores(
    queries: &[f32],
    query_labels: &[u32],
    gallery: &[f32],
    gallery_labels: &[u32],
    dim: usize,
    threshold: Option<f32>,
) -> Option<OpenSetScores> {
    let mut garments: Vec<u32> = gallery_labels.to_vec();
    garments.sort_unstable();
    garments.dedup();
    if query_labels.is_empty() || garments.len() < 2 || dim == 0 {
        return None;
    }
    let crowding = GarmentCrowding::of(gallery, gallery_labels, &garments, dim);
    let mut known = Vec::with_capacity(query_labels.len());
    let mut new = Vec::with_capacity(query_labels.len());
    let (mut relative_known, mut relative_new) = (Vec::new(), Vec::new());
    let mut correct = 0;
    for (q, &label) in queries.chunks_exact(dim).zip(query_labels) {
        // Best similarity per garment, then the two best garments with and without `label`.
        let mut per_garment = vec![f32::NEG_INFINITY; garments.len()];
        for (g, &gl) in gallery.chunks_exact(dim).zip(gallery_labels) {
            let s: f32 = q.iter().zip(g).map(|(a, b)| a * b).sum();
            if let Ok(i) = garments.binary_search(&gl) {
                per_garment[i] = per_garment[i].max(s);
            }
        }
        let best_two = |skip: Option<u32>| -> BestTwo {
            let mut best = [(f32::NEG_INFINITY, None); 2];
            for (i, &s) in per_garment.iter().enumerate() {
                if Some(garments[i]) == skip {
                    continue;
                }
                if s > best[0].0 {
                    best[1] = best[0];
                    best[0] = (s, Some(garments[i]));
                } else if s > best[1].0 {
                    best[1] = (s, Some(garments[i]));
                }
            }
            best
        };
        let with = best_two(None);
        let without = best_two(Some(label));
        if with[0].1 == Some(label) {
            correct += 1;
        }
        let less_crowding = |b: &BestTwo, skip: Option<u32>| match b[0].1 {
            Some(g) => (b[0].0 - crowding.nearest_other(&garments, g, skip)) as f64,
            None => f64::NEG_INFINITY,
        };
        relative_known.push(less_crowding(&with, None));
        relative_new.push(less_crowding(&without, Some(label)));
        known.push(with);
        new.push(without);
    }
    let similarity = |b: &BestTwo| b[0].0 as f64;
    let margin = |b: &BestTwo| {
        if b[1].1.is_some() {
            (b[0].0 - b[1].0) as f64
        } else {
            b[0].0 as f64
        }
    };
    let auroc_by = |score: &dyn Fn(&BestTwo) -> f64| {
        let scored: Vec<(f64, bool)> = known
            .iter()
            .map(|b| (score(b), true))
            .chain(new.iter().map(|b| (score(b), false)))
            .collect();
        roc_auc(&scored).unwrap_or(0.5)
    };
    let relative: Vec<(f64, bool)> = relative_known
        .iter()
        .map(|&s| (s, true))
        .chain(relative_new.iter().map(|&s| (s, false)))
        .collect();
    let mut known_sims: Vec<f32> = known.iter().map(|b| b[0].0).collect();
    known_sims.sort_by(f32::total_cmp);
    // The largest threshold that keeps KNOWN_RECALL of the known queries at or above it.
    let keep = (KNOWN_RECALL * known_sims.len() as f64).ceil() as usize;
    let threshold_at_95 = known_sims[known_sims.len() - keep.clamp(1, known_sims.len())];
    let point = |t: f32| OperatingPoint {
        threshold: t,
        known_recall: share(known.iter().filter(|b| b[0].0 >= t).count(), known.len()),
        new_rate: share(new.iter().filter(|b| b[0].0 < t).count(), new.len()),
    };
    Some(OpenSetScores {
        top1: share(correct, query_labels.len()),
        auroc: auroc_by(&similarity),
        auroc_margin: auroc_by(&margin),
        auroc_crowding: roc_auc(&relative).unwrap_or(0.5),
        new_rate_at_95_known: point(threshold_at_95).new_rate,
        threshold_at_95_known: threshold_at_95,
        at_threshold: threshold.map(point),
        queries: query_labels.len(),
        garments: garments.len(),
    })
}

/// For each garment, its two most similar other garments (best pair of gallery pictures),
/// so the nearest one is known even with one garment left out.
struct GarmentCrowding {
    /// Per garment (index into the sorted garment list): `(similarity, other)`, best first.
    nearest: Vec<[(f32, usize); 2]>,
}

impl GarmentCrowding {
    fn of(gallery: &[f32], labels: &[u32], garments: &[u32], dim: usize) -> Self {
        let n = garments.len();
        let index: Vec<usize> = labels
            .iter()
            .map(|l| garments.binary_search(l).unwrap_or(0))
            .collect();
        let mut best = vec![f32::NEG_INFINITY; n * n];
        let rows: Vec<&[f32]> = gallery.chunks_exact(dim).collect();
        for (i, a) in rows.iter().enumerate() {
            for (j, b) in rows.iter().enumerate().skip(i + 1) {
                let (gi, gj) = (index[i], index[j]);
                if gi == gj {
                    continue;
                }
                let s: f32 = a.iter().zip(*b).map(|(x, y)| x * y).sum();
                for cell in [gi * n + gj, gj * n + gi] {
                    best[cell] = best[cell].max(s);
                }
            }
        }
        let nearest = (0..n)
            .map(|g| {
                let mut two = [(f32::NEG_INFINITY, usize::MAX); 2];
                for (o, &s) in best[g * n..(g + 1) * n].iter().enumerate() {
                    if o == g {
                        continue;
                    }
                    if s > two[0].0 {
                        two[1] = two[0];
                        two[0] = (s, o);
                    } else if s > two[1].0 {
                        two[1] = (s, o);
                    }
                }
                two
            })
            .collect();
        Self { nearest }
    }

    /// Similarity of `garment` to its nearest other garment, `skip` (a garment the wardrobe
    /// does not hold) aside; 0 when it has no other.
    fn nearest_other(&self, garments: &[u32], garment: u32, skip: Option<u32>) -> f32 {
        let Ok(g) = garments.binary_search(&garment) else {
            return 0.0;
        };
        let skip = skip.and_then(|s| garments.binary_search(&s).ok());
        self.nearest[g]
            .iter()
            .find(|(s, o)| Some(*o) != skip && s.is_finite())
            .map_or(0.0, |&(s, _)| s)
    }
}

fn share(count: usize, of: usize) -> f64 {
    if of == 0 {
        0.0
    } else {
        count as f64 / of as f64
    }
}

impl std::fmt::Display for OpenSetScores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{} queries against {} garments",
            self.queries, self.garments
        )?;
        writeln!(f, "top-1                         {:.3}", self.top1)?;
        writeln!(f, "open-set AUROC (similarity)   {:.3}", self.auroc)?;
        writeln!(f, "open-set AUROC (margin)       {:.3}", self.auroc_margin)?;
        writeln!(
            f,
            "open-set AUROC (crowding)     {:.3}",
            self.auroc_crowding
        )?;
        write!(
            f,
            "new-garment rate at 95 % known-recall  {:.3} (threshold {:.3})",
            self.new_rate_at_95_known, self.threshold_at_95_known
        )?;
        if let Some(p) = &self.at_threshold {
            write!(
                f,
                "\nat the bundle's threshold {:.3}: known recognised {:.3}, new called new {:.3}",
                p.threshold, p.known_recall, p.new_rate
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(angle: f32) -> [f32; 2] {
        [angle.cos(), angle.sin()]
    }

    #[test]
    fn separated_garments_give_a_perfect_open_set_and_crowded_ones_do_not() {
        // Three garments far apart on the circle; each query sits near its own garment.
        let gallery: Vec<f32> = [0.0f32, 2.0, 4.0].iter().flat_map(|&a| unit(a)).collect();
        let labels = [0, 1, 2];
        let queries: Vec<f32> = [0.05f32, 2.1, 3.9].iter().flat_map(|&a| unit(a)).collect();
        let s = open_set_scores(&queries, &labels, &gallery, &labels, 2, Some(0.9)).unwrap();
        assert_eq!((s.top1, s.auroc, s.queries, s.garments), (1.0, 1.0, 3, 3));
        assert_eq!(s.auroc_crowding, 1.0);
        assert_eq!(s.new_rate_at_95_known, 1.0);
        let p = s.at_threshold.unwrap();
        assert_eq!((p.known_recall, p.new_rate), (1.0, 1.0));

        // Crowded: all garments within 0.1 rad, the queries as far from their own garment
        // as from the others; taking a garment out barely lowers the best similarity.
        let gallery: Vec<f32> = [0.0f32, 0.05, 0.1].iter().flat_map(|&a| unit(a)).collect();
        let queries: Vec<f32> = [0.06f32, 0.0, 0.05].iter().flat_map(|&a| unit(a)).collect();
        let s = open_set_scores(&queries, &labels, &gallery, &labels, 2, None).unwrap();
        assert!(s.top1 < 1.0);
        assert!(s.auroc < 0.9, "{s:?}");
        assert!(s.at_threshold.is_none());
    }

    #[test]
    fn crowding_is_the_nearest_other_garment_with_the_left_out_one_aside() {
        // Garments 0 and 1 close together (0.1 rad), garment 2 far off (2 rad).
        let gallery: Vec<f32> = [0.0f32, 0.1, 2.0].iter().flat_map(|&a| unit(a)).collect();
        let garments = [0, 1, 2];
        let c = GarmentCrowding::of(&gallery, &garments, &garments, 2);
        assert!((c.nearest_other(&garments, 0, None) - 0.1f32.cos()).abs() < 1e-6);
        // Without garment 1, garment 0's nearest is garment 2.
        assert!((c.nearest_other(&garments, 0, Some(1)) - 2.0f32.cos()).abs() < 1e-6);
        assert!((c.nearest_other(&garments, 2, None) - 1.9f32.cos()).abs() < 1e-6);
    }

    #[test]
    fn a_garment_counts_by_its_best_gallery_picture_and_degenerate_sets_give_none() {
        // Garment 0 has two gallery pictures; the query matches the second exactly.
        let gallery: Vec<f32> = [1.5f32, 0.0, 3.0].iter().flat_map(|&a| unit(a)).collect();
        let s = open_set_scores(&unit(0.0), &[0], &gallery, &[0, 0, 1], 2, None).unwrap();
        assert_eq!(s.garments, 2);
        assert_eq!(s.top1, 1.0);
        assert!((s.threshold_at_95_known - 1.0).abs() < 1e-6);
        assert!(open_set_scores(&unit(0.0), &[0], &unit(0.0), &[0], 2, None).is_none());
        assert!(open_set_scores(&[], &[], &gallery, &[0, 0, 1], 2, None).is_none());
    }
}
