//! Thumbnails end to end on one core (budgets: 1.5 s for a 15 s 720x1280 H.264 clip,
//! 150 ms for a 1080p JPEG), and the costs inside: H.264 decoding per frame, the detector
//! per frame and encoding one crop. Needs `make models` and `scripts/make_bench_media.sh`
//! (ffmpeg); run with `make bench` (pinned to one core).
#![allow(missing_docs)] // criterion_group! defines an undocumented `pub fn`

use std::path::PathBuf;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use postlens_media::{encode_crop, sample_video, MediaLimits, SamplingPlan};
use postlens_models::{DetectorSettings, RgbView, YoloxNano};
use thumbnail_generator::{generate, Media, Settings};

fn media(name: &str) -> Option<Vec<u8>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/bench-media")
        .join(name);
    std::fs::read(&path).ok()
}

fn bench(c: &mut Criterion) {
    let Some(dir) = postlens_models::model_dir() else {
        eprintln!("no models/ directory: run `make models` first");
        return;
    };
    let (Some(clip), Some(photo)) = (media("clip-720x1280-15s.mp4"), media("photo-1920x1080.jpg"))
    else {
        eprintln!("no benchmark media: run scripts/make_bench_media.sh (needs ffmpeg)");
        return;
    };
    let detector = YoloxNano::load(&dir.join("yolox-nano")).expect("YOLOX-Nano");
    let settings = Settings::default();

    let mut group = c.benchmark_group("thumbnail");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    group.bench_function("15 s 720x1280 H.264 clip, end to end", |b| {
        b.iter(|| generate(Media::Video(&clip), &detector, &settings).expect("thumbnails"))
    });
    group.bench_function("1080p JPEG, end to end", |b| {
        b.iter(|| generate(Media::Images(vec![&photo]), &detector, &settings).expect("thumbnail"))
    });
    // In-order decoding of the first 60 frames (divide by 60 for a frame; fps = 60 / time).
    let in_order = SamplingPlan {
        max_candidates: 1,
        min_keyframes: usize::MAX,
        max_keyframe_gap_ms: 0,
    };
    let sixty = MediaLimits {
        max_decoded_frames: 60,
        ..MediaLimits::default()
    };
    group.bench_function("decode 60 frames of 720x1280 in order", |b| {
        b.iter(|| sample_video(&clip, &sixty, &in_order).expect("frames"))
    });
    group.finish();

    let frame = sample_video(&clip, &MediaLimits::default(), &SamplingPlan::default())
        .expect("frames")
        .frames
        .swap_remove(0);
    let view = RgbView {
        width: frame.width as usize,
        height: frame.height as usize,
        pixels: &frame.pixels,
    };
    c.bench_function("YOLOX-Nano on one 720x1280 frame", |b| {
        b.iter(|| {
            detector
                .detect(view, &DetectorSettings::default())
                .expect("detections")
        })
    });
    // One 4:5 crop of that frame as a post encodes it (Lanczos resize + JPEG at q85); two
    // per post.
    c.bench_function("crop 720x900 of a 720x1280 frame, resize, JPEG q85", |b| {
        b.iter(|| encode_crop(&frame, (0, 190, 720, 900), 720, 900, 85).expect("jpeg"))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
