//! The SQS batch engine: decode each record on its own, run the worker, publish one
//! event per record, and answer the partial batch response.
//!
//! - [`worker`]: what a worker implements.
//! - [`outcome`]: what a batch and each record came to.
//! - `record`: one record from SQS message to a prepared event, in typed steps (decode,
//!   claim, analyse, build the event, offload an oversized result to S3).
//! - `claim`: the idempotency claim around the analysis, and its settling.
//! - `prepared`: the event, drafted, then typed and serialised once.
//! - `publish`: prepared events to SNS in PublishBatch calls within its limits.
//! - `fifo`: the ordering rules of FIFO queues and topics.

#[cfg(test)]
mod batch_tests;
mod claim;
mod fifo;
pub mod outcome;
mod prepared;
mod publish;
pub(crate) mod record;
pub mod worker;

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsMessage};
use futures::StreamExt;
use serde::Serialize;
use serde_json::Value;
use tracing::warn;

use crate::config::EngineConfig;
use crate::contracts::MAX_ID_BYTES;
use crate::idempotency::IdempotencyStore;
use crate::metrics::elapsed_ms;
use crate::sink::EventSink;
use crate::store::ObjectStore;

pub use outcome::{BatchOutcome, BatchReport, RecordOutcome};
pub use worker::Worker;

use fifo::is_fifo_record;
use publish::PUBLISH_MARGIN;
use record::{RecordContext, Stage};

/// Runs one [`Worker`] over SQS batches: each record is decoded, analysed and published on
/// its own, and the answer names only the records SQS should deliver again.
///
/// Bad input (a permanent [`RecordError`](crate::RecordError), a schema violation, a record
/// too large) becomes an error event and is deleted; transient failures and publishes SNS
/// refused are retried through `batchItemFailures`. The Lambda binaries build one engine at
/// cold start and hand it to [`crate::lambda::run`]; tests and the local stack call
/// [`process_batch`](Self::process_batch) directly, as here:
///
/// ```
/// use std::sync::Arc;
///
/// use aws_lambda_events::event::sqs::SqsMessage;
/// use postlens_runtime::{
///     BatchEngine, EngineConfig, MemorySink, RecordError, Worker, WorkerDescriptor,
/// };
///
/// /// Counts the words of a caption.
/// struct WordCounter;
///
/// #[derive(serde::Deserialize)]
/// struct Post {
///     video_id: String,
///     caption: String,
/// }
///
/// impl Worker for WordCounter {
///     type Input = Post;
///     type Output = serde_json::Value;
///
///     fn descriptor(&self) -> &WorkerDescriptor {
///         &WorkerDescriptor {
///             name: "word-counter",
///             version: "0.1.0",
///             event_type: "words-counted",
///             subject_key: "video_id",
///         }
///     }
///
///     async fn process(&self, post: Post) -> Result<Self::Output, RecordError> {
///         Ok(serde_json::json!({ "video_id": post.video_id, "words": post.caption.split_whitespace().count() }))
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let sink = Arc::new(MemorySink::default());
/// let engine = BatchEngine::new(WordCounter, sink.clone());
/// let record = |id: &str, body: &str| {
///     let mut message = SqsMessage::default();
///     message.message_id = Some(id.into());
///     message.body = Some(body.into());
///     message
/// };
/// let batch = [
///     record("m-1", r#"{"video_id": "v-1", "caption": "Ankara gown, sizes 8-16"}"#),
///     record("m-2", "not json"),
/// ];
/// let outcome = engine.process_batch(&batch, None).await;
///
/// // Both records were answered with an event (the second an `invalid_json` error event),
/// // so SQS retries neither.
/// assert!(outcome.response.batch_item_failures.is_empty());
/// assert_eq!(sink.take().len(), 2);
/// # }
/// ```
pub struct BatchEngine<W: Worker> {
    worker: Arc<W>,
    sink: Arc<dyn EventSink>,
    store: Option<Arc<dyn ObjectStore>>,
    idempotency: Option<Arc<dyn IdempotencyStore>>,
    config: EngineConfig,
}

impl<W: Worker> BatchEngine<W> {
    /// An engine that runs `worker` on each record and publishes through `sink`, with the
    /// default [`EngineConfig`], no object store (claim checks and oversized results become
    /// error events) and no idempotency claims.
    pub fn new(worker: W, sink: Arc<dyn EventSink>) -> Self {
        Self {
            worker: Arc::new(worker),
            sink,
            store: None,
            idempotency: None,
            config: EngineConfig::default(),
        }
    }

    /// Runs with `config` instead of the default.
    pub fn with_config(mut self, config: EngineConfig) -> Self {
        self.config = config;
        self
    }

    /// Reads claim checks from `store` and writes oversized results to it.
    pub fn with_store(mut self, store: Arc<dyn ObjectStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Claims each record in `store` before analysing it (see [`crate::idempotency`]);
    /// the key is built from `config.idempotency`'s key fields.
    pub fn with_idempotency(mut self, store: Arc<dyn IdempotencyStore>) -> Self {
        self.idempotency = Some(store);
        self
    }

    /// The worker it runs.
    pub fn worker(&self) -> &W {
        &self.worker
    }

    /// Its configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Processes one SQS batch. `deadline` is when the invocation times out.
    pub async fn process_batch(
        &self,
        records: &[SqsMessage],
        deadline: Option<Instant>,
    ) -> BatchOutcome {
        let started = Instant::now();
        let cutoff = deadline.map(|d| {
            d.checked_sub(self.config.deadline_margin)
                .unwrap_or(started)
        });
        let contexts: Vec<RecordContext<'_>> = records
            .iter()
            .enumerate()
            .map(|(index, record)| RecordContext::new(index, record, self.config.max_receive_count))
            .collect();
        let fifo = records.iter().any(is_fifo_record);

        let stages = if fifo {
            self.prepare_in_order(&contexts, cutoff).await
        } else {
            // Records on their last receives start first: a record left unstarted at the
            // deadline costs a receive, and on its last one that would be its end.
            let mut order: Vec<usize> = (0..contexts.len()).collect();
            order.sort_by_key(|&index| std::cmp::Reverse(contexts[index].receive_count));
            // Index, not `&RecordContext`, as the closure's argument: a borrowed argument
            // makes the batch future fail the higher-ranked `Send` check callers need to
            // box it.
            let contexts = &contexts;
            let mut prepared: Vec<(usize, Stage)> =
                futures::stream::iter(order)
                    .map(|index| async move {
                        (index, self.prepare_record(&contexts[index], cutoff).await)
                    })
                    .buffered(self.config.max_concurrency.max(1))
                    .collect()
                    .await;
            prepared.sort_by_key(|(index, _)| *index);
            prepared.into_iter().map(|(_, stage)| stage).collect()
        };
        // A retry that is not the record's fault (out of time, blocked behind a FIFO
        // predecessor) on its last receive would move it to the DLQ unseen: it ends as an
        // error event instead, or, for a duplicate another invocation is publishing,
        // acknowledged.
        let stages: Vec<Stage> = contexts
            .iter()
            .zip(stages)
            .map(|(context, stage)| self.escalate_stage(context, stage))
            .collect();
        let mut report = BatchReport {
            records: records.len(),
            process_ms: elapsed_ms(started),
            ..BatchReport::default()
        };
        for stage in &stages {
            if let Stage::Ready(prepared) = stage {
                report.count_prepared(
                    prepared.metrics.iter().cloned(),
                    prepared.republished,
                    prepared.offloaded,
                );
            }
        }

        let publish_started = Instant::now();
        // Publishing must end before the invocation does: Lambda would otherwise kill it
        // mid-call and retry the whole batch. What is left at this moment is retried.
        let publish_cutoff = deadline.map(|d| d.checked_sub(PUBLISH_MARGIN).unwrap_or(started));
        let published = self.publish(&contexts, stages, fifo, publish_cutoff).await;
        report.publish_calls = published.calls;
        report.publish_ms = elapsed_ms(publish_started);
        report.total_ms = elapsed_ms(started);

        let mut failed_ids = HashSet::new();
        let mut response = SqsBatchResponse::default();
        let mut labelled = Vec::with_capacity(records.len());
        for (context, outcome) in contexts.into_iter().zip(published.outcomes) {
            report.count(&outcome);
            if let RecordOutcome::Retry(error) = &outcome {
                warn!(message_id = %context.message_id, code = error.code(), "record returned for retry");
                // Duplicate ids (SQS may redeliver within a batch) are reported once. An
                // empty id makes Lambda retry the whole batch, which is the safe reading
                // of a record we cannot name.
                if failed_ids.insert(context.message_id.clone()) {
                    let mut failure = BatchItemFailure::default();
                    failure.item_identifier = context.message_id.clone();
                    response.batch_item_failures.push(failure);
                }
            }
            labelled.push((context.message_id, outcome));
        }
        BatchOutcome {
            response,
            report,
            outcomes: labelled,
        }
    }
}

/// SQS's `ApproximateReceiveCount` of the record (0 when absent).
pub(super) fn receive_count(record: &SqsMessage) -> u32 {
    record
        .attributes
        .get("ApproximateReceiveCount")
        .and_then(|count| count.parse::<u32>().ok())
        .unwrap_or(0)
}

/// `output` as JSON, each `f32` in the shortest form that reads back as the same `f32`.
/// `serde_json::to_value` widens an `f32` to `f64` first, so 0.8 became 0.800000011920929
/// in every event; written as text, serde_json prints the `f32` itself (0.8), and reading
/// that text back keeps it.
pub(crate) fn result_value<T: Serialize>(output: &T) -> serde_json::Result<Value> {
    serde_json::from_str(&serde_json::to_string(output)?)
}

/// At most [`MAX_ID_BYTES`] of `id`, cut at a character boundary.
pub(super) fn bounded_prefix(id: &str) -> &str {
    &id[..id.floor_char_boundary(MAX_ID_BYTES)]
}

/// `work`'s output, or `None` if `cutoff` came first (`None` cutoff: no limit).
pub(super) async fn before<T>(cutoff: Option<Instant>, work: impl Future<Output = T>) -> Option<T> {
    match cutoff {
        Some(cutoff) => tokio::time::timeout_at(cutoff.into(), work).await.ok(),
        None => Some(work.await),
    }
}
