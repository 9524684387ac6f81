//! The vectorisable `exp` the numeric kernels share; the choice of vector extension they
//! are compiled for lives in `postlens-simd` ([`Isa`], [`simd_dispatch`]), which the
//! analysis crate's dot product uses too.

#[cfg(test)]
pub(crate) use postlens_simd::for_each_isa;
pub(crate) use postlens_simd::{simd_dispatch, Isa};

/// `e^x`, vectorisable: Cephes' `expf` polynomial (relative error about
/// 2e-7) after `x = n ln 2 + r`, with `2^n` built from its exponent bits. Inputs are
/// clamped to where `2^n` is a normal number; the activations saturate long before, and a
/// log-softmax never needs `e^x` below `e^-87`.
#[inline(always)]
pub(crate) fn exp(x: f32) -> f32 {
    // ln 2 split so that `n * LN2_HIGH` is exact for the n that occur.
    const LN2_HIGH: f32 = 0.693_359_4;
    const LN2_LOW: f32 = -2.121_944_4e-4;
    let (x, n, two_n) = exponent_split(x);
    let r = (-n).mul_add(LN2_LOW, (-n).mul_add(LN2_HIGH, x));
    let mut p: f32 = 1.987_569_1e-4;
    p = p.mul_add(r, 1.398_199_9e-3);
    p = p.mul_add(r, 8.333_452e-3);
    p = p.mul_add(r, 4.166_579_6e-2);
    p = p.mul_add(r, 1.666_666_5e-1);
    p = p.mul_add(r, 0.5);
    let e_r = p.mul_add(r * r, r) + 1.0;
    e_r * two_n
}

/// `e^x` for the detector's activations: [`exp`]'s exponent split with a one-step range
/// reduction and a degree-4 polynomial (least-squares fit, relative error 2.7e-6 on the
/// reduced range) instead of Cephes' degree 6 plus the `r^2` step. Four fewer vector
/// operations a value: the activations are a sixth of the detector's pass, and their
/// error stays far below what moves a detection (tests/yolox.rs holds the outputs to
/// onnxruntime's); the language model keeps [`exp`].
#[inline(always)]
pub(crate) fn exp_coarse(x: f32) -> f32 {
    let (x, n, two_n) = exponent_split(x);
    let r = (-n).mul_add(std::f32::consts::LN_2, x);
    let [c4, c3, c2, c1, c0] = EXP_COARSE_POLYNOMIAL;
    let mut p = c4;
    p = p.mul_add(r, c3);
    p = p.mul_add(r, c2);
    p = p.mul_add(r, c1);
    p = p.mul_add(r, c0);
    p * two_n
}

/// [`exp_coarse`]'s polynomial in the reduced argument, highest degree first.
const EXP_COARSE_POLYNOMIAL: [f32; 5] = [
    0.041_417_1,
    0.167_906_86,
    0.500_048_5,
    0.999_963_6,
    0.999_999_2,
];

/// Adding this rounds a float below 2^22 in magnitude to an integer (see [`exponent_split`]).
const ROUND_TO_INTEGER: f32 = 12_582_912.0;

/// Inputs are clamped to +-this, where `2^n` is still a normal number.
const EXP_LIMIT: f32 = 87.0;

/// `x` clamped to where `2^n` is a normal number, `n = round(x log2 e)` and `2^n`.
/// Adding 1.5 * 2^23 rounds to the nearest integer and leaves it in the low mantissa bits:
/// `n` as a float and as an integer without `round` or a float-to-int conversion, neither
/// of which vectorises everywhere (`as i32` saturates, one lane at a time).
#[inline(always)]
fn exponent_split(x: f32) -> (f32, f32, f32) {
    let x = x.clamp(-EXP_LIMIT, EXP_LIMIT);
    let shifted = x.mul_add(std::f32::consts::LOG2_E, ROUND_TO_INTEGER);
    let n = shifted - ROUND_TO_INTEGER;
    let n_bits = shifted.to_bits().wrapping_sub(ROUND_TO_INTEGER.to_bits());
    (x, n, f32::from_bits(n_bits.wrapping_add(127) << 23))
}

/// Explicit AVX-512 forms of the functions above, for kernels written on named registers.
#[cfg(target_arch = "x86_64")]
pub(crate) mod avx512 {
    use std::arch::x86_64::{
        __m512, _mm512_fmadd_ps, _mm512_fnmadd_ps, _mm512_max_ps, _mm512_min_ps, _mm512_scalef_ps,
        _mm512_set1_ps, _mm512_sub_ps,
    };

    /// [`super::exp_coarse`] of 16 lanes, with the same bits. `2^n` is applied by
    /// `vscalefps` (a multiplication by `2^n`, rounded as one) instead of being built from
    /// exponent bits and multiplied: four operations fewer a vector in the detector's
    /// activations, which the divider and these operations bound together.
    ///
    /// # Safety
    /// The CPU must support AVX-512F.
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) unsafe fn exp_coarse(x: __m512) -> __m512 {
        let round = _mm512_set1_ps(super::ROUND_TO_INTEGER);
        let x = _mm512_min_ps(
            _mm512_max_ps(x, _mm512_set1_ps(-super::EXP_LIMIT)),
            _mm512_set1_ps(super::EXP_LIMIT),
        );
        let n = _mm512_sub_ps(
            _mm512_fmadd_ps(x, _mm512_set1_ps(std::f32::consts::LOG2_E), round),
            round,
        );
        // -(n ln 2) + x with one rounding: the portable (-n) * ln 2 + x exactly.
        let r = _mm512_fnmadd_ps(n, _mm512_set1_ps(std::f32::consts::LN_2), x);
        let [c4, c3, c2, c1, c0] = super::EXP_COARSE_POLYNOMIAL;
        let mut p = _mm512_set1_ps(c4);
        for c in [c3, c2, c1, c0] {
            p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(c));
        }
        _mm512_scalef_ps(p, n)
    }
}

/// The first extension's values are kept; every later one must give the same bits.
#[cfg(test)]
pub(crate) fn assert_same_bits(first: &mut Option<Vec<f32>>, values: &[f32], isa: Isa) {
    let first = first.get_or_insert_with(|| values.to_vec());
    assert!(
        first
            .iter()
            .zip(values)
            .all(|(a, b)| a.to_bits() == b.to_bits()),
        "{isa:?} differs"
    );
}

#[cfg(test)]
mod tests {
    #[test]
    fn exp_matches_the_standard_library() {
        for i in -2000..=2000 {
            let x = i as f32 * 0.043;
            let (ours, std) = (super::exp(x), x.exp());
            assert!((ours - std).abs() <= 4e-7 * std, "{x}: {ours} vs {std}");
        }
    }

    #[test]
    fn coarse_exp_is_within_3e_6_over_the_clamp() {
        for i in -8700..=8700 {
            let x = i as f32 * 0.01;
            let exact = f64::from(x).exp();
            let relative = ((f64::from(super::exp_coarse(x)) - exact) / exact).abs();
            assert!(relative <= 3e-6, "e^{x}: {relative}");
        }
    }
}
