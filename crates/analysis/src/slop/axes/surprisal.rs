//! Axes that read a language model's surprisal (with a rule-based half that works without
//! it): fluency and density.

use super::{is_content, per_100_words};
use crate::slop::evidence::TokenSurprisal;
use crate::slop::output::Metric;
use crate::slop::text::Document;

/// Fewer scored tokens than this and the surprisal statistics are left out.
pub(crate) const MIN_SCORED_TOKENS: usize = 8;

/// Mean surprisal (bits per token, SmolLM2-135M, first 128 tokens) that maps to density 1
/// (predictable, generic) and 0 (specific): the 10th and 90th percentiles over Sloposcope's
/// test_dataset.json, printed by `postlens eval-slop` (Spearman rho with the expected slop
/// there: -0.36). The coefficient of variation is reported but not scored: on that data it
/// rises with slop (rho +0.21), the opposite of the burstiness argument, partly because it
/// divides by a mean that falls as text gets more predictable.
pub const SURPRISAL_BITS_RANGE: (f64, f64) = (3.0, 5.6);
/// A token this surprising in context is implausible English (word salad, garbled or
/// machine-translated text); names and numbers rarely reach it.
pub const IMPLAUSIBLE_TOKEN_BITS: f32 = 18.0;

struct SurprisalStats {
    mean_bits: f64,
    cv: f64,
    implausible_ratio: f64,
}

fn surprisal_stats(tokens: &[TokenSurprisal]) -> SurprisalStats {
    let n = tokens.len().max(1) as f64;
    let mean_bits = tokens.iter().map(|t| f64::from(t.bits)).sum::<f64>() / n;
    let variance = tokens
        .iter()
        .map(|t| (f64::from(t.bits) - mean_bits).powi(2))
        .sum::<f64>()
        / n;
    let implausible = tokens
        .iter()
        .filter(|t| t.bits >= IMPLAUSIBLE_TOKEN_BITS)
        .count();
    SurprisalStats {
        mean_bits,
        cv: variance.sqrt() / mean_bits.max(f64::EPSILON),
        implausible_ratio: implausible as f64 / n,
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
    let implausible = surprisal.map(|tokens| surprisal_stats(tokens).implausible_ratio);
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

/// Two halves, averaged: idea density without a parser (content words carrying
/// propositions per word) and, with the language model, how predictable the text is (low
/// mean surprisal: generic text is easy to predict).
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
    let stats = surprisal.map(surprisal_stats);
    let value = match &stats {
        Some(s) => 0.5 * ideas + 0.5 * falling(s.mean_bits, SURPRISAL_BITS_RANGE),
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
            ("lm_tokens", surprisal.map(|t| t.len() as f64)),
        ],
    )
}
