//! The text scorer's input handling and its run through the engine, with MiniLM.

mod common;

use std::sync::Arc;

use common::{event_for, gzip, score_of};
use postlens_analysis::slop::ScoreOptions;
use postlens_runtime::envelope::S3Location;
use postlens_runtime::{BatchEngine, MemorySink, MemoryStore, ObjectStore};
use serde_json::{json, Value};
use text_scorer::{decode_document, TextScorer, MAX_TEXT_BYTES};

#[test]
fn documents_are_gunzipped_and_capped_after_inflation() {
    assert_eq!(decode_document(b"plain text").expect("plain"), "plain text");
    assert_eq!(
        decode_document(&gzip("gzipped ünïcode".as_bytes())).expect("gzip"),
        "gzipped ünïcode"
    );
    // A small gzip that inflates past the cap is refused, not inflated without bound.
    let bomb = gzip(&vec![b'a'; MAX_TEXT_BYTES + 10]);
    assert!(bomb.len() < 20_000);
    assert_eq!(
        decode_document(&bomb).expect_err("too large").code(),
        "text_too_large"
    );
    assert_eq!(
        decode_document(&[0x1f, 0x8b, 0, 1, 2])
            .expect_err("bad gzip")
            .code(),
        "gzip_invalid"
    );
    assert_eq!(
        decode_document(&[0xff, 0xfe, 0x00])
            .expect_err("not utf-8")
            .code(),
        "text_not_utf8"
    );
}

fn record(i: usize, body: Value) -> aws_lambda_events::event::sqs::SqsMessage {
    serde_json::from_value(json!({"messageId": format!("m{i}"), "body": body.to_string()}))
        .expect("record")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inputs_from_text_and_s3_score_and_bad_ones_become_error_events() {
    let store = Arc::new(MemoryStore::default());
    let doc =
        "In today's fast-paced world, it is important to note that synergy plays a crucial role. \
        Our innovative solutions unlock the full potential of your team.";
    store
        .put(
            &S3Location::parse("s3://docs/a.txt.gz").expect("uri"),
            gzip(doc.as_bytes()),
            "application/gzip",
        )
        .await
        .expect("put");
    let dir = postlens_models::model_dir().expect("models/ (make models)");
    let models = text_scorer::Models::load(&dir).expect("MiniLM and SmolLM2");
    let scorer = TextScorer::new(models).with_documents(store, vec!["docs".to_owned()]);
    let sink = Arc::new(MemorySink::default());
    let engine = BatchEngine::new(scorer, sink.clone());
    let records = vec![
        record(
            0,
            json!({"doc_id": "inline", "domain": "news", "text": doc, "prompt": "What does the product do?"}),
        ),
        record(
            1,
            json!({"doc_id": "from-s3", "s3_uri": "s3://docs/a.txt.gz"}),
        ),
        record(
            2,
            json!({"doc_id": "both", "text": "x", "s3_uri": "s3://docs/a.txt.gz"}),
        ),
        record(3, json!({"doc_id": "neither"})),
        record(
            4,
            json!({"doc_id": "elsewhere", "s3_uri": "s3://other/a.txt"}),
        ),
        record(
            5,
            json!({"doc_id": "missing", "s3_uri": "s3://docs/none.txt"}),
        ),
        record(
            6,
            json!({"doc_id": "bad-options", "text": "x", "options": {"custom_thresholds": "high"}}),
        ),
    ];
    let outcome = engine.process_batch(&records, None).await;
    assert_eq!(outcome.report.retried, 0, "{:?}", outcome.outcomes);
    let events: Vec<Value> = sink
        .take()
        .iter()
        .map(|e| serde_json::from_str(&e.message).expect("json"))
        .collect();
    let by_id = |id: &str| event_for(&events, id);

    let inline = by_id("inline");
    assert_eq!(inline["status"], "ok");
    assert_eq!(
        inline["result"]["metrics"].as_object().map(|m| m.len()),
        Some(11)
    );
    assert!(
        inline["result"]["metrics"]["relevance"]["value"].is_number(),
        "MiniLM relevance is measured"
    );
    // SmolLM2 scored the opening: corporate boilerplate is predictable (low surprisal).
    let mean_bits = inline["result"]["metrics"]["density"]["lm_mean_surprisal_bits"]
        .as_f64()
        .expect("SmolLM2 surprisal is measured");
    assert!((1.0..4.5).contains(&mean_bits), "{mean_bits}");
    assert!(inline["result"]["timings_ms"]["language_model"].is_number());
    assert!(inline["result"]["timings_ms"]["total"]
        .as_f64()
        .is_some_and(|t| t > 0.0));
    // The same text from S3 scores the same (its domain defaults to general).
    assert_eq!(by_id("from-s3")["status"], "ok");
    assert!(by_id("from-s3")["result"]["slop_score"]
        .as_f64()
        .is_some_and(|s| s > 0.5));
    for (id, code) in [
        ("both", "text_and_s3_uri"),
        ("neither", "text_missing"),
        ("elsewhere", "bucket_not_allowed"),
        ("missing", "object_not_found"),
        ("bad-options", "options_invalid"),
    ] {
        assert_eq!(by_id(id)["error"]["code"], code, "{id}");
    }
    // Spans point at the text: Python's text[start:end].
    let chars: Vec<char> = doc.chars().collect();
    for span in inline["result"]["spans"].as_array().expect("spans") {
        let (start, end) = (
            span["start"].as_u64().unwrap_or(0) as usize,
            span["end"].as_u64().unwrap_or(0) as usize,
        );
        assert!(start < end && end <= chars.len(), "{span}");
    }
}

/// fixtures/events/text-scorer/sqs-mixed-batch.json, the file `cargo lambda invoke
/// --data-file` takes: raw and SNS-enveloped documents score, custom thresholds apply, and
/// the malformed and ambiguous records become error events instead of retries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_invoke_fixture_gives_the_documented_events() {
    let path = format!(
        "{}/../../fixtures/events/text-scorer/sqs-mixed-batch.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let event: aws_lambda_events::event::sqs::SqsEvent =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture")).expect("SQS event");
    let dir = postlens_models::model_dir().expect("models/ (make models)");
    let scorer = TextScorer::new(text_scorer::Models::load(&dir).expect("models"));
    let sink = Arc::new(MemorySink::default());
    let engine = BatchEngine::new(scorer, sink.clone());
    let outcome = engine.process_batch(&event.records, None).await;
    assert!(outcome.response.batch_item_failures.is_empty());
    let events: Vec<Value> = sink
        .take()
        .iter()
        .map(|e| serde_json::from_str(&e.message).expect("event"))
        .collect();
    assert_eq!(events.len(), 5, "{events:#?}");
    let by_id = |id: &str| event_for(&events, id);
    let score = |id: &str| score_of(&events, id);
    assert!(
        score("doc-corporate") > score("doc-news") + 0.2,
        "{events:#?}"
    );
    assert!(
        score("doc-corporate") > score("doc-review") + 0.2,
        "{events:#?}"
    );
    // Clean on the default bands, the review is at Watch with its own (watch 0.02).
    assert!(score("doc-review") < 0.30, "{events:#?}");
    assert_eq!(by_id("doc-review")["result"]["level"], "Watch");
    assert_eq!(by_id("doc-ambiguous")["error"]["code"], "text_and_s3_uri");
    assert_eq!(
        events.iter().filter(|e| e["status"] == "error").count(),
        2,
        "{events:#?}"
    );
}

/// Past `MAX_EMBEDDED_SENTENCES` the opening is embedded, so relevance and coherence are
/// still measured on a long document (they were null before, a cliff in cost and in output).
#[test]
fn a_document_past_the_embedding_cap_is_read_on_its_opening() {
    let dir = postlens_models::model_dir().expect("models/ (make models)");
    let models = text_scorer::Models {
        embedder: Some(Arc::new(
            postlens_models::SentenceEmbedder::load(&dir.join("minilm-l6-v2")).expect("MiniLM"),
        )),
        language_model: None,
    };
    let sentences = text_scorer::MAX_EMBEDDED_SENTENCES + 44;
    let text: String = (0..sentences)
        .map(|i| format!("Ward {i} voted on the bus lane plan. "))
        .collect();
    let input: text_scorer::TextSubmitted = serde_json::from_value(json!({
        "doc_id": "long",
        "domain": "news",
        "text": text,
    }))
    .expect("input");
    let scored = text_scorer::score_document(&models, &text, &input, &ScoreOptions::default())
        .expect("scored");
    let share = text_scorer::MAX_EMBEDDED_SENTENCES as f64 / sentences as f64;
    for axis in ["relevance", "coherence"] {
        let metric = &scored.result.metrics[axis];
        assert!(metric.value.is_some(), "{axis} is measured");
        let embedded = metric.details["embedded_share"].expect("embedded_share");
        assert!(
            (embedded - share).abs() < 1e-9,
            "{axis}: {embedded} vs {share}"
        );
    }
}
