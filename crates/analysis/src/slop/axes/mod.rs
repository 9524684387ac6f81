//! The axes themselves, by the evidence they read: the text alone, a language model's
//! surprisal, sentence embeddings. Each returns its [`Metric`](super::output::Metric) and
//! pushes the spans it flags.

mod embedding;
mod lexical;
mod surprisal;

pub(crate) use embedding::{coherence, relevance};
pub(crate) use lexical::{
    complexity, factuality, repetition, subjectivity, templated, tone, verbosity,
};
pub(crate) use surprisal::{density, fluency, MIN_SCORED_TOKENS};
pub use surprisal::{BURSTINESS_BITS_RANGE, IMPLAUSIBLE_TOKEN_BITS, LOG2_RANK_RANGE};

use super::lexicon;
use super::text::{Document, Word};

pub(crate) fn per_100_words(count: usize, doc: &Document<'_>) -> f64 {
    100.0 * count as f64 / doc.words.len().max(1) as f64
}

pub(crate) fn is_content(word: &Word) -> bool {
    word.lower.chars().any(char::is_alphabetic)
        && !lexicon::FUNCTION_WORDS.contains(&word.lower.as_str())
}
