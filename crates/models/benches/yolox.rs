//! YOLOX-Nano's forward pass on one 416x416 input (fixtures/images/coffee.jpg letterboxed),
//! the number `make bench-compare` sets beside onnxruntime, and the letterbox itself. Needs
//! `make models`; run pinned to one core (`taskset -c 0`).
#![allow(missing_docs)] // criterion_group! defines an undocumented `pub fn`

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use postlens_models::yolox::{focus_input, RgbView};
use postlens_models::{model_dir, YoloxNano};

fn bench(c: &mut Criterion) {
    let dir = model_dir().expect("run `make models`").join("yolox-nano");
    let model = YoloxNano::load(&dir).expect("YOLOX-Nano loads");
    let photo = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/images/coffee.jpg"
    );
    let photo = image::open(photo).expect("fixture photo").to_rgb8();
    let view = RgbView {
        width: photo.width() as usize,
        height: photo.height() as usize,
        pixels: photo.as_raw(),
    };
    let mut group = c.benchmark_group("yolox");
    group.bench_function("letterbox", |b| {
        b.iter(|| black_box(focus_input(black_box(view)).expect("input")))
    });
    let (input, _) = focus_input(view).expect("input");
    group.bench_function("forward_416", |b| {
        b.iter(|| black_box(model.forward(black_box(&input)).expect("forward")))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
