//! How each model-running worker's cost grows with its input (issue 16's growth curves; the
//! model-free parts are `postlens-analysis`'s `growth` bench, on the same text): the
//! auto-tagger over caption length, the text scorer (both models, as the Lambda runs it) over
//! document length, and the thumbnail generator over clip length and image size. Needs
//! `make models` and `scripts/make_bench_media.sh` (ffmpeg); `make bench-growth`.
#![allow(missing_docs)] // criterion_group! defines an undocumented `pub fn`

use std::path::PathBuf;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use postlens_analysis::slop::ScoreOptions;
use thumbnail_generator::{generate, Media, Settings};

#[path = "../../analysis/benches/support/inputs.rs"]
mod inputs;
use inputs::{caption_of, document_of};

fn media(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/bench-media")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run scripts/make_bench_media.sh (needs ffmpeg)",
            path.display()
        )
    })
}

fn bench(c: &mut Criterion) {
    let Some(dir) = postlens_models::model_dir() else {
        eprintln!("no models/ directory: run `make models` first");
        return;
    };

    let tagger = auto_tagger::Models::load(&dir).expect("auto-tagger models");
    let mut group = c.benchmark_group("auto_tagger_by_caption_words");
    for words in [10, 40, 160, 640] {
        let caption = caption_of(words);
        group.throughput(Throughput::Elements(words as u64));
        group.bench_with_input(
            BenchmarkId::from_parameter(words),
            &caption,
            |b, caption| b.iter(|| tagger.tag(caption, None).expect("tags")),
        );
    }
    group.finish();
    drop(tagger);

    let scorer = text_scorer::Models::load(&dir).expect("text-scorer models");
    let options = ScoreOptions::default();
    let mut group = c.benchmark_group("text_scorer_by_document_words");
    group.sample_size(10);
    for words in [250, 1_000, 4_000, 16_000] {
        let text = document_of(words);
        let input = text_scorer::TextSubmitted {
            doc_id: format!("growth-{words}"),
            domain: "news".to_owned(),
            text: Some(text.clone()),
            s3_uri: None,
            prompt: None,
            references: Vec::new(),
            options: None,
        };
        group.throughput(Throughput::Elements(words as u64));
        group.bench_with_input(BenchmarkId::from_parameter(words), &text, |b, text| {
            b.iter(|| text_scorer::score_document(&scorer, text, &input, &options).expect("scores"))
        });
    }
    group.finish();
    drop(scorer);

    let detector = postlens_models::YoloxNano::load(&dir.join("yolox-nano")).expect("YOLOX-Nano");
    let settings = Settings::default();
    let mut group = c.benchmark_group("thumbnail_by_clip_seconds");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    for seconds in [5, 15, 60] {
        let clip = media(&format!("clip-720x1280-{seconds}s.mp4"));
        group.bench_with_input(BenchmarkId::from_parameter(seconds), &clip, |b, clip| {
            b.iter(|| generate(Media::Video(clip), &detector, &settings).expect("thumbnails"))
        });
    }
    group.finish();

    // Phone clips by resolution (4 s, 1 s GOP), H.264 and HEVC: 4K pictures are decoded
    // whole and brought down to 1080p (issue 33).
    let mut group = c.benchmark_group("thumbnail_by_clip_resolution");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    for (label, name) in [
        ("720p", "phone-720x1280-4s.mp4"),
        ("1080p", "phone-1080x1920-4s.mp4"),
        ("4K", "phone-2160x3840-4s.mp4"),
        ("720p-hevc", "hevc-720x1280-4s.mp4"),
        ("1080p-hevc", "hevc-1080x1920-4s.mp4"),
        ("4K-hevc", "hevc-2160x3840-4s.mp4"),
    ] {
        let clip = media(name);
        group.bench_with_input(BenchmarkId::from_parameter(label), &clip, |b, clip| {
            b.iter(|| generate(Media::Video(clip), &detector, &settings).expect("thumbnails"))
        });
    }
    group.finish();

    // JPEGs over 1920 px are decoded at a reduced DCT scale (issue 33), so 8 to 48 Mpx run
    // with the default limits; HEIC grids are reduced tile by tile (12, 24 and 48 Mpx).
    let mut group = c.benchmark_group("thumbnail_by_image_megapixels");
    group.sample_size(10);
    for (megapixels, name) in [
        ("0.5", "photo-960x540.jpg"),
        ("2", "photo-1920x1080.jpg"),
        ("8", "photo-3840x2160.jpg"),
        ("12", "photo-4032x3024.jpg"),
        ("24", "photo-6000x4000.jpg"),
        ("48", "photo-8064x6048.jpg"),
        ("12-heic", "photo-4032x3024.heic"),
        ("24-heic", "photo-5712x4284.heic"),
        ("48-heic", "photo-8064x6048.heic"),
    ] {
        let photo = media(name);
        group.bench_with_input(
            BenchmarkId::from_parameter(megapixels),
            &photo,
            |b, photo| {
                b.iter(|| {
                    generate(Media::Images(vec![photo]), &detector, &settings).expect("thumbnail")
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
