//! The phrase lists (boilerplate, filler, hedges, ...) matched over a document's words, and
//! the spans they flag.

use once_cell::sync::Lazy;

use crate::phrase_match::longest_matches;

use super::lexicon;
use super::output::Span;
use super::text::{Document, Word};

/// Phrase lists tokenised once: each phrase as its lower-case words, grouped by word count
/// (`by_length[n - 1]` holds the phrases of `n` words).
pub(crate) struct PhraseList {
    by_length: Vec<Vec<Vec<String>>>,
}

impl PhraseList {
    fn new(phrases: &[&str]) -> Self {
        let mut by_length: Vec<Vec<Vec<String>>> = Vec::new();
        for phrase in phrases {
            let words: Vec<String> = Document::new(phrase)
                .words
                .into_iter()
                .map(|w| w.lower)
                .collect();
            if words.is_empty() {
                continue;
            }
            if by_length.len() < words.len() {
                by_length.resize(words.len(), Vec::new());
            }
            by_length[words.len() - 1].push(words);
        }
        Self { by_length }
    }

    /// Non-overlapping matches, longest first at each word: `(first word, word count)`.
    pub(crate) fn find(&self, words: &[Word]) -> Vec<(usize, usize)> {
        longest_matches(words.len(), self.by_length.len(), |start, n| {
            self.by_length[n - 1]
                .iter()
                .any(|phrase| {
                    phrase
                        .iter()
                        .zip(&words[start..])
                        .all(|(a, b)| *a == b.lower)
                })
                .then_some(())
        })
        .into_iter()
        .map(|(start, n, ())| (start, n))
        .collect()
    }
}

pub(crate) static BOILERPLATE: Lazy<PhraseList> =
    Lazy::new(|| PhraseList::new(lexicon::BOILERPLATE));
pub(crate) static FILLER: Lazy<PhraseList> = Lazy::new(|| PhraseList::new(lexicon::FILLER));
pub(crate) static HEDGES: Lazy<PhraseList> = Lazy::new(|| PhraseList::new(lexicon::HEDGES));
pub(crate) static SYCOPHANCY: Lazy<PhraseList> = Lazy::new(|| PhraseList::new(lexicon::SYCOPHANCY));
pub(crate) static INTENSIFIERS: Lazy<PhraseList> =
    Lazy::new(|| PhraseList::new(lexicon::INTENSIFIERS));
pub(crate) static SUBJECTIVE: Lazy<PhraseList> = Lazy::new(|| PhraseList::new(lexicon::SUBJECTIVE));
pub(crate) static VAGUE: Lazy<PhraseList> =
    Lazy::new(|| PhraseList::new(lexicon::VAGUE_ATTRIBUTIONS));
pub(crate) static OVERCLAIMS: Lazy<PhraseList> = Lazy::new(|| PhraseList::new(lexicon::OVERCLAIMS));

pub(crate) fn span(
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

pub(crate) fn phrase_spans(
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
