//! Caption parsing speed over the labelled captions (budget: ≤ 50 µs per caption), and the
//! language detector's over the same markets' captions.
#![allow(missing_docs)] // criterion_group! defines an undocumented `pub fn`

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use postlens_analysis::caption::parse_caption;
use postlens_analysis::language::detect_language;

#[path = "support/fixtures.rs"]
mod fixtures;

fn read(file: &str) -> Vec<(String, Option<String>)> {
    fixtures::captions_with_markets(&format!("captions/{file}"))
}

fn bench(c: &mut Criterion) {
    let captions = read("labelled.jsonl");
    let mut group = c.benchmark_group("caption");
    group.throughput(Throughput::Elements(captions.len() as u64));
    group.bench_function("parse_all_labelled", |b| {
        b.iter(|| {
            for (caption, market) in &captions {
                black_box(parse_caption(black_box(caption), market.as_deref()));
            }
        })
    });
    let markets = read("markets.jsonl");
    group.throughput(Throughput::Elements(markets.len() as u64));
    group.bench_function("parse_all_markets", |b| {
        b.iter(|| {
            for (caption, market) in &markets {
                black_box(parse_caption(black_box(caption), market.as_deref()));
            }
        })
    });
    // Issue 29's set: phones in 30 markets' numbering plans, each candidate validated by
    // libphonenumber's metadata.
    let contacts_markets = read("contacts-markets.jsonl");
    group.throughput(Throughput::Elements(contacts_markets.len() as u64));
    group.bench_function("parse_all_contacts_markets", |b| {
        b.iter(|| {
            for (caption, market) in &contacts_markets {
                black_box(parse_caption(black_box(caption), market.as_deref()));
            }
        })
    });
    let longest = captions
        .iter()
        .max_by_key(|(c, _)| c.len())
        .cloned()
        .unwrap_or_default();
    group.throughput(Throughput::Elements(1));
    group.bench_function("parse_longest", |b| {
        b.iter(|| black_box(parse_caption(black_box(&longest.0), longest.1.as_deref())))
    });
    group.finish();

    let mut group = c.benchmark_group("language");
    group.throughput(Throughput::Elements(markets.len() as u64));
    group.bench_function("detect_all_markets", |b| {
        b.iter(|| {
            for (caption, market) in &markets {
                black_box(detect_language(black_box(caption), market.as_deref()));
            }
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
