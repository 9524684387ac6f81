//! MP4/MOV demux, the sample-table guard, and H.264 (openh264) or HEVC (rust_h265) decoding:
//! the whole path a thumbnail takes from a video's bytes to RGB frames.
#![no_main]

use libfuzzer_sys::fuzz_target;
use postlens_media::{sample_video, MediaLimits, SamplingPlan};

fuzz_target!(|data: &[u8]| {
    postlens_libfuzzer::quiet_panics();
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
