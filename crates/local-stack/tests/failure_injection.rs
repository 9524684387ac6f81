//! End to end on the template's topology in moto, with faults injected: 300 posts go
//! through SNS → SQS → the local event source mapping → the caption-parser handler → SNS,
//! while publishes fail at random, S3 reads fail once, some records panic, and some fail
//! transiently forever. Every input must end as exactly one result event (repeats only
//! with the same event_id) or in the dead-letter queue; nothing may be lost.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use caption_parser::CaptionParser;
use futures::future::BoxFuture;
use postlens_local_stack::emulator::{s3_client, Emulator};
use postlens_local_stack::{
    find_template, run_until_drained, DrainOptions, EngineFunction, EventSourceMapping, LocalStack,
    MappingSettings, Tap, Topology,
};
use postlens_runtime::contracts::NewVideoPosted;
use postlens_runtime::envelope::S3Location;
use postlens_runtime::event::WorkerDescriptor;
use postlens_runtime::sink::SnsSink;
use postlens_runtime::store::S3Store;
use postlens_runtime::testing::{throttled, Attempt, FlakySink};
use postlens_runtime::{
    codes, BatchEngine, ObjectStore, RecordError, StoreError, Worker, WorkerConfig,
};
use serde_json::{json, Value};

/// The caption parser, plus two kinds of records that never succeed.
struct ChaosParser {
    inner: CaptionParser,
    panics: AtomicUsize,
}

impl Worker for ChaosParser {
    type Input = NewVideoPosted;
    type Output = <CaptionParser as Worker>::Output;

    fn descriptor(&self) -> &WorkerDescriptor {
        self.inner.descriptor()
    }

    async fn process(&self, post: NewVideoPosted) -> Result<Self::Output, RecordError> {
        if post.caption.contains("[panic]") {
            self.panics.fetch_add(1, Ordering::Relaxed);
            panic!("injected panic");
        }
        if post.caption.contains("[transient]") {
            return Err(RecordError::transient(
                codes::PUBLISH_FAILED,
                "injected: downstream never recovers",
            ));
        }
        self.inner.process(post).await
    }
}

/// Fails roughly one publish entry in five, deterministically, as a throttled SNS would,
/// but never the same event more than twice: five failures in a row would send a healthy
/// record to the DLQ (about one run in ten failed that way under load).
fn throttling_sns(inner: SnsSink) -> FlakySink<SnsSink> {
    let failures_per_event: Mutex<HashMap<String, usize>> = Mutex::new(HashMap::new());
    FlakySink::new(inner, move |attempt: &Attempt<'_>| {
        let event_id = serde_json::from_str::<Value>(&attempt.entry.message)
            .ok()
            .and_then(|m| m["event_id"].as_str().map(str::to_owned))
            .unwrap_or_default();
        // An internal_error event is published only on the record's last receive, so a
        // fault then would send it to the DLQ; those are spared.
        let last_receive = attempt.entry.message.contains(codes::INTERNAL_ERROR);
        let mut failures = failures_per_event.lock().unwrap_or_else(|p| p.into_inner());
        let count = failures.entry(event_id).or_default();
        let fail = (attempt.call * 7 + attempt.position * 3).is_multiple_of(5)
            && *count < 2
            && !last_receive;
        *count += usize::from(fail);
        fail.then(throttled)
    })
}

/// S3 whose first read of every object fails.
struct FlakyStore {
    inner: S3Store,
    seen: Mutex<HashSet<String>>,
    failed_reads: AtomicUsize,
}

impl ObjectStore for FlakyStore {
    fn get(
        &self,
        location: &S3Location,
        max_bytes: usize,
    ) -> BoxFuture<'_, Result<Vec<u8>, StoreError>> {
        let first = self
            .seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(location.uri());
        if first {
            self.failed_reads.fetch_add(1, Ordering::Relaxed);
            return Box::pin(async {
                Err(StoreError::Unavailable("injected: S3 503 SlowDown".into()))
            });
        }
        self.inner.get(location, max_bytes)
    }

    fn put(
        &self,
        location: &S3Location,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        self.inner.put(location, bytes, content_type)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    Ok,
    ErrorEvent(&'static str),
    DeadLetter,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_input_ends_as_one_result_or_in_the_dlq() {
    // Fifty injected panics: with RUST_BACKTRACE set, the default hook would symbolise a
    // backtrace for each, which in a debug build takes longer than the drain allows.
    std::panic::set_hook(Box::new(|info| eprintln!("panic: {info}")));
    let emulator = Emulator::start().await.expect("moto starts (make venv)");
    let config = emulator.sdk_config().await;
    let template = find_template().expect("infra/template.yaml");
    let stack = LocalStack::create(Topology::from_file(&template).expect("template"), &config)
        .await
        .expect("stack");
    let function = stack
        .topology
        .function("caption-parser")
        .expect("function")
        .clone();
    let environment = stack.environment(&function).expect("environment");
    let worker_config = WorkerConfig::from_lookup(|k| environment.get(k).cloned()).expect("config");

    let sns = aws_sdk_sns::Client::new(&config);
    let sqs = aws_sdk_sqs::Client::new(&config);
    let s3 = s3_client(&config);
    let tap = Tap::subscribe(
        "test-tap",
        &worker_config.output_topic_arn,
        sqs.clone(),
        &sns,
    )
    .await
    .expect("tap");

    // Inputs: what each should become.
    let bucket = stack.buckets["ClaimCheckBucket"].clone();
    let mut expected: BTreeMap<String, Expect> = BTreeMap::new();
    let mut bodies = Vec::new();
    for i in 0..300 {
        let video_id = format!("v-{i:04}");
        let post = |caption: &str| json!({"event_id": format!("e-{i:04}"), "video_id": video_id, "caption": caption, "market": "NG"});
        let (body, expect) = match i % 30 {
            // A panic is a bug in us: retried, and on the last receive an internal_error event.
            0 => (
                post("Ankara gown [panic]").to_string(),
                Expect::ErrorEvent(codes::INTERNAL_ERROR),
            ),
            // Transient faults that never clear still go to the DLQ.
            1 => (post("Sneakers [transient]").to_string(), Expect::DeadLetter),
            2 => (
                json!({"video_id": video_id, "caption": "Shoes", "market": "Nigeria"}).to_string(),
                Expect::ErrorEvent(codes::SCHEMA_VIOLATION),
            ),
            3 => {
                // Claimed-checked: the post itself is in S3.
                let key = format!("posts/{video_id}.json");
                s3.put_object()
                    .bucket(&bucket)
                    .key(&key)
                    .body(post("Bag ₦12,000 only").to_string().into_bytes().into())
                    .send()
                    .await
                    .expect("put");
                (
                    json!({"claim_check": {"s3_uri": format!("s3://{bucket}/{key}")}}).to_string(),
                    Expect::Ok,
                )
            }
            _ => (
                post(&format!("Item {i} ₦{},000 sizes 38-44 #lagos", 5 + i % 40)).to_string(),
                Expect::Ok,
            ),
        };
        expected.insert(video_id, expect);
        bodies.push(body);
    }
    // Poison bodies that are not JSON at all: error events without a subject.
    for i in 0..5 {
        bodies.push(format!("not json {i} {{"));
    }

    let input_topic = stack
        .topic_arn("NewVideoPostedTopic")
        .expect("input topic")
        .to_owned();
    for (chunk_index, chunk) in bodies.chunks(10).enumerate() {
        let entries = chunk
            .iter()
            .enumerate()
            .map(|(i, body)| {
                aws_sdk_sns::types::PublishBatchRequestEntry::builder()
                    .id(format!("{chunk_index}-{i}"))
                    .message(body)
                    .build()
                    .expect("entry")
            })
            .collect();
        let response = sns
            .publish_batch()
            .topic_arn(&input_topic)
            .set_publish_batch_request_entries(Some(entries))
            .send()
            .await
            .expect("publish");
        assert!(response.failed().is_empty(), "{:?}", response.failed());
    }

    // The handler's clients act under the function's role from the template, as in Lambda.
    let (role_config, role) = stack.role_config(&function, &config).expect("role");
    let chaos = Arc::new(ChaosParser {
        inner: CaptionParser::new(),
        panics: AtomicUsize::new(0),
    });
    let sink = Arc::new(throttling_sns(SnsSink::new(
        aws_sdk_sns::Client::new(&role_config),
        worker_config.output_topic_arn.clone(),
    )));
    let store = Arc::new(FlakyStore {
        inner: S3Store::new(s3_client(&role_config)),
        seen: Mutex::new(HashSet::new()),
        failed_reads: AtomicUsize::new(0),
    });
    let engine = BatchEngine::new(SharedWorker(chaos.clone()), sink.clone())
        .with_store(store.clone())
        .with_config(worker_config.engine);
    let (source, dead_letter) = stack.source_queues(&function);
    let source = source.expect("source queue").clone();
    let dead_letter = dead_letter.expect("dlq").clone();
    // The mapping's default retry delay (1 s). A visibility timeout of 0 leaves some
    // records invisible in moto 5.2.5 until the queue's full 180 s timeout.
    let settings = MappingSettings::for_function(&function);
    let mapping = Arc::new(EventSourceMapping::new(
        "caption-parser",
        sqs.clone(),
        source,
        settings,
        Arc::new(EngineFunction::new(engine)),
    ));
    let drain_started = std::time::Instant::now();
    let report = run_until_drained(
        &[mapping],
        &sqs,
        &DrainOptions {
            pollers: 2,
            // Longer than the queue's 180 s visibility timeout: under load a receive can be
            // lost between moto and the client (seen twice on a busy 2-core machine; moto
            // 5.2.5 is known to keep records invisible that way), and such a message
            // reappears only after that timeout, as it would in SQS.
            max_duration: Duration::from_secs(240),
            check_every: Duration::from_millis(300),
        },
        |_| {},
    )
    .await
    .expect("drain");
    let drain_time = drain_started.elapsed();
    assert!(
        report.drained,
        "queue not drained in time: {:?}",
        report.stats
    );

    // What came out.
    let events = tap.drain().await.expect("tap");
    let dlq_tap = Tap::existing(dead_letter.url.clone(), sqs.clone());
    let dead: Vec<Value> = dlq_tap.drain().await.expect("dlq");

    let mut event_ids: HashMap<String, HashSet<String>> = HashMap::new();
    let mut statuses: HashMap<String, (String, Option<String>)> = HashMap::new();
    let mut subjectless_errors = Vec::new();
    for event in &events {
        let event_id = event["event_id"].as_str().expect("event_id").to_owned();
        let code = event["error"]["code"].as_str().map(str::to_owned);
        match event["video_id"].as_str() {
            Some(video_id) => {
                event_ids
                    .entry(video_id.to_owned())
                    .or_default()
                    .insert(event_id);
                statuses.insert(
                    video_id.to_owned(),
                    (
                        event["status"].as_str().unwrap_or_default().to_owned(),
                        code,
                    ),
                );
            }
            None => subjectless_errors.push(code),
        }
    }
    let dead_ids: HashSet<String> = dead
        .iter()
        .filter_map(|body| body["video_id"].as_str().map(str::to_owned))
        .collect();

    // A receive moto loses under load (see the drain above) counts toward maxReceiveCount
    // without running the handler. It shows as a drain longer than the queue's visibility
    // timeout, and only then may a panicking record have lost its last receive and gone
    // to the DLQ instead of publishing its internal_error event (seen once in a full
    // workspace run on a busy 2-core machine); still one outcome, nothing lost.
    let receive_lost = drain_time >= Duration::from_secs(180);
    let mut panics_dead_lettered = 0;
    for (video_id, expect) in &expected {
        let ids = event_ids.get(video_id);
        let in_dlq = dead_ids.contains(video_id);
        assert!(
            ids.is_some() != in_dlq,
            "{video_id}: must end as a result event xor in the DLQ (event: {ids:?}, dlq: {in_dlq})"
        );
        if let Some(ids) = ids {
            assert_eq!(
                ids.len(),
                1,
                "{video_id}: repeats with different event ids {ids:?}"
            );
        }
        match expect {
            Expect::Ok => assert_eq!(statuses[video_id].0, "ok", "{video_id}"),
            Expect::ErrorEvent(codes::INTERNAL_ERROR) if receive_lost && in_dlq => {
                panics_dead_lettered += 1;
            }
            Expect::ErrorEvent(code) => {
                assert_eq!(
                    statuses[video_id],
                    ("error".into(), Some((*code).into())),
                    "{video_id}"
                )
            }
            Expect::DeadLetter => assert!(in_dlq, "{video_id} should be in the DLQ"),
        }
    }
    assert!(
        panics_dead_lettered <= 3,
        "{panics_dead_lettered} panicking records in the DLQ: more than lost receives explain"
    );
    assert_eq!(
        dead.len(),
        10 + panics_dead_lettered,
        "only the always-failing (transient) records reach the DLQ"
    );
    assert!(
        events
            .iter()
            .filter(|e| e["error"]["code"] == codes::INTERNAL_ERROR)
            .all(|e| e["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("injected panic"))),
        "internal_error events carry the panic message"
    );
    assert_eq!(
        subjectless_errors,
        vec![Some(codes::INVALID_JSON.to_owned()); 5],
        "each non-JSON body becomes one invalid_json error event"
    );

    // The faults really happened.
    assert!(sink.failed_entries() >= 20, "publish faults injected");
    assert_eq!(
        store.failed_reads.load(Ordering::Relaxed),
        10,
        "one failed read per claim check"
    );
    // Under its role the handler needed nothing the template does not grant.
    assert_eq!(
        role.denied(),
        Vec::<String>::new(),
        "requests the role refused"
    );
    // Each panicking record runs once per receive, maxReceiveCount times; only after a
    // lost receive may one have run fewer times (still at most five).
    let panics = chaos.panics.load(Ordering::Relaxed);
    if !receive_lost {
        assert_eq!(
            panics,
            10 * 5,
            "each panicking record tried maxReceiveCount times, the last one published"
        );
    } else {
        assert!(
            (10 * 4..=10 * 5).contains(&panics),
            "{panics} panicking attempts after a lost receive"
        );
    }
    emulator.stop().await;
}

/// Lets the test keep a handle on the worker's counters while the engine owns it.
struct SharedWorker(Arc<ChaosParser>);

impl Worker for SharedWorker {
    type Input = NewVideoPosted;
    type Output = <CaptionParser as Worker>::Output;

    fn descriptor(&self) -> &WorkerDescriptor {
        self.0.descriptor()
    }

    async fn process(&self, post: NewVideoPosted) -> Result<Self::Output, RecordError> {
        self.0.process(post).await
    }
}
