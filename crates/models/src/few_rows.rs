//! `x @ weight_t + bias` for a few rows of `x`: one caption's 10-60 tokens.
//!
//! A GEMM library packs the weight matrix into cache-sized panels before multiplying,
//! which pays off when many rows reuse each panel. One caption has about 15 rows, so
//! MiniLM's 42 MB of weights were copied once per pass to be used 15 times: a lone caption
//! took 13.8 ms of encoding where the same products with hot weights took about 6 ms.
//! This kernel reads each weight once, in place: for a strip of output columns it keeps
//! a tile of rows x columns of sums in registers and walks the inputs, broadcasting one
//! value of `x` against a row of the strip per step. It is the loop a GEMM micro-kernel
//! runs, without the packing, written in plain Rust over fixed-size arrays so the
//! compiler vectorises it for each instruction set it is compiled for below.

/// Rows of `x` above which [`matmul_bias`] should not be used, as candle's GEMM then
/// amortises its packing. Measured with the auto-tagger bench on one core (2026-12-02):
/// one dev caption (about 15 rows) 6.5 ms with this kernel against 8.1 ms through the
/// GEMM, a 40-word caption (about 60 rows) even, a batch of ten captions (about 250 rows)
/// 61.6 against 53.5 ms.
pub(crate) const MAX_ROWS: usize = 32;

/// Rows of one register tile: six rows of sums leave registers for the weights and the
/// broadcast value on every target below (AVX2: 16 registers, AVX-512 and NEON: 32).
const TILE_ROWS: usize = 6;

/// `x` (rows x inputs, row-major) times `weight_t` (inputs x outputs, row-major) plus
/// `bias` (outputs) into a new rows x outputs buffer. Sums run in input order, starting
/// from the bias.
pub(crate) fn matmul_bias(
    x: &[f32],
    weight_t: &[f32],
    bias: &[f32],
    inputs: usize,
    outputs: usize,
) -> Vec<f32> {
    assert_eq!(weight_t.len(), inputs * outputs, "weight shape");
    assert_eq!(bias.len(), outputs, "bias shape");
    assert!(inputs > 0 && x.len().is_multiple_of(inputs), "x shape");
    let mut out = vec![0.0; x.len() / inputs * outputs];
    let problem = Problem {
        x,
        weight_t,
        bias,
        inputs,
        outputs,
    };
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f") {
            // SAFETY: the feature was just detected on this CPU.
            unsafe { avx512(&problem, &mut out) };
            return out;
        }
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: both features were just detected on this CPU.
            unsafe { avx2(&problem, &mut out) };
            return out;
        }
    }
    #[cfg(target_arch = "aarch64")]
    // SAFETY: NEON is part of every aarch64 Linux target.
    unsafe {
        neon(&problem, &mut out)
    };
    #[cfg(not(target_arch = "aarch64"))]
    problem.run::<8>(&mut out, |a, b, c| a * b + c);
    out
}

/// 64 columns are four 16-lane registers: 24 sums, 4 weights, 1 broadcast of 32.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn avx512(problem: &Problem, out: &mut [f32]) {
    problem.run::<64>(out, f32::mul_add)
}

/// 16 columns are two 8-lane registers: 12 sums, 2 weights, 1 broadcast of 16.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn avx2(problem: &Problem, out: &mut [f32]) {
    problem.run::<16>(out, f32::mul_add)
}

/// 16 columns are four 4-lane registers: 24 sums, 4 weights, 1 broadcast of 32.
#[cfg(target_arch = "aarch64")]
#[target_feature(enable = "neon")]
unsafe fn neon(problem: &Problem, out: &mut [f32]) {
    problem.run::<16>(out, f32::mul_add)
}

struct Problem<'a> {
    x: &'a [f32],
    weight_t: &'a [f32],
    bias: &'a [f32],
    inputs: usize,
    outputs: usize,
}

impl Problem<'_> {
    /// Strips of `COLUMNS` outputs, each walked by tiles of rows; leftover columns (fewer
    /// than a strip) one at a time. `fma` is `mul_add` where the target fuses it and a
    /// plain multiply-add where it does not (a libm call per value would be far slower).
    #[inline(always)]
    fn run<const COLUMNS: usize>(
        &self,
        out: &mut [f32],
        fma: impl Fn(f32, f32, f32) -> f32 + Copy,
    ) {
        let rows = self.x.len() / self.inputs;
        let strips = self.outputs / COLUMNS;
        for strip in 0..strips {
            let column = strip * COLUMNS;
            let mut row = 0;
            while row < rows {
                match rows - row {
                    1 => self.tile::<1, COLUMNS>(row, column, out, fma),
                    2 => self.tile::<2, COLUMNS>(row, column, out, fma),
                    3 => self.tile::<3, COLUMNS>(row, column, out, fma),
                    4 => self.tile::<4, COLUMNS>(row, column, out, fma),
                    5 => self.tile::<5, COLUMNS>(row, column, out, fma),
                    _ => self.tile::<TILE_ROWS, COLUMNS>(row, column, out, fma),
                }
                row += TILE_ROWS;
            }
        }
        for column in strips * COLUMNS..self.outputs {
            for row in 0..rows {
                let x = &self.x[row * self.inputs..][..self.inputs];
                let sum = x
                    .iter()
                    .enumerate()
                    .fold(self.bias[column], |sum, (k, &v)| {
                        fma(v, self.weight_t[k * self.outputs + column], sum)
                    });
                out[row * self.outputs + column] = sum;
            }
        }
    }

    /// Rows `row..row + ROWS` by columns `column..column + COLUMNS`, all sums in registers.
    #[inline(always)]
    fn tile<const ROWS: usize, const COLUMNS: usize>(
        &self,
        row: usize,
        column: usize,
        out: &mut [f32],
        fma: impl Fn(f32, f32, f32) -> f32,
    ) {
        let bias: &[f32; COLUMNS] = first_n(&self.bias[column..]);
        let mut sums = [*bias; ROWS];
        let x = &self.x[row * self.inputs..][..ROWS * self.inputs];
        for k in 0..self.inputs {
            let weights: &[f32; COLUMNS] = first_n(&self.weight_t[k * self.outputs + column..]);
            for (r, sums) in sums.iter_mut().enumerate() {
                let value = x[r * self.inputs + k];
                for (sum, &weight) in sums.iter_mut().zip(weights) {
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
fn first_n<const N: usize>(values: &[f32]) -> &[f32; N] {
    match values.first_chunk::<N>() {
        Some(chunk) => chunk,
        None => panic!("a strip of {N} columns runs past its row"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(x: &[f32], w_t: &[f32], bias: &[f32], inputs: usize, outputs: usize) -> Vec<f32> {
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
                let ours = matmul_bias(&x, &w_t, &bias, inputs, outputs);
                let expected = reference(&x, &w_t, &bias, inputs, outputs);
                for (i, (a, b)) in ours.iter().zip(&expected).enumerate() {
                    assert!(
                        (a - b).abs() <= 1e-4 * b.abs().max(1.0),
                        "{rows}x{inputs}x{outputs} at {i}: {a} vs {b}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_portable_path_equals_the_vector_path() {
        let (inputs, outputs) = (40, 80);
        let x: Vec<f32> = (0..9 * inputs).map(|i| (i as f32 * 0.29).sin()).collect();
        let w_t: Vec<f32> = (0..inputs * outputs)
            .map(|i| (i as f32 * 0.07).cos())
            .collect();
        let bias = vec![0.5; outputs];
        let problem = Problem {
            x: &x,
            weight_t: &w_t,
            bias: &bias,
            inputs,
            outputs,
        };
        let mut portable = vec![0.0; 9 * outputs];
        problem.run::<8>(&mut portable, |a, b, c| a * b + c);
        let vector = matmul_bias(&x, &w_t, &bias, inputs, outputs);
        for (a, b) in portable.iter().zip(&vector) {
            assert!((a - b).abs() <= 1e-4 * b.abs().max(1.0), "{a} vs {b}");
        }
    }
}
