//! How the model-free analyses grow with their input (issue 16's growth curves, the parts
//! that need no model or media): caption parsing over caption length, and the text scorer's
//! rules over document length. `taskset -c 0 cargo bench -p postlens-analysis --bench growth`.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use postlens_analysis::caption::parse_caption;
use postlens_analysis::slop::{score, ScoreOptions};

/// The labelled captions, concatenated until `words` long (real seller text, not filler).
fn caption_of(words: usize) -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/captions/labelled.jsonl"
    );
    let captions: Vec<String> = std::fs::read_to_string(path)
        .expect("labelled captions")
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["caption"].as_str().map(str::to_owned))
        .collect();
    let mut text = String::new();
    for caption in captions.iter().cycle() {
        if text.split_whitespace().count() >= words {
            break;
        }
        text.push_str(caption);
        text.push('\n');
    }
    text.split_whitespace()
        .take(words)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Mixed human and boilerplate sentences, `words` long.
fn document_of(words: usize) -> String {
    let sentences = [
        "The council met on Tuesday to discuss the closure of Elm Street, which has carried buses since 1962. ",
        "In today's rapidly evolving landscape, it is important to note that innovation plays a crucial role. ",
        "Maria Lopez, who runs the bakery on the corner, said deliveries start at 5:30 and the new rules would cost her two hours a week. ",
        "Furthermore, studies show that leveraging cutting-edge technology is truly essential for sustainable growth. ",
    ];
    let mut text = String::new();
    let mut i = 0;
    while text.split_whitespace().count() < words {
        text.push_str(sentences[i % sentences.len()]);
        i += 1;
    }
    text
}

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
