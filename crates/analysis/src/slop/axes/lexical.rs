//! Axes measured on the text alone (factuality also reads references' embeddings when
//! given).

use std::collections::HashMap;

use once_cell::sync::Lazy;
use rust_stemmers::{Algorithm, Stemmer};

use super::{is_content, per_100_words};
use crate::slop::evidence::ModelEvidence;
use crate::slop::lexicon;
use crate::slop::output::{Metric, Span};
use crate::slop::phrases::{
    phrase_spans, span, FILLER, HEDGES, INTENSIFIERS, OVERCLAIMS, SYCOPHANCY, VAGUE,
};
use crate::slop::text::{syllables, Document, Sentence};
use crate::vector::dot;

static ENGLISH: Lazy<Stemmer> = Lazy::new(|| Stemmer::create(Algorithm::English));

/// Content words a text needs before the share of its commonest stem means anything.
const STEM_MIN_CONTENT_WORDS: usize = 8;
/// The commonest stem's share of content words that starts to count as repetition, and the
/// share where the stem term is full. In ordinary prose the commonest stem is a few per
/// cent of the content words (the topic word), and up to a fifth in a two-sentence note;
/// "success" in every sentence is two fifths.
const STEM_SHARE_RANGE: (f64, f64) = (0.20, 0.35);

/// The stem that keeps coming back: the commonest content stem ("success", "successful"
/// and "successfully" are one), its share of the content words, and where it occurs.
fn commonest_stem(doc: &Document<'_>) -> Option<(f64, Vec<usize>)> {
    let mut by_stem: HashMap<String, Vec<usize>> = HashMap::new();
    let mut content = 0;
    for (index, word) in doc.words.iter().enumerate().filter(|(_, w)| is_content(w)) {
        content += 1;
        by_stem
            .entry(ENGLISH.stem(&word.lower).into_owned())
            .or_default()
            .push(index);
    }
    if content < STEM_MIN_CONTENT_WORDS {
        return None;
    }
    let (_, places) = by_stem
        .into_iter()
        .max_by(|(a_stem, a), (b_stem, b)| a.len().cmp(&b.len()).then(b_stem.cmp(a_stem)))?;
    Some((places.len() as f64 / content as f64, places))
}

/// Repeated word trigrams (later occurrences flagged), a stem repeated through the text
/// (occurrences after the second flagged), and how well the text compresses.
pub(crate) fn repetition(doc: &Document<'_>, spans: &mut Vec<Span>) -> Metric {
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
    let stem = commonest_stem(doc);
    let (low, high) = STEM_SHARE_RANGE;
    let stem_term = stem.as_ref().map_or(0.0, |(share, _)| {
        ((share - low) / (high - low)).clamp(0.0, 1.0)
    });
    if stem_term > 0.0 {
        for &index in stem.iter().flat_map(|(_, places)| places.iter().skip(2)) {
            let word = &doc.words[index];
            spans.push(span(
                doc,
                word.start,
                word.end,
                "repetition",
                "repeated word",
            ));
        }
    }
    let value = (2.5 * repeat_ratio + 0.5 * redundancy).max(stem_term) as f32;
    Metric::new(
        Some(value),
        &[
            ("repeated_trigram_ratio", Some(repeat_ratio)),
            ("distinct_word_ratio", Some(distinct_ratio)),
            ("top_stem_share", stem.as_ref().map(|(share, _)| *share)),
        ],
    )
}

/// Sentences shorter than this (in skeleton tokens) are not compared for templates.
const MOULD_MIN_TOKENS: usize = 8;
/// Two skeletons this alike (longest common subsequence over the longer length) are one
/// mould filled twice.
const MOULD_SIMILARITY: f64 = 0.65;
/// A sentence is moulded when this many others share its skeleton: a template is a shape
/// filled again and again; two sentences alike is chance in a short text.
const MOULD_MIN_ALIKE: usize = 2;
/// Sentences compared for moulds (pairs grow quadratically).
const MOULD_MAX_SENTENCES: usize = 64;

/// A sentence's shape: function words as themselves, other words by kind (capitalised,
/// number, lower case), and the punctuation between them, so that "Dr. A. Researcher, a
/// renowned expert at a leading university," and "Professor B. Scientist, a leading
/// researcher at a major institution," are the same skeleton.
fn skeleton<'t>(doc: &Document<'t>, sentence: &Sentence) -> Vec<&'t str> {
    let mut shape = Vec::new();
    let mut previous_end = sentence.start;
    for (position, word) in doc.sentence_words(sentence).iter().enumerate() {
        let between = &doc.text[previous_end..word.start];
        shape.extend(
            between
                .char_indices()
                .filter(|&(_, c)| matches!(c, ',' | ';' | ':' | '(' | ')' | '"' | '“' | '”'))
                .map(|(i, c)| &between[i..i + c.len_utf8()]),
        );
        let raw = &doc.text[word.start..word.end];
        // Capitalised inside a sentence is a name or an initial ("A." is not the article).
        let capitalised = raw.chars().next().is_some_and(char::is_uppercase);
        shape.push(if raw.chars().any(|c| c.is_ascii_digit()) {
            "#"
        } else if capitalised && position > 0 {
            "N"
        } else if word.lower == "an" {
            "a"
        } else if let Some(function) = lexicon::FUNCTION_WORDS
            .iter()
            .find(|f| **f == word.lower.as_str())
        {
            function
        } else if capitalised {
            "N"
        } else {
            "w"
        });
        previous_end = word.end;
    }
    shape
}

/// Longest common subsequence of two skeletons over the longer one's length.
fn skeleton_similarity(a: &[&str], b: &[&str]) -> f64 {
    let mut row = vec![0usize; b.len() + 1];
    for x in a {
        let mut diagonal = 0;
        for (j, y) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if x == y {
                diagonal + 1
            } else {
                row[j + 1].max(row[j])
            };
            diagonal = above;
        }
    }
    row[b.len()] as f64 / a.len().max(b.len()).max(1) as f64
}

/// Sentences that fill the same mould as at least [`MOULD_MIN_ALIKE`] others (indices).
fn moulded_sentences(doc: &Document<'_>) -> Vec<usize> {
    let shapes: Vec<Vec<&str>> = doc
        .sentences
        .iter()
        .take(MOULD_MAX_SENTENCES)
        .map(|s| skeleton(doc, s))
        .collect();
    (0..shapes.len())
        .filter(|&i| {
            shapes[i].len() >= MOULD_MIN_TOKENS
                && (0..shapes.len())
                    .filter(|&j| {
                        j != i
                            && shapes[j].len() >= MOULD_MIN_TOKENS
                            && skeleton_similarity(&shapes[i], &shapes[j]) >= MOULD_SIMILARITY
                    })
                    .take(MOULD_MIN_ALIKE)
                    .count()
                    == MOULD_MIN_ALIKE
        })
        .collect()
}

/// Boilerplate phrases per sentence, sentences that open the same way, and sentences cast
/// in the same mould (template news: name, apposition, claim, again and again).
pub(crate) fn templated(
    doc: &Document<'_>,
    matches: &[(usize, usize)],
    spans: &mut Vec<Span>,
) -> Metric {
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
    let moulded = moulded_sentences(doc);
    for &index in &moulded {
        let sentence = &doc.sentences[index];
        spans.push(span(
            doc,
            sentence.start,
            sentence.end,
            "templated",
            "sentence in the same mould as another",
        ));
    }
    let moulded_ratio = moulded.len() as f64 / sentences as f64;
    let value = (0.6 * phrases_per_sentence + 0.8 * opener_ratio + moulded_ratio) as f32;
    Metric::new(
        Some(value),
        &[
            ("boilerplate_phrases", Some(matches.len() as f64)),
            ("repeated_opener_ratio", Some(opener_ratio)),
            ("moulded_sentence_ratio", Some(moulded_ratio)),
        ],
    )
}

/// Long sentences, filler words and list-shaped text.
pub(crate) fn verbosity(doc: &Document<'_>, spans: &mut Vec<Span>) -> Metric {
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
pub(crate) fn complexity(doc: &Document<'_>) -> Metric {
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
pub(crate) fn tone(doc: &Document<'_>, spans: &mut Vec<Span>) -> Metric {
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
pub(crate) fn subjectivity(doc: &Document<'_>, subjective: usize) -> Metric {
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

/// Unsupported claims: vague attributions and claims of proof or universality against
/// specifics (numbers, names, quotes), and, when references are given, sentences no
/// reference supports.
pub(crate) fn factuality(doc: &Document<'_>, semantics: Option<&ModelEvidence>) -> Metric {
    let sentences = doc.sentences.len().max(1) as f64;
    let vague = VAGUE.find(&doc.words).len() as f64;
    let overclaims = OVERCLAIMS.find(&doc.words).len() as f64;
    let numbers = doc
        .words
        .iter()
        .filter(|w| w.lower.chars().any(|c| c.is_ascii_digit()))
        .count() as f64;
    let capitalised = |w: &crate::slop::text::Word| {
        doc.text[w.start..]
            .chars()
            .next()
            .is_some_and(char::is_uppercase)
    };
    // A name is one specific however many words it has ("World Health Organization").
    let names = doc
        .sentences
        .iter()
        .map(|s| {
            let words = doc.sentence_words(s);
            (1..words.len())
                .filter(|&i| capitalised(&words[i]) && (i == 1 || !capitalised(&words[i - 1])))
                .count()
        })
        .sum::<usize>() as f64;
    let quotes = doc.text.matches(['"', '“']).count() as f64 / 2.0;
    let specifics = (numbers + names + quotes) / sentences;
    let mut value = 0.45 + 0.35 * (vague + overclaims) / sentences - 0.25 * specifics.min(2.0);
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
            ("overclaims", Some(overclaims)),
            ("specifics_per_sentence", Some(specifics)),
            ("unsupported_sentence_share", unsupported),
        ],
    )
}
