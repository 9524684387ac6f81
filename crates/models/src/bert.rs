//! The BERT encoder under all-MiniLM-L6-v2, written for one CPU core.
//!
//! candle-transformers' `BertModel` computes the same function; this one exists for speed
//! on short captions, where the auto-tagger's 10 ms budget sits: the query, key and value
//! projections are one matrix product over pre-transposed weights, softmax is candle's
//! fused last-dimension kernel, and GELU uses a rational erf that vectorises, where the
//! scalar libm `erf` took 13 % of a tagging batch. `tests/minilm.rs` checks the output
//! against an independent NumPy forward pass.

use candle_core::{CpuStorage, DType, Layout, Module, Shape, Tensor};
use candle_nn::{LayerNorm, VarBuilder};
use serde::Deserialize;

use crate::cpu_tensor::contiguous_f32;
use crate::few_rows;

/// The fields of the Hugging Face `config.json` this encoder uses.
#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    /// Word-piece vocabulary size.
    pub vocab_size: usize,
    /// Width of each token's vector.
    pub hidden_size: usize,
    /// Transformer layers.
    pub num_hidden_layers: usize,
    /// Attention heads per layer.
    pub num_attention_heads: usize,
    /// Width of the feed-forward layer.
    pub intermediate_size: usize,
    /// Longest input, in tokens.
    pub max_position_embeddings: usize,
    /// Layer norm epsilon.
    pub layer_norm_eps: f64,
    /// Feed-forward activation; only `gelu` (erf) is supported.
    pub hidden_act: String,
}

/// `x @ weight_t + bias` with the weight stored transposed, (inputs, outputs), so the
/// product reads it row by row, and packed in strips of halves for the few-rows kernel.
struct Dense {
    weight_t: Tensor,
    bias: Tensor,
    packed: few_rows::PackedWeights,
    bias_values: Vec<f32>,
}

impl Dense {
    fn load(vb: &VarBuilder, inputs: usize, outputs: usize) -> candle_core::Result<Self> {
        Self::from_parts(
            vb.get((outputs, inputs), "weight")?,
            vb.get(outputs, "bias")?,
        )
    }

    fn from_parts(weight: Tensor, bias: Tensor) -> candle_core::Result<Self> {
        let (outputs, inputs) = weight.dims2()?;
        // Transposed by our blocked kernel rather than candle's strided copy (`t()` then
        // `contiguous()`), which took an eighth of MiniLM's load, and packed from the same
        // values.
        let weight_t = crate::transpose::transposed(
            &weight.flatten_all()?.to_vec1::<f32>()?,
            outputs,
            inputs,
            Vec::new(),
        );
        let packed = few_rows::PackedWeights::pack(&weight_t, inputs, outputs)
            .map_err(candle_core::Error::wrap)?;
        Ok(Self {
            weight_t: Tensor::from_vec(weight_t, (inputs, outputs), weight.device())?,
            bias_values: bias.to_vec1::<f32>()?,
            bias,
            packed,
        })
    }

    /// `x` is (rows, inputs).
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        if x.dim(0)? <= few_rows::MAX_ROWS {
            return x.apply_op1_no_bwd(&FewRowsDense(self));
        }
        x.matmul(&self.weight_t)?.broadcast_add(&self.bias)
    }
}

/// [`Dense::forward`] through [`few_rows::matmul_bias`].
struct FewRowsDense<'a>(&'a Dense);

impl candle_core::CustomOp1 for FewRowsDense<'_> {
    fn name(&self) -> &'static str {
        "dense-few-rows"
    }

    fn cpu_fwd(
        &self,
        x: &CpuStorage,
        x_layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let Dense {
            packed,
            bias_values,
            ..
        } = self.0;
        let (rows, inputs) = x_layout.shape().dims2()?;
        if inputs != packed.inputs() {
            candle_core::bail!("dense: {x_layout:?} against {} inputs", packed.inputs());
        }
        let out = few_rows::matmul_bias(contiguous_f32("dense", x, x_layout)?, packed, bias_values);
        Ok((CpuStorage::F32(out), Shape::from((rows, packed.outputs()))))
    }
}

struct Layer {
    query_key_value: Dense,
    attention_out: Dense,
    attention_norm: LayerNorm,
    intermediate: Dense,
    output: Dense,
    output_norm: LayerNorm,
}

/// A BERT encoder written for one CPU core: weights transposed at load so matrix products read rows, fused attention per head.
pub struct BertEncoder {
    word_embeddings: Tensor,
    /// Position embeddings plus the token-type-0 embedding (sentence models use one type).
    position_embeddings: Tensor,
    embedding_norm: LayerNorm,
    layers: Vec<Layer>,
    heads: usize,
    head_size: usize,
}

impl BertEncoder {
    /// Loads the weights under `vb` for `config`; fails unless the activation is `gelu`.
    pub fn load(vb: VarBuilder, config: &Config) -> candle_core::Result<Self> {
        if config.hidden_act != "gelu" {
            candle_core::bail!("hidden_act {:?}: only \"gelu\" (erf)", config.hidden_act);
        }
        if config.num_attention_heads == 0
            || !config
                .hidden_size
                .is_multiple_of(config.num_attention_heads)
        {
            candle_core::bail!("hidden size does not split into attention heads");
        }
        let hidden = config.hidden_size;
        let norm = |vb: VarBuilder| candle_nn::layer_norm(hidden, config.layer_norm_eps, vb);
        let embeddings = vb.pp("embeddings");
        let word_embeddings =
            embeddings.get((config.vocab_size, hidden), "word_embeddings.weight")?;
        let token_type = embeddings
            .get((2, hidden), "token_type_embeddings.weight")?
            .get(0)?;
        let position_embeddings = embeddings
            .get(
                (config.max_position_embeddings, hidden),
                "position_embeddings.weight",
            )?
            .broadcast_add(&token_type)?;
        let embedding_norm = norm(embeddings.pp("LayerNorm"))?;

        let mut layers = Vec::with_capacity(config.num_hidden_layers);
        for index in 0..config.num_hidden_layers {
            let vb = vb.pp(format!("encoder.layer.{index}"));
            let attention = vb.pp("attention.self");
            let (mut weights, mut biases) = (Vec::new(), Vec::new());
            for name in ["query", "key", "value"] {
                weights.push(attention.get((hidden, hidden), &format!("{name}.weight"))?);
                biases.push(attention.get(hidden, &format!("{name}.bias"))?);
            }
            layers.push(Layer {
                query_key_value: Dense::from_parts(
                    Tensor::cat(&weights, 0)?,
                    Tensor::cat(&biases, 0)?,
                )?,
                attention_out: Dense::load(&vb.pp("attention.output.dense"), hidden, hidden)?,
                attention_norm: norm(vb.pp("attention.output.LayerNorm"))?,
                intermediate: Dense::load(
                    &vb.pp("intermediate.dense"),
                    hidden,
                    config.intermediate_size,
                )?,
                output: Dense::load(&vb.pp("output.dense"), config.intermediate_size, hidden)?,
                output_norm: norm(vb.pp("output.LayerNorm"))?,
            });
        }
        Ok(Self {
            word_embeddings,
            position_embeddings,
            embedding_norm,
            layers,
            heads: config.num_attention_heads,
            head_size: hidden / config.num_attention_heads,
        })
    }

    /// Contextual token vectors, (batch, tokens, hidden), for `ids` and `mask` of shape
    /// (batch, tokens); `mask` is 1 for real tokens, 0 for padding.
    pub fn forward(&self, ids: &Tensor, mask: &Tensor) -> candle_core::Result<Tensor> {
        let (batch, tokens) = ids.dims2()?;
        let hidden = self.heads * self.head_size;
        let words = self.word_embeddings.embedding(&ids.flatten_all()?)?;
        let positions = self.position_embeddings.narrow(0, 0, tokens)?;
        let embedded = words
            .reshape((batch, tokens, hidden))?
            .broadcast_add(&positions)?
            .reshape((batch * tokens, hidden))?;
        let mut x = self.embedding_norm.forward(&embedded)?;

        // Padding gets a large negative score before softmax, so it receives no attention.
        let mask_bias =
            ((mask.to_dtype(DType::F32)? - 1.0)? * 1e9)?.reshape((batch, 1, 1, tokens))?;
        let scale = 1.0 / (self.head_size as f64).sqrt();
        for layer in &self.layers {
            let heads = layer
                .query_key_value
                .forward(&x)?
                .reshape((batch, tokens, 3, self.heads, self.head_size))?
                .permute((2, 0, 3, 1, 4))?
                .contiguous()?;
            let (query, key, value) = (heads.get(0)?, heads.get(1)?, heads.get(2)?);
            let scores = (query.matmul(&key.t()?)? * scale)?.broadcast_add(&mask_bias)?;
            let weights = candle_nn::ops::softmax_last_dim(&scores)?;
            let attended = weights
                .matmul(&value)?
                .transpose(1, 2)?
                .reshape((batch * tokens, hidden))?;
            x = layer
                .attention_norm
                .forward(&(layer.attention_out.forward(&attended)? + &x)?)?;
            let expanded = layer.intermediate.forward(&x)?.apply_op1_no_bwd(&Gelu)?;
            x = layer
                .output_norm
                .forward(&(layer.output.forward(&expanded)? + &x)?)?;
        }
        x.reshape((batch, tokens, hidden))
    }
}

/// GELU with the exact (erf) form BERT was trained with.
struct Gelu;

impl candle_core::CustomOp1 for Gelu {
    fn name(&self) -> &'static str {
        "gelu-erf-rational"
    }

    fn cpu_fwd(
        &self,
        storage: &CpuStorage,
        layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let mut out = contiguous_f32("gelu", storage, layout)?.to_vec();
        gelu_in_place(&mut out);
        Ok((CpuStorage::F32(out), layout.shape().clone()))
    }
}

fn gelu_in_place(values: &mut [f32]) {
    #[cfg(target_arch = "aarch64")]
    // SAFETY: NEON is part of every aarch64 Linux target (it is in the target's baseline).
    return unsafe { neon::gelu_in_place(values) };
    #[cfg(not(target_arch = "aarch64"))]
    gelu_each_for_isa(values)
}

#[cfg(not(target_arch = "aarch64"))]
crate::simd::simd_dispatch! {
    /// The loop compiled for the [`crate::simd::Isa`] the other kernels run: 16 or 8 values
    /// per instruction instead of SSE2's 4. Each value is computed alone, so every width
    /// gives the same bits.
    fn gelu_each_for_isa(values: &mut [f32]) => gelu_each
}

#[inline(always)]
fn gelu_each(values: &mut [f32]) {
    for value in values {
        *value = 0.5 * *value * (1.0 + erf(*value * std::f32::consts::FRAC_1_SQRT_2));
    }
}

/// Numerator and denominator of the rational erf below, highest power of x² first.
const ERF_P: [f32; 7] = [
    -2.726_142_3e-10,
    2.770_681_4e-8,
    -2.101_024e-6,
    -5.692_506_4e-5,
    -7.349_906_3e-4,
    -2.954_600_1e-3,
    -1.609_603_3e-2,
];
const ERF_Q: [f32; 5] = [
    -1.456_607_2e-5,
    -2.133_740_6e-4,
    -1.682_827e-3,
    -7.373_329_2e-3,
    -1.426_474e-2,
];

/// erf as an odd rational function on [-4, 4] (erf is ±1 to f32 precision beyond): the
/// approximation Eigen and XLA use for f32, within 2e-7 of the true value. Only
/// multiplies, adds and one division, so the loop above vectorises.
#[inline(always)]
fn erf(x: f32) -> f32 {
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let p = ERF_P[1..].iter().fold(ERF_P[0], |p, c| p * x2 + c);
    let q = ERF_Q[1..].iter().fold(ERF_Q[0], |q, c| q * x2 + c);
    x * p / q
}

/// aarch64: NEON is part of the target, so the plain loop already runs four wide, but Rust
/// never fuses a multiply and an add; written with NEON's FMA, each Horner step of the
/// rational erf is one instruction instead of two.
#[cfg(target_arch = "aarch64")]
mod neon {
    use super::{gelu_each, ERF_P, ERF_Q};
    use std::arch::aarch64::{
        float32x4_t, vaddq_f32, vdivq_f32, vdupq_n_f32, vfmaq_f32, vld1q_f32, vmaxq_f32, vminq_f32,
        vmulq_f32, vmulq_n_f32, vst1q_f32,
    };

    #[target_feature(enable = "neon")]
    pub(super) fn gelu_in_place(values: &mut [f32]) {
        let mut quads = values.chunks_exact_mut(4);
        for quad in &mut quads {
            // SAFETY: quad holds exactly four f32s.
            let x = unsafe { vld1q_f32(quad.as_ptr()) };
            let y = gelu(x);
            // SAFETY: as above.
            unsafe { vst1q_f32(quad.as_mut_ptr(), y) };
        }
        gelu_each(quads.into_remainder());
    }

    #[target_feature(enable = "neon")]
    fn gelu(x: float32x4_t) -> float32x4_t {
        let z = vmulq_n_f32(x, std::f32::consts::FRAC_1_SQRT_2);
        let z = vminq_f32(vmaxq_f32(z, vdupq_n_f32(-4.0)), vdupq_n_f32(4.0));
        let z2 = vmulq_f32(z, z);
        let horner = |coefficients: &[f32]| {
            coefficients[1..]
                .iter()
                .fold(vdupq_n_f32(coefficients[0]), |acc, &c| {
                    vfmaq_f32(vdupq_n_f32(c), acc, z2)
                })
        };
        let erf = vdivq_f32(vmulq_f32(z, horner(&ERF_P)), horner(&ERF_Q));
        vmulq_f32(vmulq_n_f32(x, 0.5), vaddq_f32(vdupq_n_f32(1.0), erf))
    }
}

#[cfg(test)]
mod tests {
    use super::{erf, gelu_each, gelu_in_place};

    /// erf by its Maclaurin series in f64 (converges well for |x| <= 3) and, beyond, its
    /// asymptotic tail, to check the rational form without a libm dependency.
    fn erf_reference(x: f64) -> f64 {
        if x.abs() > 3.0 {
            let t = 1.0 / (x * x);
            let tail = (-x * x).exp() / (x.abs() * std::f64::consts::PI.sqrt())
                * (1.0 - 0.5 * t + 0.75 * t * t - 1.875 * t * t * t);
            return x.signum() * (1.0 - tail);
        }
        let mut term = x;
        let mut sum = x;
        for n in 1..200 {
            term *= -x * x / n as f64;
            sum += term / (2 * n + 1) as f64;
        }
        sum * 2.0 / std::f64::consts::PI.sqrt()
    }

    #[test]
    fn rational_erf_matches_the_series() {
        let mut worst = 0.0f64;
        for i in -600..=600 {
            let x = i as f64 / 100.0;
            worst = worst.max((erf(x as f32) as f64 - erf_reference(x)).abs());
        }
        assert!(worst < 1e-6, "worst error {worst}");
    }

    /// The architecture's vector path (AVX2 or NEON) against the plain loop, over lengths
    /// that leave every remainder and values past the clamp at ±4.
    #[test]
    fn vector_gelu_equals_the_plain_loop() {
        for len in [0, 1, 3, 4, 5, 8, 11, 1536] {
            let input: Vec<f32> = (0..len).map(|i| (i as f32 * 0.731).sin() * 7.0).collect();
            let (mut vector, mut plain) = (input.clone(), input);
            gelu_in_place(&mut vector);
            gelu_each(&mut plain);
            for (v, p) in vector.iter().zip(&plain) {
                assert!(
                    (v - p).abs() <= 1e-6 * p.abs().max(1.0),
                    "length {len}: {v} vs {p}"
                );
            }
        }
    }

    #[test]
    fn gelu_has_its_known_values() {
        let mut values = vec![-3.0, -1.0, 0.0, 1.0, 3.0, 40.0, -40.0, 0.5];
        gelu_in_place(&mut values);
        // GELU(x) = x Φ(x): Φ(1) = 0.841345, Φ(3) = 0.998650, Φ(0.5) = 0.691462.
        let expected = [
            -0.004050, -0.158655, 0.0, 0.841345, 2.99595, 40.0, 0.0, 0.345731,
        ];
        for (value, expected) in values.iter().zip(expected) {
            assert!((value - expected).abs() < 1e-5, "{value} vs {expected}");
        }
    }
}
