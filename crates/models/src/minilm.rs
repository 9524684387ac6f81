//! all-MiniLM-L6-v2 sentence embeddings: BERT (`crate::bert`), mean pooling over
//! real tokens, L2 normalisation, as sentence-transformers does.

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use tokenizers::{Encoding, PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

use postlens_analysis::tags::{EncodedText, TokenVector};

use crate::bert::{BertEncoder, Config};
use crate::{require, ModelError};

/// sentence-transformers' `max_seq_length` for this model; longer text is truncated.
pub const MAX_TOKENS: usize = 256;
/// Length of one sentence vector.
pub const DIMENSIONS: usize = 384;

/// all-MiniLM-L6-v2: mean-pooled, L2-normalised sentence vectors, as sentence-transformers computes them.
pub struct SentenceEmbedder {
    encoder: BertEncoder,
    tokenizer: Tokenizer,
    device: Device,
}

impl SentenceEmbedder {
    /// Loads `model.safetensors`, `config.json` and `tokenizer.json` from `dir`.
    pub fn load(dir: &Path) -> Result<Self, ModelError> {
        crate::init_kernel_threads();
        let weights = require(&dir.join("model.safetensors"))?.to_owned();
        let config_path = require(&dir.join("config.json"))?.to_owned();
        let tokenizer_path = require(&dir.join("tokenizer.json"))?.to_owned();
        let load_error = |path: &Path, message: String| ModelError::Load {
            path: path.to_owned(),
            message,
        };

        let config_text = std::fs::read_to_string(&config_path)
            .map_err(|e| load_error(&config_path, e.to_string()))?;
        let config: Config = serde_json::from_str(&config_text)
            .map_err(|e| load_error(&config_path, e.to_string()))?;

        let mut tokenizer = Tokenizer::from_file(&tokenizer_path)
            .map_err(|e| load_error(&tokenizer_path, e.to_string()))?;
        // The shipped tokenizer.json pads and truncates to 128; batches pad to their
        // longest member instead, and truncate at the model's own limit.
        tokenizer.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::BatchLongest,
            ..PaddingParams::default()
        }));
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS,
                ..TruncationParams::default()
            }))
            .map_err(|e| load_error(&tokenizer_path, e.to_string()))?;

        let device = Device::Cpu;
        // SAFETY: the weights file is only read, and nothing in this process writes it
        // while mapped; mapping avoids copying 90 MB at cold start.
        let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[&weights], DType::F32, &device) }
            .map_err(|e| load_error(&weights, e.to_string()))?;
        let encoder =
            BertEncoder::load(vb, &config).map_err(|e| load_error(&weights, e.to_string()))?;
        Ok(Self {
            encoder,
            tokenizer,
            device,
        })
    }

    /// Unit-length embeddings, one per text, in one forward pass.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, ModelError> {
        Ok(self
            .encode(texts)?
            .into_iter()
            .map(|e| e.sentence)
            .collect())
    }

    /// Sentence embeddings plus each real token's contextual vector and byte range, from
    /// the same forward pass (keyphrase scoring needs no further model calls).
    ///
    /// Texts are sorted by length and run in groups of similar length: one batch padded to
    /// its longest text spent up to half its work on padding (a 40-token caption among
    /// 12-token ones), and a pass per text pays the per-call cost every time.
    pub fn encode(&self, texts: &[&str]) -> Result<Vec<EncodedText>, ModelError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| ModelError::Tokenize(e.to_string()))?;
        let lengths: Vec<usize> = encodings
            .iter()
            .map(|e| e.get_attention_mask().iter().filter(|&&m| m == 1).count())
            .collect();
        let mut encoded: Vec<Option<EncodedText>> = (0..texts.len()).map(|_| None).collect();
        for group in length_groups(&lengths) {
            let group_encodings: Vec<&Encoding> = group.iter().map(|&i| &encodings[i]).collect();
            let width = group.iter().map(|&i| lengths[i]).max().unwrap_or(0);
            for (&index, text) in group.iter().zip(self.forward(&group_encodings, width)?) {
                encoded[index] = Some(text);
            }
        }
        Ok(encoded.into_iter().flatten().collect())
    }

    /// One forward pass over `encodings`, cut to their first `width` tokens (padding is on
    /// the right, so that drops padding only).
    fn forward(
        &self,
        encodings: &[&Encoding],
        width: usize,
    ) -> Result<Vec<EncodedText>, ModelError> {
        let ids: Vec<Tensor> = encodings
            .iter()
            .map(|e| Tensor::new(&e.get_ids()[..width], &self.device))
            .collect::<Result<_, _>>()?;
        let masks: Vec<Tensor> = encodings
            .iter()
            .map(|e| Tensor::new(&e.get_attention_mask()[..width], &self.device))
            .collect::<Result<_, _>>()?;
        let ids = Tensor::stack(&ids, 0)?;
        let mask = Tensor::stack(&masks, 0)?;
        let hidden = self.encoder.forward(&ids, &mask)?;
        // Mean over real tokens only: padding must not dilute short texts in a batch.
        let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
        let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
        let counts = mask.sum(1)?;
        let mean = summed.broadcast_div(&counts)?;
        let norms = mean.sqr()?.sum_keepdim(1)?.sqrt()?;
        let sentences = mean.broadcast_div(&norms)?.to_vec2::<f32>()?;
        let hidden = hidden.to_vec3::<f32>()?;

        let mut encoded = Vec::with_capacity(encodings.len());
        for ((encoding, sentence), token_rows) in encodings.iter().zip(sentences).zip(hidden) {
            let tokens = encoding
                .get_offsets()
                .iter()
                .zip(encoding.get_special_tokens_mask())
                .zip(encoding.get_attention_mask())
                .zip(token_rows)
                .filter(|(((_, special), attended), _)| **special == 0 && **attended == 1)
                .map(|(((&(start, end), _), _), vector)| TokenVector { start, end, vector })
                .collect();
            encoded.push(EncodedText { sentence, tokens });
        }
        Ok(encoded)
    }
}

/// Indices grouped by similar length, shortest first: a group grows while padding to its
/// longest member stays under a fifth of its tokens (or the texts are all short, where
/// another pass costs more than the padding).
fn length_groups(lengths: &[usize]) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.sort_by_key(|&i| (lengths[i], i));
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut real = 0usize;
    for index in order {
        let length = lengths[index];
        let fits = groups.last().is_some_and(|group| {
            let padded = length * (group.len() + 1);
            length <= 16 || padded * 5 <= (real + length) * 6
        });
        match groups.last_mut() {
            Some(group) if fits => {
                group.push(index);
                real += length;
            }
            _ => {
                groups.push(vec![index]);
                real = length;
            }
        }
    }
    groups
}

/// Cosine similarity of two unit vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    postlens_analysis::vector::dot(a, b)
}

#[cfg(test)]
mod tests {
    use super::length_groups;

    #[test]
    fn similar_lengths_share_a_pass_and_outliers_get_their_own() {
        assert_eq!(
            length_groups(&[12, 14, 40, 13]),
            vec![vec![0, 3, 1], vec![2]]
        );
        assert_eq!(length_groups(&[30, 31, 32]), vec![vec![0, 1, 2]]);
        assert!(length_groups(&[]).is_empty());
        // Every index appears exactly once.
        let lengths = [5, 90, 33, 34, 7, 120, 35, 6];
        let mut all: Vec<usize> = length_groups(&lengths).concat();
        all.sort();
        assert_eq!(all, (0..lengths.len()).collect::<Vec<_>>());
    }
}
