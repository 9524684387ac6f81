//! Scoring a 1,000-word document on one core: rules only (budget without the LM: ≤ 100 ms),
//! rules plus MiniLM sentence embeddings, and everything with SmolLM2 surprisal over the
//! first LM_WINDOW_TOKENS tokens (budget with the LM: ≤ 1.5 s).
#![allow(missing_docs)] // criterion_group! defines an undocumented `pub fn`

use criterion::{criterion_group, criterion_main, Criterion};
use postlens_analysis::slop::ScoreOptions;
use std::sync::Arc;

use text_scorer::{score_document, Models, TextSubmitted};

fn thousand_words() -> String {
    let paragraphs = [
        "The council met on Tuesday to discuss the closure of Elm Street, which has carried buses since 1962. ",
        "In today's rapidly evolving landscape, it is important to note that innovation plays a crucial role. ",
        "Maria Lopez, who runs the bakery on the corner, said deliveries start at 5:30 and the new rules would cost her two hours a week. ",
        "Furthermore, studies show that leveraging cutting-edge technology is truly essential for sustainable growth. ",
        "The trial will run for twelve weeks, after which the transport committee will publish its counts of cyclists and pedestrians. ",
    ];
    let mut text = String::new();
    let mut i = 0;
    while text.split_whitespace().count() < 1000 {
        text.push_str(paragraphs[i % paragraphs.len()]);
        i += 1;
    }
    text
}

fn bench(c: &mut Criterion) {
    let text = thousand_words();
    let input = TextSubmitted {
        doc_id: "bench".to_owned(),
        domain: "news".to_owned(),
        text: Some(text.clone()),
        s3_uri: None,
        prompt: None,
        references: Vec::new(),
        options: None,
    };
    let options = ScoreOptions::default();
    c.bench_function("score 1,000 words, rules only", |b| {
        b.iter(|| score_document(&Models::default(), &text, &input, &options).expect("scores"))
    });
    let Some(dir) = postlens_models::model_dir() else {
        eprintln!("no models/: skipping the MiniLM benchmark");
        return;
    };
    let all = Models::load(&dir).expect("MiniLM and SmolLM2");
    let minilm_only = Models {
        embedder: all.embedder.clone(),
        language_model: None,
    };
    let lm_only = Models {
        embedder: None,
        language_model: all.language_model.clone(),
    };
    let mut group = c.benchmark_group("slow");
    group.sample_size(10);
    for (name, models) in [
        (
            "score 1,000 words, rules + MiniLM sentence embeddings",
            &minilm_only,
        ),
        ("score 1,000 words, rules + SmolLM2 surprisal", &lm_only),
        (
            "score 1,000 words, rules + MiniLM + SmolLM2 (the Lambda)",
            &all,
        ),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| score_document(models, &text, &input, &options).expect("scores"))
        });
    }
    // Cold start to ready: loading both models (the Lambda's init, minus the AWS clients).
    group.bench_function("load MiniLM + SmolLM2", |b| {
        b.iter(|| Arc::new(Models::load(&dir).expect("models")))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
