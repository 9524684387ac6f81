//! What the libFuzzer targets share: the target functions themselves are crates/fuzz's, the
//! ones `make test` replays on the stable toolchain, so both engines check the same
//! invariants and a finding here replays there unchanged.

use postlens_fuzz::TARGETS;

/// Runs crates/fuzz's target `name` on `data`.
///
/// The decoders run their untrusted steps under `catch_unwind` (a panic there is one corrupt
/// file, as in the Lambda); libfuzzer-sys's hook would abort on those too. With a quiet hook
/// only a panic that escapes the code under test aborts, through libfuzzer-sys's own
/// `catch_unwind`, and counts as a crash.
pub fn run(name: &str, data: &[u8]) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| std::panic::set_hook(Box::new(|_| {})));
    let Some(target) = TARGETS.iter().find(|target| target.name == name) else {
        panic!("crates/fuzz has no target named {name}");
    };
    (target.run)(data);
}
