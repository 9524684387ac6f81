//! Small vector arithmetic shared by the analyses.

/// Dot product of two equally long slices (extra elements of the longer are ignored).
///
/// The workspace is built for the baseline x86-64 target (SSE2: Lambda does not promise a
/// newer CPU), so the compiler's own vectorisation stays four lanes wide without fused
/// multiply-add. Ranking 10,281 categories per caption is mostly this function, so on a
/// CPU with AVX2 and FMA (checked at run time, once, cached by std) it uses them.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
        // SAFETY: both target features were just detected on this CPU.
        return unsafe { avx2::dot(a, b) };
    }
    dot_in_lanes(a, b)
}

/// Eight independent lanes, so the compiler may vectorise (a single accumulator is a
/// serial dependency chain it must not reorder).
fn dot_in_lanes(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let (a_chunks, b_chunks) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = a_chunks
        .remainder()
        .iter()
        .zip(b_chunks.remainder())
        .map(|(x, y)| x * y)
        .sum();
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
        let tail: f32 = a[blocks * 32..]
            .iter()
            .zip(&b[blocks * 32..])
            .map(|(x, y)| x * y)
            .sum();
        total + tail
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
            assert!((super::dot(&a, &b) - plain).abs() < 1e-3, "length {len}");
            assert!(
                (super::dot_in_lanes(&a, &b) - plain).abs() < 1e-3,
                "length {len}"
            );
        }
    }
}
