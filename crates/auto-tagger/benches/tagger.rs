//! Tagging captions warm (budget ≤ 10 ms per caption on one core): caption rules, MiniLM,
//! category ranking over 10,281 categories, keyphrases. One caption alone pays a whole
//! forward pass; in Lambda an SQS batch (10 records by default) shares one, which the
//! batch benchmark measures (criterion reports the time per batch of 10).
//! Needs `make models`; run with `make bench` (pinned to one core).
#![allow(missing_docs)] // criterion_group! defines an undocumented `pub fn`

use auto_tagger::eval::parse_cases;
use auto_tagger::Models;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use postlens_analysis::tags::product_text;

fn bench(c: &mut Criterion) {
    let Some(dir) = postlens_models::model_dir() else {
        eprintln!("no models/ directory: run `make models` first");
        return;
    };
    let models = Models::load(&dir).expect("models load");
    let cases = parse_cases(include_str!("../../../fixtures/tags/dev.jsonl")).expect("cases");
    let captions: Vec<&str> = cases.iter().map(|c| c.caption.as_str()).collect();

    c.bench_function("tag one caption (mean over 64 labelled captions)", |b| {
        let mut i = 0;
        b.iter(|| {
            let caption = captions[i % captions.len()];
            i += 1;
            models.tag(caption, None).expect("tags")
        })
    });
    let texts: Vec<String> = captions.iter().map(|c| product_text(c)).collect();
    let mut group = c.benchmark_group("batch");
    group.throughput(Throughput::Elements(10));
    group.bench_function("tag 10 captions sharing one forward pass", |b| {
        let mut start = 0;
        b.iter(|| {
            let batch: Vec<usize> = (start..start + 10).map(|i| i % captions.len()).collect();
            start += 10;
            let refs: Vec<&str> = batch.iter().map(|&i| texts[i].as_str()).collect();
            let encoded = models.encode(&refs).expect("encodes");
            let tagged: Vec<_> = batch
                .iter()
                .zip(&encoded)
                .map(|(&i, e)| models.tag_encoded(captions[i], &texts[i], None, &[], Some(e)))
                .collect();
            tagged
        })
    });
    group.finish();
    let long = "Brand new Nike Air Force 1 07 triple white, all sizes 38-46 available, \
        original with box and receipt. Pay on delivery in Lagos and Abuja, nationwide \
        shipping 2-3 days. DM or WhatsApp 08031234567 to order #sneakers #airforce1 #lagos";
    c.bench_function("tag a long caption (40 words)", |b| {
        b.iter(|| models.tag(long, None).expect("tags"))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
