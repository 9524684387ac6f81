//! Stand-ins for tests of the engine and of what runs it (feature `testing`; the
//! runtime's own unit tests have it too): SQS records as Lambda delivers them, a worker
//! whose input scripts what it does, and a sink that fails the entries a rule picks. The
//! engine's unit tests, its DynamoDB tests and the local stack's fault injection share them.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use aws_lambda_events::event::sqs::SqsMessage;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::engine::Worker;
use crate::error::{codes, RecordError};
use crate::event::WorkerDescriptor;
use crate::metrics::Metric;
use crate::sink::{EventSink, PublishEntry};

/// A record of the standard queue `q`, as the event source mapping delivers it.
pub fn sqs_record(message_id: &str, body: &str) -> SqsMessage {
    let mut record = SqsMessage::default();
    record.message_id = Some(message_id.to_owned());
    record.receipt_handle = Some("rh".to_owned());
    record.body = Some(body.to_owned());
    record.event_source = Some("aws:sqs".to_owned());
    record.event_source_arn = Some("arn:aws:sqs:us-east-1:000000000000:q".to_owned());
    record.aws_region = Some("us-east-1".to_owned());
    record
}

/// A record of the FIFO queue `q.fifo`, in message group `group`.
pub fn fifo_record(message_id: &str, group: &str, body: &str) -> SqsMessage {
    let mut record = sqs_record(message_id, body);
    record.event_source_arn = Some("arn:aws:sqs:us-east-1:000000000000:q.fifo".to_owned());
    record
        .attributes
        .insert("MessageGroupId".to_owned(), group.to_owned());
    record
}

/// `record` on its `count`th receive (`ApproximateReceiveCount`).
pub fn on_receive(mut record: SqsMessage, count: u32) -> SqsMessage {
    record
        .attributes
        .insert("ApproximateReceiveCount".to_owned(), count.to_string());
    record
}

/// What [`ScriptedWorker`] is: `scripted-worker`, publishing `scripted` events about a
/// `video_id`.
pub const SCRIPTED_WORKER: WorkerDescriptor = WorkerDescriptor {
    name: "scripted-worker",
    version: "0.0.1",
    event_type: "scripted",
    subject_key: "video_id",
};

/// [`ScriptedWorker`]'s input: a subject and what to do with it.
#[derive(Debug, Deserialize)]
pub struct Script {
    /// The subject; only the event reads it.
    #[allow(dead_code)]
    pub video_id: String,
    /// See [`ScriptedWorker`].
    #[serde(default)]
    pub mode: String,
}

/// The JSON body of a [`Script`].
pub fn script(video_id: &str, mode: &str) -> String {
    json!({"video_id": video_id, "mode": mode}).to_string()
}

/// [`ScriptedWorker`]'s result.
#[derive(Debug, Serialize)]
pub struct Echo {
    /// The mode, or what it asked for.
    pub echo: String,
}

/// A worker that does what its input's `mode` says:
/// `permanent` (a `bad_input` error), `transient` (a `throttled` retry), `panic`,
/// `sleep:MS` (then echo the mode), `bytes:N` (echo N bytes); anything else is echoed.
/// It counts its runs and the most it ran at once; its attribute is `echo_len` and its
/// metric `EchoBytes`.
#[derive(Default)]
pub struct ScriptedWorker {
    runs: AtomicUsize,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

impl ScriptedWorker {
    /// How many records it was given.
    pub fn runs(&self) -> usize {
        self.runs.load(Ordering::SeqCst)
    }

    /// The most records it worked on at once.
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }

    async fn run(mode: String) -> Result<Echo, RecordError> {
        if let Some(ms) = mode.strip_prefix("sleep:").and_then(|ms| ms.parse().ok()) {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            return Ok(Echo { echo: mode });
        }
        if let Some(bytes) = mode.strip_prefix("bytes:").and_then(|n| n.parse().ok()) {
            return Ok(Echo {
                echo: "x".repeat(bytes),
            });
        }
        match mode.as_str() {
            "permanent" => Err(RecordError::permanent("bad_input", "input is unusable")),
            "transient" => Err(RecordError::transient("throttled", "try again")),
            "panic" => panic!("worker exploded"),
            _ => Ok(Echo { echo: mode }),
        }
    }
}

impl Worker for ScriptedWorker {
    type Input = Script;
    type Output = Echo;

    fn descriptor(&self) -> &WorkerDescriptor {
        &SCRIPTED_WORKER
    }

    async fn process(&self, input: Script) -> Result<Echo, RecordError> {
        self.runs.fetch_add(1, Ordering::SeqCst);
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        // Counted down on a panic too: the guard drops while unwinding.
        struct Leaving<'a>(&'a AtomicUsize);
        impl Drop for Leaving<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        let _leaving = Leaving(&self.in_flight);
        Self::run(input.mode).await
    }

    fn attributes(&self, output: &Echo) -> Vec<(String, String)> {
        vec![("echo_len".into(), output.echo.len().to_string())]
    }

    fn metrics(&self, output: &Echo) -> Vec<Metric> {
        vec![Metric::count("EchoBytes", output.echo.len() as f64)]
    }
}

/// One entry of one PublishBatch call, as a [`FlakySink`]'s rule sees it.
pub struct Attempt<'a> {
    /// The call's number, from 0.
    pub call: usize,
    /// The entry's position in the call.
    pub position: usize,
    /// The entry.
    pub entry: &'a PublishEntry,
}

/// A rule: the error an entry fails with, or `None` to pass it on.
pub type FailureRule = Box<dyn Fn(&Attempt<'_>) -> Option<RecordError> + Send + Sync>;

/// A sink that fails the entries its rule picks and passes the others to `inner`.
pub struct FlakySink<S> {
    inner: S,
    rule: FailureRule,
    calls: AtomicUsize,
    call_sizes: Mutex<Vec<usize>>,
    failed_entries: AtomicUsize,
}

impl<S: EventSink> FlakySink<S> {
    /// `inner` behind `rule`.
    pub fn new(
        inner: S,
        rule: impl Fn(&Attempt<'_>) -> Option<RecordError> + Send + Sync + 'static,
    ) -> Self {
        Self {
            inner,
            rule: Box::new(rule),
            calls: AtomicUsize::new(0),
            call_sizes: Mutex::new(Vec::new()),
            failed_entries: AtomicUsize::new(0),
        }
    }

    /// The sink behind it.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The number of entries of each call, in order.
    pub fn call_sizes(&self) -> Vec<usize> {
        self.call_sizes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Entries the rule failed.
    pub fn failed_entries(&self) -> usize {
        self.failed_entries.load(Ordering::SeqCst)
    }
}

/// The error a throttled publish gets.
pub fn throttled() -> RecordError {
    RecordError::transient(codes::PUBLISH_FAILED, "injected throttle")
}

impl<S: EventSink> EventSink for FlakySink<S> {
    fn publish_batch(
        &self,
        entries: Vec<PublishEntry>,
    ) -> BoxFuture<'_, Vec<Result<(), RecordError>>> {
        Box::pin(async move {
            let call = self.calls.fetch_add(1, Ordering::SeqCst);
            self.call_sizes
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(entries.len());
            let failures: Vec<Option<RecordError>> = entries
                .iter()
                .enumerate()
                .map(|(position, entry)| {
                    (self.rule)(&Attempt {
                        call,
                        position,
                        entry,
                    })
                })
                .collect();
            let forwarded: Vec<PublishEntry> = entries
                .into_iter()
                .zip(&failures)
                .filter(|(_, failure)| failure.is_none())
                .map(|(entry, _)| entry)
                .collect();
            let mut published = self.inner.publish_batch(forwarded).await.into_iter();
            failures
                .into_iter()
                .map(|failure| match failure {
                    Some(error) => {
                        self.failed_entries.fetch_add(1, Ordering::SeqCst);
                        Err(error)
                    }
                    None => published.next().unwrap_or_else(|| {
                        Err(RecordError::transient(
                            codes::PUBLISH_FAILED,
                            "the inner sink answered fewer entries than it was given",
                        ))
                    }),
                })
                .collect()
        })
    }
}
