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
    const LOG2_E: f32 = std::f32::consts::LOG2_E;
    // ln 2 split so that `n * LN2_HIGH` is exact for the n that occur.
    const LN2_HIGH: f32 = 0.693_359_4;
    const LN2_LOW: f32 = -2.121_944_4e-4;
    // Adding 1.5 * 2^23 rounds to the nearest integer and leaves it in the low mantissa
    // bits: `n` as a float and as an integer without `round` or a float-to-int conversion,
    // neither of which vectorises everywhere (`as i32` saturates, one lane at a time).
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 87.0);
    let shifted = x.mul_add(LOG2_E, ROUND);
    let n = shifted - ROUND;
    let n_bits = shifted.to_bits().wrapping_sub(ROUND.to_bits());
    let r = (-n).mul_add(LN2_LOW, (-n).mul_add(LN2_HIGH, x));
    let mut p: f32 = 1.987_569_1e-4;
    p = p.mul_add(r, 1.398_199_9e-3);
    p = p.mul_add(r, 8.333_452e-3);
    p = p.mul_add(r, 4.166_579_6e-2);
    p = p.mul_add(r, 1.666_666_5e-1);
    p = p.mul_add(r, 0.5);
    let e_r = p.mul_add(r * r, r) + 1.0;
    let two_n = f32::from_bits(n_bits.wrapping_add(127) << 23);
    e_r * two_n
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
}
