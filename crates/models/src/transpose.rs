//! Out-of-place f32 matrix transposition for the language model's load, where every weight
//! matrix is turned from the GGUF's (outputs, inputs) rows into (inputs, outputs).
//!
//! A scalar transposition (each value one load and one store, in 32 x 32 tiles) took
//! 0.5-1.7 ns a value on the AMD VM and made SmolLM2's load 420 ms instead of 245. On
//! x86-64 with AVX an 8 x 8 block is eight loads, 24 shuffles and eight stores: 0.2-0.9 ns
//! a value in a probe on SmolLM2's shapes (the `transpose` crate's cache-oblivious scalar
//! walk: 0.33-1.38), and the load about 300 ms. Other targets keep the scalar loop. Values
//! are moved, never computed, so every path gives the same bits.

use std::mem::MaybeUninit;

/// Rows of the source handled together: each output row then receives 64 contiguous
/// values (256 bytes) per pass instead of 8.
const STRIPE: usize = 64;

/// `values` (rows x columns, row-major) transposed into `buffer`, an empty vector with room
/// for them all (a huge-page buffer for the language model's weights).
pub(crate) fn transposed(
    values: &[f32],
    rows: usize,
    columns: usize,
    mut buffer: Vec<f32>,
) -> Vec<f32> {
    let count = rows * columns;
    assert!(buffer.is_empty(), "an empty buffer");
    buffer.reserve_exact(count);
    transpose_into(
        values,
        rows,
        columns,
        &mut buffer.spare_capacity_mut()[..count],
        rows,
        0,
    );
    // SAFETY: transpose_into writes every (row, column) of a full-size output once.
    unsafe { buffer.set_len(count) };
    buffer
}

/// Writes `source` (source_rows x columns, row-major) transposed into `out`: source value
/// (r, c) goes to `out[c * out_pitch + out_offset + r]`. `out` may be a larger matrix that
/// receives this one as a band of its columns (`out_offset`).
pub(crate) fn transpose_into(
    source: &[f32],
    source_rows: usize,
    columns: usize,
    out: &mut [MaybeUninit<f32>],
    out_pitch: usize,
    out_offset: usize,
) {
    assert_eq!(
        source.len(),
        source_rows * columns,
        "a rows x columns source"
    );
    if source_rows == 0 || columns == 0 {
        return;
    }
    assert!(
        out_offset + source_rows <= out_pitch
            && (columns - 1) * out_pitch + out_offset + source_rows <= out.len(),
        "the transposed band lies inside `out`"
    );
    for stripe_start in (0..source_rows).step_by(STRIPE) {
        let height = (source_rows - stripe_start).min(STRIPE);
        // Whole 8-row groups go through vector code where the CPU has it.
        #[cfg(target_arch = "x86_64")]
        let done = if crate::simd::Isa::current() != crate::simd::Isa::Baseline {
            let rows = height / 8 * 8;
            // SAFETY: AVX2 and AVX-512 CPUs have AVX (`Isa::current` checked the CPU); the
            // band was asserted to lie inside `out` above.
            unsafe {
                avx::transpose_blocks(
                    source,
                    stripe_start,
                    rows,
                    columns,
                    out,
                    out_pitch,
                    out_offset,
                )
            };
            rows
        } else {
            0
        };
        #[cfg(not(target_arch = "x86_64"))]
        let done = 0;
        if done == height {
            continue;
        }
        for column in 0..columns {
            let at = column * out_pitch + out_offset + stripe_start;
            let column_values = source[(stripe_start + done) * columns + column..]
                .iter()
                .step_by(columns);
            for (target, value) in out[at + done..at + height].iter_mut().zip(column_values) {
                target.write(*value);
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx {
    use std::arch::x86_64::*;
    use std::mem::MaybeUninit;

    /// Rows first_row..first_row + height (a multiple of 8) of `source`, transposed in
    /// 8 x 8 blocks; columns beyond the last multiple of 8 are done by scalar code.
    ///
    /// # Safety
    /// The CPU must have AVX, and `out` must hold the band `transpose_into` asserted.
    #[target_feature(enable = "avx")]
    pub(super) unsafe fn transpose_blocks(
        source: &[f32],
        first_row: usize,
        height: usize,
        columns: usize,
        out: &mut [MaybeUninit<f32>],
        out_pitch: usize,
        out_offset: usize,
    ) {
        let source_rows = source.len() / columns;
        assert!(first_row + height <= source_rows && height.is_multiple_of(8));
        let full_columns = columns / 8 * 8;
        let from = source.as_ptr();
        let to = out.as_mut_ptr().cast::<f32>();
        for column in (0..full_columns).step_by(8) {
            for row in (first_row..first_row + height).step_by(8) {
                // SAFETY: rows row..row + 8 and columns column..column + 8 lie in
                // `source`; their transposed places lie in the band asserted in `out`.
                unsafe {
                    let at = from.add(row * columns + column);
                    let [a0, a1, a2, a3, a4, a5, a6, a7] =
                        std::array::from_fn(|i| _mm256_loadu_ps(at.add(i * columns)));
                    // Interleave pairs of rows, then pairs of pairs, then swap 128-bit halves:
                    // lane i of output row j ends up holding input (i, j).
                    let t0 = _mm256_unpacklo_ps(a0, a1);
                    let t1 = _mm256_unpackhi_ps(a0, a1);
                    let t2 = _mm256_unpacklo_ps(a2, a3);
                    let t3 = _mm256_unpackhi_ps(a2, a3);
                    let t4 = _mm256_unpacklo_ps(a4, a5);
                    let t5 = _mm256_unpackhi_ps(a4, a5);
                    let t6 = _mm256_unpacklo_ps(a6, a7);
                    let t7 = _mm256_unpackhi_ps(a6, a7);
                    let s0 = _mm256_shuffle_ps::<0x44>(t0, t2);
                    let s1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
                    let s2 = _mm256_shuffle_ps::<0x44>(t1, t3);
                    let s3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
                    let s4 = _mm256_shuffle_ps::<0x44>(t4, t6);
                    let s5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
                    let s6 = _mm256_shuffle_ps::<0x44>(t5, t7);
                    let s7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
                    let rows_out = [
                        _mm256_permute2f128_ps::<0x20>(s0, s4),
                        _mm256_permute2f128_ps::<0x20>(s1, s5),
                        _mm256_permute2f128_ps::<0x20>(s2, s6),
                        _mm256_permute2f128_ps::<0x20>(s3, s7),
                        _mm256_permute2f128_ps::<0x31>(s0, s4),
                        _mm256_permute2f128_ps::<0x31>(s1, s5),
                        _mm256_permute2f128_ps::<0x31>(s2, s6),
                        _mm256_permute2f128_ps::<0x31>(s3, s7),
                    ];
                    for (i, values) in rows_out.into_iter().enumerate() {
                        _mm256_storeu_ps(
                            to.add((column + i) * out_pitch + out_offset + row),
                            values,
                        );
                    }
                }
            }
        }
        for column in full_columns..columns {
            for row in first_row..first_row + height {
                out[column * out_pitch + out_offset + row].write(source[row * columns + column]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transposed(rows: usize, columns: usize) -> Vec<f32> {
        let source: Vec<f32> = (0..rows * columns).map(|i| i as f32).collect();
        let mut out = vec![MaybeUninit::uninit(); rows * columns];
        transpose_into(&source, rows, columns, &mut out, rows, 0);
        // SAFETY: transpose_into writes every value of a full-size output.
        out.into_iter()
            .map(|v| unsafe { v.assume_init() })
            .collect()
    }

    #[test]
    fn every_shape_and_extension_puts_each_value_in_its_place() {
        crate::simd::for_each_isa(|isa| {
            // Multiples of 8 and of the stripe, and ragged edges on both sides.
            for (rows, columns) in [(64, 64), (8, 8), (70, 45), (129, 33), (1, 17), (17, 1)] {
                let out = transposed(rows, columns);
                for r in 0..rows {
                    for c in 0..columns {
                        assert_eq!(
                            out[c * rows + r],
                            (r * columns + c) as f32,
                            "{isa:?} {rows}x{columns} at ({r}, {c})"
                        );
                    }
                }
            }
        });
    }

    #[test]
    fn a_band_lands_between_its_neighbours_columns() {
        // A 3 x 16 source as rows 5..8 of a 10-row transposed matrix.
        let source: Vec<f32> = (0..3 * 16).map(|i| i as f32).collect();
        let mut out = vec![MaybeUninit::new(-1.0); 10 * 16];
        transpose_into(&source, 3, 16, &mut out, 10, 5);
        // SAFETY: every value was initialised to -1 before.
        let out: Vec<f32> = out
            .into_iter()
            .map(|v| unsafe { v.assume_init() })
            .collect();
        for c in 0..16 {
            for r in 0..10 {
                let expected = if (5..8).contains(&r) {
                    ((r - 5) * 16 + c) as f32
                } else {
                    -1.0
                };
                assert_eq!(out[c * 10 + r], expected);
            }
        }
    }
}
