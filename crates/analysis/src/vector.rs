//! Small vector arithmetic shared by the analyses.

use postlens_simd::Isa;

/// Dot product of two equally long slices (extra elements of the longer are ignored).
///
/// The workspace is built for each architecture's baseline, so the compiler's own
/// vectorisation stays four lanes wide without fused multiply-add: Rust never fuses
/// `a * b + c` on its own. Ranking 10,281 categories per caption is mostly this function,
/// so it is written out per architecture and picked by [`Isa::current`], as every model
/// kernel is: on x86-64 with AVX2 and FMA (and on AVX-512 CPUs, which have both) eight
/// lanes with FMA; on aarch64 NEON's four-lane FMA, as NEON is the target's baseline.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    match Isa::current() {
        // SAFETY: `Isa::current` is one of `Isa::available`, which checked the CPU for
        // AVX2 and FMA (AVX-512F implies AVX2).
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 | Isa::Avx2 => unsafe { avx2::dot(a, b) },
        Isa::Baseline => baseline_dot(a, b),
    }
}

/// The baseline's dot product: NEON's on aarch64, the compiler's SSE2 elsewhere.
fn baseline_dot(a: &[f32], b: &[f32]) -> f32 {
    #[cfg(target_arch = "aarch64")]
    // SAFETY: NEON is part of every aarch64 Linux target (it is in the target's baseline).
    return unsafe { neon::dot(a, b) };
    #[allow(unreachable_code)]
    dot_in_lanes(a, b)
}

/// The elements the vector loops leave over (fewer than one block).
#[cfg_attr(
    not(any(target_arch = "x86_64", target_arch = "aarch64")),
    allow(dead_code)
)]
fn plain_dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Eight independent lanes, so the compiler may vectorise (a single accumulator is a
/// serial dependency chain it must not reorder).
fn dot_in_lanes(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let (a_chunks, b_chunks) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail = plain_dot(a_chunks.remainder(), b_chunks.remainder());
    for (x, y) in a_chunks.zip(b_chunks) {
        for lane in 0..8 {
            lanes[lane] += x[lane] * y[lane];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::{
        _mm256_add_ps, _mm256_castps256_ps128, _mm256_extractf128_ps, _mm256_fmadd_ps,
        _mm256_loadu_ps, _mm256_setzero_ps, _mm_add_ps, _mm_cvtss_f32, _mm_hadd_ps,
    };

    /// Four accumulators of eight lanes: an FMA's latency is four cycles, so one
    /// accumulator would leave the unit idle three cycles in four.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn dot(a: &[f32], b: &[f32]) -> f32 {
        let len = a.len().min(b.len());
        let (a, b) = (&a[..len], &b[..len]);
        let mut sums = [_mm256_setzero_ps(); 4];
        let blocks = len / 32;
        for block in 0..blocks {
            for (k, sum) in sums.iter_mut().enumerate() {
                let at = block * 32 + k * 8;
                // SAFETY: at + 8 <= blocks * 32 <= len for both slices.
                let (x, y) = unsafe {
                    (
                        _mm256_loadu_ps(a.as_ptr().add(at)),
                        _mm256_loadu_ps(b.as_ptr().add(at)),
                    )
                };
                *sum = _mm256_fmadd_ps(x, y, *sum);
            }
        }
        let sum = _mm256_add_ps(
            _mm256_add_ps(sums[0], sums[1]),
            _mm256_add_ps(sums[2], sums[3]),
        );
        let half = _mm_add_ps(_mm256_castps256_ps128(sum), _mm256_extractf128_ps(sum, 1));
        let pairs = _mm_hadd_ps(half, half);
        let total = _mm_cvtss_f32(_mm_hadd_ps(pairs, pairs));
        total + super::plain_dot(&a[blocks * 32..], &b[blocks * 32..])
    }
}

#[cfg(target_arch = "aarch64")]
mod neon {
    use std::arch::aarch64::{vaddq_f32, vaddvq_f32, vdupq_n_f32, vfmaq_f32, vld1q_f32};

    /// Eight accumulators of four lanes: Graviton's Neoverse cores have two FMA pipes
    /// with four cycles of latency, so eight independent sums keep both busy.
    #[target_feature(enable = "neon")]
    pub(super) fn dot(a: &[f32], b: &[f32]) -> f32 {
        let len = a.len().min(b.len());
        let (a, b) = (&a[..len], &b[..len]);
        let mut sums = [vdupq_n_f32(0.0); 8];
        let blocks = len / 32;
        for block in 0..blocks {
            for (k, sum) in sums.iter_mut().enumerate() {
                let at = block * 32 + k * 4;
                // SAFETY: at + 4 <= blocks * 32 <= len for both slices.
                let (x, y) =
                    unsafe { (vld1q_f32(a.as_ptr().add(at)), vld1q_f32(b.as_ptr().add(at))) };
                *sum = vfmaq_f32(*sum, x, y);
            }
        }
        let quads = [
            vaddq_f32(sums[0], sums[1]),
            vaddq_f32(sums[2], sums[3]),
            vaddq_f32(sums[4], sums[5]),
            vaddq_f32(sums[6], sums[7]),
        ];
        let total = vaddvq_f32(vaddq_f32(
            vaddq_f32(quads[0], quads[1]),
            vaddq_f32(quads[2], quads[3]),
        ));
        total + super::plain_dot(&a[blocks * 32..], &b[blocks * 32..])
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn dot_product_equals_the_plain_sum() {
        // Lengths around the 8- and 32-element blocks exercise every tail.
        for len in [0, 1, 7, 8, 19, 31, 32, 33, 64, 384, 389] {
            let a: Vec<f32> = (0..len).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..len).map(|i| 1.0 - i as f32 * 0.01).collect();
            let plain: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            postlens_simd::for_each_isa(|isa| {
                let ours = super::dot(&a, &b);
                assert!((ours - plain).abs() < 1e-3, "{isa:?}, length {len}");
            });
            assert!(
                (super::dot_in_lanes(&a, &b) - plain).abs() < 1e-3,
                "length {len}"
            );
        }
    }
}
