//! What both libFuzzer targets share.

/// The decoders run their untrusted steps under `catch_unwind` (a panic there is one corrupt
/// file, as in the Lambda); libfuzzer-sys's hook would abort on those too. With a quiet hook
/// only a panic that escapes the decoder aborts, through libfuzzer-sys's own
/// `catch_unwind`, and counts as a crash.
pub fn quiet_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| std::panic::set_hook(Box::new(|_| {})));
}
