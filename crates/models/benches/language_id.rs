//! fastText's lid.176 in the language detector: loading it (part of the Lambda's cold start)
//! and the detector over issue 29's round-two captions with the model where the rules abstain
//! (every caption) and for the model alone. Needs `make models`.
#![allow(missing_docs)] // criterion_group! defines an undocumented `pub fn`

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use postlens_analysis::language::{detect_language_with, LanguageModel};
use postlens_models::{model_dir, LanguageId};

#[path = "../../analysis/benches/support/fixtures.rs"]
mod fixtures;

fn bench(c: &mut Criterion) {
    let dir = model_dir().expect("run `make models`");
    let mut group = c.benchmark_group("language_id");
    group.bench_function("load_lid_176", |b| {
        b.iter(|| black_box(LanguageId::load(&dir).expect("lid.176 loads")))
    });
    let model = LanguageId::load(&dir).expect("lid.176 loads");
    let captions = fixtures::captions_with_markets("languages/round2.jsonl");
    group.throughput(Throughput::Elements(captions.len() as u64));
    group.bench_function("detect_round_two_with_model", |b| {
        b.iter(|| {
            for (caption, market) in &captions {
                black_box(detect_language_with(
                    black_box(caption),
                    market.as_deref(),
                    Some(&model),
                ));
            }
        })
    });
    group.bench_function("rank_round_two_model_alone", |b| {
        b.iter(|| {
            for (caption, _) in &captions {
                black_box(model.rank(black_box(caption)));
            }
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
