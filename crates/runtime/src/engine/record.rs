//! One record, from SQS message to an event ready to publish: decoding (inline, SNS,
//! claim checks), the idempotency claim, the worker's analysis under the deadline with
//! panics caught, error events, and results too large for SNS moved to S3.

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::time::Instant;

use aws_lambda_events::event::sqs::SqsMessage;
use futures::FutureExt;
use serde_json::Value;
use tracing::{error, info_span, warn, Instrument};

use crate::contracts::{check_id, MAX_ID_BYTES};
use crate::envelope::{decode_body, Payload, S3Location};
use crate::error::{codes, describe_panic, RecordError};
use crate::event::{
    derive_event_id, ContentDigest, ErrorBody, OutputEvent, ResultLocation, Status,
    WorkerDescriptor, WorkerInfo, SCHEMA_VERSION,
};
use crate::idempotency::{item_key, Claim, IdempotencyStore, StoredResult};
use crate::metrics::{elapsed_ms, Metric};
use crate::sink::{PublishEntry, SNS_MAX_MESSAGE_BYTES};

use super::outcome::RecordOutcome;
use super::worker::Worker;
use super::{before, bounded_prefix, result_value, BatchEngine};

/// A record that finished analysis and is waiting to be published.
pub(crate) struct Prepared {
    pub(super) entry: PublishEntry,
    pub(super) metrics: Vec<Metric>,
    /// Published before and read back from the idempotency store, not analysed again.
    pub(super) republished: bool,
    pub(super) event_id: String,
    pub(super) status: Status,
    pub(super) error_code: Option<&'static str>,
}

pub(crate) enum Stage {
    Ready(Prepared),
    Done(RecordOutcome),
}

impl<W: Worker> BatchEngine<W> {
    pub(super) async fn prepare_record(
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
                    self.finish_without_analysis(index, record, error)
                }
            };
            let claimed = claimed.lock().unwrap_or_else(|p| p.into_inner()).take();
            if let (Some(store), Some(claim)) = (&self.idempotency, claimed) {
                // This may run after the cutoff (the analysis ran into it): a store that
                // hangs must not hold the batch past the invocation. A claim left unsettled
                // lapses with the invocation, costing at most a second analysis.
                let settle = settle_claim(store.as_ref(), claim, &stage);
                if tokio::time::timeout(SETTLE_TIMEOUT, settle).await.is_err() {
                    warn!("idempotency record not updated in time");
                }
            }
            stage
        }
        .instrument(span)
        .await
    }

    pub(super) async fn analyse(
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
        let decode_ms = elapsed_ms(started);
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
            .insert("process".to_owned(), elapsed_ms(analysis_started));
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

    /// A result read back from the idempotency store, published again as it was.
    pub(super) fn republish(
        &self,
        index: usize,
        record: &SqsMessage,
        stored: StoredResult,
    ) -> Stage {
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
    pub(super) async fn fetch_claim_check(
        &self,
        location: &S3Location,
    ) -> Result<Vec<u8>, RecordError> {
        let store = self.store.as_ref().ok_or_else(|| {
            RecordError::transient(
                codes::CLAIM_CHECK_UNAVAILABLE,
                "claim-check pointer received but no object store is configured",
            )
        })?;
        // The role reads claim checks from CLAIM_CHECK_BUCKET alone: a pointer elsewhere
        // would be a 403 on every receive, or a read of a bucket the producer should not
        // be able to point us at.
        if self.config.claim_check_bucket.as_deref() != Some(location.bucket.as_str()) {
            return Err(RecordError::permanent(
                codes::BUCKET_NOT_ALLOWED,
                "the claim check names a bucket other than CLAIM_CHECK_BUCKET",
            ));
        }
        store
            .get(location, self.config.max_claim_check_bytes)
            .await
            .map_err(|e| e.into_record_error(codes::CLAIM_CHECK_MISSING, codes::INPUT_TOO_LARGE))
    }

    /// Turns an analysis result into an event ready to publish, or a retry.
    pub(super) fn finish(
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
        // A value from the input (a language, a label) may carry what SQS refuses.
        attributes.extend(
            extra_attributes
                .into_iter()
                .filter(|(_, value)| !value.is_empty())
                .map(|(name, value)| {
                    let value = crate::sqs_text::replace_refused(&value).into_owned();
                    (name, value)
                }),
        );
        let message = match crate::sqs_text::to_json(&event) {
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

    /// `error` as the record's outcome when its analysis left nothing to go on (it panicked,
    /// or never ran): the event names what an inline body says of its subject.
    fn finish_without_analysis(
        &self,
        index: usize,
        record: &SqsMessage,
        error: RecordError,
    ) -> Stage {
        let mut draft = EventDraft::new(record);
        draft.read_identity_best_effort(record, self.worker.descriptor().subject_key);
        self.finish(index, record, draft, Err(error), Instant::now())
    }

    /// Whether this is the record's last allowed receive (false when the count is unknown).
    pub(super) fn on_last_receive(&self, record: &SqsMessage) -> bool {
        let count = super::receive_count(record);
        self.config
            .max_receive_count
            .is_some_and(|max| count > 0 && count >= max)
    }

    /// An internal fault on the record's last allowed receive becomes a permanent
    /// `internal_error`, so the consumer hears of it; earlier receives retry it.
    pub(super) fn escalate_on_last_receive(
        &self,
        record: &SqsMessage,
        error: RecordError,
    ) -> RecordError {
        if error.is_retryable() && error.is_internal() && self.on_last_receive(record) {
            let count = super::receive_count(record);
            error!(
                code = error.code(),
                receive_count = count,
                "internal fault on the last receive: publishing internal_error"
            );
            return error.into_internal_error(count);
        }
        error
    }

    /// A retry that is not the record's fault, on its last receive: an error event under
    /// the same code (deadline) or, for an idempotency key another invocation holds, an
    /// acknowledgement (that invocation publishes the event). Other stages pass through.
    pub(crate) fn escalate_stage(&self, index: usize, record: &SqsMessage, stage: Stage) -> Stage {
        let Stage::Done(RecordOutcome::Retry(error)) = stage else {
            return stage;
        };
        if !self.on_last_receive(record) {
            return Stage::Done(RecordOutcome::Retry(error));
        }
        let count = super::receive_count(record);
        match error.code() {
            codes::IDEMPOTENCY_IN_PROGRESS => Stage::Done(RecordOutcome::Acknowledged {
                code: codes::IDEMPOTENCY_IN_PROGRESS,
            }),
            code @ (codes::DEADLINE_EXCEEDED
            | codes::NOT_STARTED_DEADLINE
            | codes::FIFO_PREDECESSOR_FAILED) => {
                warn!(
                    code,
                    receive_count = count,
                    "retried on every receive: publishing an error event"
                );
                let final_error = RecordError::permanent(
                    code,
                    format!("{} (on all {count} receives)", error.message()),
                );
                self.finish_without_analysis(index, record, final_error)
            }
            _ => Stage::Done(RecordOutcome::Retry(error)),
        }
    }

    /// Results over the SNS limit go to S3; the published event keeps the envelope and a pointer.
    /// Answers the entry to publish and whether its result went to S3.
    pub(super) async fn offload_oversized(
        &self,
        prepared: Prepared,
    ) -> Result<(Prepared, bool), RecordError> {
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
        let message = crate::sqs_text::to_json(&event)
            .map_err(|e| RecordError::transient(codes::SERIALIZE_FAILED, e.to_string()))?;
        let mut entry = prepared.entry;
        entry.message = message;
        entry
            .attributes
            .push(("result_location".to_owned(), "s3".to_owned()));
        Ok((Prepared { entry, ..prepared }, true))
    }

    pub(super) fn replace_with_error(&self, prepared: Prepared, error: RecordError) -> Prepared {
        let Ok(mut event) = serde_json::from_str::<OutputEvent>(&prepared.entry.message) else {
            return prepared;
        };
        event.status = Status::Error;
        event.result = None;
        event.error = Some(ErrorBody::from(&error));
        let mut entry = prepared.entry;
        entry.message = crate::sqs_text::to_json(&event).unwrap_or_default();
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
}

/// A worker's result for one record, ready to become an event.
pub(super) struct Analysed {
    pub(super) value: Value,
    /// Extra SNS message attributes ([`Worker::attributes`]).
    pub(super) attributes: Vec<(String, String)>,
    pub(super) metrics: Vec<Metric>,
}

/// An idempotency key this record holds in the store, and its payload's hash.
pub(super) struct HeldClaim {
    pub(super) key: String,
    pub(super) payload_hash: String,
}

/// Longest wait for settling a claim (see `prepare_record`).
const SETTLE_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(1_000);

/// The largest stored result (message and attributes) kept in the store: DynamoDB refuses
/// items over 400 KB, key and bookkeeping attributes included.
pub(super) const MAX_STORED_RESULT_BYTES: usize = 380 * 1024;

/// A finished record's claim becomes its stored result; a record to be retried gives its
/// claim up so the retry can take it. A store that fails here costs at most a second
/// analysis (the claim expires with the invocation), so it is logged, not fatal.
///
/// A result too large for a DynamoDB item (results over SNS's limit are offloaded to S3
/// only when published, after this) gives its claim up too: completing it failed, which
/// left the key in progress and every duplicate retried until the claim lapsed.
pub(super) async fn settle_claim(store: &dyn IdempotencyStore, claim: HeldClaim, stage: &Stage) {
    let settled = match stage {
        Stage::Ready(prepared)
            if !prepared.republished && prepared.entry.billed_size() > MAX_STORED_RESULT_BYTES =>
        {
            warn!(
                bytes = prepared.entry.billed_size(),
                "result too large to store for idempotency; claim released"
            );
            store.release(&claim.key).await
        }
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
pub(super) fn chosen_fields(value: &Value, names: &[&str]) -> Option<Value> {
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
pub(super) fn in_progress_until_ms(cutoff: Option<Instant>, margin: std::time::Duration) -> u64 {
    let left = cutoff.map_or(std::time::Duration::from_secs(900), |c| {
        c.saturating_duration_since(Instant::now()) + margin
    });
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    (now + left).as_millis() as u64
}

/// The fields of an event known before analysis finishes.
pub(super) struct EventDraft {
    /// What the event id is derived from: the raw body until it decodes, then the
    /// message inside it (see [`derive_event_id`]).
    pub(super) content: ContentDigest,
    pub(super) source_event_id: Option<String>,
    pub(super) subject_id: Option<String>,
    pub(super) timings: BTreeMap<String, f64>,
}

impl EventDraft {
    pub(super) fn new(record: &SqsMessage) -> Self {
        Self {
            content: ContentDigest::of_bytes(record.body.as_deref().unwrap_or_default().as_bytes()),
            source_event_id: None,
            subject_id: None,
            timings: BTreeMap::new(),
        }
    }

    /// The identity of an inline body, for an event built after the analysis panicked.
    /// Claim-checked bodies are not fetched again: such an event names only the message.
    pub(super) fn read_identity_best_effort(&mut self, record: &SqsMessage, subject_key: &str) {
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
    pub(super) fn read_identity(
        &mut self,
        payload: &Value,
        subject_key: &str,
    ) -> Result<(), RecordError> {
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

    pub(super) fn into_event(
        self,
        descriptor: &WorkerDescriptor,
        result: Option<Value>,
        error: Option<&RecordError>,
        started: Instant,
    ) -> OutputEvent {
        let mut timings = self.timings;
        timings.insert("total".to_owned(), elapsed_ms(started));
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
