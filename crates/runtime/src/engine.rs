//! The SQS batch engine: decode each record on its own, run the worker, publish one
//! event per record, and answer the partial batch response.

use std::any::Any;
use std::collections::{BTreeMap, HashSet};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsMessage};
use futures::{FutureExt, StreamExt};
use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;
use tracing::{error, info_span, warn, Instrument};

use crate::config::{EngineConfig, FifoFailureMode};
use crate::contracts::{check_id, MAX_ID_BYTES};
use crate::envelope::{decode_body, Payload, S3Location};
use crate::error::{codes, RecordError};
use crate::event::{
    derive_event_id, ContentDigest, ErrorBody, OutputEvent, ResultLocation, Status,
    WorkerDescriptor, WorkerInfo, SCHEMA_VERSION,
};
use crate::idempotency::{item_key, Claim, IdempotencyStore, StoredResult};
use crate::metrics::Metric;
use crate::sink::{
    EventSink, PublishEntry, MAX_PUBLISH_BATCH, SNS_MAX_BATCH_BYTES, SNS_MAX_MESSAGE_BYTES,
};
use crate::store::ObjectStore;

/// One kind of analysis, wired to the engine. Implementations stay free of AWS types.
pub trait Worker: Send + Sync + 'static {
    type Input: DeserializeOwned + Send + 'static;
    type Output: Serialize + Send + 'static;

    fn descriptor(&self) -> &WorkerDescriptor;

    /// Analyses one input. Return `RecordError::Permanent` for bad input (an error event is
    /// published) and `RecordError::Transient` for anything a retry may fix.
    fn process(
        &self,
        input: Self::Input,
    ) -> impl Future<Output = Result<Self::Output, RecordError>> + Send;

    /// Extra SNS message attributes for filter policies, e.g. `top_category`.
    fn attributes(&self, _output: &Self::Output) -> Vec<(String, String)> {
        Vec::new()
    }

    /// The worker's own metrics for one result (e.g. detections found), summed over the
    /// batch into its EMF line. Counted when the analysis succeeds, so a record whose
    /// publish is retried counts again on its next delivery.
    fn metrics(&self, _output: &Self::Output) -> Vec<Metric> {
        Vec::new()
    }
}

/// What happened to one record.
#[derive(Debug, Clone, PartialEq)]
pub enum RecordOutcome {
    /// An event was published: `ok`, or `error` for a permanent failure. The record is acknowledged.
    Published {
        event_id: String,
        status: Status,
        error_code: Option<&'static str>,
    },
    /// The record is returned in `batchItemFailures` for SQS to redeliver.
    Retry(RecordError),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct BatchReport {
    pub records: usize,
    pub ok: usize,
    pub error_events: usize,
    /// Error events for internal faults that lasted to the last receive (also in `error_events`).
    pub internal_errors: usize,
    pub retried: usize,
    pub publish_calls: usize,
    pub offloaded: usize,
    pub process_ms: f64,
    pub publish_ms: f64,
    pub total_ms: f64,
    /// Error events and retries by error code.
    pub error_codes: BTreeMap<&'static str, usize>,
    /// The worker's own metrics ([`Worker::metrics`]) summed over the records it analysed.
    pub worker_metrics: Vec<Metric>,
    /// Records whose stored result was published again instead of analysed (idempotency).
    pub republished: usize,
}

#[derive(Debug, Clone)]
pub struct BatchOutcome {
    pub response: SqsBatchResponse,
    pub report: BatchReport,
    /// One outcome per input record, in input order.
    pub outcomes: Vec<(String, RecordOutcome)>,
}

impl BatchOutcome {
    pub fn all_failed(&self) -> bool {
        !self.outcomes.is_empty() && self.report.retried == self.outcomes.len()
    }
}

/// A record that finished analysis and is waiting to be published.
struct Prepared {
    entry: PublishEntry,
    metrics: Vec<Metric>,
    /// Published before and read back from the idempotency store, not analysed again.
    republished: bool,
    event_id: String,
    status: Status,
    error_code: Option<&'static str>,
}

enum Stage {
    Ready(Prepared),
    Done(RecordOutcome),
}

pub struct BatchEngine<W: Worker> {
    worker: Arc<W>,
    sink: Arc<dyn EventSink>,
    store: Option<Arc<dyn ObjectStore>>,
    idempotency: Option<Arc<dyn IdempotencyStore>>,
    config: EngineConfig,
}

impl<W: Worker> BatchEngine<W> {
    pub fn new(
        worker: W,
        sink: Arc<dyn EventSink>,
        store: Option<Arc<dyn ObjectStore>>,
        config: EngineConfig,
    ) -> Self {
        Self {
            worker: Arc::new(worker),
            sink,
            store,
            idempotency: None,
            config,
        }
    }

    /// Claims each record in `store` before analysing it (see [`crate::idempotency`]);
    /// the key is built from `config.idempotency`'s key fields. `None` leaves it off.
    pub fn with_idempotency(mut self, store: Option<Arc<dyn IdempotencyStore>>) -> Self {
        self.idempotency = store;
        self
    }

    pub fn worker(&self) -> &W {
        &self.worker
    }

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
        let fifo = records.iter().any(is_fifo_record);

        let stages = if fifo {
            self.prepare_in_order(records, cutoff).await
        } else {
            // Index, not `&SqsMessage`, as the closure's argument: a borrowed argument makes
            // the batch future fail the higher-ranked `Send` check callers need to box it.
            futures::stream::iter(0..records.len())
                .map(|index| self.prepare_record(index, &records[index], cutoff))
                .buffered(self.config.max_concurrency.max(1))
                .collect::<Vec<_>>()
                .await
        };
        let process_ms = ms_since(started);

        let publish_started = Instant::now();
        // Publishing must end before the invocation does: Lambda would otherwise kill it
        // mid-call and retry the whole batch. What is left at this moment is retried.
        let publish_cutoff = deadline.map(|d| d.checked_sub(PUBLISH_MARGIN).unwrap_or(started));
        let mut worker_metrics = Vec::new();
        let mut republished = 0;
        for stage in &stages {
            if let Stage::Ready(prepared) = stage {
                crate::metrics::accumulate(&mut worker_metrics, prepared.metrics.iter().cloned());
                republished += usize::from(prepared.republished);
            }
        }
        let (outcomes, publish_calls, offloaded) =
            self.publish(records, stages, fifo, publish_cutoff).await;
        let publish_ms = ms_since(publish_started);

        let mut report = BatchReport {
            records: records.len(),
            publish_calls,
            offloaded,
            process_ms,
            publish_ms,
            total_ms: ms_since(started),
            worker_metrics,
            republished,
            ..BatchReport::default()
        };
        let mut failed_ids = HashSet::new();
        let mut response = SqsBatchResponse::default();
        let mut labelled = Vec::with_capacity(records.len());
        for (record, outcome) in records.iter().zip(outcomes) {
            let message_id = record.message_id.clone().unwrap_or_default();
            match &outcome {
                RecordOutcome::Published {
                    status: Status::Ok, ..
                } => report.ok += 1,
                RecordOutcome::Published { error_code, .. } => {
                    report.error_events += 1;
                    if let Some(code) = error_code {
                        *report.error_codes.entry(code).or_default() += 1;
                    }
                    if *error_code == Some(codes::INTERNAL_ERROR) {
                        report.internal_errors += 1;
                    }
                }
                RecordOutcome::Retry(error) => {
                    report.retried += 1;
                    *report.error_codes.entry(error.code()).or_default() += 1;
                    warn!(message_id = %message_id, code = error.code(), "record returned for retry");
                    // Duplicate ids (SQS may redeliver within a batch) are reported once. An empty
                    // id makes Lambda retry the whole batch, which is the safe reading of a
                    // record we cannot name.
                    if failed_ids.insert(message_id.clone()) {
                        let mut failure = BatchItemFailure::default();
                        failure.item_identifier = message_id.clone();
                        response.batch_item_failures.push(failure);
                    }
                }
            }
            labelled.push((message_id, outcome));
        }
        BatchOutcome {
            response,
            report,
            outcomes: labelled,
        }
    }

    /// FIFO: one record at a time, in order; a failure blocks what follows it.
    async fn prepare_in_order(
        &self,
        records: &[SqsMessage],
        cutoff: Option<Instant>,
    ) -> Vec<Stage> {
        let mut stages = Vec::with_capacity(records.len());
        let mut blocked = Blocked::default();
        for (index, record) in records.iter().enumerate() {
            if blocked.blocks(record, self.config.fifo_failure_mode) {
                stages.push(Stage::Done(RecordOutcome::Retry(predecessor_failed())));
                continue;
            }
            let stage = self.prepare_record(index, record, cutoff).await;
            if matches!(stage, Stage::Done(RecordOutcome::Retry(_))) {
                blocked.add_at(record, index);
            }
            stages.push(stage);
        }
        stages
    }

    async fn prepare_record(
        &self,
        index: usize,
        record: &SqsMessage,
        cutoff: Option<Instant>,
    ) -> Stage {
        let message_id = record.message_id.clone().unwrap_or_default();
        let span = info_span!("record", message_id = %message_id, event_id = tracing::field::Empty);
        async move {
            if cutoff.is_some_and(|c| Instant::now() >= c) {
                return Stage::Done(RecordOutcome::Retry(RecordError::transient(
                    codes::NOT_STARTED_DEADLINE,
                    "invocation deadline too close to start this record",
                )));
            }
            // Set by `analyse` once it holds the record's idempotency key, so the key is
            // settled whichever way the analysis ends: finished, panicked or cut off.
            let claimed = std::sync::Mutex::new(None);
            let work =
                AssertUnwindSafe(self.analyse(index, record, cutoff, &claimed)).catch_unwind();
            let stage = match before(cutoff, work).await {
                None => Stage::Done(RecordOutcome::Retry(RecordError::transient(
                    codes::DEADLINE_EXCEEDED,
                    "record did not finish before the invocation deadline",
                ))),
                Some(Ok(stage)) => stage,
                Some(Err(panic)) => {
                    let error = RecordError::transient(
                        codes::PANIC,
                        format!("analysis panicked: {}", describe_panic(panic.as_ref())),
                    );
                    let mut draft = EventDraft::new(record);
                    draft.read_identity_best_effort(record, self.worker.descriptor().subject_key);
                    self.finish(index, record, draft, Err(error), Instant::now())
                }
            };
            let claimed = claimed.lock().unwrap_or_else(|p| p.into_inner()).take();
            if let (Some(store), Some(claim)) = (&self.idempotency, claimed) {
                settle_claim(store.as_ref(), claim, &stage).await;
            }
            stage
        }
        .instrument(span)
        .await
    }

    async fn analyse(
        &self,
        index: usize,
        record: &SqsMessage,
        cutoff: Option<Instant>,
        claimed: &std::sync::Mutex<Option<HeldClaim>>,
    ) -> Stage {
        let descriptor = self.worker.descriptor();
        let started = Instant::now();
        let mut event = EventDraft::new(record);
        let key_fields: Vec<&str> = match (&self.idempotency, &self.config.idempotency) {
            (Some(_), Some(settings)) => settings.key_fields.iter().map(String::as_str).collect(),
            _ => Vec::new(),
        };
        let mut key_values = None;

        let decoded = match decode_body(record.body.as_deref()) {
            Ok(decoded) => decoded,
            Err(error) => return self.finish(index, record, event, Err(error), started),
        };
        // A claim-checked payload stays bytes until the worker's typed input is read from
        // them: as a `Value` a few megabytes of JSON would take some forty times that.
        let (identity, parsed) = match decoded.payload {
            Payload::Inline(value) => {
                event.content = ContentDigest::of_json(&value);
                if !key_fields.is_empty() {
                    key_values = chosen_fields(&value, &key_fields);
                }
                (
                    event.read_identity(&value, descriptor.subject_key),
                    serde_json::from_value::<W::Input>(value),
                )
            }
            Payload::ClaimCheck(location) => {
                let fetch = self
                    .fetch_claim_check(&location)
                    .instrument(info_span!("s3.get_object", purpose = "claim_check"));
                let bytes = match fetch.await {
                    Ok(bytes) => bytes,
                    Err(error) => return self.finish(index, record, event, Err(error), started),
                };
                event.content = ContentDigest::of_bytes(&bytes);
                if !key_fields.is_empty() {
                    key_values = crate::identity::scalar_fields(&bytes, &key_fields)
                        .and_then(|fields| chosen_fields(&fields, &key_fields));
                }
                let identity = crate::identity::identity_fields(&bytes, descriptor.subject_key)
                    .map_or(Ok(()), |fields| {
                        event.read_identity(&fields, descriptor.subject_key)
                    });
                (identity, serde_json::from_slice::<W::Input>(&bytes))
            }
        };
        let decode_ms = ms_since(started);
        event.timings.insert("decode".to_owned(), decode_ms);
        if let Err(error) = identity {
            return self.finish(index, record, event, Err(error), started);
        }

        let input: W::Input = match parsed {
            Ok(input) => input,
            // Only claim-checked bytes can fail as syntax: inline bodies were parsed already.
            Err(e) if e.is_syntax() || e.is_eof() => {
                let error = RecordError::permanent(
                    codes::INVALID_JSON,
                    format!("claim-checked payload is not JSON: {e}"),
                );
                return self.finish(index, record, event, Err(error), started);
            }
            Err(e) => {
                let error = RecordError::permanent(
                    codes::SCHEMA_VIOLATION,
                    format!("input does not match the schema: {e}"),
                );
                return self.finish(index, record, event, Err(error), started);
            }
        };
        if let Some(store) = &self.idempotency {
            let material = match &key_values {
                Some(values) => values.to_string().into_bytes(),
                None => event.content.as_bytes().to_vec(),
            };
            let held = HeldClaim {
                key: item_key(descriptor.name, &material),
                payload_hash: event.content.to_hex(),
            };
            let until = in_progress_until_ms(cutoff, self.config.deadline_margin);
            let claim = store
                .claim(&held.key, &held.payload_hash, until)
                .instrument(info_span!(
                    "dynamodb.put_item",
                    purpose = "idempotency_claim"
                ));
            match claim.await {
                Ok(Claim::Granted) => {
                    *claimed.lock().unwrap_or_else(|p| p.into_inner()) = Some(held);
                }
                Ok(Claim::Completed(stored)) => return self.republish(index, record, stored),
                Ok(Claim::InProgress) => {
                    return Stage::Done(RecordOutcome::Retry(RecordError::transient(
                        codes::IDEMPOTENCY_IN_PROGRESS,
                        "another invocation is processing this record",
                    )))
                }
                Ok(Claim::PayloadMismatch) => {
                    let error = RecordError::permanent(
                        codes::IDEMPOTENCY_KEY_REUSED,
                        "the idempotency key was used before for a different payload",
                    );
                    return self.finish(index, record, event, Err(error), started);
                }
                Err(failure) => {
                    return Stage::Done(RecordOutcome::Retry(RecordError::transient(
                        codes::IDEMPOTENCY_UNAVAILABLE,
                        failure.to_string(),
                    )))
                }
            }
        }
        let analysis_started = Instant::now();
        let result = self
            .worker
            .process(input)
            .instrument(info_span!("analyse", worker = descriptor.name))
            .await;
        event
            .timings
            .insert("process".to_owned(), ms_since(analysis_started));
        let result = result.and_then(|output| {
            let attributes = self.worker.attributes(&output);
            let metrics = self.worker.metrics(&output);
            result_value(&output)
                .map(|value| Analysed {
                    value,
                    attributes,
                    metrics,
                })
                .map_err(|e| RecordError::permanent(codes::SERIALIZE_FAILED, e.to_string()))
        });
        self.finish(index, record, event, result, started)
    }

    /// A FIFO output topic's MessageGroupId (the input's group) and deduplication id (the
    /// event id); none for a standard topic.
    fn fifo_keys(&self, record: &SqsMessage, event_id: &str) -> (Option<String>, Option<String>) {
        if !self.config.output_is_fifo {
            return (None, None);
        }
        (
            Some(message_group(record).unwrap_or("default").to_owned()),
            Some(event_id.to_owned()),
        )
    }

    /// A result read back from the idempotency store, published again as it was.
    fn republish(&self, index: usize, record: &SqsMessage, stored: StoredResult) -> Stage {
        tracing::Span::current().record("event_id", stored.event_id.as_str());
        let (group_id, deduplication_id) = self.fifo_keys(record, &stored.event_id);
        Stage::Ready(Prepared {
            entry: PublishEntry {
                id: index.to_string(),
                message: stored.message,
                attributes: stored.attributes,
                group_id,
                deduplication_id,
            },
            metrics: Vec::new(),
            republished: true,
            event_id: stored.event_id,
            status: stored.status,
            // Counted by code when it was first published, not again.
            error_code: None,
        })
    }

    /// The claim-checked bytes; whether they are JSON shows when the input is read from them.
    async fn fetch_claim_check(&self, location: &S3Location) -> Result<Vec<u8>, RecordError> {
        let store = self.store.as_ref().ok_or_else(|| {
            RecordError::transient(
                codes::CLAIM_CHECK_UNAVAILABLE,
                "claim-check pointer received but no object store is configured",
            )
        })?;
        store
            .get(location, self.config.max_claim_check_bytes)
            .await
            .map_err(|e| e.into_record_error(codes::CLAIM_CHECK_MISSING, codes::INPUT_TOO_LARGE))
    }

    /// Turns an analysis result into an event ready to publish, or a retry.
    fn finish(
        &self,
        index: usize,
        record: &SqsMessage,
        draft: EventDraft,
        result: Result<Analysed, RecordError>,
        started: Instant,
    ) -> Stage {
        let result = result.map_err(|error| self.escalate_on_last_receive(record, error));
        let (result, extra_attributes, metrics, error) = match result {
            Ok(Analysed {
                value,
                attributes,
                metrics,
            }) => (Some(value), attributes, metrics, None),
            Err(error @ RecordError::Transient { .. }) => {
                return Stage::Done(RecordOutcome::Retry(error))
            }
            Err(error) => (None, Vec::new(), Vec::new(), Some(error)),
        };
        let event = draft.into_event(self.worker.descriptor(), result, error.as_ref(), started);
        tracing::Span::current().record("event_id", event.event_id.as_str());
        let mut attributes = vec![
            ("event_type".to_owned(), event.event_type.clone()),
            ("status".to_owned(), event.status.as_str().to_owned()),
            ("worker".to_owned(), event.worker.name.clone()),
        ];
        if let Some(error) = &error {
            attributes.push(("error_code".to_owned(), error.code().to_owned()));
        }
        // SNS refuses an attribute with an empty value; an empty one says nothing anyway.
        attributes.extend(
            extra_attributes
                .into_iter()
                .filter(|(_, value)| !value.is_empty()),
        );
        let message = match serde_json::to_string(&event) {
            Ok(message) => message,
            Err(e) => {
                return Stage::Done(RecordOutcome::Retry(RecordError::transient(
                    codes::SERIALIZE_FAILED,
                    e.to_string(),
                )))
            }
        };
        let (group_id, deduplication_id) = self.fifo_keys(record, &event.event_id);
        Stage::Ready(Prepared {
            entry: PublishEntry {
                id: index.to_string(),
                message,
                attributes,
                group_id,
                deduplication_id,
            },
            metrics,
            republished: false,
            event_id: event.event_id,
            status: event.status,
            error_code: error.as_ref().map(RecordError::code),
        })
    }

    /// An internal fault on the record's last allowed receive becomes a permanent
    /// `internal_error`, so the consumer hears of it; earlier receives retry it.
    fn escalate_on_last_receive(&self, record: &SqsMessage, error: RecordError) -> RecordError {
        let receive_count = record
            .attributes
            .get("ApproximateReceiveCount")
            .and_then(|count| count.parse::<u32>().ok());
        match (receive_count, self.config.max_receive_count) {
            (Some(count), Some(max))
                if error.is_retryable() && error.is_internal() && count >= max =>
            {
                error!(
                    code = error.code(),
                    receive_count = count,
                    "internal fault on the last receive: publishing internal_error"
                );
                error.into_internal_error(count)
            }
            _ => error,
        }
    }

    /// Results over the SNS limit go to S3; the published event keeps the envelope and a pointer.
    /// Answers the entry to publish and whether its result went to S3.
    async fn offload_oversized(&self, prepared: Prepared) -> Result<(Prepared, bool), RecordError> {
        if prepared.entry.billed_size() <= SNS_MAX_MESSAGE_BYTES {
            return Ok((prepared, false));
        }
        let too_large = || {
            RecordError::permanent(
                codes::RESULT_TOO_LARGE,
                "result exceeds the SNS message limit and no CLAIM_CHECK_BUCKET is set",
            )
        };
        let (Some(bucket), Some(store)) = (&self.config.claim_check_bucket, &self.store) else {
            return Ok((self.replace_with_error(prepared, too_large()), false));
        };
        let mut event: OutputEvent = serde_json::from_str(&prepared.entry.message)
            .map_err(|e| RecordError::transient(codes::SERIALIZE_FAILED, e.to_string()))?;
        let location = S3Location {
            bucket: bucket.clone(),
            key: format!(
                "results/{}/{}.json",
                self.worker.descriptor().name,
                event.event_id
            ),
        };
        let bytes = prepared.entry.message.clone().into_bytes();
        let size = bytes.len();
        store
            .put(&location, bytes, "application/json")
            .instrument(info_span!("s3.put_object", purpose = "result_offload"))
            .await
            .map_err(|e| RecordError::transient(codes::RESULT_OFFLOAD_FAILED, e.to_string()))?;
        event.result = None;
        event.result_location = Some(ResultLocation {
            s3_uri: location.uri(),
            bytes: size,
        });
        let message = serde_json::to_string(&event)
            .map_err(|e| RecordError::transient(codes::SERIALIZE_FAILED, e.to_string()))?;
        let mut entry = prepared.entry;
        entry.message = message;
        entry
            .attributes
            .push(("result_location".to_owned(), "s3".to_owned()));
        Ok((Prepared { entry, ..prepared }, true))
    }

    fn replace_with_error(&self, prepared: Prepared, error: RecordError) -> Prepared {
        let Ok(mut event) = serde_json::from_str::<OutputEvent>(&prepared.entry.message) else {
            return prepared;
        };
        event.status = Status::Error;
        event.result = None;
        event.error = Some(ErrorBody::from(&error));
        let mut entry = prepared.entry;
        entry.message = serde_json::to_string(&event).unwrap_or_default();
        entry
            .attributes
            .retain(|(name, _)| name != "status" && name != "error_code");
        entry
            .attributes
            .push(("status".to_owned(), "error".to_owned()));
        entry
            .attributes
            .push(("error_code".to_owned(), error.code().to_owned()));
        Prepared {
            entry,
            status: Status::Error,
            error_code: Some(error.code()),
            ..prepared
        }
    }

    /// Publishes prepared events in chunks of ten and maps each entry's fate to its record.
    async fn publish(
        &self,
        records: &[SqsMessage],
        stages: Vec<Stage>,
        fifo: bool,
        cutoff: Option<Instant>,
    ) -> (Vec<RecordOutcome>, usize, usize) {
        let out_of_time = || {
            RecordError::transient(
                codes::DEADLINE_EXCEEDED,
                "the invocation deadline came before this record's event was published",
            )
        };
        let mut outcomes: Vec<Option<RecordOutcome>> = vec![None; stages.len()];
        let mut ready = Vec::new();
        let mut offloaded = 0;
        for (index, stage) in stages.into_iter().enumerate() {
            match stage {
                Stage::Done(outcome) => outcomes[index] = Some(outcome),
                Stage::Ready(prepared) => {
                    let offloaded_entry = before(cutoff, self.offload_oversized(prepared))
                        .await
                        .unwrap_or_else(|| Err(out_of_time()));
                    match offloaded_entry {
                        Ok((prepared, was_offloaded)) => {
                            offloaded += usize::from(was_offloaded);
                            ready.push((index, prepared));
                        }
                        Err(error) => outcomes[index] = Some(RecordOutcome::Retry(error)),
                    }
                }
            }
        }

        let mut calls = 0;
        let mut blocked = Blocked::default();
        if fifo {
            // Earlier records that failed analysis block their successors' publication too.
            for (index, outcome) in outcomes.iter().enumerate() {
                if matches!(outcome, Some(RecordOutcome::Retry(_))) {
                    blocked.add_at(&records[index], index);
                }
            }
        }
        let mut pending = ready.into_iter().peekable();
        while pending.peek().is_some() {
            // A call holds at most ten entries and, together, SNS's 256 KiB: ten 32 KB
            // results are two calls, not one refused call.
            let mut chunk = Vec::with_capacity(MAX_PUBLISH_BATCH);
            let mut chunk_bytes = 0;
            while chunk.len() < MAX_PUBLISH_BATCH {
                let fits = pending.peek().is_some_and(|(_, next)| {
                    chunk.is_empty()
                        || chunk_bytes + next.entry.billed_size() <= SNS_MAX_BATCH_BYTES
                });
                if !fits {
                    break;
                }
                let Some((index, prepared)) = pending.next() else {
                    break;
                };
                if fifo
                    && blocked.blocks_before(&records[index], index, self.config.fifo_failure_mode)
                {
                    outcomes[index] = Some(RecordOutcome::Retry(predecessor_failed()));
                    continue;
                }
                chunk_bytes += prepared.entry.billed_size();
                chunk.push((index, prepared));
            }
            if chunk.is_empty() {
                continue;
            }
            calls += 1;
            let (indices, prepared): (Vec<usize>, Vec<Prepared>) = chunk.into_iter().unzip();
            let entries: Vec<PublishEntry> = prepared.iter().map(|p| p.entry.clone()).collect();
            let count = entries.len();
            // Cut short, the call may still have published: the retry publishes again
            // under the same event ids, which consumers de-duplicate.
            let publish = self
                .sink
                .publish_batch(entries)
                .instrument(info_span!("sns.publish_batch", entries = count));
            let results = before(cutoff, publish)
                .await
                .unwrap_or_else(|| (0..count).map(|_| Err(out_of_time())).collect());
            for ((index, prepared), result) in indices.into_iter().zip(prepared).zip(results) {
                outcomes[index] = Some(match result {
                    Ok(()) => RecordOutcome::Published {
                        event_id: prepared.event_id,
                        status: prepared.status,
                        error_code: prepared.error_code,
                    },
                    Err(error) => {
                        if fifo {
                            blocked.add_at(&records[index], index);
                        }
                        RecordOutcome::Retry(error)
                    }
                });
            }
            if fifo {
                // A failure inside a FIFO chunk also fails its successors that SNS accepted:
                // they will be published again, in order, under the same event ids.
                for index in 0..outcomes.len() {
                    let published =
                        matches!(outcomes[index], Some(RecordOutcome::Published { .. }));
                    if published
                        && blocked.blocks_before(
                            &records[index],
                            index,
                            self.config.fifo_failure_mode,
                        )
                    {
                        outcomes[index] = Some(RecordOutcome::Retry(predecessor_failed()));
                    }
                }
            }
        }
        let outcomes = outcomes
            .into_iter()
            .map(|o| {
                o.unwrap_or_else(|| {
                    RecordOutcome::Retry(RecordError::transient(
                        codes::PUBLISH_FAILED,
                        "record was never published",
                    ))
                })
            })
            .collect();
        (outcomes, calls, offloaded)
    }
}

/// A worker's result for one record, ready to become an event.
struct Analysed {
    value: Value,
    /// Extra SNS message attributes ([`Worker::attributes`]).
    attributes: Vec<(String, String)>,
    metrics: Vec<Metric>,
}

/// An idempotency key this record holds in the store, and its payload's hash.
struct HeldClaim {
    key: String,
    payload_hash: String,
}

/// A finished record's claim becomes its stored result; a record to be retried gives its
/// claim up so the retry can take it. A store that fails here costs at most a second
/// analysis (the claim expires with the invocation), so it is logged, not fatal.
async fn settle_claim(store: &dyn IdempotencyStore, claim: HeldClaim, stage: &Stage) {
    let settled = match stage {
        Stage::Ready(prepared) if !prepared.republished => {
            let stored = StoredResult {
                event_id: prepared.event_id.clone(),
                status: prepared.status,
                message: prepared.entry.message.clone(),
                attributes: prepared.entry.attributes.clone(),
            };
            store
                .complete(&claim.key, &claim.payload_hash, &stored)
                .await
        }
        Stage::Ready(_) => Ok(()),
        Stage::Done(_) => store.release(&claim.key).await,
    };
    if let Err(failure) = settled {
        warn!(%failure, "idempotency record not updated");
    }
}

/// The key fields' values in order, as a JSON array; `None` when one is missing or not a
/// string or number (the key then falls back to the whole content).
fn chosen_fields(value: &Value, names: &[&str]) -> Option<Value> {
    names
        .iter()
        .map(|name| match value.get(*name) {
            Some(found @ (Value::String(_) | Value::Number(_))) => Some(found.clone()),
            _ => None,
        })
        .collect::<Option<Vec<Value>>>()
        .map(Value::Array)
}

/// When an in-progress claim lapses: the invocation's deadline (the cutoff plus the margin
/// kept before it), as epoch milliseconds; 15 minutes (Lambda's longest) without one.
fn in_progress_until_ms(cutoff: Option<Instant>, margin: std::time::Duration) -> u64 {
    let left = cutoff.map_or(std::time::Duration::from_secs(900), |c| {
        c.saturating_duration_since(Instant::now()) + margin
    });
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    (now + left).as_millis() as u64
}

/// Time kept after publishing for answering Lambda: the partial batch response and the
/// metrics line.
const PUBLISH_MARGIN: std::time::Duration = std::time::Duration::from_millis(200);

/// The fields of an event known before analysis finishes.
struct EventDraft {
    /// What the event id is derived from: the raw body until it decodes, then the
    /// message inside it (see [`derive_event_id`]).
    content: ContentDigest,
    source_event_id: Option<String>,
    subject_id: Option<String>,
    timings: BTreeMap<String, f64>,
}

impl EventDraft {
    fn new(record: &SqsMessage) -> Self {
        Self {
            content: ContentDigest::of_bytes(record.body.as_deref().unwrap_or_default().as_bytes()),
            source_event_id: None,
            subject_id: None,
            timings: BTreeMap::new(),
        }
    }

    /// The identity of an inline body, for an event built after the analysis panicked.
    /// Claim-checked bodies are not fetched again: such an event names only the message.
    fn read_identity_best_effort(&mut self, record: &SqsMessage, subject_key: &str) {
        if let Ok(decoded) = decode_body(record.body.as_deref()) {
            if let Payload::Inline(value) = decoded.payload {
                self.content = ContentDigest::of_json(&value);
                let _ = self.read_identity(&value, subject_key);
            }
        }
    }

    /// Best effort: an input that fails the schema still names its subject in the error event.
    /// An id over [`MAX_ID_BYTES`] is an error for every worker; the event then carries a
    /// bounded prefix of it, so it can still be published.
    fn read_identity(&mut self, payload: &Value, subject_key: &str) -> Result<(), RecordError> {
        let mut verdict = Ok(());
        if let Some(id) = payload
            .get("event_id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        {
            match check_id("event_id", id) {
                Ok(()) => {
                    self.source_event_id = Some(id.to_owned());
                }
                Err(error) => {
                    self.source_event_id = Some(bounded_prefix(id).to_owned());
                    verdict = Err(error);
                }
            }
        }
        let subject = match payload.get(subject_key) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        if let Some(id) = &subject {
            if id.len() > MAX_ID_BYTES {
                verdict = verdict.and(check_id(subject_key, id));
            }
        }
        self.subject_id = subject.map(|id| bounded_prefix(&id).to_owned());
        verdict
    }

    fn into_event(
        self,
        descriptor: &WorkerDescriptor,
        result: Option<Value>,
        error: Option<&RecordError>,
        started: Instant,
    ) -> OutputEvent {
        let mut timings = self.timings;
        timings.insert("total".to_owned(), ms_since(started));
        OutputEvent {
            event_type: descriptor.event_type.to_owned(),
            schema_version: SCHEMA_VERSION.to_owned(),
            event_id: derive_event_id(descriptor.name, &self.content),
            source_event_id: self.source_event_id,
            subject: BTreeMap::from([(descriptor.subject_key.to_owned(), self.subject_id)]),
            status: if error.is_some() {
                Status::Error
            } else {
                Status::Ok
            },
            result,
            result_location: None,
            error: error.map(ErrorBody::from),
            worker: WorkerInfo {
                name: descriptor.name.to_owned(),
                version: descriptor.version.to_owned(),
            },
            timings_ms: timings,
        }
    }
}

/// Which FIFO message groups (or the whole batch) are blocked by a failed record.
#[derive(Default)]
struct Blocked {
    first_failure: Option<usize>,
    groups: BTreeMap<String, usize>,
}

impl Blocked {
    fn add_at(&mut self, record: &SqsMessage, index: usize) {
        self.first_failure = Some(self.first_failure.map_or(index, |f| f.min(index)));
        let group = message_group(record).unwrap_or_default().to_owned();
        let entry = self.groups.entry(group).or_insert(index);
        *entry = (*entry).min(index);
    }

    fn blocks(&self, record: &SqsMessage, mode: FifoFailureMode) -> bool {
        match mode {
            FifoFailureMode::StopAll => self.first_failure.is_some(),
            FifoFailureMode::SkipGroup => self
                .groups
                .contains_key(message_group(record).unwrap_or_default()),
        }
    }

    /// Blocked by a failure at an earlier position.
    fn blocks_before(&self, record: &SqsMessage, index: usize, mode: FifoFailureMode) -> bool {
        match mode {
            FifoFailureMode::StopAll => self.first_failure.is_some_and(|f| f < index),
            FifoFailureMode::SkipGroup => self
                .groups
                .get(message_group(record).unwrap_or_default())
                .is_some_and(|&f| f < index),
        }
    }
}

/// `output` as JSON, each `f32` in the shortest form that reads back as the same `f32`.
/// `serde_json::to_value` widens an `f32` to `f64` first, so 0.8 became 0.800000011920929
/// in every event; written as text, serde_json prints the `f32` itself (0.8), and reading
/// that text back keeps it.
pub(crate) fn result_value<T: Serialize>(output: &T) -> serde_json::Result<Value> {
    serde_json::from_str(&serde_json::to_string(output)?)
}

/// At most [`MAX_ID_BYTES`] of `id`, cut at a character boundary.
fn bounded_prefix(id: &str) -> &str {
    &id[..id.floor_char_boundary(MAX_ID_BYTES)]
}

/// `work`'s output, or `None` if `cutoff` came first (`None` cutoff: no limit).
async fn before<T>(cutoff: Option<Instant>, work: impl Future<Output = T>) -> Option<T> {
    match cutoff {
        Some(cutoff) => tokio::time::timeout_at(cutoff.into(), work).await.ok(),
        None => Some(work.await),
    }
}

fn predecessor_failed() -> RecordError {
    RecordError::transient(
        codes::FIFO_PREDECESSOR_FAILED,
        "an earlier record of this FIFO batch failed",
    )
}

fn is_fifo_record(record: &SqsMessage) -> bool {
    record
        .event_source_arn
        .as_deref()
        .is_some_and(|arn| arn.ends_with(".fifo"))
        || record.attributes.contains_key("MessageGroupId")
}

fn message_group(record: &SqsMessage) -> Option<&str> {
    record.attributes.get("MessageGroupId").map(String::as_str)
}

fn ms_since(started: Instant) -> f64 {
    (started.elapsed().as_secs_f64() * 1e6).round() / 1e3
}

pub(crate) fn describe_panic(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}
