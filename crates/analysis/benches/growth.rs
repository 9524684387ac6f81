//! How the model-free analyses grow with their input (issue 16's growth curves, the parts
//! that need no model or media): caption parsing over caption length, and the text scorer's
//! rules over document length. `taskset -c 0 cargo bench -p postlens-analysis --bench growth`.
#![allow(missing_docs)] // criterion_group! defines an undocumented `pub fn`

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use postlens_analysis::caption::parse_caption;
use postlens_analysis::slop::{score, ScoreOptions};

#[path = "support/inputs.rs"]
mod inputs;
use inputs::{caption_of, document_of};

fn bench(c: &mut Criterion) {
    let mut captions = c.benchmark_group("caption_by_words");
    for words in [10, 40, 160, 640] {
        let caption = caption_of(words);
        captions.throughput(Throughput::Elements(words as u64));
        captions.bench_with_input(
            BenchmarkId::from_parameter(words),
            &caption,
            |b, caption| b.iter(|| black_box(parse_caption(black_box(caption), Some("NG")))),
        );
    }
    captions.finish();

    let mut documents = c.benchmark_group("slop_rules_by_words");
    let options = ScoreOptions::default();
    for words in [250, 1_000, 4_000, 16_000] {
        let document = document_of(words);
        documents.throughput(Throughput::Elements(words as u64));
        documents.bench_with_input(BenchmarkId::from_parameter(words), &document, |b, text| {
            b.iter(|| black_box(score(black_box(text), "news", None, &options)))
        });
    }
    documents.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
