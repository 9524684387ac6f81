//! Still images: JPEG (both decoders), PNG, WebP and HEIC (heic-rs), orientation included.
#![no_main]

use libfuzzer_sys::fuzz_target;
use postlens_media::{decode_image, MediaLimits};

fuzz_target!(|data: &[u8]| {
    postlens_libfuzzer::quiet_panics();
    if let Ok(frame) = decode_image(data, &MediaLimits::default()) {
        assert_eq!(
            frame.pixels.len(),
            frame.width as usize * frame.height as usize * 3
        );
    }
});
