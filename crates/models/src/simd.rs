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
    let mut p: f32 = 0.041_417_1;
    p = p.mul_add(r, 0.167_906_86);
    p = p.mul_add(r, 0.500_048_5);
    p = p.mul_add(r, 0.999_963_6);
    p = p.mul_add(r, 0.999_999_2);
    p * two_n
}

/// `x` clamped to where `2^n` is a normal number, `n = round(x log2 e)` and `2^n`.
/// Adding 1.5 * 2^23 rounds to the nearest integer and leaves it in the low mantissa bits:
/// `n` as a float and as an integer without `round` or a float-to-int conversion, neither
/// of which vectorises everywhere (`as i32` saturates, one lane at a time).
#[inline(always)]
fn exponent_split(x: f32) -> (f32, f32, f32) {
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 87.0);
    let shifted = x.mul_add(std::f32::consts::LOG2_E, ROUND);
    let n = shifted - ROUND;
    let n_bits = shifted.to_bits().wrapping_sub(ROUND.to_bits());
    (x, n, f32::from_bits(n_bits.wrapping_add(127) << 23))
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
