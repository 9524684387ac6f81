//! "AI slop" scoring over the 11 axes of Shaib et al. 2025 ("Measuring AI 'SLOP' in
//! Text", arXiv 2509.19163), Sloposcope's contract: every metric is `{value in 0..1,
//! higher = more slop, ...sub-fields}`, combined per domain into `slop_score`, with spans.
//!
//! Rule-based measures live here; the model-based ones take what the caller's models
//! measured ([`ModelEvidence`]): sentence embeddings (MiniLM) for relevance and coherence,
//! token surprisal (SmolLM2) for density and fluency. This module stays model-free; without
//! the evidence those parts report `null` and confidence drops.

mod axes;
mod axis;
mod evidence;
mod lexicon;
mod options;
mod output;
mod phrases;
pub(crate) mod text;
mod weights;

use std::collections::BTreeMap;

pub use axes::{BURSTINESS_BITS_RANGE, IMPLAUSIBLE_TOKEN_BITS, LOG2_RANK_RANGE};
pub use axis::{Axis, AxisWeights};
pub use evidence::{ModelEvidence, TokenSurprisal};
pub use options::{ScoreOptions, Thresholds};
pub use output::{Level, Metric, SlopResult, Span, MAX_SPANS, MAX_SPANS_PER_AXIS};
pub use weights::{domain_weights, Calibration, CALIBRATION, GENERAL_WEIGHTS, PRIOR_WEIGHTS};

use axes::MIN_SCORED_TOKENS;
use output::bound_spans;
use phrases::{BOILERPLATE, SUBJECTIVE};
use text::Document;

/// The scorer's version, reported in every result; changes when scores change.
pub const VERSION: &str = "postlens-slop-0.1";

/// Texts shorter than this many words get proportionally less confidence.
const CONFIDENT_WORDS: f32 = 60.0;

/// Scores `text` on every axis and combines them with `domain`'s weights. `semantics` is
/// what the caller's models measured (see [`ModelEvidence`]); without it the model-based
/// axes report `null` and the confidence drops.
pub fn score(
    text: &str,
    domain: &str,
    semantics: Option<&ModelEvidence>,
    options: &ScoreOptions,
) -> SlopResult {
    let doc = Document::new(text);
    let mut spans = Vec::new();
    // Boilerplate and evaluative words feed more than one axis; find them once.
    let boilerplate = BOILERPLATE.find(&doc.words);
    let subjective = SUBJECTIVE.find(&doc.words).len();
    let surprisal = semantics
        .map(|e| e.surprisal.as_slice())
        .filter(|tokens| tokens.len() >= MIN_SCORED_TOKENS);
    // In this order: spans at the same place keep the order they were found in.
    let measured = [
        (Axis::Repetition, axes::repetition(&doc, &mut spans)),
        (
            Axis::Templated,
            axes::templated(&doc, &boilerplate, &mut spans),
        ),
        (Axis::Verbosity, axes::verbosity(&doc, &mut spans)),
        (Axis::Complexity, axes::complexity(&doc)),
        (Axis::Tone, axes::tone(&doc, &mut spans)),
        (Axis::Subjectivity, axes::subjectivity(&doc, subjective)),
        (Axis::Factuality, axes::factuality(&doc, semantics)),
        (Axis::Fluency, axes::fluency(&doc, surprisal)),
        (
            Axis::Density,
            axes::density(&doc, subjective, boilerplate.len(), surprisal),
        ),
        (
            Axis::Relevance,
            axes::relevance(&doc, semantics, &mut spans),
        ),
        (
            Axis::Coherence,
            axes::coherence(&doc, semantics, &mut spans),
        ),
    ];
    let value_of = |axis: Axis| {
        measured
            .iter()
            .find(|(measured_axis, _)| *measured_axis == axis)
            .and_then(|(_, metric)| metric.value)
    };

    let weights = domain_weights(domain);
    let total_weight = weights.sum();
    let (mut weighted, mut present_weight) = (0.0f32, 0.0f32);
    for (axis, weight) in weights.iter() {
        if let Some(value) = value_of(axis) {
            weighted += weight * value;
            present_weight += weight;
        }
    }
    // Nothing measurable (no words): no score rather than the calibration's intercept.
    let slop_score = if present_weight > 0.0 && !doc.words.is_empty() {
        CALIBRATION.apply(weighted / present_weight)
    } else {
        0.0
    };
    // Without the language model density is measured by half, so it counts half present.
    let missing_lm = if surprisal.is_some() { 0.0 } else { 0.5 };
    let coverage = (present_weight - weights[Axis::Density] * missing_lm) / total_weight;
    let length = (doc.words.len() as f32 / CONFIDENT_WORDS).min(1.0);
    let confidence = (coverage * (0.4 + 0.6 * length)).clamp(0.0, 1.0);

    let level = options
        .custom_thresholds
        .unwrap_or_default()
        .level(slop_score);
    let (spans, spans_omitted) = bound_spans(spans);
    let metrics: BTreeMap<String, Metric> = measured
        .into_iter()
        .map(|(axis, metric)| (axis.name().to_owned(), metric))
        .collect();
    SlopResult {
        version: VERSION.to_owned(),
        domain: domain.to_owned(),
        slop_score,
        confidence,
        level,
        metrics,
        spans,
        spans_omitted,
    }
}

/// The sentences the caller must embed for [`ModelEvidence::sentences`], in order.
pub fn sentences(text: &str) -> Vec<String> {
    let doc = Document::new(text);
    doc.sentences
        .iter()
        .map(|s| doc.sentence_text(s).to_owned())
        .collect()
}

#[cfg(test)]
mod tests;
