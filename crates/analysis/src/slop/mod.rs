//! "AI slop" scoring over the 11 axes of Shaib et al. 2025 ("Measuring AI 'SLOP' in
//! Text", arXiv 2509.19163), Sloposcope's contract: every metric is `{value in 0..1,
//! higher = more slop, ...sub-fields}`, combined per domain into `slop_score`, with spans.
//!
//! Rule-based measures live here; the model-based ones take what the caller's models
//! measured ([`ModelEvidence`]): sentence embeddings (MiniLM) for relevance and coherence,
//! token surprisal (SmolLM2) for density and fluency. This module stays model-free; without
//! the evidence those parts report `null` and confidence drops.

mod lexicon;
pub(crate) mod text;

use std::collections::{BTreeMap, HashMap};

use once_cell::sync::Lazy;
use serde::{Deserialize, Serialize};

use crate::vector::dot;
use text::{syllables, Document, Word};

pub const VERSION: &str = "postlens-slop-0.1";

pub const METRICS: [&str; 11] = [
    "density",
    "relevance",
    "factuality",
    "subjectivity",
    "repetition",
    "templated",
    "coherence",
    "verbosity",
    "fluency",
    "complexity",
    "tone",
];

/// What the caller's models measured on the document.
#[derive(Debug, Clone, Default)]
pub struct ModelEvidence {
    /// Sentence embeddings (unit length), one per sentence of [`sentences`], in order;
    /// empty when the document was not embedded.
    pub sentences: Vec<Vec<f32>>,
    pub prompt: Option<Vec<f32>>,
    pub references: Vec<Vec<f32>>,
    /// Language-model surprisal of the document's first tokens (a bounded window), in
    /// order; empty when no language model ran.
    pub surprisal: Vec<TokenSurprisal>,
}

/// One token of the document and `-log2 p(token | the tokens before it)`. `start`/`end`
/// are byte offsets into the scored text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TokenSurprisal {
    pub start: usize,
    pub end: usize,
    pub bits: f32,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ScoreOptions {
    /// Level bands: `{"watch": 0.3, "sloppy": 0.5, "high": 0.7}`, any subset.
    #[serde(default)]
    pub custom_thresholds: Option<Thresholds>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    #[serde(default = "Thresholds::default_watch")]
    pub watch: f32,
    #[serde(default = "Thresholds::default_sloppy")]
    pub sloppy: f32,
    #[serde(default = "Thresholds::default_high")]
    pub high: f32,
}

impl Thresholds {
    fn default_watch() -> f32 {
        0.30
    }
    fn default_sloppy() -> f32 {
        0.50
    }
    fn default_high() -> f32 {
        0.70
    }
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            watch: Self::default_watch(),
            sloppy: Self::default_sloppy(),
            high: Self::default_high(),
        }
    }
}

/// One axis: `value` (None when it cannot be measured on this text) and sub-fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    pub value: Option<f32>,
    #[serde(flatten)]
    pub details: BTreeMap<String, Option<f64>>,
}

impl Metric {
    fn new(value: Option<f32>, details: &[(&str, Option<f64>)]) -> Self {
        Self {
            value: value.map(|v| v.clamp(0.0, 1.0)),
            details: details.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect(),
        }
    }
}

/// A flagged stretch of text. `start`/`end` count Unicode code points (Python's
/// `text[start:end]` is the phrase).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub axis: String,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlopResult {
    pub version: String,
    pub domain: String,
    pub slop_score: f32,
    pub confidence: f32,
    pub level: String,
    pub metrics: BTreeMap<String, Metric>,
    /// At most [`MAX_SPANS_PER_AXIS`] per axis and [`MAX_SPANS`] in all, earliest first;
    /// overlapping spans of one axis and note are merged.
    pub spans: Vec<Span>,
    /// Spans found but left out by those bounds (0 when every span is listed).
    #[serde(default)]
    pub spans_omitted: usize,
}

/// Spans listed per axis. Spans grow with the text (a 39 KB boilerplate document found
/// about 3,000, a result over SNS's 256 KiB); the first few dozen of an axis show a reader
/// what it found, and the metric already counts the rest.
pub const MAX_SPANS_PER_AXIS: usize = 32;
/// Spans listed in all, which keeps the result under ~12 KB of spans whatever the text.
pub const MAX_SPANS: usize = 128;

/// Merges overlapping spans of the same axis and note, then keeps the earliest within the
/// bounds; answers the spans kept and how many were left out.
fn bound_spans(mut spans: Vec<Span>) -> (Vec<Span>, usize) {
    spans.sort_by_key(|s| (s.start, s.end));
    let mut merged: Vec<Span> = Vec::with_capacity(spans.len());
    for span in spans {
        // Overlapping matches of one axis and note (one phrase inside another) are one
        // finding; neighbours ("may perhaps") stay apart, each a phrase of its own.
        let previous = merged
            .iter_mut()
            .rev()
            .take_while(|p| p.end > span.start)
            .find(|p| p.axis == span.axis && p.note == span.note);
        match previous {
            Some(previous) => previous.end = previous.end.max(span.end),
            None => merged.push(span),
        }
    }
    let mut per_axis: BTreeMap<String, usize> = BTreeMap::new();
    let mut kept = Vec::with_capacity(merged.len().min(MAX_SPANS));
    let mut omitted = 0;
    for span in merged {
        let count = per_axis.entry(span.axis.clone()).or_default();
        if *count < MAX_SPANS_PER_AXIS && kept.len() < MAX_SPANS {
            *count += 1;
            kept.push(span);
        } else {
            omitted += 1;
        }
    }
    (kept, omitted)
}

/// The prior: axis weights hand-set from the paper's findings, in [`METRICS`] order.
pub const PRIOR_WEIGHTS: [f32; 11] = [1.25, 1.0, 1.0, 1.25, 1.0, 2.0, 0.75, 1.0, 0.5, 0.75, 1.5];

/// The `general` weights, in [`METRICS`] order: halfway between [`PRIOR_WEIGHTS`] and a
/// non-negative least-squares fit on fixtures/slop/calibration.jsonl (24 texts written for
/// it, labelled slop / human), both scaled to sum 11. `postlens eval-slop` prints the fit,
/// this blend, and how each ranks Sloposcope's test_dataset.json, which the fit never sees
/// (Spearman rho: prior 0.564, fit 0.604, blend 0.624). The fit alone zeroes axes its 24
/// texts happen not to need (templated, fluency, subjectivity, coherence); the prior keeps them.
pub const GENERAL_WEIGHTS: [f32; 11] = [
    2.70, 0.54, 1.87, 0.57, 0.67, 0.92, 0.34, 0.77, 0.23, 1.40, 0.99,
];

/// Per-domain emphasis over the general weights, in [`METRICS`] order, from the paper's
/// findings (news: relevance, factuality and density matter most; QA: relevance and
/// factuality, and verbosity). The ratios of the prior's news / QA weights to its general ones.
fn domain_emphasis(domain: &str) -> [f32; 11] {
    match domain {
        "news" => [1.2, 1.5, 1.5, 0.8, 1.0, 0.75, 1.33, 0.75, 1.0, 0.67, 0.83],
        "qa" => [0.8, 2.0, 2.0, 0.6, 1.0, 0.625, 1.33, 1.25, 1.0, 0.67, 0.83],
        _ => [1.0; 11],
    }
}

/// Per-domain weights of the axes (they need not sum to one; missing axes drop out):
/// `general`, `news`, `qa`; any other domain uses `general`.
pub fn domain_weights(domain: &str) -> [(&'static str, f32); 11] {
    let emphasis = domain_emphasis(domain);
    std::array::from_fn(|i| (METRICS[i], GENERAL_WEIGHTS[i] * emphasis[i]))
}

/// Raw weighted mean → reported score: `slope · raw + intercept`, clamped to 0..1. Fitted
/// by least squares on Sloposcope's test_dataset.json (`postlens eval-slop` prints the fit
/// and its error on texts held out of the fit). Ranks are unchanged by it; levels are not.
pub const CALIBRATION: (f32, f32) = (1.704, 0.051);

fn calibrate(raw: f32) -> f32 {
    (CALIBRATION.0 * raw + CALIBRATION.1).clamp(0.0, 1.0)
}

/// The raw weighted mean behind a reported score (for refitting the calibration).
pub fn uncalibrate(score: f32) -> f32 {
    (score - CALIBRATION.1) / CALIBRATION.0
}

/// Texts shorter than this many words get proportionally less confidence.
const CONFIDENT_WORDS: f32 = 60.0;

pub fn score(
    text: &str,
    domain: &str,
    semantics: Option<&ModelEvidence>,
    options: &ScoreOptions,
) -> SlopResult {
    let doc = Document::new(text);
    let mut spans = Vec::new();
    let mut metrics = BTreeMap::new();
    metrics.insert("repetition".to_owned(), repetition(&doc, &mut spans));
    // Boilerplate and evaluative words feed more than one axis; find them once.
    let boilerplate = BOILERPLATE.find(&doc.words);
    let subjective = SUBJECTIVE.find(&doc.words).len();
    metrics.insert(
        "templated".to_owned(),
        templated(&doc, &boilerplate, &mut spans),
    );
    metrics.insert("verbosity".to_owned(), verbosity(&doc, &mut spans));
    metrics.insert("complexity".to_owned(), complexity(&doc));
    metrics.insert("tone".to_owned(), tone(&doc, &mut spans));
    metrics.insert("subjectivity".to_owned(), subjectivity(&doc, subjective));
    metrics.insert("factuality".to_owned(), factuality(&doc, semantics));
    let surprisal = semantics
        .map(|e| e.surprisal.as_slice())
        .filter(|tokens| tokens.len() >= MIN_SCORED_TOKENS);
    metrics.insert("fluency".to_owned(), fluency(&doc, surprisal));
    metrics.insert(
        "density".to_owned(),
        density(&doc, subjective, boilerplate.len(), surprisal),
    );
    metrics.insert(
        "relevance".to_owned(),
        relevance(&doc, semantics, &mut spans),
    );
    metrics.insert(
        "coherence".to_owned(),
        coherence(&doc, semantics, &mut spans),
    );

    let weights = domain_weights(domain);
    let total_weight: f32 = weights.iter().map(|(_, w)| w).sum();
    let (mut weighted, mut present_weight) = (0.0f32, 0.0f32);
    for (name, weight) in weights {
        if let Some(value) = metrics.get(name).and_then(|m| m.value) {
            weighted += weight * value;
            present_weight += weight;
        }
    }
    // Nothing measurable (no words): no score rather than the calibration's intercept.
    let slop_score = if present_weight > 0.0 && !doc.words.is_empty() {
        calibrate(weighted / present_weight)
    } else {
        0.0
    };
    // Without the language model density is measured by half, so it counts half present.
    let density_weight = weights
        .iter()
        .find(|(n, _)| *n == "density")
        .map_or(0.0, |(_, w)| *w);
    let missing_lm = if surprisal.is_some() { 0.0 } else { 0.5 };
    let coverage = (present_weight - density_weight * missing_lm) / total_weight;
    let length = (doc.words.len() as f32 / CONFIDENT_WORDS).min(1.0);
    let confidence = (coverage * (0.4 + 0.6 * length)).clamp(0.0, 1.0);

    let thresholds = options.custom_thresholds.unwrap_or_default();
    let level = if slop_score >= thresholds.high {
        "High-Slop"
    } else if slop_score >= thresholds.sloppy {
        "Sloppy"
    } else if slop_score >= thresholds.watch {
        "Watch"
    } else {
        "Clean"
    };
    let (spans, spans_omitted) = bound_spans(spans);
    SlopResult {
        version: VERSION.to_owned(),
        domain: domain.to_owned(),
        slop_score,
        confidence,
        level: level.to_owned(),
        metrics,
        spans,
        spans_omitted,
    }
}

/// Phrase lists tokenised once: each phrase as its lower-case words.
struct PhraseList(Vec<Vec<String>>);

impl PhraseList {
    fn new(phrases: &[&str]) -> Self {
        Self(
            phrases
                .iter()
                .map(|p| {
                    Document::new(p)
                        .words
                        .into_iter()
                        .map(|w| w.lower)
                        .collect()
                })
                .collect(),
        )
    }

    /// Non-overlapping matches, longest first at each word: `(first word, word count)`.
    fn find(&self, words: &[Word]) -> Vec<(usize, usize)> {
        let mut found = Vec::new();
        let mut i = 0;
        while i < words.len() {
            let best = self
                .0
                .iter()
                .filter(|p| !p.is_empty() && i + p.len() <= words.len())
                .filter(|p| p.iter().zip(&words[i..]).all(|(a, b)| *a == b.lower))
                .map(Vec::len)
                .max();
            match best {
                Some(n) => {
                    found.push((i, n));
                    i += n;
                }
                None => i += 1,
            }
        }
        found
    }
}

static BOILERPLATE: Lazy<PhraseList> = Lazy::new(|| PhraseList::new(lexicon::BOILERPLATE));
static FILLER: Lazy<PhraseList> = Lazy::new(|| PhraseList::new(lexicon::FILLER));
static HEDGES: Lazy<PhraseList> = Lazy::new(|| PhraseList::new(lexicon::HEDGES));
static SYCOPHANCY: Lazy<PhraseList> = Lazy::new(|| PhraseList::new(lexicon::SYCOPHANCY));
static INTENSIFIERS: Lazy<PhraseList> = Lazy::new(|| PhraseList::new(lexicon::INTENSIFIERS));
static SUBJECTIVE: Lazy<PhraseList> = Lazy::new(|| PhraseList::new(lexicon::SUBJECTIVE));
static VAGUE: Lazy<PhraseList> = Lazy::new(|| PhraseList::new(lexicon::VAGUE_ATTRIBUTIONS));

fn span(
    doc: &Document<'_>,
    start_byte: usize,
    end_byte: usize,
    axis: &str,
    note: impl Into<String>,
) -> Span {
    Span {
        start: doc.chars(start_byte),
        end: doc.chars(end_byte),
        axis: axis.to_owned(),
        note: note.into(),
    }
}

fn phrase_spans(
    doc: &Document<'_>,
    matches: &[(usize, usize)],
    axis: &str,
    note: &str,
    spans: &mut Vec<Span>,
) {
    for &(first, n) in matches {
        let (start, end) = (doc.words[first].start, doc.words[first + n - 1].end);
        spans.push(span(doc, start, end, axis, note));
    }
}

fn per_100_words(count: usize, doc: &Document<'_>) -> f64 {
    100.0 * count as f64 / doc.words.len().max(1) as f64
}

fn is_content(word: &Word) -> bool {
    word.lower.chars().any(char::is_alphabetic)
        && !lexicon::FUNCTION_WORDS.contains(&word.lower.as_str())
}

/// Repeated word trigrams (later occurrences flagged) and how well the text compresses.
fn repetition(doc: &Document<'_>, spans: &mut Vec<Span>) -> Metric {
    let words = &doc.words;
    let mut seen: HashMap<[&str; 3], usize> = HashMap::new();
    let mut repeated = 0;
    let mut flagged_until = 0;
    for i in 0..words.len().saturating_sub(2) {
        let key = [
            words[i].lower.as_str(),
            words[i + 1].lower.as_str(),
            words[i + 2].lower.as_str(),
        ];
        let count = seen.entry(key).or_insert(0);
        *count += 1;
        if *count > 1 {
            repeated += 1;
            if words[i].start >= flagged_until {
                spans.push(span(
                    doc,
                    words[i].start,
                    words[i + 2].end,
                    "repetition",
                    "repeated phrase",
                ));
                flagged_until = words[i + 2].end;
            }
        }
    }
    let trigrams = words.len().saturating_sub(2);
    let repeat_ratio = if trigrams > 0 {
        repeated as f64 / trigrams as f64
    } else {
        0.0
    };
    // Distinct-word ratio stands in for compression on short texts, where deflate's
    // overhead hides repetition.
    let distinct = words
        .iter()
        .map(|w| w.lower.as_str())
        .collect::<std::collections::HashSet<_>>()
        .len();
    let distinct_ratio = distinct as f64 / words.len().max(1) as f64;
    let long_enough = words.len() >= 40;
    let redundancy = if long_enough {
        ((0.55 - distinct_ratio) / 0.3).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let value = (2.5 * repeat_ratio + 0.5 * redundancy) as f32;
    Metric::new(
        Some(value),
        &[
            ("repeated_trigram_ratio", Some(repeat_ratio)),
            ("distinct_word_ratio", Some(distinct_ratio)),
        ],
    )
}

/// Boilerplate phrases per sentence and sentences that open the same way.
fn templated(doc: &Document<'_>, matches: &[(usize, usize)], spans: &mut Vec<Span>) -> Metric {
    phrase_spans(doc, matches, "templated", "boilerplate phrase", spans);
    let sentences = doc.sentences.len().max(1);
    let mut openers: HashMap<String, usize> = HashMap::new();
    for sentence in &doc.sentences {
        let words = doc.sentence_words(sentence);
        if words.len() >= 2 {
            *openers
                .entry(format!("{} {}", words[0].lower, words[1].lower))
                .or_insert(0) += 1;
        }
    }
    let repeated_openers: usize = openers.values().filter(|&&n| n > 1).map(|n| n - 1).sum();
    let phrases_per_sentence = matches.len() as f64 / sentences as f64;
    let opener_ratio = repeated_openers as f64 / sentences as f64;
    let value = (0.6 * phrases_per_sentence + 0.8 * opener_ratio) as f32;
    Metric::new(
        Some(value),
        &[
            ("boilerplate_phrases", Some(matches.len() as f64)),
            ("repeated_opener_ratio", Some(opener_ratio)),
        ],
    )
}

/// Long sentences, filler words and list-shaped text.
fn verbosity(doc: &Document<'_>, spans: &mut Vec<Span>) -> Metric {
    let matches = FILLER.find(&doc.words);
    phrase_spans(doc, &matches, "verbosity", "filler", spans);
    let sentences = doc.sentences.len().max(1);
    let words_per_sentence = doc.words.len() as f64 / sentences as f64;
    let filler = per_100_words(matches.len(), doc);
    let list_lines = doc
        .sentences
        .iter()
        .filter(|s| {
            let text = doc.sentence_text(s).trim_start();
            text.starts_with(['-', '*', '•'])
                || text.chars().next().is_some_and(|c| c.is_ascii_digit()) && text.contains(". ")
                || doc
                    .sentence_words(s)
                    .first()
                    .is_some_and(|w| lexicon::LIST_MARKERS.contains(&w.lower.as_str()))
        })
        .count();
    let listiness = list_lines as f64 / sentences as f64;
    let value = 0.5 * ((words_per_sentence - 18.0) / 20.0).clamp(0.0, 1.0)
        + 0.3 * (filler / 4.0).min(1.0)
        + 0.2 * listiness;
    Metric::new(
        Some(value as f32),
        &[
            ("words_per_sentence", Some(words_per_sentence)),
            ("filler_per_100_words", Some(filler)),
            ("listiness", Some(listiness)),
        ],
    )
}

/// Flesch-Kincaid grade and Gunning fog; slop reads above grade 12 for little content.
fn complexity(doc: &Document<'_>) -> Metric {
    if doc.words.is_empty() {
        return Metric::new(None, &[]);
    }
    let words = doc.words.len() as f64;
    let sentences = doc.sentences.len().max(1) as f64;
    let syllable_counts: Vec<usize> = doc.words.iter().map(|w| syllables(&w.lower)).collect();
    let total: usize = syllable_counts.iter().sum();
    let complex = syllable_counts.iter().filter(|&&s| s >= 3).count() as f64;
    let grade = 0.39 * words / sentences + 11.8 * total as f64 / words - 15.59;
    let fog = 0.4 * (words / sentences + 100.0 * complex / words);
    let value = ((fog - 12.0) / 10.0).clamp(0.0, 1.0);
    Metric::new(
        Some(value as f32),
        &[
            ("flesch_kincaid_grade", Some(grade)),
            ("gunning_fog", Some(fog)),
            ("syllables_per_word", Some(total as f64 / words)),
        ],
    )
}

/// Hedging, sycophancy and formulaic intensifiers.
fn tone(doc: &Document<'_>, spans: &mut Vec<Span>) -> Metric {
    let hedges = HEDGES.find(&doc.words);
    let flattery = SYCOPHANCY.find(&doc.words);
    let intensifiers = INTENSIFIERS.find(&doc.words);
    phrase_spans(doc, &hedges, "hedging", "hedge", spans);
    phrase_spans(doc, &flattery, "sycophancy", "sycophantic phrase", spans);
    let hedge_rate = per_100_words(hedges.len(), doc);
    let intensifier_rate = per_100_words(intensifiers.len(), doc);
    let value = 0.12 * hedge_rate + 0.4 * flattery.len() as f64 + 0.12 * intensifier_rate;
    Metric::new(
        Some(value as f32),
        &[
            ("hedges_per_100_words", Some(hedge_rate)),
            ("sycophantic_phrases", Some(flattery.len() as f64)),
            ("intensifiers_per_100_words", Some(intensifier_rate)),
        ],
    )
}

/// Evaluative words among content words.
fn subjectivity(doc: &Document<'_>, subjective: usize) -> Metric {
    let content = doc.words.iter().filter(|w| is_content(w)).count();
    if content == 0 {
        return Metric::new(None, &[]);
    }
    let ratio = subjective as f64 / content as f64;
    Metric::new(
        Some((ratio * 4.0) as f32),
        &[("subjective_ratio", Some(ratio))],
    )
}

/// Unsupported claims: vague attributions against specifics (numbers, names, quotes), and,
/// when references are given, sentences no reference supports.
fn factuality(doc: &Document<'_>, semantics: Option<&ModelEvidence>) -> Metric {
    let sentences = doc.sentences.len().max(1) as f64;
    let vague = VAGUE.find(&doc.words).len() as f64;
    let numbers = doc
        .words
        .iter()
        .filter(|w| w.lower.chars().any(|c| c.is_ascii_digit()))
        .count() as f64;
    let names = doc
        .sentences
        .iter()
        .flat_map(|s| doc.sentence_words(s).iter().skip(1))
        .filter(|w| {
            doc.text[w.start..]
                .chars()
                .next()
                .is_some_and(char::is_uppercase)
        })
        .count() as f64;
    let quotes = doc.text.matches(['"', '“']).count() as f64 / 2.0;
    let specifics = (numbers + names + quotes) / sentences;
    let mut value = 0.45 + 0.35 * vague / sentences - 0.25 * specifics.min(2.0);
    let mut unsupported = None;
    if let Some(semantics) =
        semantics.filter(|s| !s.references.is_empty() && !s.sentences.is_empty())
    {
        let weak = semantics
            .sentences
            .iter()
            .filter(|sentence| {
                semantics
                    .references
                    .iter()
                    .map(|r| dot(sentence, r))
                    .fold(f32::MIN, f32::max)
                    < 0.35
            })
            .count();
        let share = weak as f64 / semantics.sentences.len() as f64;
        unsupported = Some(share);
        value = 0.5 * value + 0.5 * share;
    }
    Metric::new(
        Some(value as f32),
        &[
            ("vague_attributions", Some(vague)),
            ("specifics_per_sentence", Some(specifics)),
            ("unsupported_sentence_share", unsupported),
        ],
    )
}

/// Mechanical disfluency: doubled words and fragments. A language model's perplexity would
/// measure fluency better; this is the rule-based floor.
/// Fewer scored tokens than this and the surprisal statistics are left out.
const MIN_SCORED_TOKENS: usize = 8;

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
fn fluency(doc: &Document<'_>, surprisal: Option<&[TokenSurprisal]>) -> Metric {
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
fn density(
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

/// Similarity of each sentence to the prompt / references, or else to the document's own
/// centroid; sentences far from it are flagged off-topic.
fn relevance(
    doc: &Document<'_>,
    semantics: Option<&ModelEvidence>,
    spans: &mut Vec<Span>,
) -> Metric {
    let Some(semantics) =
        semantics.filter(|s| s.sentences.len() == doc.sentences.len() && !s.sentences.is_empty())
    else {
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
        ],
    )
}

/// Adjacent-sentence similarity; a sharp drop is a coherence break.
fn coherence(
    doc: &Document<'_>,
    semantics: Option<&ModelEvidence>,
    spans: &mut Vec<Span>,
) -> Metric {
    let Some(semantics) =
        semantics.filter(|s| s.sentences.len() == doc.sentences.len() && s.sentences.len() >= 2)
    else {
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
        ],
    )
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
