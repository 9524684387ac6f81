//! Real H.264 and HEVC clips (fixtures/videos, made by scripts/make_video_fixtures.sh from
//! CC0 photographs) through the demuxer and the decoders.

use postlens_media::{sample_video, MediaLimits, SamplingPlan};

fn clip(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../fixtures/videos/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(path).expect("fixture clip")
}

fn mean_luma(frame: &postlens_media::RgbFrame) -> f64 {
    let luma = frame.luma();
    luma.iter().map(|&v| v as f64).sum::<f64>() / luma.len() as f64
}

#[test]
fn keyframes_of_a_high_profile_clip_decode_at_their_own_times() {
    let video = sample_video(
        &clip("cup-portrait.mp4"),
        &MediaLimits::default(),
        &SamplingPlan::default(),
    )
    .expect("decodes");
    assert!(
        video.info.codec.starts_with("avc1.64"),
        "{}",
        video.info.codec
    );
    assert_eq!((video.info.width, video.info.height), (360, 640));
    assert_eq!(video.info.duration_ms, 4000);
    assert_eq!(video.info.frame_count, 120);
    // One keyframe per second plus the scene cut after the black lead-in.
    let times: Vec<u64> = video.frames.iter().map(|f| f.time_ms).collect();
    assert_eq!(times, vec![0, 500, 1500, 2500, 3500]);
    assert_eq!(video.decoded_frames, 5, "only keyframes are decoded");
    // The clip opens on black; the cup scene is mid-grey.
    assert!(mean_luma(&video.frames[0]) < 5.0);
    for frame in &video.frames[1..] {
        assert_eq!((frame.width, frame.height), (360, 640));
        assert!(mean_luma(frame) > 40.0, "{frame:?}");
    }
}

#[test]
fn a_clip_with_one_keyframe_is_decoded_in_order_within_the_frame_cap() {
    let limits = MediaLimits {
        max_decoded_frames: 90,
        ..MediaLimits::default()
    };
    let plan = SamplingPlan {
        max_candidates: 6,
        ..SamplingPlan::default()
    };
    let video = sample_video(&clip("cup-one-keyframe.mp4"), &limits, &plan).expect("decodes");
    assert_eq!(video.info.keyframe_count, 2);
    assert!(
        video.decoded_frames <= 90 && video.decoded_frames >= 85,
        "{}",
        video.decoded_frames
    );
    assert_eq!(video.frames.len(), 6);
    let times: Vec<u64> = video.frames.iter().map(|f| f.time_ms).collect();
    assert!(times.windows(2).all(|w| w[0] < w[1]), "{times:?}");
    assert!(
        *times.last().expect("frames") < 3000,
        "only the first 90 frames: {times:?}"
    );
    // Presentation order survives B-frame reordering: black before 500 ms, the cup after.
    for frame in &video.frames {
        let dark = mean_luma(frame) < 5.0;
        assert_eq!(
            dark,
            frame.time_ms < 500,
            "{frame:?} luma {}",
            mean_luma(frame)
        );
    }
}

#[test]
fn baseline_profile_in_a_quicktime_container() {
    let video = sample_video(
        &clip("astronaut.mov"),
        &MediaLimits::default(),
        &SamplingPlan::default(),
    )
    .expect("decodes");
    assert!(
        video.info.codec.starts_with("avc1.42"),
        "{}",
        video.info.codec
    );
    assert_eq!((video.info.width, video.info.height), (640, 640));
    assert!(!video.frames.is_empty());
}

/// HEVC (`hvc1`), the iPhone's default codec, was refused as `unsupported_codec`. A 1080p
/// portrait clip with B-frames and a keyframe a second is sampled from its keyframes.
#[test]
fn hevc_from_a_phone_is_sampled_from_its_keyframes() {
    let video = sample_video(
        &clip("cup-hevc-1080p.mp4"),
        &MediaLimits::default(),
        &SamplingPlan::default(),
    )
    .expect("hevc");
    assert!(video.info.codec.starts_with("hvc1"), "{}", video.info.codec);
    assert_eq!((video.info.width, video.info.height), (1080, 1920));
    assert_eq!(video.info.matrix, "bt709", "from the colr box");
    assert_eq!(video.info.keyframe_count, 3);
    let times: Vec<u64> = video.frames.iter().map(|f| f.time_ms).collect();
    assert_eq!(times, vec![0, 1000, 2000]);
    assert_eq!(video.decoded_frames, 3, "keyframes only");
    assert_eq!(video.failed_samples, 0);
    for frame in &video.frames {
        assert_eq!((frame.width, frame.height), (1080, 1920));
        assert!(mean_luma(frame) > 40.0, "{frame:?}");
    }
}

/// One keyframe in 25 frames: decoded in order, reordered pictures included (the decoder is
/// drained at the end), candidates spread over the clip.
#[test]
fn hevc_with_one_keyframe_is_decoded_in_order() {
    let plan = SamplingPlan {
        max_candidates: 5,
        ..SamplingPlan::default()
    };
    let video =
        sample_video(&clip("cup-hevc.mp4"), &MediaLimits::default(), &plan).expect("hevc in order");
    assert_eq!(video.info.keyframe_count, 1);
    assert_eq!(video.info.frame_count, 25);
    assert_eq!(
        video.decoded_frames, 25,
        "every frame, the last ones drained"
    );
    assert_eq!(video.frames.len(), 5);
    let times: Vec<u64> = video.frames.iter().map(|f| f.time_ms).collect();
    assert!(times.windows(2).all(|t| t[0] < t[1]), "{times:?}");
    assert!(*times.last().expect("frames") < 1000, "{times:?}");
}

#[test]
fn codecs_other_than_h264_and_hevc_are_named_and_refused() {
    let error = sample_video(
        &clip("cup-av1.mp4"),
        &MediaLimits::default(),
        &SamplingPlan::default(),
    )
    .expect_err("av1");
    assert_eq!(error.code(), "unsupported_codec");
    assert!(error.to_string().contains("av01"), "{error}");
}

#[test]
fn every_prefix_of_an_hevc_clip_fails_cleanly_or_decodes() {
    let bytes = clip("cup-hevc-1080p.mp4");
    for cut in (0..bytes.len()).step_by(4999) {
        match sample_video(
            &bytes[..cut],
            &MediaLimits::default(),
            &SamplingPlan::default(),
        ) {
            Ok(video) => assert!(!video.frames.is_empty()),
            Err(error) => assert!(!error.code().is_empty()),
        }
    }
}

#[test]
fn broken_and_oversized_clips_are_typed_errors() {
    let limits = MediaLimits::default();
    let plan = SamplingPlan::default();
    let truncated = sample_video(&clip("cup-truncated.mp4"), &limits, &plan).expect_err("cut");
    assert_eq!(truncated.code(), "corrupt_media", "{truncated}");
    // black.mp4 with stsc saying one sample a chunk while stco lists one chunk: re_mp4
    // indexed stco past its end (a caught panic, found by the libFuzzer mp4 target).
    let stsc = std::fs::read(format!(
        "{}/../../fixtures/fuzz/mp4/stsc-25-chunks-stco-1.mp4",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("kept input");
    let stsc = sample_video(&stsc, &limits, &plan).expect_err("tables disagree");
    assert_eq!(stsc.code(), "corrupt_media", "{stsc}");
    assert!(stsc.to_string().contains("stsz declares 25"), "{stsc}");
    let not_video = sample_video(b"this is not a video at all", &limits, &plan).expect_err("text");
    assert_eq!(not_video.code(), "not_a_video", "{not_video}");
    let jpeg = std::fs::read(format!(
        "{}/../../fixtures/images/coffee.jpg",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("photo");
    assert_eq!(
        sample_video(&jpeg, &limits, &plan)
            .expect_err("jpeg")
            .code(),
        "not_a_video"
    );

    let short = MediaLimits {
        max_duration_ms: 3000,
        ..limits
    };
    let long = sample_video(&clip("cup-portrait.mp4"), &short, &plan).expect_err("too long");
    assert_eq!(long.code(), "video_too_long");
    let small = MediaLimits {
        max_video_pixels: 320 * 320,
        ..limits
    };
    let big = sample_video(&clip("cup-portrait.mp4"), &small, &plan).expect_err("too big");
    assert_eq!(big.code(), "resolution_too_large");
    // Over the kept size but within what is decoded: downscaled, aspect kept.
    let kept = MediaLimits {
        max_pixels: 320 * 320,
        ..limits
    };
    let video = sample_video(&clip("cup-portrait.mp4"), &kept, &plan).expect("downscaled");
    for frame in &video.frames {
        assert!(
            u64::from(frame.width * frame.height) <= 320 * 320,
            "{frame:?}"
        );
        assert!((frame.height as f32 / frame.width as f32 - 640.0 / 360.0).abs() < 0.02);
    }
    let tiny = MediaLimits {
        max_bytes: 1000,
        ..limits
    };
    let heavy = sample_video(&clip("cup-portrait.mp4"), &tiny, &plan).expect_err("too heavy");
    assert_eq!(heavy.code(), "media_too_large");
}

#[test]
fn every_prefix_of_a_clip_fails_cleanly_or_decodes() {
    // Cut anywhere: never a panic, always a frame or a typed error.
    let bytes = clip("cup-portrait.mp4");
    for cut in (0..bytes.len()).step_by(997) {
        match sample_video(
            &bytes[..cut],
            &MediaLimits::default(),
            &SamplingPlan::default(),
        ) {
            Ok(video) => assert!(!video.frames.is_empty()),
            Err(error) => assert!(!error.code().is_empty()),
        }
    }
}

/// The clip with its `tkhd` claiming `width` x `height` (16.16 fixed point, the box's last
/// eight bytes); the H.264 stream inside still says 360x640.
fn with_tkhd_size(mut bytes: Vec<u8>, width: u16, height: u16) -> Vec<u8> {
    let at = bytes
        .windows(4)
        .position(|w| w == b"tkhd")
        .expect("a tkhd box")
        - 4;
    let size =
        u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize;
    let end = at + size;
    bytes[end - 8..end - 6].copy_from_slice(&width.to_be_bytes());
    bytes[end - 6..end - 4].copy_from_slice(&[0, 0]);
    bytes[end - 4..end - 2].copy_from_slice(&height.to_be_bytes());
    bytes[end - 2..end].copy_from_slice(&[0, 0]);
    bytes
}

#[test]
fn the_decoded_picture_size_is_capped_not_only_the_containers() {
    // Issue 13: the container's size was checked, the stream's was not (openh264 decodes
    // pictures of up to ~9.4 Mpx whatever tkhd says).
    let lying = with_tkhd_size(clip("cup-portrait.mp4"), 100, 100);
    let limits = MediaLimits {
        max_video_pixels: 200 * 200,
        ..MediaLimits::default()
    };
    let error = sample_video(&lying, &limits, &SamplingPlan::default()).expect_err("too large");
    assert_eq!(error.code(), "resolution_too_large", "{error}");
    // The honest header of the same clip is refused before decoding, as before.
    let honest = sample_video(&clip("cup-portrait.mp4"), &limits, &SamplingPlan::default());
    assert_eq!(
        honest.expect_err("too large").code(),
        "resolution_too_large"
    );
}

/// Phones record 4K by default; 4K was refused as `resolution_too_large`. Each picture is
/// decoded and brought down to the kept 1080p at once.
#[test]
fn a_4k_portrait_clip_is_decoded_and_kept_at_1080p() {
    let video = sample_video(
        &clip("cup-4k-portrait.mp4"),
        &MediaLimits::default(),
        &SamplingPlan::default(),
    )
    .expect("4K");
    assert_eq!((video.info.width, video.info.height), (2160, 3840));
    assert!(video.info.keyframe_count >= 4, "{:?}", video.info);
    assert!(!video.frames.is_empty());
    for frame in &video.frames {
        assert_eq!((frame.width, frame.height), (1080, 1920));
        assert_eq!(frame.pixels.len(), 1080 * 1920 * 3);
    }
    assert_eq!(video.decoded_frames, video.frames.len(), "keyframes only");
}

/// A 5 s clip with a keyframe every 2 s had fewer than four keyframes, so all its 150 frames
/// were decoded in order: it cost more than a 15 s clip. Its 3 keyframes cover it.
#[test]
fn a_short_clip_with_keyframes_every_two_seconds_is_sampled_from_them() {
    let video = sample_video(
        &clip("cup-5s-gop2s.mp4"),
        &MediaLimits::default(),
        &SamplingPlan::default(),
    )
    .expect("decodes");
    assert_eq!(video.info.keyframe_count, 3);
    assert_eq!(
        video.decoded_frames, 3,
        "keyframes only, not {}",
        video.info.frame_count
    );
    let times: Vec<u64> = video.frames.iter().map(|f| f.time_ms).collect();
    assert_eq!(times, vec![0, 2000, 4000]);
}

fn mean_rgb(frame: &postlens_media::RgbFrame) -> [f64; 3] {
    let mut sum = [0f64; 3];
    for pixel in frame.pixels.chunks_exact(3) {
        for (total, &value) in sum.iter_mut().zip(pixel) {
            *total += f64::from(value);
        }
    }
    let count = (frame.pixels.len() / 3) as f64;
    sum.map(|total| total / count)
}

/// Every clip was converted as BT.601 limited range. Clips of one solid colour (200, 50, 20),
/// encoded BT.709 limited, BT.709 full and BT.601 limited with the VUI saying so, come back
/// as that colour; read as BT.601, the BT.709 one's YUV (83, 101, 196) gives about
/// (187, 33, 24).
#[test]
fn each_clip_is_converted_with_the_matrix_and_range_it_names() {
    for (name, matrix, full_range) in [
        ("colour-709-limited.mp4", "bt709", false),
        ("colour-709-full.mp4", "bt709", true),
        ("colour-601-limited.mp4", "bt601", false),
        // HEVC names its colour in the sample entry's `colr` box; the iPhone's HDR default
        // is Main 10 with the BT.2020 matrix (its HLG transfer is not tone-mapped).
        ("colour-hevc-709-limited.mp4", "bt709", false),
        ("colour-hevc-2020-10bit.mp4", "bt2020", false),
    ] {
        let video = sample_video(
            &clip(name),
            &MediaLimits::default(),
            &SamplingPlan::default(),
        )
        .expect(name);
        assert_eq!(
            (video.info.matrix, video.info.full_range),
            (matrix, full_range),
            "{name}"
        );
        let [r, g, b] = mean_rgb(&video.frames[0]);
        for (got, want) in [(r, 200.0), (g, 50.0), (b, 20.0)] {
            assert!(
                (got - want).abs() <= 4.0,
                "{name}: ({r:.0}, {g:.0}, {b:.0})"
            );
        }
    }
    // The committed clips say nothing: BT.601, as before.
    let plain = sample_video(
        &clip("cup-portrait.mp4"),
        &MediaLimits::default(),
        &SamplingPlan::default(),
    )
    .expect("cup");
    assert_eq!(plain.info.matrix, "bt601");
}
