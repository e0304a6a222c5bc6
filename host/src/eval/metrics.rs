//! Outfit metrics shared by every compatibility scorer: fill-in-the-blank accuracy and
//! compatibility ROC-AUC, both from one pairwise score.

use crate::data::polyvore::{CompatibilityQuestion, FitbQuestion};
use capsule_device::stylist::contract::outfit_score;

/// Anything that scores how well two items go together (higher = better).
pub trait PairScorer {
    fn pair(&self, a: &str, b: &str) -> f64;

    /// Mean pairwise score of `item` against each of `others`.
    fn against(&self, item: &str, others: &[String]) -> f64 {
        if others.is_empty() {
            return 0.0;
        }
        others.iter().map(|o| self.pair(item, o)).sum::<f64>() / others.len() as f64
    }

    /// An outfit's score as the board ranks outfits: the mean over its pairs.
    fn outfit(&self, items: &[String]) -> f64 {
        outfit_score(items, |a, b| self.pair(a, b))
    }
}

/// How a FITB question with tied top scores counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ties {
    /// A tie is wrong: the answer must score strictly highest (the protocol we report).
    AgainstAnswer,
    /// Expected accuracy of breaking ties at random: 1/k when the answer is one of k tied
    /// best. Shows where a scorer stands against chance (0.25).
    Random,
}

/// Fill-in-the-blank accuracy: a candidate's score is its mean pairwise score against the
/// question's items. `None` for an empty question list.
pub fn fitb_accuracy(
    scorer: &dyn PairScorer,
    questions: &[FitbQuestion],
    ties: Ties,
) -> Option<f64> {
    if questions.is_empty() {
        return None;
    }
    let mut credit = 0.0;
    for q in questions {
        let scores: Vec<f64> = q
            .candidates
            .iter()
            .map(|c| scorer.against(c, &q.question))
            .collect();
        let best = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let answer = scores[q.answer];
        if answer < best {
            continue;
        }
        let tied = scores.iter().filter(|&&s| s == best).count();
        credit += match ties {
            Ties::AgainstAnswer if tied > 1 => 0.0,
            Ties::AgainstAnswer => 1.0,
            Ties::Random => 1.0 / tied as f64,
        };
    }
    Some(credit / questions.len() as f64)
}

/// ROC-AUC of outfit scores for compatible vs incompatible outfits (ties count half).
/// `None` unless both classes are present.
pub fn compatibility_auc(
    scorer: &dyn PairScorer,
    questions: &[CompatibilityQuestion],
) -> Option<f64> {
    let scored: Vec<(f64, bool)> = questions
        .iter()
        .map(|q| (scorer.outfit(&q.items), q.compatible))
        .collect();
    roc_auc(&scored)
}

/// ROC-AUC by the rank-sum formula, with average ranks for ties.
pub fn roc_auc(scored: &[(f64, bool)]) -> Option<f64> {
    let positives = scored.iter().filter(|s| s.1).count();
    let negatives = scored.len() - positives;
    if positives == 0 || negatives == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..scored.len()).collect();
    order.sort_by(|&a, &b| scored[a].0.total_cmp(&scored[b].0));
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scored[order[j + 1]].0 == scored[order[i]].0 {
            j += 1;
        }
        let average_rank = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += (i..=j).filter(|&k| scored[order[k]].1).count() as f64 * average_rank;
        i = j + 1;
    }
    let p = positives as f64;
    Some((rank_sum - p * (p + 1.0) / 2.0) / (p * negatives as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scores a pair by the sum of the numbers in the two ids.
    struct Sum;
    impl PairScorer for Sum {
        fn pair(&self, a: &str, b: &str) -> f64 {
            a.parse::<f64>().unwrap() + b.parse::<f64>().unwrap()
        }
    }
    struct Constant;
    impl PairScorer for Constant {
        fn pair(&self, _: &str, _: &str) -> f64 {
            1.0
        }
    }

    fn q(candidates: &[&str], answer: usize) -> FitbQuestion {
        FitbQuestion {
            set_id: "s".into(),
            question: vec!["1".into(), "2".into()],
            candidates: candidates.iter().map(|c| c.to_string()).collect(),
            answer,
            blank_position: 1,
        }
    }

    #[test]
    fn fitb_counts_only_strict_wins_and_ties_per_rule() {
        let questions = [q(&["9", "1", "2", "3"], 0), q(&["9", "1", "2", "3"], 1)];
        assert_eq!(
            fitb_accuracy(&Sum, &questions, Ties::AgainstAnswer),
            Some(0.5)
        );
        let tie = [q(&["5", "5", "1", "1"], 0)];
        assert_eq!(fitb_accuracy(&Sum, &tie, Ties::AgainstAnswer), Some(0.0));
        assert_eq!(fitb_accuracy(&Sum, &tie, Ties::Random), Some(0.5));
        assert_eq!(fitb_accuracy(&Constant, &tie, Ties::Random), Some(0.25));
        assert_eq!(fitb_accuracy(&Sum, &[], Ties::Random), None);
    }

    #[test]
    fn auc_matches_a_pairwise_count() {
        let scored = [
            (0.9, true),
            (0.8, false),
            (0.7, true),
            (0.1, false),
            (0.7, false),
        ];
        // Pairs (pos, neg) with pos > neg: 0.9 beats 3, 0.7 beats 0.1 and ties 0.7 -> 1.5.
        let expected = (3.0 + 1.5) / 6.0;
        assert!((roc_auc(&scored).unwrap() - expected).abs() < 1e-12);
        assert_eq!(roc_auc(&[(1.0, true)]), None);
        assert_eq!(roc_auc(&[(1.0, true), (1.0, false)]), Some(0.5));
    }
}
