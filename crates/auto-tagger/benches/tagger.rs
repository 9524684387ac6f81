//! Tagging one caption warm (budget ≤ 10 ms on one core): caption rules, one MiniLM
//! forward pass, category ranking over 10,281 categories, keyphrases.
//! Needs `make models`; run with `make bench` (pinned to one core).

use auto_tagger::eval::parse_cases;
use auto_tagger::Models;
use criterion::{criterion_group, criterion_main, Criterion};

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
    let long = "Brand new Nike Air Force 1 07 triple white, all sizes 38-46 available, \
        original with box and receipt. Pay on delivery in Lagos and Abuja, nationwide \
        shipping 2-3 days. DM or WhatsApp 08031234567 to order #sneakers #airforce1 #lagos";
    c.bench_function("tag a long caption (40 words)", |b| {
        b.iter(|| models.tag(long, None).expect("tags"))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
