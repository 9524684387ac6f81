//! Category accuracy on a labelled set: the full tagger against an embedding-only
//! baseline (cosine between the caption and every category, nothing else).

use serde::Deserialize;

use postlens_analysis::tags::{product_text, CategoryMatch, Taxonomy};
use postlens_models::ModelError;

use crate::Models;

/// One labelled caption. A prediction is right when it is `expected` or lies below it.
#[derive(Debug, Clone, Deserialize)]
pub struct LabelledCaption {
    /// The caption as posted.
    pub caption: String,
    /// The post's market (ISO 3166 alpha-2), when the set names one.
    #[serde(default)]
    pub market: Option<String>,
    /// The right category's full taxonomy path.
    pub expected: String,
}

/// Right answers out of [`EvalReport::cases`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Accuracy {
    /// The best-ranked category is right.
    pub top1: usize,
    /// A right category is among the three best.
    pub top3: usize,
}

/// How the tagger and the embedding-only baseline did on one labelled set.
#[derive(Debug, Clone, Default)]
pub struct EvalReport {
    /// Captions evaluated.
    pub cases: usize,
    /// The full tagger (rules, lexicon and embeddings).
    pub tagger: Accuracy,
    /// Cosine between caption and category alone.
    pub baseline: Accuracy,
    /// Captions the tagger got wrong at top 1: (caption, expected, predicted).
    pub misses: Vec<(String, String, String)>,
}

/// Reads a labelled set, one JSON [`LabelledCaption`] a line (blank lines skipped).
pub fn parse_cases(jsonl: &str) -> Result<Vec<LabelledCaption>, serde_json::Error> {
    jsonl
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(serde_json::from_str)
        .collect()
}

/// Runs the tagger and the baseline over `cases`.
pub fn evaluate(models: &Models, cases: &[LabelledCaption]) -> Result<EvalReport, ModelError> {
    let taxonomy = models.tagger.taxonomy();
    let mut report = EvalReport {
        cases: cases.len(),
        ..EvalReport::default()
    };
    for case in cases {
        // One encoding serves the tagger and the embedding-only baseline.
        let text = product_text(&case.caption);
        let encoded = models.encode_one(&text)?;
        let result = models.tag_encoded(
            &case.caption,
            &text,
            case.market.as_deref(),
            &[],
            encoded.as_ref(),
        );
        score(
            taxonomy,
            &result.categories,
            &case.expected,
            &mut report.tagger,
        );
        if let Some(first) = result.categories.first() {
            if !is_right(taxonomy, first, &case.expected) {
                report.misses.push((
                    case.caption.clone(),
                    case.expected.clone(),
                    first.path.clone(),
                ));
            }
        } else {
            report
                .misses
                .push((case.caption.clone(), case.expected.clone(), String::new()));
        }
        if let Some(encoded) = &encoded {
            let baseline = models.tagger.rank_by_embedding(&encoded.encoded.sentence);
            score(taxonomy, &baseline, &case.expected, &mut report.baseline);
        }
    }
    Ok(report)
}

fn is_right(taxonomy: &Taxonomy, predicted: &CategoryMatch, expected: &str) -> bool {
    match (
        taxonomy.find_id(&predicted.id),
        taxonomy.find_path(expected),
    ) {
        (Some(p), Some(e)) => taxonomy.is_within(p, e),
        _ => false,
    }
}

fn score(taxonomy: &Taxonomy, ranked: &[CategoryMatch], expected: &str, accuracy: &mut Accuracy) {
    if ranked
        .first()
        .is_some_and(|c| is_right(taxonomy, c, expected))
    {
        accuracy.top1 += 1;
    }
    if ranked
        .iter()
        .take(3)
        .any(|c| is_right(taxonomy, c, expected))
    {
        accuracy.top3 += 1;
    }
}
