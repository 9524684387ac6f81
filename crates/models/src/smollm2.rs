//! SmolLM2-135M (GGUF Q4_1) as a token scorer: the surprisal of every token of a text and
//! the model's distribution around it, from one prefill pass over all positions.
//!
//! candle-transformers' `quantized_llama` keeps only the last position's logits (it is a
//! generator), so this is the same Llama block written for scoring: no KV cache, a causal
//! mask, and the output head applied to every position in slices so that a 256-token
//! window never holds 256 x 49,152 logits at once.
//!
//! The Q4_1 weights are dequantized to f32 once, at load (about 540 MB resident; see
//! `gguf_f32` for how that load is kept short):
//! candle multiplies quantized matrices one row at a time, which suits generation but took
//! 32 ms per token in a prefill on one core (8 s for 256 tokens, with AVX2), against
//! 4.7 ms per token through the f32 GEMM. Scoring is all prefill.

use std::path::Path;

use candle_core::quantized::QMatMul;
use candle_core::{DType, Device, Module, Tensor};
use postlens_analysis::slop::TokenSurprisal;
use tokenizers::Tokenizer;

use crate::gguf_f32::MappedGguf;
use crate::{require, ModelError};

/// `<|endoftext|>`, the separator between documents in SmolLM2's training data: every
/// scored window starts after it, as a document would.
pub const DOCUMENT_START: u32 = 0;

/// One token of a text: its vocabulary id and the byte range of `text` it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    /// Vocabulary id.
    pub id: u32,
    /// First byte of the token in the text.
    pub start: usize,
    /// One past its last byte.
    pub end: usize,
}

/// Output-head rows computed at once (each slice is rows x 49,152 logits).
const OUTPUT_SLICE: usize = 64;

#[derive(Debug, Clone)]
struct Config {
    layers: usize,
    heads: usize,
    kv_heads: usize,
    head_dim: usize,
    rms_eps: f32,
    rope_base: f32,
    context: usize,
}

struct Block {
    attn_norm: Tensor,
    q: QMatMul,
    k: QMatMul,
    v: QMatMul,
    out: QMatMul,
    ffn_norm: Tensor,
    gate: QMatMul,
    up: QMatMul,
    down: QMatMul,
}

/// SmolLM2-135M (Hugging Face, Apache-2.0) from its Q4_1 GGUF: a Llama-style decoder used only to score text (surprisal per token), never to generate.
pub struct SmolLm2 {
    config: Config,
    embeddings: QMatMul,
    blocks: Vec<Block>,
    final_norm: Tensor,
    output: QMatMul,
    cos: Tensor,
    sin: Tensor,
    tokenizer: Tokenizer,
    device: Device,
}

impl SmolLm2 {
    /// Loads `model.gguf` and `tokenizer.json` (written by `make models` from the GGUF's
    /// own vocabulary) from `dir`.
    pub fn load(dir: &Path) -> Result<Self, ModelError> {
        crate::init_kernel_threads();
        let weights_path = dir.join("model.gguf");
        let tokenizer_path = dir.join("tokenizer.json");
        let load_error = |path: &Path, message: String| ModelError::Load {
            path: path.to_owned(),
            message,
        };
        let gguf_error = |e: candle_core::Error| load_error(&weights_path, e.to_string());
        let tokenizer = Tokenizer::from_file(require(&tokenizer_path)?)
            .map_err(|e| load_error(&tokenizer_path, e.to_string()))?;
        let gguf = MappedGguf::open(&weights_path)?;
        let content = gguf.content();
        let device = Device::Cpu;

        let metadata = |key: &str| {
            content
                .metadata
                .get(key)
                .ok_or_else(|| load_error(&weights_path, format!("no {key} in the GGUF header")))
        };
        let count = |key: &str| -> Result<usize, ModelError> {
            Ok(metadata(key)?.to_u32().map_err(gguf_error)? as usize)
        };
        let architecture = metadata("general.architecture")?
            .to_string()
            .map_err(gguf_error)?;
        if architecture != "llama" {
            return Err(load_error(
                &weights_path,
                format!("expected a llama model, found {architecture}"),
            ));
        }
        let heads = count("llama.attention.head_count")?;
        let embedding = count("llama.embedding_length")?;
        let config = Config {
            layers: count("llama.block_count")?,
            heads,
            kv_heads: count("llama.attention.head_count_kv")?,
            head_dim: embedding / heads,
            rms_eps: metadata("llama.attention.layer_norm_rms_epsilon")?
                .to_f32()
                .map_err(gguf_error)?,
            rope_base: metadata("llama.rope.freq_base")?
                .to_f32()
                .map_err(gguf_error)?,
            context: count("llama.context_length")?,
        };

        let dequantized = |name: &str| gguf.f32_tensor(name, &device);
        let token_table = dequantized("token_embd.weight")?;
        // SmolLM2 ties its output head to the embeddings; a file with its own head uses it.
        let output = if gguf.has("output.weight") {
            QMatMul::Tensor(dequantized("output.weight")?)
        } else {
            QMatMul::Tensor(token_table.clone())
        };
        let embeddings = QMatMul::Tensor(token_table);
        let mut blocks = Vec::with_capacity(config.layers);
        for layer in 0..config.layers {
            let matmul = |name: &str| -> Result<QMatMul, ModelError> {
                dequantized(&format!("blk.{layer}.{name}.weight")).map(QMatMul::Tensor)
            };
            blocks.push(Block {
                q: matmul("attn_q")?,
                k: matmul("attn_k")?,
                v: matmul("attn_v")?,
                out: matmul("attn_output")?,
                gate: matmul("ffn_gate")?,
                up: matmul("ffn_up")?,
                down: matmul("ffn_down")?,
                attn_norm: dequantized(&format!("blk.{layer}.attn_norm.weight"))?,
                ffn_norm: dequantized(&format!("blk.{layer}.ffn_norm.weight"))?,
            });
        }
        let final_norm = dequantized("output_norm.weight")?;
        let (cos, sin) = rope_tables(&config, &device).map_err(gguf_error)?;
        Ok(Self {
            config,
            embeddings,
            blocks,
            final_norm,
            output,
            cos,
            sin,
            tokenizer,
            device,
        })
    }

    /// The longest window the model was trained on.
    pub fn context_length(&self) -> usize {
        self.config.context
    }

    /// Token ids and their byte ranges in `text`, no special tokens added.
    pub fn tokenize(&self, text: &str) -> Result<Vec<Token>, ModelError> {
        let encoding = self
            .tokenizer
            .encode(text, false)
            .map_err(|e| ModelError::Tokenize(e.to_string()))?;
        Ok(encoding
            .get_ids()
            .iter()
            .zip(encoding.get_offsets())
            .map(|(&id, &(start, end))| Token { id, start, end })
            .collect())
    }

    /// Surprisal of each of `tokens` (from [`Self::tokenize`]) given the ones before it,
    /// the first given only the document start, with the entropy and surprisal variance of
    /// the model's distribution there and the token's rank in it. One forward pass; the
    /// caller bounds the window (cost grows linearly with it, attention quadratically).
    pub fn surprisals(&self, tokens: &[Token]) -> Result<Vec<TokenSurprisal>, ModelError> {
        if tokens.is_empty() {
            return Ok(Vec::new());
        }
        if tokens.len() >= self.config.context {
            return Err(ModelError::Tokenize(format!(
                "{} tokens do not fit the {}-token context",
                tokens.len(),
                self.config.context
            )));
        }
        let ids: Vec<u32> = std::iter::once(DOCUMENT_START)
            .chain(tokens.iter().map(|token| token.id))
            .collect();
        // Position i predicts token i + 1: the last position predicts nothing we score.
        let hidden = self.hidden_states(&ids[..ids.len() - 1])?;
        let targets = &ids[1..];
        let mut scored = Vec::with_capacity(targets.len());
        for start in (0..targets.len()).step_by(OUTPUT_SLICE) {
            let rows = OUTPUT_SLICE.min(targets.len() - start);
            let logits: Vec<f32> = self
                .output
                .forward(&hidden.narrow(0, start, rows)?)?
                .flatten_all()?
                .to_vec1()?;
            let vocabulary = logits.len() / rows;
            for (row, &target) in logits
                .chunks_exact(vocabulary)
                .zip(&targets[start..start + rows])
            {
                let token = &tokens[scored.len()];
                scored.push(score_position(row, target as usize, token));
            }
        }
        Ok(scored)
    }

    /// The final-norm hidden state at every position, (positions, embedding).
    fn hidden_states(&self, ids: &[u32]) -> Result<Tensor, ModelError> {
        let c = &self.config;
        let positions = ids.len();
        let ids = Tensor::new(ids, &self.device)?;
        let mut x = self.embeddings.embedding(&ids)?;
        let mask = causal_mask(positions, &self.device)?;
        let cos = self.cos.narrow(0, 0, positions)?;
        let sin = self.sin.narrow(0, 0, positions)?;
        let group = c.heads / c.kv_heads;
        let scale = 1.0 / (c.head_dim as f64).sqrt();
        for block in &self.blocks {
            let h = candle_nn::ops::rms_norm(&x, &block.attn_norm, c.rms_eps)?;
            let heads = |m: &QMatMul, n: usize| -> candle_core::Result<Tensor> {
                m.forward(&h)?
                    .reshape((1, positions, n, c.head_dim))?
                    .transpose(1, 2)?
                    .contiguous()
            };
            let q = candle_nn::rotary_emb::rope_i(&heads(&block.q, c.heads)?, &cos, &sin)?;
            let k = candle_nn::rotary_emb::rope_i(&heads(&block.k, c.kv_heads)?, &cos, &sin)?;
            let v = heads(&block.v, c.kv_heads)?;
            // Grouped-query attention: each key/value head serves `group` query heads.
            let q = q.reshape((c.kv_heads, group * positions, c.head_dim))?;
            let k = k.squeeze(0)?;
            let v = v.squeeze(0)?;
            let scores = (q.matmul(&k.t()?)? * scale)?
                .reshape((c.kv_heads, group, positions, positions))?
                .broadcast_add(&mask)?;
            let weights = candle_nn::ops::softmax_last_dim(&scores)?.reshape((
                c.kv_heads,
                group * positions,
                positions,
            ))?;
            let attended = weights
                .matmul(&v)?
                .reshape((c.heads, positions, c.head_dim))?
                .transpose(0, 1)?
                .reshape((positions, c.heads * c.head_dim))?;
            x = (x + block.out.forward(&attended)?)?;
            let h = candle_nn::ops::rms_norm(&x, &block.ffn_norm, c.rms_eps)?;
            let gated =
                (candle_nn::ops::silu(&block.gate.forward(&h)?)? * block.up.forward(&h)?)?;
            x = (x + block.down.forward(&gated)?)?;
        }
        Ok(candle_nn::ops::rms_norm(&x, &self.final_norm, c.rms_eps)?)
    }
}

/// The observed token against the model's distribution at one position, from that
/// position's logits, in one pass (no softmax is materialised): with `x = logit - max` and
/// `Z = sum(exp x)`, `log p = x - ln Z`, so the entropy is `ln Z - E[x]` and the variance of
/// `log p` is the variance of `x` under `p`. This replaces a log-softmax and a gather, which
/// cost as much and gave only the surprisal.
fn score_position(logits: &[f32], target: usize, token: &Token) -> TokenSurprisal {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let observed = logits.get(target).copied().unwrap_or(f32::NEG_INFINITY);
    let (mut z, mut sum_x, mut sum_xx) = (0f64, 0f64, 0f64);
    let mut above = 0u32;
    for &logit in logits {
        let x = logit - max;
        let e = f64::from(x.exp());
        z += e;
        sum_x += e * f64::from(x);
        sum_xx += e * f64::from(x) * f64::from(x);
        above += u32::from(logit > observed);
    }
    let ln_z = z.ln();
    let mean_x = sum_x / z;
    let to_bits = 1.0 / std::f64::consts::LN_2;
    TokenSurprisal {
        start: token.start,
        end: token.end,
        bits: ((ln_z - f64::from(observed - max)) * to_bits) as f32,
        entropy_bits: ((ln_z - mean_x) * to_bits) as f32,
        variance_bits2: ((sum_xx / z - mean_x * mean_x).max(0.0) * to_bits * to_bits) as f32,
        rank: above + 1,
    }
}

/// llama.cpp's rope for the llama architecture rotates adjacent pairs (2i, 2i+1); the GGUF
/// converter permuted the q/k rows so that this equals the original half-split rotation.
fn rope_tables(c: &Config, device: &Device) -> candle_core::Result<(Tensor, Tensor)> {
    let frequencies: Vec<f32> = (0..c.head_dim)
        .step_by(2)
        .map(|i| c.rope_base.powf(-(i as f32) / c.head_dim as f32))
        .collect();
    let frequencies = Tensor::new(frequencies.as_slice(), device)?.unsqueeze(0)?;
    let positions = Tensor::arange(0u32, c.context as u32, device)?
        .to_dtype(DType::F32)?
        .unsqueeze(1)?;
    let angles = positions.broadcast_mul(&frequencies)?;
    Ok((angles.cos()?, angles.sin()?))
}

fn causal_mask(positions: usize, device: &Device) -> candle_core::Result<Tensor> {
    let mask: Vec<f32> = (0..positions)
        .flat_map(|row| {
            (0..positions).map(move |col| if col > row { f32::NEG_INFINITY } else { 0.0 })
        })
        .collect();
    Tensor::from_vec(mask, (positions, positions), device)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::IndexOp;

    #[test]
    fn a_position_is_scored_against_the_whole_distribution() {
        let token = Token {
            id: 1,
            start: 0,
            end: 1,
        };
        // Four equally likely tokens: 2 bits each, entropy 2 bits, no spread.
        let uniform = score_position(&[3.0; 4], 1, &token);
        assert!((uniform.bits - 2.0).abs() < 1e-6);
        assert!((uniform.entropy_bits - 2.0).abs() < 1e-6);
        assert!(uniform.variance_bits2.abs() < 1e-9);
        assert_eq!(uniform.rank, 1);
        // p = (1/2, 1/4, 1/4): the unlikelier token is 2 bits, below one likelier token;
        // entropy 1.5 bits; surprisal variance 0.5 * 1 + 0.5 * 4 - 1.5^2 = 0.25.
        let ln2 = std::f32::consts::LN_2;
        let skewed = score_position(&[ln2, 0.0, 0.0], 2, &token);
        assert!((skewed.bits - 2.0).abs() < 1e-5);
        assert!((skewed.entropy_bits - 1.5).abs() < 1e-5);
        assert!((skewed.variance_bits2 - 0.25).abs() < 1e-5);
        assert_eq!(skewed.rank, 2);
    }

    #[test]
    fn causal_mask_hides_only_later_positions() {
        let mask: Vec<Vec<f32>> = causal_mask(3, &Device::Cpu)
            .and_then(|m| m.to_vec2())
            .expect("mask");
        assert_eq!(mask[0][0], 0.0);
        assert!(mask[0][1].is_infinite() && mask[0][2].is_infinite());
        assert_eq!(mask[2], vec![0.0, 0.0, 0.0]);
    }

    #[test]
    fn rope_tables_start_at_the_identity_rotation() {
        let config = Config {
            layers: 1,
            heads: 1,
            kv_heads: 1,
            head_dim: 4,
            rms_eps: 1e-5,
            rope_base: 10_000.0,
            context: 8,
        };
        let (cos, sin) = rope_tables(&config, &Device::Cpu).expect("tables");
        assert_eq!(cos.dims(), [8, 2]);
        let first_cos: Vec<f32> = cos.i(0).and_then(|r| r.to_vec1()).expect("row");
        let first_sin: Vec<f32> = sin.i(0).and_then(|r| r.to_vec1()).expect("row");
        assert_eq!(first_cos, vec![1.0, 1.0]);
        assert_eq!(first_sin, vec![0.0, 0.0]);
        // Position 1, pair 1 turns by base^(-2/4) = 0.01 radians.
        let turned: f32 = sin.i((1, 1)).and_then(|v| v.to_scalar()).expect("value");
        assert!((turned - 0.01f32.sin()).abs() < 1e-6);
    }
}
