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

/// One token of the document and `-log2 p(token | the tokens before it)`. `start`/`end`
/// are byte offsets into the scored text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TokenSurprisal {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
    /// Surprisal in bits.
    pub bits: f32,
}
