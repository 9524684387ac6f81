//! Unit tests of the batch engine's rules, with in-memory sinks and stores.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use futures::future::BoxFuture;
use serde::Serialize;
use serde_json::{json, Value};

use crate::config::{AllFailedMode, EngineConfig, FifoFailureMode, InvocationSettings};
use crate::emf::InvocationFacts;
use crate::engine::{BatchEngine, RecordOutcome};
use crate::envelope::S3Location;
use crate::error::{codes, RecordError};
use crate::event::{derive_event_id, ContentDigest, OutputEvent, Status};
use crate::sink::{EventSink, MemorySink, PublishEntry};
use crate::store::MemoryStore;
use crate::testing::{
    fifo_record, on_receive, script, sqs_record as record, throttled, Attempt, FlakySink,
    ScriptedWorker, SCRIPTED_WORKER,
};

/// A sink that fails the entries about `videos`, and every entry of call `call`.
fn failing(videos: &[&str], call: Option<usize>) -> FlakySink<MemorySink> {
    let videos: HashSet<String> = videos.iter().map(|v| v.to_string()).collect();
    FlakySink::new(MemorySink::default(), move |attempt: &Attempt<'_>| {
        if Some(attempt.call) == call {
            return Some(throttled());
        }
        let event: Value = serde_json::from_str(&attempt.entry.message).ok()?;
        let video = event["video_id"].as_str().unwrap_or_default();
        videos
            .contains(video)
            .then(|| RecordError::transient(codes::PUBLISH_FAILED, "entry failed"))
    })
}

fn engine_with(
    sink: Arc<dyn EventSink>,
    store: Option<Arc<MemoryStore>>,
    config: EngineConfig,
) -> BatchEngine<ScriptedWorker> {
    let engine = BatchEngine::new(ScriptedWorker::default(), sink).with_config(config);
    match store {
        Some(store) => engine.with_store(store),
        None => engine,
    }
}

fn failed_ids(outcome: &crate::engine::BatchOutcome) -> Vec<String> {
    outcome
        .response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect()
}

fn published(sink: &MemorySink) -> Vec<OutputEvent> {
    sink.take()
        .iter()
        .map(|e| serde_json::from_str(&e.message).unwrap())
        .collect()
}

#[tokio::test]
async fn mixed_batch_acks_permanent_errors_and_retries_only_transient_ones() {
    let sink = Arc::new(MemorySink::default());
    let engine = engine_with(sink.clone(), None, EngineConfig::default());
    let sns_not_json =
        json!({"Type":"Notification","TopicArn":"arn","MessageId":"s1","Message":"not json"})
            .to_string();
    let records = vec![
        record("m1", &script("v1", "fine")),
        record("m2", "{broken"),
        record("m3", &script("v3", "permanent")),
        record("m4", &script("v4", "transient")),
        record("m5", &json!({"video_id": "v5", "mode": 7}).to_string()),
        record("m6", &sns_not_json),
        record("m7", ""),
    ];
    let outcome = engine.process_batch(&records, None).await;
    assert_eq!(failed_ids(&outcome), vec!["m4"]);
    assert_eq!(
        (
            outcome.report.ok,
            outcome.report.error_events,
            outcome.report.retried
        ),
        (1, 5, 1)
    );

    let events = published(&sink);
    assert_eq!(events.len(), 6, "one event per record that is not retried");
    let codes_by_subject: Vec<(Option<String>, Status, Option<String>)> = events
        .iter()
        .map(|e| {
            (
                e.subject["video_id"].clone(),
                e.status,
                e.error.as_ref().map(|x| x.code.clone()),
            )
        })
        .collect();
    assert_eq!(
        codes_by_subject,
        vec![
            (Some("v1".into()), Status::Ok, None),
            (None, Status::Error, Some(codes::INVALID_JSON.into())),
            (Some("v3".into()), Status::Error, Some("bad_input".into())),
            (
                Some("v5".into()),
                Status::Error,
                Some(codes::SCHEMA_VIOLATION.into())
            ),
            (None, Status::Error, Some(codes::INVALID_JSON.into())),
            (None, Status::Error, Some(codes::EMPTY_BODY.into())),
        ]
    );
    let ok = &events[0];
    assert_eq!(ok.result.as_ref().unwrap()["echo"], "fine");
    assert_eq!(ok.event_id, content_id(&script("v1", "fine")));
    assert!(events
        .iter()
        .all(|e| e.event_type == "scripted" && e.schema_version == "1"));
    assert!(events
        .iter()
        .filter_map(|e| e.error.as_ref())
        .all(|e| !e.retryable));
}

#[tokio::test]
async fn attributes_support_filter_policies() {
    let sink = Arc::new(MemorySink::default());
    let engine = engine_with(sink.clone(), None, EngineConfig::default());
    engine
        .process_batch(
            &[
                record("m1", &script("v1", "abc")),
                record("m2", &script("v2", "permanent")),
            ],
            None,
        )
        .await;
    let entries = sink.take();
    let attrs = |i: usize| {
        entries[i]
            .attributes
            .iter()
            .cloned()
            .collect::<std::collections::HashMap<_, _>>()
    };
    assert_eq!(attrs(0)["status"], "ok");
    assert_eq!(attrs(0)["event_type"], "scripted");
    assert_eq!(attrs(0)["echo_len"], "3");
    assert_eq!(attrs(1)["status"], "error");
    assert_eq!(attrs(1)["error_code"], "bad_input");
}

#[tokio::test]
async fn empty_batch_publishes_nothing() {
    let sink = Arc::new(failing(&[], None));
    let engine = engine_with(sink.clone(), None, EngineConfig::default());
    let outcome = engine.process_batch(&[], None).await;
    assert!(outcome.response.batch_item_failures.is_empty());
    assert!(!outcome.all_failed());
    assert!(sink.call_sizes().is_empty());
}

#[tokio::test]
async fn duplicate_message_ids_are_reported_once() {
    let sink = Arc::new(MemorySink::default());
    let engine = engine_with(sink.clone(), None, EngineConfig::default());
    let records = vec![
        record("dup", &script("v1", "transient")),
        record("dup", &script("v1", "transient")),
    ];
    let outcome = engine.process_batch(&records, None).await;
    assert_eq!(failed_ids(&outcome), vec!["dup"]);
    // Two successes with one id publish two events with one event_id: consumers dedupe.
    let records = vec![
        record("same", &script("v1", "a")),
        record("same", &script("v1", "a")),
    ];
    engine.process_batch(&records, None).await;
    let events = published(&sink);
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].event_id, events[1].event_id);
}

/// The id the engine derives for a message whose JSON is `body`.
fn content_id(body: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(body).unwrap();
    derive_event_id("scripted-worker", &ContentDigest::of_json(&value))
}

#[tokio::test]
async fn event_id_follows_the_content_not_the_delivery() {
    let sink = Arc::new(MemorySink::default());
    let engine = engine_with(sink.clone(), None, EngineConfig::default());
    let post = json!({"event_id": "evt-9", "video_id": "v1", "mode": "a"}).to_string();
    let retagged = json!({"event_id": "evt-9", "video_id": "v1", "mode": "b"}).to_string();
    let no_id = script("v2", "x");
    let envelope = |message_id: &str, message: &str| {
        json!({"Type":"Notification","TopicArn":"arn","MessageId": message_id,"Message": message})
            .to_string()
    };
    let records = [
        record("m1", &post),
        // A duplicate SNS delivery of the same post: new SQS message, same content.
        record("m2", &post),
        // The same post re-published with new content under the same event_id.
        record("m3", &retagged),
        // Without an event_id, raw and enveloped copies of one message agree.
        record("m4", &no_id),
        record("m5", &envelope("sns-7", &no_id)),
        record("m6", &envelope("sns-8", &no_id)),
    ];
    engine.process_batch(&records, None).await;
    let events = published(&sink);
    let ids: Vec<&str> = events.iter().map(|e| e.event_id.as_str()).collect();
    assert_eq!(ids[0], content_id(&post));
    assert_eq!(ids[0], ids[1], "a duplicate delivery keeps its id");
    assert_ne!(ids[0], ids[2], "new content gets a new id");
    assert_eq!(events[2].source_event_id.as_deref(), Some("evt-9"));
    assert_eq!(ids[3], ids[4]);
    assert_eq!(ids[3], ids[5]);
    assert_eq!(events[4].subject["video_id"].as_deref(), Some("v2"));
}

#[tokio::test]
async fn publishes_in_chunks_of_ten_and_maps_entry_failures_back() {
    let sink = Arc::new(failing(&["v4"], Some(2)));
    let engine = engine_with(sink.clone(), None, EngineConfig::default());
    let records: Vec<SqsMessage> = (0..23)
        .map(|i| record(&format!("m{i}"), &script(&format!("v{i}"), "x")))
        .collect();
    let outcome = engine.process_batch(&records, None).await;
    assert_eq!(sink.call_sizes(), vec![10, 10, 3]);
    let mut expected = vec!["m4".to_owned()];
    expected.extend((20..23).map(|i| format!("m{i}")));
    assert_eq!(failed_ids(&outcome), expected);
    assert_eq!(sink.inner().take().len(), 19);
}

#[tokio::test]
async fn oversized_result_without_bucket_becomes_an_error_event() {
    let sink = Arc::new(MemorySink::default());
    let engine = engine_with(sink.clone(), None, EngineConfig::default());
    let outcome = engine
        .process_batch(&[record("m1", &script("v1", "bytes:307200"))], None)
        .await;
    assert!(outcome.response.batch_item_failures.is_empty());
    let entries = sink.take();
    assert!(entries[0].message.len() < 4096);
    let event: OutputEvent = serde_json::from_str(&entries[0].message).unwrap();
    assert_eq!(event.status, Status::Error);
    assert_eq!(event.error.unwrap().code, codes::RESULT_TOO_LARGE);
}

#[tokio::test]
async fn oversized_result_is_claim_checked_to_s3() {
    let sink = Arc::new(MemorySink::default());
    let store = Arc::new(MemoryStore::default());
    let config = EngineConfig {
        claim_check_bucket: Some("results".into()),
        ..EngineConfig::default()
    };
    let engine = engine_with(sink.clone(), Some(store.clone()), config);
    let outcome = engine
        .process_batch(&[record("m1", &script("v1", "bytes:307200"))], None)
        .await;
    assert_eq!(outcome.report.offloaded, 1);
    let event: OutputEvent = serde_json::from_str(&sink.take()[0].message).unwrap();
    assert_eq!(event.status, Status::Ok);
    assert!(event.result.is_none());
    let location = event.result_location.unwrap();
    let stored = store.object(&location.s3_uri).expect("result stored");
    assert_eq!(stored.len(), location.bytes);
    let full: OutputEvent = serde_json::from_slice(&stored).unwrap();
    assert_eq!(
        full.result.unwrap()["echo"].as_str().unwrap().len(),
        300 * 1024
    );
}

#[tokio::test]
async fn claim_checked_inputs_are_fetched_or_classified() {
    let sink = Arc::new(MemorySink::default());
    let store = Arc::new(MemoryStore::default());
    store.insert(
        &S3Location::parse("s3://inputs/p1.json").unwrap(),
        script("v1", "from-s3").into_bytes(),
    );
    store.insert(
        &S3Location::parse("s3://inputs/huge.json").unwrap(),
        vec![b' '; 100],
    );
    let config = EngineConfig {
        max_claim_check_bytes: 64,
        claim_check_bucket: Some("inputs".to_owned()),
        ..EngineConfig::default()
    };
    let engine = engine_with(sink.clone(), Some(store), config);
    let pointer = |uri: &str| json!({"claim_check": {"s3_uri": uri}}).to_string();
    let records = vec![
        record("m1", &pointer("s3://inputs/p1.json")),
        record("m2", &pointer("s3://inputs/gone.json")),
        record("m3", &pointer("s3://inputs/huge.json")),
    ];
    let outcome = engine.process_batch(&records, None).await;
    assert!(outcome.response.batch_item_failures.is_empty());
    let events = published(&sink);
    assert_eq!(events[0].result.as_ref().unwrap()["echo"], "from-s3");
    assert_eq!(
        events[1].error.as_ref().unwrap().code,
        codes::CLAIM_CHECK_MISSING
    );
    assert_eq!(
        events[2].error.as_ref().unwrap().code,
        codes::INPUT_TOO_LARGE
    );

    let no_store = engine_with(
        Arc::new(MemorySink::default()),
        None,
        EngineConfig::default(),
    );
    let outcome = no_store
        .process_batch(&[record("m1", &pointer("s3://inputs/p1.json"))], None)
        .await;
    assert_eq!(
        failed_ids(&outcome),
        vec!["m1"],
        "a pointer we cannot follow yet is retried, not dropped"
    );
}

/// Without s3:ListBucket S3 answers a missing key with 403, and a 403 answers the same on
/// every receive: retried, it walked into the DLQ with no event. It is a permanent
/// `bucket_not_allowed` event (the template still grants ListBucket, so a missing claim
/// check is a 404 and `claim_check_missing`).
#[tokio::test]
async fn a_403_on_a_claim_check_is_a_permanent_event_not_a_retry() {
    let sink = Arc::new(MemorySink::default());
    let store = Arc::new(MemoryStore::without_list_bucket());
    let config = EngineConfig {
        claim_check_bucket: Some("inputs".to_owned()),
        ..EngineConfig::default()
    };
    let engine = engine_with(sink.clone(), Some(store), config);
    let pointer = json!({"claim_check": {"s3_uri": "s3://inputs/gone.json"}}).to_string();
    let outcome = engine.process_batch(&[record("m1", &pointer)], None).await;
    assert!(failed_ids(&outcome).is_empty());
    let events = published(&sink);
    assert_eq!(events.len(), 1);
    let error = events[0].error.as_ref().expect("an error event");
    assert_eq!(error.code, codes::BUCKET_NOT_ALLOWED);
    assert!(!error.retryable);
}

/// A claim check may name only CLAIM_CHECK_BUCKET, the bucket the role reads claim checks
/// from: before, any bucket was fetched (or 403'd into the DLQ).
#[tokio::test]
async fn a_claim_check_outside_the_claim_check_bucket_is_refused() {
    let sink = Arc::new(MemorySink::default());
    let store = Arc::new(MemoryStore::default());
    let elsewhere = S3Location::parse("s3://someone-else/p.json").unwrap();
    store.insert(&elsewhere, script("v1", "x").into_bytes());
    let config = EngineConfig {
        claim_check_bucket: Some("inputs".to_owned()),
        ..EngineConfig::default()
    };
    let engine = engine_with(sink.clone(), Some(store), config);
    let pointer = json!({"claim_check": {"s3_uri": elsewhere.uri()}}).to_string();
    let outcome = engine.process_batch(&[record("m1", &pointer)], None).await;
    assert!(failed_ids(&outcome).is_empty());
    let events = published(&sink);
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].error.as_ref().map(|e| e.code.as_str()),
        Some(codes::BUCKET_NOT_ALLOWED)
    );
}

/// U+FFFF in the input (JSON-escaped on the way in) came out raw in the event, which every
/// SQS subscriber of the output topic refuses: the strict sink now refuses it too, and the
/// engine writes it escaped.
#[tokio::test]
async fn noncharacters_in_the_input_reach_the_event_escaped() {
    let sink = Arc::new(MemorySink::default());
    let engine = engine_with(sink.clone(), None, EngineConfig::default());
    let body = r#"{"video_id": "v\uffff1", "mode": "a\ufffeb"}"#;
    let outcome = engine.process_batch(&[record("m1", body)], None).await;
    assert!(failed_ids(&outcome).is_empty(), "{:?}", outcome.outcomes);
    let entries = sink.take();
    assert_eq!(entries.len(), 1);
    let message = &entries[0].message;
    assert_eq!(crate::sqs_text::first_refused(message), None, "{message}");
    let event: OutputEvent = serde_json::from_str(message).unwrap();
    assert_eq!(event.subject["video_id"].as_deref(), Some("v\u{FFFF}1"));
    assert_eq!(event.result.unwrap()["echo"], "a\u{FFFE}b");
}

/// Refuses, as a sender fault, any entry whose event names a video in `refuse`.
struct RefusingSink {
    inner: MemorySink,
    refuse: HashSet<String>,
}

impl EventSink for RefusingSink {
    fn publish_batch(
        &self,
        entries: Vec<PublishEntry>,
    ) -> BoxFuture<'_, Vec<Result<(), RecordError>>> {
        Box::pin(async move {
            let mut results = Vec::new();
            let mut accepted = Vec::new();
            for entry in entries {
                let event: Value = serde_json::from_str(&entry.message).unwrap();
                let refused = event["status"] == "ok"
                    && self
                        .refuse
                        .contains(event["video_id"].as_str().unwrap_or_default());
                if refused {
                    results.push(Err(crate::sink::entry_failure(
                        "InvalidParameter",
                        true,
                        None,
                    )));
                } else {
                    results.push(Ok(()));
                    accepted.push(entry);
                }
            }
            if !accepted.is_empty() {
                self.inner.publish_batch(accepted).await;
            }
            results
        })
    }
}

/// SNS refusing an entry as a sender fault used to be retried until the DLQ; the record now
/// ends as a `publish_rejected` error event, in order on a FIFO queue.
#[tokio::test]
async fn an_event_sns_refuses_is_replaced_by_an_error_event() {
    for fifo in [false, true] {
        let sink = Arc::new(RefusingSink {
            inner: MemorySink::default(),
            refuse: HashSet::from(["v2".to_owned()]),
        });
        let engine = engine_with(sink.clone(), None, EngineConfig::default());
        let records: Vec<SqsMessage> = (1..=3)
            .map(|i| {
                let body = script(&format!("v{i}"), "x");
                if fifo {
                    fifo_record(&format!("m{i}"), "g", &body)
                } else {
                    record(&format!("m{i}"), &body)
                }
            })
            .collect();
        let outcome = engine.process_batch(&records, None).await;
        let events = published(&sink.inner);
        let codes_by_video: Vec<(String, Option<String>)> = events
            .iter()
            .map(|e| {
                (
                    e.subject["video_id"].clone().unwrap_or_default(),
                    e.error.as_ref().map(|e| e.code.clone()),
                )
            })
            .collect();
        assert!(
            codes_by_video.contains(&("v2".to_owned(), Some(codes::PUBLISH_REJECTED.to_owned()))),
            "{codes_by_video:?}"
        );
        if fifo {
            // v3 was accepted in the same call as the refused v2: it is retried, so the
            // group's order is v1, v2 (error), then v3 on its next receive.
            assert_eq!(failed_ids(&outcome), vec!["m3"]);
            assert_eq!(
                events.len(),
                3,
                "v3's early copy stays, deduplicated by its id"
            );
            assert_eq!(codes_by_video[2].0, "v2");
        } else {
            assert!(failed_ids(&outcome).is_empty());
            assert_eq!(events.len(), 3);
        }
    }
}

#[tokio::test]
async fn fifo_stops_at_the_first_failure() {
    let sink = Arc::new(MemorySink::default());
    let config = EngineConfig {
        fifo_failure_mode: FifoFailureMode::StopAll,
        ..EngineConfig::default()
    };
    let engine = engine_with(sink.clone(), None, config);
    let records = vec![
        fifo_record("m1", "g1", &script("v1", "a")),
        fifo_record("m2", "g1", &script("v2", "transient")),
        fifo_record("m3", "g2", &script("v3", "b")),
        fifo_record("m4", "g1", &script("v4", "c")),
    ];
    let outcome = engine.process_batch(&records, None).await;
    assert_eq!(failed_ids(&outcome), vec!["m2", "m3", "m4"]);
    assert_eq!(published(&sink).len(), 1);
    assert!(
        matches!(&outcome.outcomes[2].1, RecordOutcome::Retry(e) if e.code() == codes::FIFO_PREDECESSOR_FAILED)
    );
}

#[tokio::test]
async fn fifo_skip_group_fails_only_the_failed_group() {
    let sink = Arc::new(MemorySink::default());
    // The default: one group's poison message must not use up other groups' receives.
    let engine = engine_with(sink.clone(), None, EngineConfig::default());
    let records = vec![
        fifo_record("m1", "g1", &script("v1", "a")),
        fifo_record("m2", "g1", &script("v2", "transient")),
        fifo_record("m3", "g2", &script("v3", "b")),
        fifo_record("m4", "g1", &script("v4", "c")),
        fifo_record("m5", "g2", &script("v5", "permanent")),
    ];
    let outcome = engine.process_batch(&records, None).await;
    assert_eq!(failed_ids(&outcome), vec!["m2", "m4"]);
    let subjects: Vec<_> = published(&sink)
        .into_iter()
        .map(|e| e.subject["video_id"].clone().unwrap())
        .collect();
    assert_eq!(subjects, vec!["v1", "v3", "v5"], "published in input order");
}

#[tokio::test]
async fn fifo_publish_failure_fails_its_successors() {
    let sink = Arc::new(failing(&["v2"], None));
    let engine = engine_with(sink.clone(), None, EngineConfig::default());
    let records: Vec<SqsMessage> = (1..=4)
        .map(|i| fifo_record(&format!("m{i}"), "g", &script(&format!("v{i}"), "x")))
        .collect();
    let outcome = engine.process_batch(&records, None).await;
    assert_eq!(failed_ids(&outcome), vec!["m2", "m3", "m4"]);
}

#[tokio::test]
async fn fifo_output_topic_gets_group_and_dedup_ids() {
    let sink = Arc::new(MemorySink::default());
    let config = EngineConfig {
        output_is_fifo: true,
        ..EngineConfig::default()
    };
    let engine = engine_with(sink.clone(), None, config);
    engine
        .process_batch(&[fifo_record("m1", "seller-7", &script("v1", "x"))], None)
        .await;
    let entry = &sink.take()[0];
    assert_eq!(entry.group_id.as_deref(), Some("seller-7"));
    assert_eq!(
        entry.deduplication_id.as_deref(),
        Some(content_id(&script("v1", "x")).as_str())
    );
}

#[tokio::test]
async fn deadline_returns_unstarted_and_unfinished_records() {
    let sink = Arc::new(MemorySink::default());
    let config = EngineConfig {
        deadline_margin: Duration::from_millis(50),
        max_concurrency: 1,
        ..EngineConfig::default()
    };
    let engine = engine_with(sink.clone(), None, config);
    let records = vec![
        record("m1", &script("v1", "fast")),
        record("m2", &script("v2", "sleep:300")),
        record("m3", &script("v3", "fast")),
    ];
    let outcome = engine
        .process_batch(&records, Some(Instant::now() + Duration::from_millis(200)))
        .await;
    assert_eq!(failed_ids(&outcome), vec!["m2", "m3"]);
    let codes_seen: Vec<&str> = outcome
        .outcomes
        .iter()
        .filter_map(|(_, o)| match o {
            RecordOutcome::Retry(e) => Some(e.code()),
            _ => None,
        })
        .collect();
    assert_eq!(
        codes_seen,
        vec![codes::DEADLINE_EXCEEDED, codes::NOT_STARTED_DEADLINE]
    );
    assert_eq!(published(&sink).len(), 1);
}

#[tokio::test]
async fn a_panic_fails_only_its_record() {
    let sink = Arc::new(MemorySink::default());
    let engine = engine_with(sink.clone(), None, EngineConfig::default());
    let records = vec![
        record("m1", &script("v1", "a")),
        record("m2", &script("v2", "panic")),
        record("m3", &script("v3", "b")),
    ];
    let outcome = engine.process_batch(&records, None).await;
    assert_eq!(failed_ids(&outcome), vec!["m2"]);
    assert!(matches!(&outcome.outcomes[1].1, RecordOutcome::Retry(e) if e.code() == codes::PANIC));
    assert_eq!(published(&sink).len(), 2);
}

#[tokio::test]
async fn concurrency_is_bounded() {
    let sink = Arc::new(MemorySink::default());
    let config = EngineConfig {
        max_concurrency: 3,
        ..EngineConfig::default()
    };
    let engine = engine_with(sink.clone(), None, config);
    let records: Vec<SqsMessage> = (0..10)
        .map(|i| record(&format!("m{i}"), &script("v", "sleep:20")))
        .collect();
    engine.process_batch(&records, None).await;
    assert_eq!(engine.worker().max_in_flight(), 3);
}

#[tokio::test]
async fn all_failed_is_reported_or_raised() {
    let engine = engine_with(
        Arc::new(MemorySink::default()),
        None,
        EngineConfig::default(),
    );
    let event: SqsEvent = serde_json::from_value(json!({"Records": [
        {"messageId": "m1", "body": script("v1", "transient")},
        {"messageId": "m2", "body": script("v2", "transient")}
    ]}))
    .unwrap();
    let lambda_event =
        |e: SqsEvent| lambda_runtime::LambdaEvent::new(e, lambda_runtime::Context::default());
    let response = crate::lambda::handle(
        &engine,
        lambda_event(event.clone()),
        InvocationFacts::default(),
        &InvocationSettings {
            all_failed_mode: AllFailedMode::Report,
            ..InvocationSettings::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(response.batch_item_failures.len(), 2);
    let error = crate::lambda::handle(
        &engine,
        lambda_event(event),
        InvocationFacts::default(),
        &InvocationSettings {
            all_failed_mode: AllFailedMode::Error,
            ..InvocationSettings::default()
        },
    )
    .await
    .unwrap_err();
    assert!(error.to_string().contains("all 2 records"));
}

fn received(id: &str, body: &str, receive_count: u32) -> SqsMessage {
    on_receive(record(id, body), receive_count)
}

#[tokio::test]
async fn a_panic_on_the_last_receive_becomes_an_internal_error_event() {
    let sink = Arc::new(MemorySink::default());
    let config = EngineConfig {
        max_receive_count: Some(5),
        ..EngineConfig::default()
    };
    let engine = engine_with(sink.clone(), None, config);
    let records = vec![
        received("m1", &script("v1", "panic"), 4),
        received("m2", &script("v2", "panic"), 5),
        received("m3", &script("v3", "transient"), 5),
    ];
    let outcome = engine.process_batch(&records, None).await;
    // Earlier receives still retry, and infrastructure-like errors go on to the DLQ.
    assert_eq!(failed_ids(&outcome), vec!["m1", "m3"]);
    assert_eq!(outcome.report.internal_errors, 1);
    let events = published(&sink);
    assert_eq!(events.len(), 1);
    let error = events[0].error.as_ref().expect("an error event");
    assert_eq!(error.code, codes::INTERNAL_ERROR);
    assert!(!error.retryable);
    assert!(
        error.message.contains("worker exploded"),
        "{}",
        error.message
    );
    assert_eq!(events[0].subject["video_id"].as_deref(), Some("v2"));
}

#[tokio::test]
async fn without_a_known_max_receive_count_panics_always_retry() {
    let sink = Arc::new(MemorySink::default());
    let engine = engine_with(sink.clone(), None, EngineConfig::default());
    let outcome = engine
        .process_batch(&[received("m1", &script("v1", "panic"), 99)], None)
        .await;
    assert_eq!(failed_ids(&outcome), vec!["m1"]);
    assert!(published(&sink).is_empty());
}

#[tokio::test]
async fn oversized_ids_become_bounded_error_events() {
    let sink = Arc::new(MemorySink::default());
    let engine = engine_with(sink.clone(), None, EngineConfig::default());
    let long = "v".repeat(250 * 1024);
    let records = vec![
        record("m1", &script(&long, "a")),
        record(
            "m2",
            &json!({"video_id": "v2", "event_id": long.clone()}).to_string(),
        ),
    ];
    let outcome = engine.process_batch(&records, None).await;
    assert!(failed_ids(&outcome).is_empty());
    let events = published(&sink);
    assert_eq!(events.len(), 2);
    for event in &events {
        assert_eq!(
            event.error.as_ref().map(|e| e.code.as_str()),
            Some(codes::SCHEMA_VIOLATION)
        );
        assert!(serde_json::to_string(event).unwrap().len() < 2048);
    }
    assert_eq!(
        events[0].subject["video_id"].as_deref().map(str::len),
        Some(crate::contracts::MAX_ID_BYTES)
    );
}

#[tokio::test]
async fn publish_batches_are_cut_by_bytes_as_well_as_count() {
    // Ten ~32 KB results: each fits SNS's message limit, together they are over the 256 KiB
    // a PublishBatch may carry, which the strict in-memory sink refuses like SNS.
    let sink = Arc::new(MemorySink::default());
    let engine = engine_with(sink.clone(), None, EngineConfig::default());
    let records: Vec<SqsMessage> = (0..10)
        .map(|i| record(&format!("m{i}"), &script(&format!("v{i}"), "bytes:32768")))
        .collect();
    let outcome = engine.process_batch(&records, None).await;
    assert!(
        failed_ids(&outcome).is_empty(),
        "{:?}",
        failed_ids(&outcome)
    );
    let calls = sink.calls();
    assert!(calls.len() >= 2, "{calls:?}");
    assert!(calls
        .iter()
        .all(|c| c.bytes <= crate::sink::SNS_MAX_BATCH_BYTES));
    assert_eq!(calls.iter().map(|c| c.entries).sum::<usize>(), 10);
    assert_eq!(published(&sink).len(), 10);
}

/// A sink whose calls take longer than any invocation has left.
struct StuckSink;

impl EventSink for StuckSink {
    fn publish_batch(
        &self,
        entries: Vec<PublishEntry>,
    ) -> BoxFuture<'_, Vec<Result<(), RecordError>>> {
        Box::pin(async move {
            tokio::time::sleep(Duration::from_secs(30)).await;
            entries.iter().map(|_| Ok(())).collect()
        })
    }
}

#[tokio::test]
async fn publishing_stops_at_the_invocation_deadline() {
    let config = EngineConfig {
        deadline_margin: Duration::from_millis(400),
        ..EngineConfig::default()
    };
    let engine = engine_with(Arc::new(StuckSink), None, config);
    let records = vec![
        record("m1", &script("v1", "a")),
        record("m2", &script("v2", "b")),
    ];
    let started = Instant::now();
    let deadline = started + Duration::from_millis(800);
    let outcome = engine.process_batch(&records, Some(deadline)).await;
    assert!(
        started.elapsed() < Duration::from_millis(800),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(failed_ids(&outcome), vec!["m1", "m2"]);
    assert!(outcome.outcomes.iter().all(
        |(_, o)| matches!(o, RecordOutcome::Retry(e) if e.code() == codes::DEADLINE_EXCEEDED)
    ));
}

#[test]
fn f32_results_are_written_in_their_shortest_form() {
    #[derive(Serialize)]
    struct Scores {
        confidence: f32,
        scores: Vec<f32>,
    }
    let value = super::result_value(&Scores {
        confidence: 0.8,
        scores: vec![0.95, 0.1, 1.0],
    })
    .unwrap();
    assert_eq!(
        value.to_string(),
        r#"{"confidence":0.8,"scores":[0.95,0.1,1.0]}"#
    );
}

#[tokio::test]
async fn the_report_counts_error_codes_and_sums_worker_metrics() {
    let sink = Arc::new(MemorySink::default());
    let engine = engine_with(sink.clone(), None, EngineConfig::default());
    let records = [
        record("m1", &script("v1", "abc")),
        record("m2", &script("v2", "abcd")),
        record("m3", &script("v3", "permanent")),
        record("m4", &script("v4", "permanent")),
        record("m5", &script("v5", "transient")),
        record("m6", "{not json"),
    ];
    let outcome = engine.process_batch(&records, None).await;
    let report = &outcome.report;
    assert_eq!(report.error_codes.get("bad_input"), Some(&2));
    assert_eq!(report.error_codes.get("throttled"), Some(&1));
    assert_eq!(report.error_codes.get(codes::INVALID_JSON), Some(&1));
    assert_eq!(report.error_codes.values().sum::<usize>(), 4);
    assert_eq!(
        report.worker_metrics,
        vec![crate::metrics::Metric::count("EchoBytes", 7.0)]
    );
}

/// The engine's spans reach X-Ray as subsegments of the invocation (an in-process sink in
/// place of the daemon): the record, its analysis and the publish call, with ids annotated.
#[tokio::test]
async fn records_analysis_and_publish_become_xray_subsegments() {
    use tracing::Instrument;
    use tracing_subscriber::layer::SubscriberExt;
    let captured = crate::xray::CapturedSegments::default();
    let subscriber =
        tracing_subscriber::registry().with(crate::xray::XRayLayer::new(captured.clone()));
    let _guard = tracing::subscriber::set_default(subscriber);
    let sink = Arc::new(MemorySink::default());
    let engine = engine_with(sink.clone(), None, EngineConfig::default());
    let header = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
    engine
        .process_batch(&[record("m1", &script("v1", "fine"))], None)
        .instrument(tracing::info_span!("invocation", xray_trace_id = header))
        .await;
    let documents = captured.0.lock().unwrap().clone();
    let named = |name: &str| {
        documents
            .iter()
            .find(|d| d["name"] == name)
            .unwrap_or_else(|| panic!("no {name} subsegment in {documents:?}"))
            .clone()
    };
    let (invocation, record_segment) = (named("invocation"), named("record"));
    let (analyse, publish) = (named("analyse"), named("sns.publish_batch"));
    assert_eq!(invocation["parent_id"], "53995c3f42cd8ad8");
    assert_eq!(record_segment["parent_id"], invocation["id"]);
    assert_eq!(analyse["parent_id"], record_segment["id"]);
    assert_eq!(record_segment["annotations"]["message_id"], "m1");
    assert_eq!(
        record_segment["annotations"]["event_id"],
        published(&sink)[0].event_id.as_str()
    );
    assert_eq!(publish["namespace"], "aws");
    assert_eq!(publish["annotations"]["entries"], 1);
}

/// SQS fair queues are standard queues whose records carry MessageGroupId: they were taken
/// for FIFO, analysed one at a time and blocked behind one another's failures.
#[tokio::test]
async fn a_standard_queue_with_message_groups_is_not_fifo() {
    let sink = Arc::new(MemorySink::default());
    let config = EngineConfig {
        fifo_failure_mode: FifoFailureMode::StopAll,
        max_concurrency: 4,
        ..EngineConfig::default()
    };
    let engine = engine_with(sink.clone(), None, config);
    let fair = |id: &str, mode: &str| {
        let mut message = record(id, &script(id, mode));
        message
            .attributes
            .insert("MessageGroupId".to_owned(), "tenant-1".to_owned());
        message
    };
    let records = vec![
        fair("m1", "transient"),
        fair("m2", "sleep:20"),
        fair("m3", "sleep:20"),
        fair("m4", "sleep:20"),
    ];
    let outcome = engine.process_batch(&records, None).await;
    assert_eq!(failed_ids(&outcome), vec!["m1"]);
    assert_eq!(published(&sink).len(), 3);
    assert!(engine.worker().max_in_flight() > 1);
}

/// Retries that are not the record's fault used up its receives and moved it to the DLQ
/// with no event; on the last receive they now end as one error event (or, for a duplicate
/// another invocation is publishing, an acknowledgement).
#[tokio::test]
async fn retries_that_are_not_the_records_fault_end_as_events_on_the_last_receive() {
    let sink = Arc::new(MemorySink::default());
    let config = EngineConfig {
        max_receive_count: Some(5),
        deadline_margin: Duration::from_millis(50),
        max_concurrency: 1,
        ..EngineConfig::default()
    };
    let engine = engine_with(sink.clone(), None, config);
    // One at a time: the slow one on its last receive starts first (and runs out of time),
    // the fast one on an earlier receive is left unstarted and retried.
    let records = vec![
        received("m1", &script("v1", "fast"), 2),
        received("m2", &script("v2", "sleep:300"), 5),
    ];
    let outcome = engine
        .process_batch(&records, Some(Instant::now() + Duration::from_millis(200)))
        .await;
    assert_eq!(failed_ids(&outcome), vec!["m1"]);
    let events = published(&sink);
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].subject["video_id"].as_deref(), Some("v2"));
    let error = events[0].error.as_ref().expect("error event");
    assert_eq!(error.code, codes::DEADLINE_EXCEEDED);
    assert!(
        error.message.contains("on all 5 receives"),
        "{}",
        error.message
    );

    // FIFO: a record blocked behind a failing predecessor on its last receive.
    let sink = Arc::new(MemorySink::default());
    let config = EngineConfig {
        max_receive_count: Some(5),
        ..EngineConfig::default()
    };
    let engine = engine_with(sink.clone(), None, config);
    let mut first = fifo_record("m1", "g", &script("v1", "transient"));
    let mut second = fifo_record("m2", "g", &script("v2", "x"));
    for message in [&mut first, &mut second] {
        message
            .attributes
            .insert("ApproximateReceiveCount".to_owned(), "5".to_owned());
    }
    let outcome = engine.process_batch(&[first, second], None).await;
    assert_eq!(
        failed_ids(&outcome),
        vec!["m1"],
        "the failing one goes on to the DLQ"
    );
    let events = published(&sink);
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].error.as_ref().map(|e| e.code.as_str()),
        Some(codes::FIFO_PREDECESSOR_FAILED)
    );
}

#[tokio::test]
async fn a_held_idempotency_key_on_the_last_receive_is_acknowledged() {
    let engine = engine_with(
        Arc::new(MemorySink::default()),
        None,
        EngineConfig {
            max_receive_count: Some(5),
            ..EngineConfig::default()
        },
    );
    let record = received("m1", &script("v1", "x"), 5);
    let held = crate::engine::record::Stage::Done(RecordOutcome::Retry(RecordError::transient(
        codes::IDEMPOTENCY_IN_PROGRESS,
        "held",
    )));
    let context = crate::engine::record::RecordContext::new(0, &record, Some(5));
    let stage = engine.escalate_stage(&context, held);
    assert!(matches!(
        stage,
        crate::engine::record::Stage::Done(RecordOutcome::Acknowledged { .. })
    ));
}

/// A panic's event is built from what decoding read, not from the body read again: a
/// claim-checked input's event names its subject and keeps the event id its content gives
/// (read again, the body was only the pointer, and the event named neither).
#[tokio::test]
async fn a_claim_checked_panic_keeps_its_identity() {
    let sink = Arc::new(MemorySink::default());
    let store = Arc::new(MemoryStore::default());
    let body = script("v9", "panic");
    store.insert(
        &S3Location::parse("s3://inputs/p9.json").unwrap(),
        body.clone().into_bytes(),
    );
    let config = EngineConfig {
        claim_check_bucket: Some("inputs".to_owned()),
        max_receive_count: Some(5),
        ..EngineConfig::default()
    };
    let engine = engine_with(sink.clone(), Some(store), config);
    let pointer = json!({"claim_check": {"s3_uri": "s3://inputs/p9.json"}}).to_string();
    let outcome = engine
        .process_batch(&[received("m9", &pointer, 5)], None)
        .await;
    assert_eq!(outcome.report.internal_errors, 1);
    let events = published(&sink);
    assert_eq!(events[0].subject["video_id"].as_deref(), Some("v9"));
    assert_eq!(
        events[0].event_id,
        derive_event_id(
            SCRIPTED_WORKER.name,
            &ContentDigest::of_bytes(body.as_bytes())
        )
    );
}

/// Answers every claim with a stored result this version cannot read.
struct UnreadableStoredResult {
    completed: AtomicUsize,
}

impl crate::idempotency::IdempotencyStore for UnreadableStoredResult {
    fn claim<'a>(
        &'a self,
        _key: &'a str,
        _payload_hash: &'a str,
        _until: u64,
    ) -> BoxFuture<'a, Result<crate::idempotency::Claim, crate::idempotency::StoreFailure>> {
        Box::pin(async {
            Ok(crate::idempotency::Claim::Completed(
                crate::idempotency::StoredResult {
                    event_id: "old".to_owned(),
                    status: Status::Ok,
                    message: r#"{"schema_version": 0}"#.to_owned(),
                    attributes: Vec::new(),
                },
            ))
        })
    }

    fn complete<'a>(
        &'a self,
        _key: &'a str,
        _payload_hash: &'a str,
        _result: &'a crate::idempotency::StoredResult,
    ) -> BoxFuture<'a, Result<(), crate::idempotency::StoreFailure>> {
        self.completed.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { Ok(()) })
    }

    fn release<'a>(
        &'a self,
        _key: &'a str,
    ) -> BoxFuture<'a, Result<(), crate::idempotency::StoreFailure>> {
        Box::pin(async { Ok(()) })
    }
}

/// A stored result an older version wrote in a shape this one cannot read is not
/// published blind (it could not be offloaded or replaced) nor retried into the DLQ: the
/// record is analysed again, and the store is left as it is.
#[tokio::test]
async fn an_unreadable_stored_result_is_analysed_again() {
    let sink = Arc::new(MemorySink::default());
    let store = Arc::new(UnreadableStoredResult {
        completed: AtomicUsize::new(0),
    });
    let engine =
        BatchEngine::new(ScriptedWorker::default(), sink.clone()).with_idempotency(store.clone());
    let outcome = engine
        .process_batch(&[record("m1", &script("v1", "fresh"))], None)
        .await;
    assert!(outcome.response.batch_item_failures.is_empty());
    assert_eq!(outcome.report.republished, 0);
    let events = published(&sink);
    assert_eq!(events[0].result.as_ref().unwrap()["echo"], "fresh");
    assert_eq!(store.completed.load(Ordering::SeqCst), 0);
}
