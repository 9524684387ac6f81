//! Run-time choice of vector extension for the numeric kernels (the detector's
//! convolutions, the language model's per-position statistics), and the vectorisable `exp`
//! they share. Kernels are plain Rust over fixed-width lane arrays, compiled once per
//! extension by [`simd_dispatch`].

/// The vector extensions the kernels are compiled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Isa {
    /// x86-64 with AVX-512F and FMA.
    #[cfg(target_arch = "x86_64")]
    Avx512,
    /// x86-64 with AVX2, FMA and F16C (half-precision conversion, on every AVX2 CPU).
    #[cfg(target_arch = "x86_64")]
    Avx2,
    /// The target's baseline: NEON on aarch64, SSE2 on x86-64.
    Baseline,
}

impl Isa {
    /// Every extension this CPU can run, best first.
    // On aarch64 the x86 pushes are compiled out and clippy sees a lone push after `new`.
    #[cfg_attr(not(target_arch = "x86_64"), allow(clippy::vec_init_then_push))]
    pub fn available() -> Vec<Isa> {
        let mut all = Vec::new();
        #[cfg(target_arch = "x86_64")]
        {
            let fma = std::arch::is_x86_feature_detected!("fma");
            if fma && std::arch::is_x86_feature_detected!("avx512f") {
                all.push(Isa::Avx512);
            }
            if fma
                && std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("f16c")
            {
                all.push(Isa::Avx2);
            }
        }
        all.push(Isa::Baseline);
        all
    }

    /// The one the kernels run (tests may pin another of [`Isa::available`]).
    pub(crate) fn current() -> Isa {
        #[cfg(test)]
        if let Some(pinned) = PINNED_ISA.get() {
            return pinned;
        }
        static BEST: std::sync::OnceLock<Isa> = std::sync::OnceLock::new();
        *BEST.get_or_init(|| Isa::available()[0])
    }
}

#[cfg(test)]
thread_local! {
    static PINNED_ISA: std::cell::Cell<Option<Isa>> = const { std::cell::Cell::new(None) };
}

/// Runs `check` once with the kernels pinned to each extension this CPU has.
#[cfg(test)]
pub(crate) fn for_each_isa(mut check: impl FnMut(Isa)) {
    for isa in Isa::available() {
        PINNED_ISA.set(Some(isa));
        check(isa);
    }
    PINNED_ISA.set(None);
}

/// Compiles `$body` (an `#[inline(always)]` function) once per vector extension and calls
/// the one [`Isa::current`] names.
macro_rules! simd_dispatch {
    ($(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? => $body:ident) => {
        $(#[$doc])*
        pub(crate) fn $name($($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,fma")]
                unsafe fn avx512($($arg: $ty),*) $(-> $ret)? {
                    $body($($arg),*)
                }
                #[target_feature(enable = "avx2,fma")]
                unsafe fn avx2($($arg: $ty),*) $(-> $ret)? {
                    $body($($arg),*)
                }
                match $crate::simd::Isa::current() {
                    // SAFETY: `Isa::current` is one of `Isa::available`, which checked the CPU.
                    $crate::simd::Isa::Avx512 => return unsafe { avx512($($arg),*) },
                    // SAFETY: as above.
                    $crate::simd::Isa::Avx2 => return unsafe { avx2($($arg),*) },
                    $crate::simd::Isa::Baseline => {}
                }
            }
            $body($($arg),*)
        }
    };
}
pub(crate) use simd_dispatch;

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
