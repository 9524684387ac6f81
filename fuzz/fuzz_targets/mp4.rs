//! MP4/MOV demux, the sample-table guard, and H.264 (openh264) or HEVC (rust_h265) decoding:
//! the whole path a thumbnail takes from a video's bytes to RGB frames.
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
use postlens_media::{sample_video, MediaLimits, SamplingPlan};

fuzz_target!(|data: &[u8]| {
    quiet_panics::install();
    let limits = MediaLimits {
        max_decoded_frames: 16,
        ..MediaLimits::default()
    };
    let plan = SamplingPlan {
        max_candidates: 4,
        ..SamplingPlan::default()
    };
    if let Ok(sampled) = sample_video(data, &limits, &plan) {
        for frame in &sampled.frames {
            assert_eq!(
                frame.pixels.len(),
                frame.width as usize * frame.height as usize * 3
            );
        }
    }
});
