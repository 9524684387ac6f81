//! The detector's activations and 1x1 convolutions on named AVX-512 registers.
//!
//! The activations are [`super::silu`] and [`super::sigmoid`]'s operations with `2^n`
//! applied by one instruction ([`crate::simd::avx512::exp_coarse`]): the same bits.
//!
//! [`pointwise`] is a 1x1 convolution whose bias, activation and residual add run on the
//! sums while they are still in registers, written straight into the destination's channel
//! slice. Through `gemm` the same convolution wrote its product into a scratch block, which
//! a second pass read back for the activation and a third copied into a channel slice; and
//! `gemm` packed its operands on every call, which with the 16 to 128 inputs of most of the
//! network's convolutions is a large part of the work. Each output is summed as `gemm`
//! sums it (from zero, one fused multiply-add per input channel, in order), so the bits
//! are the same as the portable path's on every CPU (a unit test holds them together).

use std::arch::x86_64::{
    __m512, _mm512_add_ps, _mm512_div_ps, _mm512_fmadd_ps, _mm512_loadu_ps, _mm512_set1_ps,
    _mm512_setzero_ps, _mm512_storeu_ps, _mm512_sub_ps,
};

use super::{Channels, Destination, Epilogue, LANES};
use crate::simd::avx512::exp_coarse;

/// `1 + e^-x`.
#[inline]
#[target_feature(enable = "avx512f")]
fn one_plus_exp_minus(x: __m512) -> __m512 {
    // SAFETY: this function's target features include exp_coarse's.
    let e = unsafe { exp_coarse(_mm512_sub_ps(_mm512_setzero_ps(), x)) };
    _mm512_add_ps(_mm512_set1_ps(1.0), e)
}

#[inline]
#[target_feature(enable = "avx512f")]
fn silu(x: __m512) -> __m512 {
    _mm512_div_ps(x, one_plus_exp_minus(x))
}

#[inline]
#[target_feature(enable = "avx512f")]
fn sigmoid(x: __m512) -> __m512 {
    _mm512_div_ps(_mm512_set1_ps(1.0), one_plus_exp_minus(x))
}

/// `silu(x)` stored into the first 16 values of `target`.
///
/// # Safety
/// The CPU must support AVX-512F.
#[inline]
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn store_silu(target: &mut [f32], x: __m512) {
    let target = &mut target[..LANES];
    // SAFETY: `target` holds 16 values.
    unsafe { _mm512_storeu_ps(target.as_mut_ptr(), silu(x)) };
}

/// [`super::activate`] for rows of whole 16-lane blocks and a non-linear epilogue.
///
/// # Safety
/// The CPU must support AVX-512F.
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn activate(values: &mut [f32], bias: &[f32], epilogue: Epilogue) {
    for row in values.chunks_exact_mut(bias.len()) {
        for (block, bias) in row.chunks_exact_mut(LANES).zip(bias.chunks_exact(LANES)) {
            // SAFETY: both chunks are 16 values long.
            unsafe {
                let x = _mm512_add_ps(
                    _mm512_loadu_ps(block.as_ptr()),
                    _mm512_loadu_ps(bias.as_ptr()),
                );
                let y = match epilogue {
                    Epilogue::Sigmoid => sigmoid(x),
                    _ => silu(x),
                };
                _mm512_storeu_ps(block.as_mut_ptr(), y);
            }
        }
    }
}

/// Weights (input times output channels) up to which [`pointwise`] runs: 32 KB, so the
/// whole matrix stays in L1 while the pixels pass. Larger ones (the 128 x 128 and wider
/// convolutions of the 26x26 and 13x13 maps) go through `gemm`, whose packing and blocking
/// pay there: with SiLU, 128 x 128 at 26x26 took 170 us on this kernel against 159 for
/// `gemm` and the activation pass (Intel VM, 2026-12-07), where 64 x 64 at 52x52 took 175
/// us against 191.
pub(super) const MAX_WEIGHTS: usize = 128 * 64;

/// A 1x1 convolution: for every pixel `p` and output `o`,
/// `out[p][offset + o] = epilogue(bias[o] + sum_k input[p][k] * weight[k][o])`, where
/// [`Epilogue::SiluAddResidual`] adds what the destination held. `weight` is
/// `(c_in, c_out)` row-major; `c_out` is a multiple of 16.
///
/// # Safety
/// The CPU must support AVX-512F and FMA.
#[target_feature(enable = "avx512f,fma")]
pub(super) unsafe fn pointwise(
    input: Channels,
    weight: &[f32],
    bias: &[f32],
    out: Destination,
    epilogue: Epilogue,
) {
    let (c_in, c_out) = (input.count, bias.len());
    let pixels = out.map.pixels();
    let out_stride = out.map.channels;
    assert!(
        c_out.is_multiple_of(LANES),
        "pointwise outputs in whole blocks"
    );
    assert_eq!(weight.len(), c_in * c_out, "pointwise weight shape");
    assert!(out.offset + c_out <= out_stride, "pointwise output");
    assert!(
        pixels == 0 || input.offset + (pixels - 1) * input.stride + c_in <= input.data.len(),
        "pointwise input"
    );
    let layout = Layout {
        input: input.data[input.offset..].as_ptr(),
        input_stride: input.stride,
        c_in,
        weight_stride: c_out,
        out_stride,
    };
    let out_values = out.map.data[out.offset..].as_mut_ptr();
    // Output blocks of up to 64 channels, each over every pixel, so the block's weights
    // stay in L1; the tile's pixel count keeps 24 sums and the block's weights in the 32
    // registers.
    let mut first = 0;
    while first < c_out {
        let block = (c_out - first).min(4 * LANES);
        // SAFETY: the asserts above bound every pixel's input and output, and `first +
        // block <= c_out` bounds the block's weight columns and bias.
        unsafe {
            let at = BlockAt {
                weight: weight.as_ptr().add(first),
                bias: bias.as_ptr().add(first),
                out: out_values.add(first),
            };
            match block / LANES {
                4 => pixel_tiles::<4, 6>(&layout, &at, pixels, epilogue),
                3 => pixel_tiles::<3, 8>(&layout, &at, pixels, epilogue),
                2 => pixel_tiles::<2, 12>(&layout, &at, pixels, epilogue),
                _ => pixel_tiles::<1, 12>(&layout, &at, pixels, epilogue),
            }
        }
        first += block;
    }
}

/// Where a convolution's values lie, as [`pointwise`] checked them.
struct Layout {
    /// Pixel 0's first input channel; pixel `p`'s are `input_stride * p` further on.
    input: *const f32,
    input_stride: usize,
    c_in: usize,
    /// Input channel `k`'s weights are `weight_stride * k` after input channel 0's.
    weight_stride: usize,
    /// Pixel `p`'s outputs are `out_stride * p` after pixel 0's.
    out_stride: usize,
}

/// One output block's weights (of input channel 0), bias and outputs (of pixel 0).
struct BlockAt {
    weight: *const f32,
    bias: *const f32,
    out: *mut f32,
}

/// Every pixel of one block of `B` 16-lane outputs, `P` pixels at a time, then the rest
/// one by one.
///
/// # Safety
/// As [`pointwise`] checked: all of the layout's pixels, inputs and outputs are in bounds.
#[inline(always)]
unsafe fn pixel_tiles<const B: usize, const P: usize>(
    layout: &Layout,
    at: &BlockAt,
    pixels: usize,
    epilogue: Epilogue,
) {
    let mut pixel = 0;
    // SAFETY: every tile lies within `pixels`.
    unsafe {
        while pixel + P <= pixels {
            tile::<B, P>(layout, at, pixel, epilogue);
            pixel += P;
        }
        while pixel < pixels {
            tile::<B, 1>(layout, at, pixel, epilogue);
            pixel += 1;
        }
    }
}

/// Pixels `pixel..pixel + P` of one output block: `B x P` sums in registers, each from zero
/// with one multiply-add per input channel in order, then bias, activation and store.
///
/// # Safety
/// The pixels and the block are in bounds (see [`pointwise`]).
#[inline(always)]
unsafe fn tile<const B: usize, const P: usize>(
    layout: &Layout,
    at: &BlockAt,
    pixel: usize,
    epilogue: Epilogue,
) {
    // SAFETY: the caller's bounds; the target features are those of `pointwise`, into
    // which this is inlined.
    unsafe {
        let input = layout.input.add(pixel * layout.input_stride);
        let mut sums = [[_mm512_setzero_ps(); B]; P];
        for k in 0..layout.c_in {
            let weights = at.weight.add(k * layout.weight_stride);
            let w: [__m512; B] = std::array::from_fn(|b| _mm512_loadu_ps(weights.add(b * LANES)));
            for (p, sums) in sums.iter_mut().enumerate() {
                let x = _mm512_set1_ps(*input.add(p * layout.input_stride + k));
                for (sum, &w) in sums.iter_mut().zip(&w) {
                    *sum = _mm512_fmadd_ps(x, w, *sum);
                }
            }
        }
        let out = at.out.add(pixel * layout.out_stride);
        for (p, sums) in sums.iter().enumerate() {
            for (b, &sum) in sums.iter().enumerate() {
                let x = _mm512_add_ps(sum, _mm512_loadu_ps(at.bias.add(b * LANES)));
                let target = out.add(p * layout.out_stride + b * LANES);
                let y = match epilogue {
                    Epilogue::Linear => x,
                    Epilogue::Sigmoid => sigmoid(x),
                    Epilogue::Silu => silu(x),
                    Epilogue::SiluAddResidual => _mm512_add_ps(_mm512_loadu_ps(target), silu(x)),
                };
                _mm512_storeu_ps(target, y);
            }
        }
    }
}
