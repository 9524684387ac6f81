//! Axes that read sentence embeddings: relevance (to the prompt, references or the
//! document itself) and coherence (sentence to sentence).

use crate::slop::evidence::ModelEvidence;
use crate::slop::output::{Metric, Span};
use crate::slop::phrases::span;
use crate::slop::text::Document;
use crate::vector::dot;

/// Similarity of each sentence to the prompt / references, or else to the document's own
/// centroid; sentences far from it are flagged off-topic.
pub(crate) fn relevance(
    doc: &Document<'_>,
    semantics: Option<&ModelEvidence>,
    spans: &mut Vec<Span>,
) -> Metric {
    let Some(semantics) = semantics.filter(|s| embeds_a_prefix(s, doc, 1)) else {
        return Metric::new(None, &[]);
    };
    let anchors: Vec<Vec<f32>> = match (&semantics.prompt, semantics.references.is_empty()) {
        (Some(prompt), _) => std::iter::once(prompt.clone())
            .chain(semantics.references.iter().cloned())
            .collect(),
        (None, false) => semantics.references.clone(),
        (None, true) if semantics.sentences.len() >= 2 => vec![centroid(&semantics.sentences)],
        _ => return Metric::new(None, &[("mean_similarity", None)]),
    };
    let similarities: Vec<f32> = semantics
        .sentences
        .iter()
        .map(|s| anchors.iter().map(|a| dot(s, a)).fold(f32::MIN, f32::max))
        .collect();
    // A sentence far from the prompt may still carry the document's topic (context such as
    // a cost or a quote); only one far from both is off topic.
    let total = centroid_sum(&semantics.sentences);
    for ((sentence, similarity), vector) in doc
        .sentences
        .iter()
        .zip(&similarities)
        .zip(&semantics.sentences)
    {
        // The rest of the document, without this sentence pulling it.
        let others: Vec<f32> = total.iter().zip(vector).map(|(t, v)| t - v).collect();
        let norm = others
            .iter()
            .map(|v| v * v)
            .sum::<f32>()
            .sqrt()
            .max(f32::EPSILON);
        let to_rest = dot(vector, &others) / norm;
        if *similarity < OFF_TOPIC && (semantics.sentences.len() < 3 || to_rest < 0.3) {
            spans.push(span(
                doc,
                sentence.start,
                sentence.end,
                "off_topic",
                format!("similarity {similarity:.2}"),
            ));
        }
    }
    let mean = similarities.iter().sum::<f32>() / similarities.len() as f32;
    let value = (0.65 - mean) / 0.45;
    Metric::new(
        Some(value),
        &[
            ("mean_similarity", Some(mean as f64)),
            (
                "anchored_to_prompt",
                Some(semantics.prompt.is_some() as u8 as f64),
            ),
            ("embedded_share", Some(embedded_share(semantics, doc))),
        ],
    )
}

/// Adjacent-sentence similarity; a sharp drop is a coherence break.
pub(crate) fn coherence(
    doc: &Document<'_>,
    semantics: Option<&ModelEvidence>,
    spans: &mut Vec<Span>,
) -> Metric {
    let Some(semantics) = semantics.filter(|s| embeds_a_prefix(s, doc, 2)) else {
        return Metric::new(None, &[]);
    };
    let adjacent: Vec<f32> = semantics
        .sentences
        .windows(2)
        .map(|w| dot(&w[0], &w[1]))
        .collect();
    for (i, similarity) in adjacent.iter().enumerate() {
        if *similarity < COHERENCE_BREAK {
            let next = &doc.sentences[i + 1];
            spans.push(span(
                doc,
                next.start,
                next.end,
                "coherence_break",
                format!("similarity to the previous sentence {similarity:.2}"),
            ));
        }
    }
    let mean = adjacent.iter().sum::<f32>() / adjacent.len() as f32;
    let breaks =
        adjacent.iter().filter(|s| **s < COHERENCE_BREAK).count() as f32 / adjacent.len() as f32;
    let value = 0.6 * ((0.35 - mean) / 0.35).clamp(0.0, 1.0) + 0.4 * breaks;
    Metric::new(
        Some(value),
        &[
            ("mean_adjacent_similarity", Some(mean as f64)),
            ("break_ratio", Some(breaks as f64)),
            ("embedded_share", Some(embedded_share(semantics, doc))),
        ],
    )
}

/// The caller embeds every sentence, or the first ones of a long document (the text
/// scorer stops at `MAX_EMBEDDED_SENTENCES`); both axes then read that opening. More
/// vectors than sentences means they belong to another text, so the axes stay unmeasured.
fn embeds_a_prefix(semantics: &ModelEvidence, doc: &Document<'_>, at_least: usize) -> bool {
    (at_least..=doc.sentences.len()).contains(&semantics.sentences.len())
}

/// The share of the document's sentences that were embedded (1 unless it was cut).
fn embedded_share(semantics: &ModelEvidence, doc: &Document<'_>) -> f64 {
    semantics.sentences.len() as f64 / doc.sentences.len().max(1) as f64
}

/// Cosine below which a sentence is off topic (to the prompt / references / centroid).
const OFF_TOPIC: f32 = 0.15;
/// Adjacent-sentence cosine below which the text breaks off (MiniLM: unrelated sentences
/// score about 0.0-0.1, related ones 0.3 and up).
const COHERENCE_BREAK: f32 = 0.05;

fn centroid_sum(vectors: &[Vec<f32>]) -> Vec<f32> {
    let mut sum = vec![0.0f32; vectors.first().map_or(0, Vec::len)];
    for v in vectors {
        for (m, x) in sum.iter_mut().zip(v) {
            *m += x;
        }
    }
    sum
}

fn centroid(vectors: &[Vec<f32>]) -> Vec<f32> {
    let mut mean = centroid_sum(vectors);
    let norm = mean
        .iter()
        .map(|v| v * v)
        .sum::<f32>()
        .sqrt()
        .max(f32::EPSILON);
    mean.iter_mut().for_each(|v| *v /= norm);
    mean
}
