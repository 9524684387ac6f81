//! Axes that read a language model's surprisal (with a rule-based half that works without
//! it): fluency and density.

use super::{is_content, per_100_words};
use crate::slop::evidence::TokenSurprisal;
use crate::slop::output::Metric;
use crate::slop::text::Document;

/// Fewer scored tokens than this and the surprisal statistics are left out.
pub(crate) const MIN_SCORED_TOKENS: usize = 8;

/// Mean log2 rank of the observed tokens (SmolLM2-135M, first 128 tokens) that maps to the
/// language-model half of density 1 (the model's own first choices: generic) and 0: the
/// 10th and 90th percentiles over Sloposcope's test_dataset.json, printed by
/// `postlens eval-slop`. Of the zero-shot statistics it separates best on both labelled sets
/// (AUROC 0.81 on calibration.jsonl); mean surprisal is close (0.81) and is reported.
pub const LOG2_RANK_RANGE: (f64, f64) = (1.5, 3.1);
/// The spread of mean surprisal across sentences (bits) that maps to the burstiness term 1
/// (every sentence equally predictable: machine-even) and 0 (human unevenness): the same
/// percentiles as [`LOG2_RANK_RANGE`].
pub const BURSTINESS_BITS_RANGE: (f64, f64) = (0.64, 2.2);
/// The language-model half of density: log-rank and burstiness in these shares, fitted
/// (non-negative least squares) on fixtures/slop/calibration.jsonl. Fast-DetectGPT's
/// curvature and the one-model Binoculars ratio got no weight there and rank the held-out
/// set backwards (AUROC 0.34 and 0.30: famous speeches sit far below their expected
/// surprisal, as machine text does); they are reported, not scored.
const LOG2_RANK_SHARE: f64 = 0.56;
/// The rule-based "empty content" term's share of density when the model has measured the
/// text (alone without it).
const DENSITY_IDEAS_SHARE: f64 = 0.25;
/// A token this surprising in context is implausible English (word salad, garbled or
/// machine-translated text); names and numbers rarely reach it.
pub const IMPLAUSIBLE_TOKEN_BITS: f32 = 18.0;

/// What the language model's pass says about the window, beyond the mean surprisal: the
/// zero-shot detectors' statistics, all from the same per-token distribution.
struct SurprisalStats {
    mean_bits: f64,
    cv: f64,
    implausible_ratio: f64,
    /// Fast-DetectGPT's analytic criterion (Bao et al. 2024): the observed log-likelihood
    /// minus its expectation under the model, over its standard deviation, summed over the
    /// window: `sum(H_t - s_t) / sqrt(sum V_t)`. Machine text sits above its expectation.
    curvature: f64,
    /// Binoculars (Hans et al. 2024) with one model: mean surprisal over mean entropy. Text
    /// that is surprising only where the model itself is unsure (low ratio) reads as
    /// machine-written; this is what keeps formulaic but human text apart.
    surprisal_to_entropy: f64,
    /// Mean log2 of the observed tokens' ranks (GLTR, log-rank): low for machine text.
    mean_log2_rank: f64,
    /// Burstiness: the spread of mean surprisal across sentences (sentences with at least
    /// `BURST_MIN_TOKENS` tokens in the window; `None` with fewer than three).
    sentence_sd_bits: Option<f64>,
}

/// Tokens a sentence needs in the window to count towards burstiness.
const BURST_MIN_TOKENS: usize = 4;

fn surprisal_stats(doc: &Document<'_>, tokens: &[TokenSurprisal]) -> SurprisalStats {
    let n = tokens.len().max(1) as f64;
    let sum = |f: &dyn Fn(&TokenSurprisal) -> f64| tokens.iter().map(f).sum::<f64>();
    let mean_bits = sum(&|t| f64::from(t.bits)) / n;
    let variance = sum(&|t| (f64::from(t.bits) - mean_bits).powi(2)) / n;
    let implausible = tokens
        .iter()
        .filter(|t| t.bits >= IMPLAUSIBLE_TOKEN_BITS)
        .count();
    let mean_entropy = sum(&|t| f64::from(t.entropy_bits)) / n;
    let spread = sum(&|t| f64::from(t.variance_bits2)).sqrt();
    let sentence_means: Vec<f64> = doc
        .sentences
        .iter()
        .filter_map(|sentence| {
            let inside: Vec<f64> = tokens
                .iter()
                .filter(|t| t.start >= sentence.start && t.end <= sentence.end)
                .map(|t| f64::from(t.bits))
                .collect();
            (inside.len() >= BURST_MIN_TOKENS)
                .then(|| inside.iter().sum::<f64>() / inside.len() as f64)
        })
        .collect();
    let sentence_sd_bits = (sentence_means.len() >= 3).then(|| {
        let m = sentence_means.iter().sum::<f64>() / sentence_means.len() as f64;
        (sentence_means.iter().map(|x| (x - m).powi(2)).sum::<f64>() / sentence_means.len() as f64)
            .sqrt()
    });
    SurprisalStats {
        mean_bits,
        cv: variance.sqrt() / mean_bits.max(f64::EPSILON),
        implausible_ratio: implausible as f64 / n,
        curvature: sum(&|t| f64::from(t.entropy_bits - t.bits)) / spread.max(f64::EPSILON),
        surprisal_to_entropy: mean_bits / mean_entropy.max(f64::EPSILON),
        mean_log2_rank: sum(&|t| f64::from(t.rank.max(1)).log2()) / n,
        sentence_sd_bits,
    }
}

/// 1 at `low` or below, 0 at `high` or above, linear between.
fn falling(value: f64, (low, high): (f64, f64)) -> f64 {
    ((high - value) / (high - low)).clamp(0.0, 1.0)
}

/// Doubled words and fragments, and with the language model, the share of implausible
/// tokens: disfluent text is slop on this axis, fluent text (however generic) is not.
pub(crate) fn fluency(doc: &Document<'_>, surprisal: Option<&[TokenSurprisal]>) -> Metric {
    let doubled = doc
        .words
        .windows(2)
        .filter(|w| w[0].lower == w[1].lower && w[0].lower.chars().any(char::is_alphabetic))
        .count();
    let fragments = doc.sentences.iter().filter(|s| s.words.len() < 3).count();
    let sentences = doc.sentences.len().max(1) as f64;
    let rules = 0.5 * per_100_words(doubled, doc) + 0.3 * fragments as f64 / sentences;
    let implausible = surprisal.map(|tokens| surprisal_stats(doc, tokens).implausible_ratio);
    // One implausible token in ten is already badly broken text.
    let value = rules.max(implausible.map_or(0.0, |r| r * 10.0));
    Metric::new(
        Some(value as f32),
        &[
            ("doubled_words", Some(doubled as f64)),
            ("fragment_ratio", Some(fragments as f64 / sentences)),
            ("implausible_token_ratio", implausible),
        ],
    )
}

/// Idea density without a parser (content words carrying propositions per word) and, with
/// the language model, how predictable the text is in the ways machine text is: tokens the
/// model ranks first (low log-rank) and sentences all equally predictable (low burstiness).
pub(crate) fn density(
    doc: &Document<'_>,
    subjective: usize,
    boilerplate: usize,
    surprisal: Option<&[TokenSurprisal]>,
) -> Metric {
    if doc.words.is_empty() {
        return Metric::new(None, &[]);
    }
    let content = doc.words.iter().filter(|w| is_content(w)).count() as f64;
    let idea_density = content / doc.words.len() as f64;
    let empty_content = subjective as f64 + boilerplate as f64 * 2.0;
    let effective = (content - empty_content).max(0.0) / doc.words.len() as f64;
    let ideas = ((0.6 - effective) / 0.35).clamp(0.0, 1.0);
    let stats = surprisal.map(|tokens| surprisal_stats(doc, tokens));
    let value = match &stats {
        Some(s) => {
            let rank = falling(s.mean_log2_rank, LOG2_RANK_RANGE);
            let model = match s.sentence_sd_bits {
                Some(sd) => {
                    LOG2_RANK_SHARE * rank
                        + (1.0 - LOG2_RANK_SHARE) * falling(sd, BURSTINESS_BITS_RANGE)
                }
                None => rank,
            };
            DENSITY_IDEAS_SHARE * ideas + (1.0 - DENSITY_IDEAS_SHARE) * model
        }
        None => ideas,
    };
    Metric::new(
        Some(value as f32),
        &[
            ("idea_density", Some(idea_density)),
            ("informative_word_ratio", Some(effective)),
            (
                "lm_mean_surprisal_bits",
                stats.as_ref().map(|s| s.mean_bits),
            ),
            ("lm_surprisal_cv", stats.as_ref().map(|s| s.cv)),
            ("lm_curvature", stats.as_ref().map(|s| s.curvature)),
            (
                "lm_surprisal_to_entropy",
                stats.as_ref().map(|s| s.surprisal_to_entropy),
            ),
            (
                "lm_mean_log2_rank",
                stats.as_ref().map(|s| s.mean_log2_rank),
            ),
            (
                "lm_sentence_surprisal_sd",
                stats.as_ref().and_then(|s| s.sentence_sd_bits),
            ),
            ("lm_tokens", surprisal.map(|t| t.len() as f64)),
        ],
    )
}
