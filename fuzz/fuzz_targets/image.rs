//! Still images: JPEG (both decoders), PNG, WebP and HEIC (heic-rs), orientation included.
#![no_main]

mod quiet_panics {
    /// The decoders run their untrusted steps under `catch_unwind` (a panic there is one
    /// corrupt file, as in the Lambda); libfuzzer-sys's hook would abort on those too. With
    /// a quiet hook only a panic that escapes the decoder aborts, through libfuzzer-sys's
    /// own `catch_unwind`, and counts as a crash.
    pub fn install() {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| std::panic::set_hook(Box::new(|_| {})));
    }
}

use libfuzzer_sys::fuzz_target;
use postlens_media::{decode_image, MediaLimits};

fuzz_target!(|data: &[u8]| {
    quiet_panics::install();
    if let Ok(frame) = decode_image(data, &MediaLimits::default()) {
        assert_eq!(
            frame.pixels.len(),
            frame.width as usize * frame.height as usize * 3
        );
    }
});
