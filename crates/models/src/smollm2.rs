//! SmolLM2-135M (GGUF Q4_1) as a token scorer: the surprisal of every token of a text and
//! the model's distribution around it, from one prefill pass over all positions.
//!
//! candle-transformers' `quantized_llama` keeps only the last position's logits (it is a
//! generator), so this is the same Llama block written for scoring: no KV cache, causal
//! attention, and the output head applied to every position in slices of 128 so that a
//! 256-token window never holds 256 x 49,152 logits at once. The pass runs on plain
//! buffers through `gemm` (the product candle runs) and our own vectorised steps, not on
//! candle tensors (see `SmolLm2::hidden_states`).
//!
//! The Q4_1 weights are dequantized to f32 once, at load (about 660 MB resident with the
//! output head's transposed copy of the token table; see
//! `gguf_f32` for how that load is kept short):
//! candle multiplies quantized matrices one row at a time, which suits generation but took
//! 32 ms per token in a prefill on one core (8 s for 256 tokens, with AVX2), against
//! 4.7 ms per token through the f32 GEMM. Scoring is all prefill.

use std::path::Path;

use postlens_analysis::slop::TokenSurprisal;
use tokenizers::Tokenizer;

use crate::gguf_f32::{F32Matrix, MappedGguf};
use crate::matmul::{multiply, Strided};
use crate::simd::exp;
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
const OUTPUT_SLICE: usize = 128;

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

/// A weight matrix held transposed, (inputs, outputs) and contiguous
/// ([`MappedGguf::f32_matrix_transposed`]). With the GGUF's (outputs, inputs) rows, gemm
/// (which turns our row-major product around) had to repack every weight panel with strided
/// scalar loads on every call: 40 % of a scoring pass in perf. Held this way the weights
/// are read as they lie.
struct Projection(F32Matrix);

impl Projection {
    /// `product = x * weights` (or `+=` when `accumulate`) for the `rows` rows of `x`.
    fn apply(&self, x: &[f32], rows: usize, product: &mut [f32], accumulate: bool) {
        let weights = &self.0;
        multiply(
            product,
            weights.columns,
            Strided::row_major(x, rows, weights.rows),
            Strided::row_major(&weights.values, weights.rows, weights.columns),
            accumulate,
        );
    }

    fn outputs(&self) -> usize {
        self.0.columns
    }
}

struct Block {
    attn_norm: Vec<f32>,
    q: Projection,
    k: Projection,
    v: Projection,
    out: Projection,
    ffn_norm: Vec<f32>,
    gate: Projection,
    up: Projection,
    down: Projection,
}

/// SmolLM2-135M (Hugging Face, Apache-2.0) from its Q4_1 GGUF: a Llama-style decoder used only to score text (surprisal per token), never to generate.
pub struct SmolLm2 {
    config: Config,
    /// (vocabulary, embedding): a token's row.
    token_table: F32Matrix,
    blocks: Vec<Block>,
    final_norm: Vec<f32>,
    output: Projection,
    /// (context, head_dim / 2) rotations, row-major.
    cos: Vec<f32>,
    sin: Vec<f32>,
    tokenizer: Tokenizer,
}

impl SmolLm2 {
    /// Loads `model.gguf` and `tokenizer.json` (written by `make models` from the GGUF's
    /// own vocabulary) from `dir`.
    pub fn load(dir: &Path) -> Result<Self, ModelError> {
        crate::init_kernel_threads();
        crate::keep_freed_buffers();
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
        let kv_heads = count("llama.attention.head_count_kv")?;
        let embedding = count("llama.embedding_length")?;
        // Each key/value head serves a whole group of query heads; each head rotates pairs.
        if kv_heads == 0 || !heads.is_multiple_of(kv_heads) || !embedding.is_multiple_of(2 * heads)
        {
            return Err(load_error(
                &weights_path,
                format!(
                    "{heads} heads, {kv_heads} key/value heads and width {embedding} do not fit"
                ),
            ));
        }
        let config = Config {
            layers: count("llama.block_count")?,
            heads,
            kv_heads,
            head_dim: embedding / heads,
            rms_eps: metadata("llama.attention.layer_norm_rms_epsilon")?
                .to_f32()
                .map_err(gguf_error)?,
            rope_base: metadata("llama.rope.freq_base")?
                .to_f32()
                .map_err(gguf_error)?,
            context: count("llama.context_length")?,
        };

        let vector = |name: &str| gguf.f32_vector(name);
        let transposed = |name: &str| gguf.f32_matrix_transposed(name).map(Projection);
        // SmolLM2 ties its output head to the embeddings; a file with its own head uses it.
        // A tied head is a second, transposed copy of the table (113 MB): rows by id for the
        // lookup, columns for the head, each dequantized from the file in its own order.
        let head = if gguf.has("output.weight") {
            "output.weight"
        } else {
            "token_embd.weight"
        };
        let token_table = gguf.f32_matrix("token_embd.weight")?;
        let output = transposed(head)?;
        let mut blocks = Vec::with_capacity(config.layers);
        for layer in 0..config.layers {
            let matmul = |name: &str| transposed(&format!("blk.{layer}.{name}.weight"));
            blocks.push(Block {
                q: matmul("attn_q")?,
                k: matmul("attn_k")?,
                v: matmul("attn_v")?,
                out: matmul("attn_output")?,
                gate: matmul("ffn_gate")?,
                up: matmul("ffn_up")?,
                down: matmul("ffn_down")?,
                attn_norm: vector(&format!("blk.{layer}.attn_norm.weight"))?,
                ffn_norm: vector(&format!("blk.{layer}.ffn_norm.weight"))?,
            });
        }
        let final_norm = vector("output_norm.weight")?;
        let kv_width = config.kv_heads * config.head_dim;
        let shapes_fit = token_table.columns == embedding
            && output.0.rows == embedding
            && final_norm.len() == embedding
            && blocks.iter().all(|b| {
                b.attn_norm.len() == embedding
                    && b.ffn_norm.len() == embedding
                    && (b.q.0.rows, b.q.outputs()) == (embedding, embedding)
                    && (b.k.0.rows, b.k.outputs()) == (embedding, kv_width)
                    && (b.v.0.rows, b.v.outputs()) == (embedding, kv_width)
                    && (b.out.0.rows, b.out.outputs()) == (embedding, embedding)
                    && b.gate.0.rows == embedding
                    && (b.up.0.rows, b.up.outputs()) == (embedding, b.gate.outputs())
                    && (b.down.0.rows, b.down.outputs()) == (b.gate.outputs(), embedding)
            });
        if !shapes_fit {
            return Err(load_error(
                &weights_path,
                "tensor shapes do not fit the header's dimensions".into(),
            ));
        }
        let (cos, sin) = rope_tables(&config);
        Ok(Self {
            config,
            token_table,
            blocks,
            final_norm,
            output,
            cos,
            sin,
            tokenizer,
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
        let embedding = self.output.0.rows;
        let vocabulary = self.output.outputs();
        let mut logits = vec![0.0; OUTPUT_SLICE.min(targets.len()) * vocabulary];
        let mut scored = Vec::with_capacity(targets.len());
        for start in (0..targets.len()).step_by(OUTPUT_SLICE) {
            let rows = OUTPUT_SLICE.min(targets.len() - start);
            let logits = &mut logits[..rows * vocabulary];
            self.output
                .apply(&hidden[start * embedding..], rows, logits, false);
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

    /// The final-norm hidden state at every position, (positions, embedding) row-major.
    /// The pass keeps its own buffers, one of each for all layers: candle's operations made
    /// a zero-filled tensor per product and per step (memset 2.6 % of a pass), handed its
    /// norms and rotations to rayon's pool, and copied heads in and out of their layout.
    fn hidden_states(&self, ids: &[u32]) -> Result<Vec<f32>, ModelError> {
        let c = &self.config;
        let positions = ids.len();
        let embedding = c.heads * c.head_dim;
        let kv_width = c.kv_heads * c.head_dim;
        let group = c.heads / c.kv_heads;
        let scale = 1.0 / (c.head_dim as f32).sqrt();
        let mut x = Vec::with_capacity(positions * embedding);
        for &id in ids {
            let row = self.token_table.row(id as usize).ok_or_else(|| {
                ModelError::Tokenize(format!("token id {id} is outside the vocabulary"))
            })?;
            x.extend_from_slice(row);
        }
        let hidden_width = self.blocks.first().map_or(0, |b| b.gate.outputs());
        let mut h = vec![0.0; positions * embedding];
        let mut q = vec![0.0; positions * embedding];
        let mut k = vec![0.0; positions * kv_width];
        let mut v = vec![0.0; positions * kv_width];
        let mut scores = vec![0.0; positions * positions];
        let mut attended = vec![0.0; positions * embedding];
        let mut gate = vec![0.0; positions * hidden_width];
        let mut up = vec![0.0; positions * hidden_width];
        let (cos, sin) = (
            &self.cos[..positions * c.head_dim / 2],
            &self.sin[..positions * c.head_dim / 2],
        );
        for block in &self.blocks {
            rms_norm(&x, &block.attn_norm, c.rms_eps, &mut h);
            block.q.apply(&h, positions, &mut q, false);
            block.k.apply(&h, positions, &mut k, false);
            block.v.apply(&h, positions, &mut v, false);
            rotate_pairs(&mut q, c.head_dim, cos, sin);
            rotate_pairs(&mut k, c.head_dim, cos, sin);
            for head in 0..c.heads {
                // Grouped-query attention: each key/value head serves `group` query heads.
                let kv_column = head / group * c.head_dim;
                let column = head * c.head_dim;
                let head_view = |values, column, width| {
                    Strided::column_band(values, positions, width, column, c.head_dim)
                };
                multiply(
                    &mut scores,
                    positions,
                    head_view(&q, column, embedding),
                    head_view(&k, kv_column, kv_width).t(),
                    false,
                );
                causal_softmax(&mut scores, positions, scale);
                multiply(
                    &mut attended[column..],
                    embedding,
                    Strided::row_major(&scores, positions, positions),
                    head_view(&v, kv_column, kv_width),
                    false,
                );
            }
            block.out.apply(&attended, positions, &mut x, true);
            rms_norm(&x, &block.ffn_norm, c.rms_eps, &mut h);
            block.gate.apply(&h, positions, &mut gate, false);
            block.up.apply(&h, positions, &mut up, false);
            gate_in_place(&mut gate, &up);
            block.down.apply(&gate, positions, &mut x, true);
        }
        rms_norm(&x, &self.final_norm, c.rms_eps, &mut h);
        Ok(h)
    }
}

crate::simd::simd_dispatch! {
    /// Attention weights from raw scores `q k^T` in place (rows of `positions`, row `r` for
    /// query position `r % positions`): scaled, softmaxed over the keys up to the query's own
    /// position, zero beyond it. candle's scale, mask sum and softmax made three tensors and
    /// called libm's scalar `expf` for every score, masked ones included (4 % of a scoring
    /// pass in perf, Intel VM, 2026-12-07).
    fn causal_softmax(scores: &mut [f32], positions: usize, scale: f32) => causal_softmax_body
}

/// Sums and maxima run in [`LANES`] partial results combined in one fixed order, so every
/// target computes the same bits.
#[inline(always)]
fn causal_softmax_body(scores: &mut [f32], positions: usize, scale: f32) {
    for (row, scores) in scores.chunks_exact_mut(positions).enumerate() {
        let (visible, hidden) = scores.split_at_mut(row % positions + 1);
        hidden.fill(0.0);
        let mut lane_max = [f32::NEG_INFINITY; LANES];
        for chunk in visible.chunks(LANES) {
            for (max, &score) in lane_max.iter_mut().zip(chunk) {
                let score = score * scale;
                *max = if score > *max { score } else { *max };
            }
        }
        let max = lane_max
            .iter()
            .fold(f32::NEG_INFINITY, |m, &v| if v > m { v } else { m });
        let mut lane_sum = [0.0f32; LANES];
        for chunk in visible.chunks_mut(LANES) {
            for (sum, score) in lane_sum.iter_mut().zip(chunk) {
                *score = exp(*score * scale - max);
                *sum += *score;
            }
        }
        let total: f32 = lane_sum.iter().sum();
        for weight in visible {
            *weight /= total;
        }
    }
}

crate::simd::simd_dispatch! {
    /// Each row of `x` (rows of `weight.len()`) divided by its root mean square, times
    /// `weight`, into `out`: candle's formula (`x / sqrt(mean(x^2) + eps) * weight`), its sum
    /// of squares in [`LANES`] partial sums.
    fn rms_norm(x: &[f32], weight: &[f32], eps: f32, out: &mut [f32]) => rms_norm_body
}

#[inline(always)]
fn rms_norm_body(x: &[f32], weight: &[f32], eps: f32, out: &mut [f32]) {
    let width = weight.len();
    for (x, out) in x.chunks_exact(width).zip(out.chunks_exact_mut(width)) {
        let mut lane_sum = [0.0f32; LANES];
        for chunk in x.chunks(LANES) {
            for (sum, &v) in lane_sum.iter_mut().zip(chunk) {
                *sum += v * v;
            }
        }
        let total: f32 = lane_sum.iter().sum();
        let rms = (total / width as f32 + eps).sqrt();
        for ((out, &v), &w) in out.iter_mut().zip(x).zip(weight) {
            *out = v / rms * w;
        }
    }
}

crate::simd::simd_dispatch! {
    /// Rotates adjacent pairs (2i, 2i + 1) of every head in `values` (rows of whole heads,
    /// one row per position) in place by the rotary tables of those positions (`cos`, `sin`:
    /// positions x head_dim / 2), as candle's `rope_i` does (the same products and sums).
    fn rotate_pairs(values: &mut [f32], head_dim: usize, cos: &[f32], sin: &[f32]) => rotate_pairs_body
}

#[inline(always)]
fn rotate_pairs_body(values: &mut [f32], head_dim: usize, cos: &[f32], sin: &[f32]) {
    let half = head_dim / 2;
    let positions = cos.len() / half;
    let width = values.len() / positions;
    for ((row, cos), sin) in values
        .chunks_exact_mut(width)
        .zip(cos.chunks_exact(half))
        .zip(sin.chunks_exact(half))
    {
        for head in row.chunks_exact_mut(head_dim) {
            for ((pair, &cos), &sin) in head.chunks_exact_mut(2).zip(cos).zip(sin) {
                let (a, b) = (pair[0], pair[1]);
                pair[0] = a * cos - b * sin;
                pair[1] = a * sin + b * cos;
            }
        }
    }
}

crate::simd::simd_dispatch! {
    /// `gate = silu(gate) * up` in place, the feed-forward gate: one pass over the two
    /// projections. candle's `silu` then a product called libm's scalar `expf` per value and
    /// made two tensors: 4.4 % of a scoring pass in libm alone (perf, Intel VM, 2026-12-07).
    /// Here the vectorisable `exp` (the same bits on every target).
    fn gate_in_place(gate: &mut [f32], up: &[f32]) => gate_values_body
}

/// A loop, not an iterator chain with a closure: a closure would be compiled without the
/// target features of the function it sits in.
#[inline(always)]
fn gate_values_body(gate: &mut [f32], up: &[f32]) {
    for (g, &u) in gate.iter_mut().zip(up) {
        *g = *g / (1.0 + exp(-*g)) * u;
    }
}

/// The observed token against the model's distribution at one position, from that
/// position's logits, without materialising a softmax: with `x = logit - max` and
/// `Z = sum(exp x)`, `log p = x - ln Z`, so the entropy is `ln Z - E[x]` and the variance of
/// `log p` is the variance of `x` under `p`.
fn score_position(logits: &[f32], target: usize, token: &Token) -> TokenSurprisal {
    let observed = logits.get(target).copied().unwrap_or(f32::NEG_INFINITY);
    let sums = distribution_sums(logits, observed);
    let ln_z = sums.z.ln();
    let mean_x = sums.sum_x / sums.z;
    let to_bits = 1.0 / std::f64::consts::LN_2;
    TokenSurprisal {
        start: token.start,
        end: token.end,
        bits: ((ln_z - f64::from(observed - sums.max)) * to_bits) as f32,
        entropy_bits: ((ln_z - mean_x) * to_bits) as f32,
        variance_bits2: ((sums.sum_xx / sums.z - mean_x * mean_x).max(0.0) * to_bits * to_bits)
            as f32,
        rank: sums.above + 1,
    }
}

/// One position's logits summed for [`score_position`], `x = logit - max` throughout.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct DistributionSums {
    max: f32,
    /// `sum exp x`
    z: f64,
    /// `sum x exp x`
    sum_x: f64,
    /// `sum x^2 exp x`
    sum_xx: f64,
    /// Logits above the observed token's.
    above: u32,
}

/// Lanes of the running sums: one AVX-512 register, four NEON ones.
const LANES: usize = 16;
/// Values summed in f32 lanes before they join the f64 totals (64 per lane), so the f32
/// sums never drift: 49,152 exponentials a position, 6.3 M a 128-token window, were a
/// scalar libm `expf` and f64 adds each (10 % of a scoring pass in perf).
const SUM_BLOCK: usize = 1024;

/// One block's running sums, lane by lane (see [`DistributionSums`]).
struct LaneSums {
    z: [f32; LANES],
    sum_x: [f32; LANES],
    sum_xx: [f32; LANES],
    above: [u32; LANES],
}

impl LaneSums {
    #[inline(always)]
    fn add(&mut self, lane: usize, logit: f32, max: f32, observed: f32) {
        let x = logit - max;
        let e = exp(x);
        self.z[lane] += e;
        self.sum_x[lane] = e.mul_add(x, self.sum_x[lane]);
        self.sum_xx[lane] = (e * x).mul_add(x, self.sum_xx[lane]);
        self.above[lane] += u32::from(logit > observed);
    }
}

crate::simd::simd_dispatch! {
    /// [`DistributionSums`] of `logits`, vectorised.
    fn distribution_sums(logits: &[f32], observed: f32) -> DistributionSums => distribution_sums_body
}

#[inline(always)]
fn distribution_sums_body(logits: &[f32], observed: f32) -> DistributionSums {
    let mut lane_max = [f32::NEG_INFINITY; LANES];
    let chunks = logits.chunks_exact(LANES);
    let tail = chunks.remainder();
    for chunk in chunks {
        for (m, &v) in lane_max.iter_mut().zip(chunk) {
            *m = if v > *m { v } else { *m };
        }
    }
    let max = lane_max
        .iter()
        .chain(tail)
        .fold(f32::NEG_INFINITY, |m, &v| if v > m { v } else { m });
    let mut sums = DistributionSums {
        max,
        z: 0.0,
        sum_x: 0.0,
        sum_xx: 0.0,
        above: 0,
    };
    for block in logits.chunks(SUM_BLOCK) {
        let mut lanes = LaneSums {
            z: [0.0; LANES],
            sum_x: [0.0; LANES],
            sum_xx: [0.0; LANES],
            above: [0; LANES],
        };
        let chunks = block.chunks_exact(LANES);
        let tail = chunks.remainder();
        for chunk in chunks {
            for (lane, &logit) in chunk.iter().enumerate() {
                lanes.add(lane, logit, max, observed);
            }
        }
        for (lane, &logit) in tail.iter().enumerate() {
            lanes.add(lane, logit, max, observed);
        }
        let total = |lanes: &[f32; LANES]| lanes.iter().map(|&v| f64::from(v)).sum::<f64>();
        sums.z += total(&lanes.z);
        sums.sum_x += total(&lanes.sum_x);
        sums.sum_xx += total(&lanes.sum_xx);
        sums.above += lanes.above.iter().sum::<u32>();
    }
    sums
}

/// llama.cpp's rope for the llama architecture rotates adjacent pairs (2i, 2i+1); the GGUF
/// converter permuted the q/k rows so that this equals the original half-split rotation.
/// (cos, sin), each (context, head_dim / 2) row-major, computed as candle computed them.
fn rope_tables(c: &Config) -> (Vec<f32>, Vec<f32>) {
    let frequencies: Vec<f32> = (0..c.head_dim)
        .step_by(2)
        .map(|i| c.rope_base.powf(-(i as f32) / c.head_dim as f32))
        .collect();
    let angles: Vec<f32> = (0..c.context)
        .flat_map(|position| {
            let position = position as f32;
            frequencies.iter().map(move |&f| position * f)
        })
        .collect();
    (
        angles.iter().map(|a| a.cos()).collect(),
        angles.iter().map(|a| a.sin()).collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Tensor};

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
    fn the_gate_is_silu_times_up_with_the_same_bits_on_every_extension() {
        // Over the range the gate's pre-activations take, and a tail that is not a whole
        // vector.
        let gate: Vec<f32> = (0..1_539).map(|i| i as f32 * 0.013 - 10.0).collect();
        let up: Vec<f32> = (0..1_539).map(|i| (i % 17) as f32 * 0.25 - 2.0).collect();
        let mut first: Option<Vec<f32>> = None;
        crate::simd::for_each_isa(|isa| {
            let mut gated = gate.clone();
            gate_in_place(&mut gated, &up);
            for ((&out, &g), &u) in gated.iter().zip(&gate).zip(&up) {
                let (g, u) = (f64::from(g), f64::from(u));
                let exact = g / (1.0 + (-g).exp()) * u;
                assert!(
                    (f64::from(out) - exact).abs() <= 1e-6 * (1.0 + exact.abs()),
                    "{isa:?}: {g} {u}"
                );
            }
            crate::simd::assert_same_bits(&mut first, &gated, isa);
        });
    }

    #[test]
    fn vectorised_sums_match_direct_f64_sums_on_every_extension() {
        // A vocabulary-sized row (with a tail that is not a whole lane block) spread over
        // the range logits take, and one far below the rest.
        let logits: Vec<f32> = (0..49_157u32)
            .map(|i| ((i.wrapping_mul(2_654_435_761) >> 8) as f32 / 16_777_216.0) * 40.0 - 25.0)
            .chain([-500.0])
            .collect();
        let observed = logits[1234];
        let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let (mut z, mut sum_x, mut sum_xx, mut above) = (0f64, 0f64, 0f64, 0u32);
        for &v in &logits {
            let x = f64::from(v - max);
            z += x.exp();
            sum_x += x.exp() * x;
            sum_xx += x.exp() * x * x;
            above += u32::from(v > observed);
        }
        crate::simd::for_each_isa(|isa| {
            let sums = distribution_sums(&logits, observed);
            assert_eq!((sums.max, sums.above), (max, above), "{isa:?}");
            for (ours, direct) in [(sums.z, z), (sums.sum_x, sum_x), (sums.sum_xx, sum_xx)] {
                assert!(
                    (ours - direct).abs() <= 1e-5 * direct.abs(),
                    "{isa:?}: {ours} vs {direct}"
                );
            }
        });
    }

    #[test]
    fn causal_weights_are_a_softmax_up_to_the_diagonal_on_every_extension() {
        // Two heads of 21 positions: rows shorter and longer than a lane block.
        let positions = 21;
        let scores: Vec<f32> = (0..2 * positions * positions)
            .map(|i| ((i as u32).wrapping_mul(2_654_435_761) >> 20) as f32 / 64.0 - 30.0)
            .collect();
        let scale = 0.125;
        let mut first: Option<Vec<f32>> = None;
        crate::simd::for_each_isa(|isa| {
            let mut weights = scores.clone();
            causal_softmax(&mut weights, positions, scale);
            for (row, (scores, weights)) in scores
                .chunks(positions)
                .zip(weights.chunks(positions))
                .enumerate()
            {
                let visible = row % positions + 1;
                let scaled: Vec<f64> = scores[..visible]
                    .iter()
                    .map(|&s| f64::from(s * scale))
                    .collect();
                let max = scaled.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let total: f64 = scaled.iter().map(|s| (s - max).exp()).sum();
                for (col, &weight) in weights.iter().enumerate() {
                    let expected = if col < visible {
                        (scaled[col] - max).exp() / total
                    } else {
                        0.0
                    };
                    assert!(
                        (f64::from(weight) - expected).abs() <= 1e-6 * expected + 1e-30,
                        "{isa:?} row {row} col {col}: {weight} vs {expected}"
                    );
                }
            }
            crate::simd::assert_same_bits(&mut first, &weights, isa);
        });
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
        let (cos, sin) = rope_tables(&config);
        assert_eq!((cos.len(), sin.len()), (16, 16));
        assert_eq!(cos[..2], [1.0, 1.0]);
        assert_eq!(sin[..2], [0.0, 0.0]);
        // Position 1, pair 1 turns by base^(-2/4) = 0.01 radians.
        assert!((sin[3] - 0.01f32.sin()).abs() < 1e-6);
    }

    /// Rows of `values` as a candle tensor, to compare with candle's own operations.
    fn tensor(values: &[f32], shape: &[usize]) -> Tensor {
        Tensor::from_vec(values.to_vec(), shape, &Device::Cpu).expect("tensor")
    }

    fn values(tensor: &Tensor) -> Vec<f32> {
        tensor
            .flatten_all()
            .and_then(|t| t.to_vec1())
            .expect("values")
    }

    #[test]
    fn rotations_are_candles_rope_i_bit_for_bit_on_every_extension() {
        let config = Config {
            layers: 1,
            heads: 3,
            kv_heads: 1,
            head_dim: 8,
            rms_eps: 1e-5,
            rope_base: 10_000.0,
            context: 32,
        };
        let (positions, half) = (5, config.head_dim / 2);
        let (cos, sin) = rope_tables(&config);
        let (cos, sin) = (&cos[..positions * half], &sin[..positions * half]);
        // (positions, heads * head_dim) as the pass holds q; candle's rope_i wants
        // (1, heads, positions, head_dim).
        let q: Vec<f32> = (0..positions * 3 * 8)
            .map(|i| (i as f32 * 0.7).sin())
            .collect();
        let expected = candle_nn::rotary_emb::rope_i(
            &tensor(&q, &[1, positions, 3, 8])
                .transpose(1, 2)
                .and_then(|t| t.contiguous())
                .expect("heads"),
            &tensor(cos, &[positions, half]),
            &tensor(sin, &[positions, half]),
        )
        .and_then(|t| t.transpose(1, 2)?.contiguous())
        .expect("rope_i");
        crate::simd::for_each_isa(|isa| {
            let mut ours = q.clone();
            rotate_pairs(&mut ours, 8, cos, sin);
            assert_eq!(ours, values(&expected), "{isa:?}");
        });
    }

    #[test]
    fn rms_norm_is_candles_with_the_same_bits_on_every_extension() {
        let width = 37;
        let x: Vec<f32> = (0..4 * width)
            .map(|i| (i as f32 * 0.31).cos() * 3.0)
            .collect();
        let weight: Vec<f32> = (0..width).map(|i| 0.5 + i as f32 * 0.01).collect();
        let expected = values(
            &candle_nn::ops::rms_norm(&tensor(&x, &[4, width]), &tensor(&weight, &[width]), 1e-5)
                .expect("candle"),
        );
        let mut first: Option<Vec<f32>> = None;
        crate::simd::for_each_isa(|isa| {
            let mut ours = vec![0.0; x.len()];
            rms_norm(&x, &weight, 1e-5, &mut ours);
            for (a, b) in ours.iter().zip(&expected) {
                assert!((a - b).abs() <= 2e-6 * b.abs(), "{isa:?}: {a} vs {b}");
            }
            crate::simd::assert_same_bits(&mut first, &ours, isa);
        });
    }
}
