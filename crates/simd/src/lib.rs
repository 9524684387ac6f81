//! The run-time choice of vector extension for every numeric kernel in postlens (the
//! detector's convolutions, MiniLM's dense layers and GELU, the language model's
//! per-position statistics and load, the tagger's dot products), in one place.
//!
//! The workspace is built for each architecture's baseline (x86-64: SSE2, as Lambda does
//! not promise a newer x86 CPU; aarch64: NEON, which every arm64 Lambda CPU has). Kernels
//! are compiled once per extension, chosen once per process from what the CPU reports,
//! and tests pin each extension in turn (feature `testing`).

/// The vector extensions the kernels are compiled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isa {
    /// x86-64 with AVX-512F and FMA (AVX-512F implies AVX2, for the CPU and for rustc).
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
    pub fn current() -> Isa {
        #[cfg(feature = "testing")]
        if let Some(pinned) = PINNED_ISA.get() {
            return pinned;
        }
        static BEST: std::sync::OnceLock<Isa> = std::sync::OnceLock::new();
        *BEST.get_or_init(|| Isa::available()[0])
    }
}

#[cfg(feature = "testing")]
thread_local! {
    static PINNED_ISA: std::cell::Cell<Option<Isa>> = const { std::cell::Cell::new(None) };
}

/// Runs `check` once with the kernels pinned to each extension this CPU has.
#[cfg(feature = "testing")]
pub fn for_each_isa(mut check: impl FnMut(Isa)) {
    for isa in Isa::available() {
        PINNED_ISA.set(Some(isa));
        check(isa);
    }
    PINNED_ISA.set(None);
}

/// Compiles `$body` (an `#[inline(always)]` function) once per vector extension and calls
/// the one [`Isa::current`] names. The generated function is `pub(crate)` in the calling
/// crate.
#[macro_export]
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
                match $crate::Isa::current() {
                    // SAFETY: `Isa::current` is one of `Isa::available`, which checked the CPU.
                    $crate::Isa::Avx512 => return unsafe { avx512($($arg),*) },
                    // SAFETY: as above.
                    $crate::Isa::Avx2 => return unsafe { avx2($($arg),*) },
                    $crate::Isa::Baseline => {}
                }
            }
            $body($($arg),*)
        }
    };
}

#[cfg(test)]
mod tests {
    use super::Isa;

    #[test]
    fn the_baseline_is_always_there_and_last() {
        let all = Isa::available();
        assert_eq!(all.last(), Some(&Isa::Baseline));
        assert!(all.contains(&Isa::current()));
        assert_eq!(Isa::current(), all[0], "the best extension runs");
    }

    #[cfg(feature = "testing")]
    #[test]
    fn each_extension_is_pinned_in_turn_then_released() {
        let mut seen = Vec::new();
        super::for_each_isa(|isa| {
            assert_eq!(Isa::current(), isa);
            seen.push(isa);
        });
        assert_eq!(seen, Isa::available());
        assert_eq!(Isa::current(), Isa::available()[0]);
    }
}
