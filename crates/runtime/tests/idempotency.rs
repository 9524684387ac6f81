//! The idempotency store on moto's DynamoDB, through the real engine: a duplicate is
//! answered from the table without running the worker, a concurrent duplicate waits for a
//! retry, an expired in-progress claim is taken over, and a key reused for new content is
//! refused.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lambda_events::event::sqs::SqsMessage;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use postlens_local_stack::emulator::Emulator;
use postlens_runtime::event::ContentDigest;
use postlens_runtime::idempotency::{item_key, DynamoDbStore, IdempotencyConfig};
use postlens_runtime::testing::{sqs_record, ScriptedWorker, SCRIPTED_WORKER};
use postlens_runtime::{codes, BatchEngine, EngineConfig, MemorySink, OutputEvent, Status};
use serde_json::json;

fn record(id: &str, body: &serde_json::Value) -> SqsMessage {
    sqs_record(id, &body.to_string())
}

struct Fixture {
    dynamodb: aws_sdk_dynamodb::Client,
    table: String,
    _emulator: Emulator,
}

impl Fixture {
    async fn new(table: &str) -> Self {
        let emulator = Emulator::start().await.expect("moto (make venv)");
        let dynamodb = aws_sdk_dynamodb::Client::new(&emulator.sdk_config().await);
        dynamodb
            .create_table()
            .table_name(table)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name("id")
                    .key_type(KeyType::Hash)
                    .build()
                    .expect("key"),
            )
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("id")
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .expect("attribute"),
            )
            .send()
            .await
            .expect("create table");
        Self {
            dynamodb,
            table: table.to_owned(),
            _emulator: emulator,
        }
    }

    fn engine(&self, key_fields: &[&str]) -> (BatchEngine<ScriptedWorker>, Arc<MemorySink>) {
        let settings = IdempotencyConfig {
            table: self.table.clone(),
            key_fields: key_fields.iter().map(|f| f.to_string()).collect(),
            ttl: Duration::from_secs(3600),
        };
        let sink = Arc::new(MemorySink::default());
        let config = EngineConfig {
            idempotency: Some(settings.clone()),
            ..EngineConfig::default()
        };
        let engine = BatchEngine::new(ScriptedWorker::default(), sink.clone())
            .with_config(config)
            .with_idempotency(Arc::new(DynamoDbStore::new(
                self.dynamodb.clone(),
                &settings,
            )));
        (engine, sink)
    }

    async fn put_in_progress(&self, key: &str, payload_hash: &str, until_ms: u64) {
        let expiration = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock")
            .as_secs()
            + 3600;
        self.dynamodb
            .put_item()
            .table_name(&self.table)
            .item("id", AttributeValue::S(key.to_owned()))
            .item("status", AttributeValue::S("INPROGRESS".to_owned()))
            .item("payload_hash", AttributeValue::S(payload_hash.to_owned()))
            .item(
                "in_progress_expiration",
                AttributeValue::N(until_ms.to_string()),
            )
            .item("expiration", AttributeValue::N(expiration.to_string()))
            .send()
            .await
            .expect("put");
    }

    async fn item_count(&self) -> usize {
        self.dynamodb
            .scan()
            .table_name(&self.table)
            .send()
            .await
            .expect("scan")
            .items()
            .len()
    }
}

fn events(sink: &MemorySink) -> Vec<OutputEvent> {
    sink.take()
        .iter()
        .map(|entry| serde_json::from_str(&entry.message).expect("event"))
        .collect()
}

fn failed(outcome: &postlens_runtime::BatchOutcome) -> Vec<String> {
    outcome
        .response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_is_published_again_without_running_the_worker() {
    let fixture = Fixture::new("idem-duplicate").await;
    let (engine, sink) = fixture.engine(&[]);
    let post = json!({"video_id": "v1", "mode": "fine"});
    let first = engine.process_batch(&[record("m1", &post)], None).await;
    assert!(failed(&first).is_empty());
    let original = sink.take();
    // Redelivered as a new SQS message (a duplicate SNS delivery): one DynamoDB call.
    let second = engine.process_batch(&[record("m2", &post)], None).await;
    assert!(failed(&second).is_empty());
    assert_eq!(second.report.republished, 1);
    let again = sink.take();
    assert_eq!(engine.worker().runs(), 1, "the worker ran once");
    assert_eq!(again.len(), 1);
    assert_eq!(
        again[0].message, original[0].message,
        "the stored event, byte for byte"
    );
    assert_eq!(again[0].attributes, original[0].attributes);

    // A bad input's error event is stored too: it is not analysed twice either.
    let bad = json!({"video_id": "v2", "mode": "permanent"});
    engine.process_batch(&[record("m3", &bad)], None).await;
    engine.process_batch(&[record("m4", &bad)], None).await;
    assert_eq!(engine.worker().runs(), 2);
    let errors = events(&sink);
    assert_eq!(errors.len(), 2);
    assert_eq!(errors[0].status, Status::Error);
    assert_eq!(errors[0].event_id, errors[1].event_id);
    assert_eq!(fixture.item_count().await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_concurrent_duplicate_is_retried_and_then_answered_from_the_table() {
    let fixture = Fixture::new("idem-concurrent").await;
    let (engine, sink) = fixture.engine(&[]);
    let post = json!({"video_id": "v1", "mode": "sleep:500"});
    let batch = [record("m1", &post), record("m2", &post)];
    let outcome = engine.process_batch(&batch, None).await;
    // Both copies start at once; whichever claims second waits for a retry.
    let waiting = failed(&outcome);
    assert_eq!(waiting.len(), 1, "one copy waits for a retry: {waiting:?}");
    let retried: Vec<SqsMessage> = batch
        .iter()
        .filter(|r| r.message_id.as_deref() == Some(waiting[0].as_str()))
        .cloned()
        .collect();
    assert_eq!(
        outcome
            .report
            .error_codes
            .get(codes::IDEMPOTENCY_IN_PROGRESS),
        Some(&1)
    );
    let published = events(&sink);
    assert_eq!(published.len(), 1);
    let retry = engine.process_batch(&retried, None).await;
    assert!(failed(&retry).is_empty());
    assert_eq!(events(&sink)[0].event_id, published[0].event_id);
    assert_eq!(engine.worker().runs(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_claim_is_taken_over_and_a_live_one_is_not() {
    let fixture = Fixture::new("idem-expired").await;
    let (engine, sink) = fixture.engine(&[]);
    let post = json!({"video_id": "v1", "mode": "fine"});
    let digest = ContentDigest::of_json(&post);
    let key = item_key(SCRIPTED_WORKER.name, digest.as_bytes());
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_millis() as u64;

    // An invocation that crashed holding the key an hour ago.
    fixture
        .put_in_progress(&key, &digest.to_hex(), now_ms - 3_600_000)
        .await;
    let outcome = engine.process_batch(&[record("m1", &post)], None).await;
    assert!(failed(&outcome).is_empty());
    assert_eq!(events(&sink)[0].status, Status::Ok);

    // One that is still running: this copy is retried, not analysed.
    let other = json!({"video_id": "v2", "mode": "fine"});
    let digest = ContentDigest::of_json(&other);
    let key = item_key(SCRIPTED_WORKER.name, digest.as_bytes());
    fixture
        .put_in_progress(&key, &digest.to_hex(), now_ms + 60_000)
        .await;
    let outcome = engine.process_batch(&[record("m2", &other)], None).await;
    assert_eq!(failed(&outcome), vec!["m2"]);
    assert_eq!(engine.worker().runs(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_reused_for_new_content_is_refused_and_failures_free_the_key() {
    let fixture = Fixture::new("idem-changed").await;
    let (engine, sink) = fixture.engine(&["video_id"]);
    let first = json!({"video_id": "v1", "mode": "a"});
    let changed = json!({"video_id": "v1", "mode": "b"});
    engine.process_batch(&[record("m1", &first)], None).await;
    let outcome = engine.process_batch(&[record("m2", &changed)], None).await;
    assert!(failed(&outcome).is_empty());
    let published = events(&sink);
    assert_eq!(published.len(), 2);
    let refused = &published[1];
    assert_eq!(refused.status, Status::Error);
    assert_eq!(
        refused.error.as_ref().map(|e| e.code.as_str()),
        Some(codes::IDEMPOTENCY_KEY_REUSED)
    );
    assert_ne!(refused.event_id, published[0].event_id);
    assert_eq!(engine.worker().runs(), 1);

    // A transient failure and a panic give the claim up: their retries run again.
    for mode in ["transient", "panic"] {
        let post = json!({"video_id": format!("v-{mode}"), "mode": mode});
        let before = engine.worker().runs();
        let first = engine.process_batch(&[record("m3", &post)], None).await;
        let second = engine.process_batch(&[record("m3", &post)], None).await;
        assert_eq!(failed(&first), vec!["m3"], "{mode}");
        assert_eq!(failed(&second), vec!["m3"], "{mode}");
        assert_eq!(engine.worker().runs(), before + 2, "{mode}");
    }
}

/// A result too large for a DynamoDB item could not complete its claim, which stayed in
/// progress: every duplicate was retried until the claim lapsed. The claim is released.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_too_large_to_store_releases_its_claim() {
    let fixture = Fixture::new("idem-huge").await;
    let (engine, sink) = fixture.engine(&[]);
    // Larger than a DynamoDB item may be (400 KB).
    let body = json!({"video_id": "v1", "mode": "bytes:460800"});
    let first = engine.process_batch(&[record("m1", &body)], None).await;
    assert!(first.response.batch_item_failures.is_empty());
    assert_eq!(fixture.item_count().await, 0, "no claim left behind");
    let duplicate = engine.process_batch(&[record("m2", &body)], None).await;
    assert!(
        duplicate.response.batch_item_failures.is_empty(),
        "{:?}",
        duplicate.outcomes
    );
    assert_eq!(engine.worker().runs(), 2);
    assert_eq!(sink.take().len(), 2);
}
