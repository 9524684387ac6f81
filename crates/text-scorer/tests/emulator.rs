//! The text scorer behind the template's queue in moto, fed through SNS by the local event
//! source mapping: documents inline and gzip-compressed in the document bucket are scored
//! with both models, every bad input becomes its own error event, nothing is retried.

mod common;

use std::time::Duration;

use common::{event_for, gzip, score_of};
use postlens_local_stack::emulator::{s3_client, Emulator};
use postlens_local_stack::WorkerFixture;
use postlens_runtime::envelope::S3Location;
use postlens_runtime::store::S3Store;
use postlens_runtime::ObjectStore;
use serde_json::json;

const GENERIC: &str = "In today's rapidly evolving landscape, it is important to note that \
    innovation plays a crucial role. Our innovative solutions seamlessly empower organizations \
    to unlock the full potential of their data. Furthermore, studies show that leveraging \
    cutting-edge technology is truly essential for sustainable growth.";
const SPECIFIC: &str = "The 7:42 to Leeds was cancelled again, so I cycled the 11 miles in \
    the rain. Maria lent me her spare tyre at Wetherby after mine split on the canal path. \
    I got to the depot at 9:15, soaked, and Dave had already unloaded the first van.";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_become_text_scored_events() {
    let emulator = Emulator::start().await.expect("moto (make venv)");
    let config = emulator.sdk_config().await;
    let fixture = WorkerFixture::create(&config, "text-scorer")
        .await
        .expect("stack");
    let bucket = fixture.environment["DOCUMENT_BUCKETS"].clone();
    let store = S3Store::new(s3_client(&config));
    let location = S3Location {
        bucket: bucket.clone(),
        key: "documents/generic.txt.gz".to_owned(),
    };
    store
        .put(&location, gzip(GENERIC.as_bytes()), "application/gzip")
        .await
        .expect("upload");

    fixture
        .publish(
            "TextSubmittedTopic",
            [
                json!({"doc_id": "specific", "domain": "news", "text": SPECIFIC}).to_string(),
                json!({"doc_id": "generic-s3", "s3_uri": location.uri()}).to_string(),
                json!({"doc_id": "missing", "s3_uri": format!("s3://{bucket}/documents/none.txt")})
                    .to_string(),
                // The right bucket, but outside the documents/ prefix the role may read.
                json!({"doc_id": "videos", "s3_uri": format!("s3://{bucket}/videos/a.mp4")})
                    .to_string(),
                json!({"doc_id": "elsewhere", "s3_uri": "s3://someone-elses-bucket/a.txt"})
                    .to_string(),
                json!({"doc_id": "both", "text": "x", "s3_uri": location.uri()}).to_string(),
                "{not json".to_owned(),
            ],
        )
        .await
        .expect("publish");

    let dir = postlens_models::model_dir().expect("models/ (make models)");
    let models = text_scorer::Models::load(&dir).expect("MiniLM and SmolLM2");
    let report = fixture
        .drain(
            // The function's own environment from the template, read as the Lambda reads it.
            text_scorer::TextScorer::from_config(
                models,
                std::sync::Arc::new(store),
                text_scorer::TextScorerConfig::from_lookup(|name| {
                    fixture.environment.get(name).cloned()
                })
                .expect("the template's settings"),
            ),
            Duration::from_secs(120),
        )
        .await
        .expect("drain");
    assert!(report.drained);
    assert_eq!(report.stats[0].returned_for_retry, 0, "{:?}", report.stats);

    let events = fixture.tap.drain().await.expect("events");
    assert_eq!(events.len(), 7, "{events:#?}");
    assert!(events.iter().all(|e| e["event_type"] == "text-scored"));
    let by_id = |id: &str| event_for(&events, id);
    let score = |id: &str| score_of(&events, id);
    assert!(score("generic-s3") > score("specific") + 0.2, "{events:#?}");
    for id in ["specific", "generic-s3"] {
        let density = &by_id(id)["result"]["metrics"]["density"];
        assert!(
            density["lm_mean_surprisal_bits"].is_number(),
            "{id}: {density}"
        );
    }
    for (id, code) in [
        ("missing", "object_not_found"),
        ("elsewhere", "bucket_not_allowed"),
        ("videos", "bucket_not_allowed"),
        ("both", "text_and_s3_uri"),
    ] {
        assert_eq!(by_id(id)["error"]["code"], code, "{id}");
    }
    // The malformed body has no doc_id: its error event names the SNS message instead.
    assert!(
        events
            .iter()
            .any(|e| e["status"] == "error" && e["doc_id"].is_null()),
        "{events:#?}"
    );
    emulator.stop().await;
}
