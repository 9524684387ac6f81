//! `x @ weight_t + bias` for a few rows of `x`: one caption's 10-60 tokens.
//!
//! A GEMM library packs the weight matrix into cache-sized panels before multiplying,
//! which pays off when many rows reuse each panel. One caption has about 15 rows, so
//! MiniLM's 42 MB of weights were copied once per pass to be used 15 times: a lone caption
//! took 13.8 ms of encoding where the same products with hot weights took about 6 ms.
//! This kernel reads each weight once per tile of rows, from a copy packed once at load
//! ([`PackedWeights`]): for a strip of output columns it keeps a tile of rows x columns of
//! sums in registers and walks the inputs, broadcasting one value of `x` against a row of
//! the strip per step. It is the loop a GEMM micro-kernel runs, without packing on every
//! call, written in plain Rust over fixed-size arrays so the compiler vectorises it for
//! each instruction set it is compiled for below.
//!
//! With the weights packed, a lone caption was bound by memory: 82 % of its time in this
//! kernel, streaming 42 MB of f32 weights at about 9 GB/s (perf, 2026-12-06). The packed
//! copy therefore holds each weight as an IEEE half (f16, 11 significant bits), widened
//! exactly to f32 in registers (F16C / AVX-512F `vcvtph2ps` on x86-64, bit arithmetic
//! elsewhere); inputs, products and sums stay f32. Every target widens to the same f32
//! values, so x86-64 and arm64 still compute the same function.

use half::f16;
use half::slice::{HalfBitsSliceExt, HalfFloatSliceExt};

use crate::simd::Isa;

/// Rows of `x` above which [`matmul_bias`] should not be used, as candle's GEMM then
/// amortises its packing. Measured with the auto-tagger bench on one core (2026-12-02):
/// one dev caption (about 15 rows) 6.5 ms with this kernel against 8.1 ms through the
/// GEMM, a 40-word caption (about 60 rows) even, a batch of ten captions (about 250 rows)
/// 61.6 against 53.5 ms. Re-measured with packed weights (bench-serve, 2026-12-06): 64 as
/// the limit made 20 three-caption texts (about 60 rows) 7 % slower, and the packed kernel
/// for every size made a 32-caption batch 35 % slower, so 32 stays.
pub(crate) const MAX_ROWS: usize = 32;

/// Rows of one register tile: six rows of sums leave registers for the weights and the
/// broadcast value on every target below (AVX2: 16 registers, AVX-512 and NEON: 32).
const TILE_ROWS: usize = 6;

/// Output columns of one strip on each [`Isa`]: what its kernel keeps in registers for a
/// row (the tile shapes are described at each kernel below).
#[cfg(target_arch = "x86_64")]
const AVX512_COLUMNS: usize = 64;
#[cfg(target_arch = "x86_64")]
const AVX2_COLUMNS: usize = 16;
/// NEON on aarch64; elsewhere the portable loop over 8 columns.
const BASELINE_COLUMNS: usize = if cfg!(target_arch = "aarch64") { 16 } else { 8 };

fn columns(isa: Isa) -> usize {
    match isa {
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => AVX512_COLUMNS,
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => AVX2_COLUMNS,
        Isa::Baseline => BASELINE_COLUMNS,
    }
}

/// A dense layer's weights as [`matmul_bias`] walks them: output columns cut into strips
/// as wide as the kernel's register tile, each strip's inputs x columns block stored
/// contiguously, then the leftover columns (fewer than a strip) as one last block. Read
/// from the transposed (inputs, outputs) matrix, a strip's weights sat a whole row apart
/// for each input: 4.6 KB strides that cross a page every step and defeat the hardware
/// prefetcher, and a lone caption spent over half its time waiting on those loads
/// (perf, 2026-12-06). Packed, each tile streams its weights front to back. The layout
/// depends on the kernel, so the [`Isa`] is chosen here, once, and kept with the values.
pub(crate) struct PackedWeights {
    isa: Isa,
    /// The bits of each weight rounded to an IEEE half, in strip order.
    values: Vec<u16>,
    inputs: usize,
    outputs: usize,
}

impl PackedWeights {
    /// Packs `weight_t` (inputs x outputs, row-major) for [`Isa::current`], each weight
    /// rounded to the nearest half. Fails on a weight a half cannot hold (beyond ±65,504
    /// or not finite), which no trained layer has.
    pub(crate) fn pack(
        weight_t: &[f32],
        inputs: usize,
        outputs: usize,
    ) -> Result<Self, WeightOutOfRange> {
        Self::pack_for(Isa::current(), weight_t, inputs, outputs)
    }

    fn pack_for(
        isa: Isa,
        weight_t: &[f32],
        inputs: usize,
        outputs: usize,
    ) -> Result<Self, WeightOutOfRange> {
        assert_eq!(weight_t.len(), inputs * outputs, "weight shape");
        let width = columns(isa);
        let strips = outputs / width;
        let mut values = vec![0u16; weight_t.len()];
        let mut packed = 0;
        // The `half` crate converts a slice eight values at a time (F16C where the CPU has
        // it, the same rounding to nearest even in software elsewhere); one weight at a
        // time took a sixth of MiniLM's load.
        let mut push = |weights: &[f32]| {
            let halves = values[packed..packed + weights.len()].reinterpret_cast_mut::<f16>();
            halves.convert_from_f32_slice(weights);
            if let Some((&weight, _)) = weights.iter().zip(&*halves).find(|(_, h)| !h.is_finite()) {
                return Err(WeightOutOfRange(weight));
            }
            packed += weights.len();
            Ok(())
        };
        for strip in 0..strips {
            for row in weight_t.chunks_exact(outputs) {
                push(&row[strip * width..][..width])?;
            }
        }
        if strips * width < outputs {
            for row in weight_t.chunks_exact(outputs) {
                push(&row[strips * width..])?;
            }
        }
        Ok(Self {
            isa,
            values,
            inputs,
            outputs,
        })
    }

    /// Inputs (rows of the transposed matrix).
    pub(crate) fn inputs(&self) -> usize {
        self.inputs
    }

    /// Outputs (columns of the transposed matrix).
    pub(crate) fn outputs(&self) -> usize {
        self.outputs
    }
}

/// A weight [`PackedWeights`] cannot store as a half.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[error("dense weight {0} does not fit a half-precision float")]
pub(crate) struct WeightOutOfRange(pub(crate) f32);

/// `x` (rows x inputs, row-major) times the packed weights plus `bias` (outputs) into a
/// new rows x outputs buffer. Sums run in input order, starting from the bias.
pub(crate) fn matmul_bias(x: &[f32], weights: &PackedWeights, bias: &[f32]) -> Vec<f32> {
    let (inputs, outputs) = (weights.inputs, weights.outputs);
    assert_eq!(bias.len(), outputs, "bias shape");
    assert!(inputs > 0 && x.len().is_multiple_of(inputs), "x shape");
    let mut out = vec![0.0; x.len() / inputs * outputs];
    let problem = Problem {
        x,
        weights: &weights.values,
        bias,
        inputs,
        outputs,
    };
    match weights.isa {
        // SAFETY: the weights were packed for one of `Isa::available`, which checked the CPU.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => unsafe { avx512(&problem, &mut out) },
        // SAFETY: as above.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => unsafe { avx2(&problem, &mut out) },
        Isa::Baseline => baseline(&problem, &mut out),
    }
    out
}

/// 64 columns are four 16-lane registers: 24 sums, 4 weights, 1 broadcast of 32.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
unsafe fn avx512(problem: &Problem, out: &mut [f32]) {
    problem.run::<AVX512_COLUMNS, Avx512Halves>(out, f32::mul_add)
}

/// 16 columns are two 8-lane registers: 12 sums, 2 weights, 1 broadcast of 16.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn avx2(problem: &Problem, out: &mut [f32]) {
    problem.run::<AVX2_COLUMNS, F16cHalves>(out, f32::mul_add)
}

/// 16 columns are four 4-lane registers: 24 sums, 4 weights, 1 broadcast of 32. NEON is
/// part of every aarch64 Linux target, so it needs no run-time check; its half
/// conversion is not yet in stable Rust, so halves widen by bit arithmetic.
#[cfg(target_arch = "aarch64")]
fn baseline(problem: &Problem, out: &mut [f32]) {
    problem.run::<BASELINE_COLUMNS, PortableHalves>(out, f32::mul_add)
}

/// Plain multiply-add: without FMA in the target, `mul_add` would be a libm call per value.
#[cfg(not(target_arch = "aarch64"))]
fn baseline(problem: &Problem, out: &mut [f32]) {
    problem.run::<BASELINE_COLUMNS, PortableHalves>(out, |a, b, c| a * b + c)
}

/// Widens a strip row of `N` halves to f32, exactly.
trait Widen<const N: usize> {
    fn widen(halves: &[u16; N]) -> [f32; N];
}

/// Bit arithmetic any target vectorises.
struct PortableHalves;

impl<const N: usize> Widen<N> for PortableHalves {
    #[inline(always)]
    fn widen(halves: &[u16; N]) -> [f32; N] {
        let mut out = [0.0; N];
        for (value, &half) in out.iter_mut().zip(halves) {
            *value = widen_half(half);
        }
        out
    }
}

/// One half to f32: its exponent and mantissa bits moved into an f32's, which reads
/// them with the exponent biased by 127 instead of 15, then scaled by 2^112 to undo the
/// difference. Exact for every finite half, subnormals included (they become f32
/// subnormals before the scaling, which is exact too).
#[inline(always)]
fn widen_half(half: u16) -> f32 {
    /// 2^112 = 2^(127 - 15).
    const REBIAS: f32 = f32::from_bits((127 + 112) << 23);
    let half = u32::from(half);
    let magnitude = f32::from_bits((half & 0x7fff) << 13) * REBIAS;
    f32::from_bits(magnitude.to_bits() | (half & 0x8000) << 16)
}

/// AVX-512F's `vcvtph2ps`, 16 halves per instruction.
#[cfg(target_arch = "x86_64")]
struct Avx512Halves;

#[cfg(target_arch = "x86_64")]
impl Widen<AVX512_COLUMNS> for Avx512Halves {
    #[inline(always)]
    fn widen(halves: &[u16; AVX512_COLUMNS]) -> [f32; AVX512_COLUMNS] {
        use std::arch::x86_64::{__m256i, __m512, _mm256_loadu_si256, _mm512_cvtph_ps};
        let at = |lane: usize| halves[lane * 16..].as_ptr().cast::<__m256i>();
        // SAFETY: inlined only into `avx512`, which requires AVX-512F; each load reads 16
        // halves inside the 64-half array, unaligned loads being allowed.
        let lanes: [__m512; 4] = unsafe {
            [
                _mm512_cvtph_ps(_mm256_loadu_si256(at(0))),
                _mm512_cvtph_ps(_mm256_loadu_si256(at(1))),
                _mm512_cvtph_ps(_mm256_loadu_si256(at(2))),
                _mm512_cvtph_ps(_mm256_loadu_si256(at(3))),
            ]
        };
        // SAFETY: four 16-lane f32 vectors are 64 f32 in order, with no padding.
        unsafe { std::mem::transmute::<[__m512; 4], [f32; AVX512_COLUMNS]>(lanes) }
    }
}

/// F16C's `vcvtph2ps`, 8 halves per instruction.
#[cfg(target_arch = "x86_64")]
struct F16cHalves;

#[cfg(target_arch = "x86_64")]
impl Widen<AVX2_COLUMNS> for F16cHalves {
    #[inline(always)]
    fn widen(halves: &[u16; AVX2_COLUMNS]) -> [f32; AVX2_COLUMNS] {
        use std::arch::x86_64::{__m128i, __m256, _mm256_cvtph_ps, _mm_loadu_si128};
        let at = |lane: usize| halves[lane * 8..].as_ptr().cast::<__m128i>();
        // SAFETY: inlined only into `avx2`, which requires F16C; each load reads 8 halves
        // inside the 16-half array, unaligned loads being allowed.
        let lanes: [__m256; 2] = unsafe {
            [
                _mm256_cvtph_ps(_mm_loadu_si128(at(0))),
                _mm256_cvtph_ps(_mm_loadu_si128(at(1))),
            ]
        };
        // SAFETY: two 8-lane f32 vectors are 16 f32 in order, with no padding.
        unsafe { std::mem::transmute::<[__m256; 2], [f32; AVX2_COLUMNS]>(lanes) }
    }
}

struct Problem<'a> {
    x: &'a [f32],
    /// [`PackedWeights::values`] for `COLUMNS`-wide strips.
    weights: &'a [u16],
    bias: &'a [f32],
    inputs: usize,
    outputs: usize,
}

impl Problem<'_> {
    /// Strips of `COLUMNS` outputs, each walked by tiles of rows; leftover columns (fewer
    /// than a strip) one at a time. `fma` is `mul_add` where the target fuses it and a
    /// plain multiply-add where it does not (a libm call per value would be far slower).
    #[inline(always)]
    fn run<const COLUMNS: usize, W: Widen<COLUMNS>>(
        &self,
        out: &mut [f32],
        fma: impl Fn(f32, f32, f32) -> f32 + Copy,
    ) {
        let rows = self.x.len() / self.inputs;
        let strips = self.outputs / COLUMNS;
        let (panels, leftover) = self.weights.split_at(strips * self.inputs * COLUMNS);
        for (strip, panel) in panels.chunks_exact(self.inputs * COLUMNS).enumerate() {
            let column = strip * COLUMNS;
            let mut row = 0;
            while row < rows {
                match rows - row {
                    1 => self.tile::<1, COLUMNS, W>(panel, row, column, out, fma),
                    2 => self.tile::<2, COLUMNS, W>(panel, row, column, out, fma),
                    3 => self.tile::<3, COLUMNS, W>(panel, row, column, out, fma),
                    4 => self.tile::<4, COLUMNS, W>(panel, row, column, out, fma),
                    5 => self.tile::<5, COLUMNS, W>(panel, row, column, out, fma),
                    _ => self.tile::<TILE_ROWS, COLUMNS, W>(panel, row, column, out, fma),
                }
                row += TILE_ROWS;
            }
        }
        let width = self.outputs - strips * COLUMNS;
        for offset in 0..width {
            let column = strips * COLUMNS + offset;
            for row in 0..rows {
                let x = &self.x[row * self.inputs..][..self.inputs];
                let sum = x
                    .iter()
                    .enumerate()
                    .fold(self.bias[column], |sum, (k, &v)| {
                        fma(v, widen_half(leftover[k * width + offset]), sum)
                    });
                out[row * self.outputs + column] = sum;
            }
        }
    }

    /// Rows `row..row + ROWS` by columns `column..column + COLUMNS`, all sums in registers.
    #[inline(always)]
    fn tile<const ROWS: usize, const COLUMNS: usize, W: Widen<COLUMNS>>(
        &self,
        panel: &[u16],
        row: usize,
        column: usize,
        out: &mut [f32],
        fma: impl Fn(f32, f32, f32) -> f32,
    ) {
        let bias: &[f32; COLUMNS] = first_n(&self.bias[column..]);
        let mut sums = [*bias; ROWS];
        let x = &self.x[row * self.inputs..][..ROWS * self.inputs];
        for k in 0..self.inputs {
            let weights = W::widen(first_n(&panel[k * COLUMNS..]));
            for (r, sums) in sums.iter_mut().enumerate() {
                let value = x[r * self.inputs + k];
                for (sum, &weight) in sums.iter_mut().zip(&weights) {
                    *sum = fma(value, weight, *sum);
                }
            }
        }
        for (r, sums) in sums.iter().enumerate() {
            out[(row + r) * self.outputs + column..][..COLUMNS].copy_from_slice(sums);
        }
    }
}

/// The first `N` values of `values` as an array, so the loops over it have a constant
/// length the compiler unrolls (callers slice within a strip, which always holds `N`).
#[inline(always)]
fn first_n<const N: usize, T>(values: &[T]) -> &[T; N] {
    match values.first_chunk::<N>() {
        Some(chunk) => chunk,
        None => panic!("a strip of {N} columns runs past its row"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The product in f64 over the weights as the kernel stores them (rounded to halves).
    fn reference(x: &[f32], w_t: &[f32], bias: &[f32], inputs: usize, outputs: usize) -> Vec<f32> {
        let w_t: Vec<f32> = w_t
            .iter()
            .map(|&w| half::f16::from_f32(w).to_f32())
            .collect();
        let rows = x.len() / inputs;
        let mut out = vec![0.0f64; rows * outputs];
        for r in 0..rows {
            for c in 0..outputs {
                out[r * outputs + c] = bias[c] as f64
                    + (0..inputs)
                        .map(|k| x[r * inputs + k] as f64 * w_t[k * outputs + c] as f64)
                        .sum::<f64>();
            }
        }
        out.into_iter().map(|v| v as f32).collect()
    }

    /// Every row count around the tile height and column counts that leave no strip,
    /// whole strips of every target, and strips plus leftovers.
    #[test]
    fn equals_the_plain_product_for_every_shape() {
        for rows in [1, 2, 5, 6, 7, 13, 15, 64] {
            for (inputs, outputs) in [(3, 5), (8, 16), (17, 64), (384, 1152), (33, 100)] {
                let x: Vec<f32> = (0..rows * inputs)
                    .map(|i| (i as f32 * 0.71).sin())
                    .collect();
                let w_t: Vec<f32> = (0..inputs * outputs)
                    .map(|i| (i as f32 * 0.13).cos())
                    .collect();
                let bias: Vec<f32> = (0..outputs).map(|i| i as f32 * 0.01 - 0.3).collect();
                let expected = reference(&x, &w_t, &bias, inputs, outputs);
                for isa in Isa::available() {
                    let packed =
                        PackedWeights::pack_for(isa, &w_t, inputs, outputs).expect("packs");
                    let ours = matmul_bias(&x, &packed, &bias);
                    for (i, (a, b)) in ours.iter().zip(&expected).enumerate() {
                        assert!(
                            (a - b).abs() <= 1e-4 * b.abs().max(1.0),
                            "{isa:?} {rows}x{inputs}x{outputs} at {i}: {a} vs {b}"
                        );
                    }
                }
            }
        }
    }

    /// Every extension this CPU has against the baseline (on x86-64 the portable loop).
    #[test]
    fn every_isa_equals_the_baseline() {
        // 84 columns: whole strips and leftovers for every kernel width.
        let (inputs, outputs) = (40, 84);
        let x: Vec<f32> = (0..9 * inputs).map(|i| (i as f32 * 0.29).sin()).collect();
        let w_t: Vec<f32> = (0..inputs * outputs)
            .map(|i| (i as f32 * 0.07).cos())
            .collect();
        let bias = vec![0.5; outputs];
        let baseline =
            PackedWeights::pack_for(Isa::Baseline, &w_t, inputs, outputs).expect("packs");
        let baseline = matmul_bias(&x, &baseline, &bias);
        for isa in Isa::available() {
            let vector = matmul_bias(
                &x,
                &PackedWeights::pack_for(isa, &w_t, inputs, outputs).expect("packs"),
                &bias,
            );
            for (a, b) in baseline.iter().zip(&vector) {
                assert!(
                    (a - b).abs() <= 1e-4 * b.abs().max(1.0),
                    "{isa:?}: {a} vs {b}"
                );
            }
        }
    }

    #[test]
    fn packing_keeps_every_weight_once() {
        // Integers up to 2,048 are exact halves.
        let (inputs, outputs) = (7, 150);
        let w_t: Vec<f32> = (0..inputs * outputs).map(|i| i as f32).collect();
        for isa in Isa::available() {
            let packed = PackedWeights::pack_for(isa, &w_t, inputs, outputs).expect("packs");
            let mut values: Vec<f32> = packed.values.into_iter().map(widen_half).collect();
            values.sort_by(f32::total_cmp);
            assert_eq!(values, w_t, "{isa:?}");
        }
    }

    #[test]
    fn a_weight_beyond_a_half_is_refused() {
        let w_t = [1.0, -70_000.0, 0.5, 0.25];
        let error = PackedWeights::pack_for(Isa::Baseline, &w_t, 2, 2).err();
        assert_eq!(error, Some(WeightOutOfRange(-70_000.0)));
    }

    /// Every finite half, normal and subnormal, against the `half` crate's conversion;
    /// and each target's vector widening against the bit arithmetic.
    #[test]
    fn every_finite_half_widens_exactly() {
        let finite: Vec<u16> = (0..=u16::MAX)
            .filter(|&bits| half::f16::from_bits(bits).is_finite())
            .collect();
        for &bits in &finite {
            let expected = half::f16::from_bits(bits).to_f32();
            assert_eq!(
                widen_half(bits).to_bits(),
                expected.to_bits(),
                "{bits:#06x}"
            );
        }
        #[cfg(target_arch = "x86_64")]
        for isa in Isa::available() {
            for chunk in finite.chunks_exact(AVX512_COLUMNS) {
                let portable: [f32; AVX512_COLUMNS] = PortableHalves::widen(first_n(chunk));
                let vector: Vec<f32> = match isa {
                    // SAFETY: `Isa::available` checked the CPU for each.
                    Isa::Avx512 => unsafe { widen_avx512(first_n(chunk)) }.to_vec(),
                    Isa::Avx2 => chunk
                        .chunks_exact(AVX2_COLUMNS)
                        // SAFETY: as above.
                        .flat_map(|part| unsafe { widen_f16c(first_n(part)) })
                        .collect(),
                    Isa::Baseline => continue,
                };
                assert_eq!(
                    vector.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    portable.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    "{isa:?}"
                );
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn widen_avx512(halves: &[u16; AVX512_COLUMNS]) -> [f32; AVX512_COLUMNS] {
        Avx512Halves::widen(halves)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "f16c")]
    unsafe fn widen_f16c(halves: &[u16; AVX2_COLUMNS]) -> [f32; AVX2_COLUMNS] {
        F16cHalves::widen(halves)
    }
}
