//! Scoring a 1,000-word document on one core: rules only, and rules plus MiniLM sentence
//! embeddings (budget without the LM: ≤ 100 ms). The LM (density surprisal) is not built yet.

use criterion::{criterion_group, criterion_main, Criterion};
use postlens_analysis::slop::ScoreOptions;
use text_scorer::{score_document, TextSubmitted};

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
        b.iter(|| score_document(None, &text, &input, &options).expect("scores"))
    });
    let Some(dir) = postlens_models::model_dir() else {
        eprintln!("no models/: skipping the MiniLM benchmark");
        return;
    };
    let embedder =
        postlens_models::SentenceEmbedder::load(&dir.join("minilm-l6-v2")).expect("MiniLM");
    let mut group = c.benchmark_group("slow");
    group.sample_size(10);
    group.bench_function(
        "score 1,000 words, rules + MiniLM sentence embeddings",
        |b| b.iter(|| score_document(Some(&embedder), &text, &input, &options).expect("scores")),
    );
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
