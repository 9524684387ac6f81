//! One 10-record SQS batch through the real handler path, publishing to memory
//! (budget: ≤ 5 ms per batch end to end, excluding the network).
#![allow(missing_docs)] // criterion_group! defines an undocumented `pub fn`

use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use caption_parser::CaptionParser;
use criterion::{criterion_group, criterion_main, Criterion};
use postlens_runtime::{BatchEngine, MemorySink};

fn ten_records() -> SqsEvent {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/posts/posts.jsonl"
    );
    let lines: Vec<String> = std::fs::read_to_string(path)
        .expect("posts")
        .lines()
        .map(str::to_owned)
        .collect();
    let records: Vec<serde_json::Value> = (0..10)
        .map(|i| serde_json::json!({"messageId": format!("m{i}"), "body": lines[i % lines.len()], "eventSourceARN": "arn:aws:sqs:us-east-1:1:q"}))
        .collect();
    serde_json::from_value(serde_json::json!({"Records": records})).expect("event")
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let event = ten_records();
    let sink = Arc::new(MemorySink::default());
    let engine = BatchEngine::new(CaptionParser::new(), sink.clone());
    c.bench_function("caption_parser_batch_of_10", |b| {
        b.iter(|| {
            runtime.block_on(engine.process_batch(&event.records, None));
            sink.take()
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
