//! What the caller's models measured, handed to the model-based axes.

#[cfg(doc)]
use super::sentences;

/// What the caller's models measured on the document.
#[derive(Debug, Clone, Default)]
pub struct ModelEvidence {
    /// Sentence embeddings (unit length), one per sentence of [`sentences`], in order: all
    /// of them, or the first ones when a long document was embedded in part; empty when it
    /// was not embedded.
    pub sentences: Vec<Vec<f32>>,
    /// The prompt's embedding, when the caller sent a prompt.
    pub prompt: Option<Vec<f32>>,
    /// Embeddings of the caller's reference texts.
    pub references: Vec<Vec<f32>>,
    /// Language-model surprisal of the document's first tokens (a bounded window), in
    /// order; empty when no language model ran.
    pub surprisal: Vec<TokenSurprisal>,
}

/// One token of the document, `-log2 p(token | the tokens before it)`, and what the model
/// expected at that position: the zero-shot detectors (Fast-DetectGPT, Binoculars,
/// log-rank) compare the observed token with the model's own distribution there.
/// `start`/`end` are byte offsets into the scored text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TokenSurprisal {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
    /// Surprisal in bits.
    pub bits: f32,
    /// The expected surprisal at this position (the entropy of the model's next-token
    /// distribution), in bits.
    pub entropy_bits: f32,
    /// The variance of the surprisal under that distribution, in bits squared.
    pub variance_bits2: f32,
    /// 1 + the number of tokens the model found likelier than the observed one.
    pub rank: u32,
}
