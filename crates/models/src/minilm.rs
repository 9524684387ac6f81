//! all-MiniLM-L6-v2 sentence embeddings: BERT (candle-transformers), mean pooling over
//! real tokens, L2 normalisation, as sentence-transformers does.

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

use postlens_analysis::tags::{EncodedText, TokenVector};

use crate::{require, ModelError};

/// sentence-transformers' `max_seq_length` for this model; longer text is truncated.
pub const MAX_TOKENS: usize = 256;
pub const DIMENSIONS: usize = 384;

pub struct SentenceEmbedder {
    model: BertModel,
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
        let model =
            BertModel::load(vb, &config).map_err(|e| load_error(&weights, e.to_string()))?;
        Ok(Self {
            model,
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
    pub fn encode(&self, texts: &[&str]) -> Result<Vec<EncodedText>, ModelError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| ModelError::Tokenize(e.to_string()))?;
        let ids: Vec<Tensor> = encodings
            .iter()
            .map(|e| Tensor::new(e.get_ids(), &self.device))
            .collect::<Result<_, _>>()?;
        let masks: Vec<Tensor> = encodings
            .iter()
            .map(|e| Tensor::new(e.get_attention_mask(), &self.device))
            .collect::<Result<_, _>>()?;
        let ids = Tensor::stack(&ids, 0)?;
        let mask = Tensor::stack(&masks, 0)?;
        let token_types = ids.zeros_like()?;

        let hidden = self.model.forward(&ids, &token_types, Some(&mask))?;
        // Mean over real tokens only: padding must not dilute short texts in a batch.
        let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
        let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
        let counts = mask.sum(1)?;
        let mean = summed.broadcast_div(&counts)?;
        let norms = mean.sqr()?.sum_keepdim(1)?.sqrt()?;
        let sentences = mean.broadcast_div(&norms)?.to_vec2::<f32>()?;
        let hidden = hidden.to_vec3::<f32>()?;

        let mut encoded = Vec::with_capacity(texts.len());
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

/// Cosine similarity of two unit vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
