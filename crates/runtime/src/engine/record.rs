//! One record, from SQS message to an event ready to publish, in typed steps:
//!
//! `decode` (inline, SNS, claim checks) → `claim` (idempotency) → `analyse` (the worker,
//! under the deadline, panics caught) → `build_event` → settle the claim → `offload` (a
//! result too large for SNS to S3). Each step answers a type the next one takes; a step
//! that ends the record answers its [`Stage`] (an error event, or a retry) at once.

use std::panic::AssertUnwindSafe;
use std::time::Instant;

use aws_lambda_events::event::sqs::SqsMessage;
use futures::future::BoxFuture;
use futures::{Future, FutureExt};
use tracing::{error, info_span, warn, Instrument};

use crate::envelope::{decode_body, Payload, S3Location};
use crate::error::{codes, describe_panic, RecordError};
use crate::metrics::{elapsed_ms, Metric};
use crate::sink::SNS_MAX_MESSAGE_BYTES;

use super::claim::{self, chosen_fields, in_progress_until_ms, ClaimAnswer, SETTLE_TIMEOUT};
use super::fifo::message_group;
use super::outcome::RecordOutcome;
use super::prepared::{EventDraft, Prepared};
use super::worker::Worker;
use super::{before, receive_count, result_value, BatchEngine};

/// What the engine knows of a record before it reads its body, read once.
pub(crate) struct RecordContext<'a> {
    /// Its position in the batch.
    pub(super) index: usize,
    pub(super) record: &'a SqsMessage,
    /// SQS's id, which `batchItemFailures` names (empty when missing: Lambda then retries
    /// the whole batch, the safe reading of a record we cannot name).
    pub(super) message_id: String,
    /// `ApproximateReceiveCount` (0 when absent).
    pub(super) receive_count: u32,
    /// This is its last allowed receive (false when the count or the limit is unknown).
    pub(super) last_receive: bool,
    /// Its FIFO message group, if any.
    pub(super) group_id: Option<&'a str>,
}

impl<'a> RecordContext<'a> {
    pub(super) fn new(
        index: usize,
        record: &'a SqsMessage,
        max_receive_count: Option<u32>,
    ) -> Self {
        let count = receive_count(record);
        Self {
            index,
            record,
            message_id: record.message_id.clone().unwrap_or_default(),
            receive_count: count,
            last_receive: max_receive_count.is_some_and(|max| count > 0 && count >= max),
            group_id: message_group(record),
        }
    }
}

/// Where a record stands after preparing: an event to publish, or already decided.
pub(crate) enum Stage {
    Ready(Prepared),
    Done(RecordOutcome),
}

/// The worker's typed input, read from the record, and the event so far.
struct Decoded<I> {
    input: I,
    draft: EventDraft,
    /// What the idempotency key is made of (empty when claims are off).
    key_material: Vec<u8>,
}

/// A record that cannot be read: its error event names what could be read of it.
struct Rejected {
    draft: EventDraft,
    error: RecordError,
}

/// A worker's result for one record, ready to become an event.
struct Analysed {
    value: serde_json::Value,
    /// Extra SNS message attributes ([`Worker::attributes`]).
    attributes: Vec<(String, String)>,
    metrics: Vec<Metric>,
}

/// How a step under the invocation's cutoff ended.
enum Guarded<T> {
    Finished(T),
    TimedOut,
    Panicked(RecordError),
}

/// `work` until `cutoff`, its panic caught.
async fn guarded<T>(cutoff: Option<Instant>, work: impl Future<Output = T>) -> Guarded<T> {
    match before(cutoff, AssertUnwindSafe(work).catch_unwind()).await {
        None => Guarded::TimedOut,
        Some(Ok(value)) => Guarded::Finished(value),
        Some(Err(panic)) => Guarded::Panicked(RecordError::transient(
            codes::PANIC,
            format!("analysis panicked: {}", describe_panic(panic.as_ref())),
        )),
    }
}

fn out_of_time() -> Stage {
    Stage::Done(RecordOutcome::Retry(RecordError::transient(
        codes::DEADLINE_EXCEEDED,
        "record did not finish before the invocation deadline",
    )))
}

impl<W: Worker> BatchEngine<W> {
    /// The record's stage: its event, built and (when too large for SNS) offloaded, or
    /// the retry or acknowledgement it came to.
    pub(super) async fn prepare_record(
        &self,
        context: &RecordContext<'_>,
        cutoff: Option<Instant>,
    ) -> Stage {
        let span = info_span!(
            "record",
            message_id = %context.message_id,
            event_id = tracing::field::Empty
        );
        // Boxed and type-erased: the record's future nests every step's, and the Lambda's
        // main future, which holds the batch's, otherwise overflows rustc's query depth
        // computing its layout (the thumbnail generator's did).
        let steps: BoxFuture<'_, Stage> = Box::pin(async move {
            let stage = self.claimed_event(context, cutoff).await;
            self.offload(stage, cutoff).await
        });
        steps.instrument(span).await
    }

    /// decode → claim → analyse → build the event → settle the claim.
    async fn claimed_event(&self, context: &RecordContext<'_>, cutoff: Option<Instant>) -> Stage {
        if cutoff.is_some_and(|c| Instant::now() >= c) {
            return Stage::Done(RecordOutcome::Retry(RecordError::transient(
                codes::NOT_STARTED_DEADLINE,
                "invocation deadline too close to start this record",
            )));
        }
        let started = Instant::now();
        let subject_key = self.worker.descriptor().subject_key;
        let decoded = match guarded(cutoff, self.decode(context.record)).await {
            Guarded::Finished(Ok(decoded)) => decoded,
            Guarded::Finished(Err(Rejected { draft, error })) => {
                return self.build_event(context, draft, Err(error), started)
            }
            Guarded::TimedOut => return out_of_time(),
            Guarded::Panicked(error) => {
                let draft = EventDraft::best_effort(context.record, subject_key);
                return self.build_event(context, draft, Err(error), started);
            }
        };
        let Decoded {
            input,
            draft,
            key_material,
        } = decoded;

        let Some(store) = &self.idempotency else {
            return self.analyse(context, input, draft, cutoff, started).await;
        };
        let until = in_progress_until_ms(cutoff, self.config.deadline_margin);
        let asked = claim::claim(
            store.as_ref(),
            self.worker.descriptor().name,
            &key_material,
            draft.content.to_hex(),
            until,
        );
        let held = match guarded(cutoff, asked).await {
            Guarded::Finished(ClaimAnswer::Granted(held)) => held,
            Guarded::Finished(ClaimAnswer::Completed(stored)) => {
                let event_id = stored.event_id.clone();
                match Prepared::from_stored(stored) {
                    Some(prepared) => {
                        tracing::Span::current().record("event_id", event_id.as_str());
                        return Stage::Ready(prepared);
                    }
                    None => {
                        warn!("stored result unreadable by this version; analysed again");
                        return self.analyse(context, input, draft, cutoff, started).await;
                    }
                }
            }
            Guarded::Finished(ClaimAnswer::InProgress) => {
                return Stage::Done(RecordOutcome::Retry(RecordError::transient(
                    codes::IDEMPOTENCY_IN_PROGRESS,
                    "another invocation is processing this record",
                )))
            }
            Guarded::Finished(ClaimAnswer::KeyReused) => {
                let error = RecordError::permanent(
                    codes::IDEMPOTENCY_KEY_REUSED,
                    "the idempotency key was used before for a different payload",
                );
                return self.build_event(context, draft, Err(error), started);
            }
            Guarded::Finished(ClaimAnswer::Unavailable(failure)) => {
                return Stage::Done(RecordOutcome::Retry(RecordError::transient(
                    codes::IDEMPOTENCY_UNAVAILABLE,
                    failure,
                )))
            }
            Guarded::TimedOut => return out_of_time(),
            Guarded::Panicked(error) => {
                return self.build_event(context, draft, Err(error), started)
            }
        };
        let stage = self.analyse(context, input, draft, cutoff, started).await;
        let settled = claim::settle(store.as_ref(), held, &stage);
        if tokio::time::timeout(SETTLE_TIMEOUT, settled).await.is_err() {
            warn!("idempotency record not updated in time");
        }
        stage
    }

    /// The worker's typed input from the record's body (inline, inside an SNS
    /// notification, or claim-checked in S3), with the event's identity read on the way.
    async fn decode(&self, record: &SqsMessage) -> Result<Decoded<W::Input>, Rejected> {
        let descriptor = self.worker.descriptor();
        let started = Instant::now();
        let mut draft = EventDraft::new(record);
        let key_fields: Vec<&str> = match (&self.idempotency, &self.config.idempotency) {
            (Some(_), Some(settings)) => settings.key_fields.iter().map(String::as_str).collect(),
            _ => Vec::new(),
        };
        let mut key_values = None;

        let decoded = match decode_body(record.body.as_deref()) {
            Ok(decoded) => decoded,
            Err(error) => return Err(Rejected { draft, error }),
        };
        // A claim-checked payload stays bytes until the worker's typed input is read from
        // them: as a `Value` a few megabytes of JSON would take some forty times that.
        let (identity, parsed) = match decoded.payload {
            Payload::Inline(value) => {
                draft.content = crate::event::ContentDigest::of_json(&value);
                if !key_fields.is_empty() {
                    key_values = chosen_fields(&value, &key_fields);
                }
                (
                    draft.read_identity(&value, descriptor.subject_key),
                    serde_json::from_value::<W::Input>(value),
                )
            }
            Payload::ClaimCheck(location) => {
                let fetch = self
                    .fetch_claim_check(&location)
                    .instrument(info_span!("s3.get_object", purpose = "claim_check"));
                let bytes = match fetch.await {
                    Ok(bytes) => bytes,
                    Err(error) => return Err(Rejected { draft, error }),
                };
                draft.content = crate::event::ContentDigest::of_bytes(&bytes);
                if !key_fields.is_empty() {
                    key_values = crate::identity::scalar_fields(&bytes, &key_fields)
                        .and_then(|fields| chosen_fields(&fields, &key_fields));
                }
                let identity = crate::identity::identity_fields(&bytes, descriptor.subject_key)
                    .map_or(Ok(()), |fields| {
                        draft.read_identity(&fields, descriptor.subject_key)
                    });
                (identity, serde_json::from_slice::<W::Input>(&bytes))
            }
        };
        draft
            .timings
            .insert("decode".to_owned(), elapsed_ms(started));
        if let Err(error) = identity {
            return Err(Rejected { draft, error });
        }
        let input = match parsed {
            Ok(input) => input,
            // Only claim-checked bytes can fail as syntax: inline bodies were parsed already.
            Err(e) if e.is_syntax() || e.is_eof() => {
                let error = RecordError::permanent(
                    codes::INVALID_JSON,
                    format!("claim-checked payload is not JSON: {e}"),
                );
                return Err(Rejected { draft, error });
            }
            Err(e) => {
                let error = RecordError::permanent(
                    codes::SCHEMA_VIOLATION,
                    format!("input does not match the schema: {e}"),
                );
                return Err(Rejected { draft, error });
            }
        };
        let key_material = match (&self.idempotency, key_values) {
            (None, _) => Vec::new(),
            (Some(_), Some(values)) => values.to_string().into_bytes(),
            (Some(_), None) => draft.content.as_bytes().to_vec(),
        };
        Ok(Decoded {
            input,
            draft,
            key_material,
        })
    }

    /// The worker's analysis under the cutoff, as an event.
    async fn analyse(
        &self,
        context: &RecordContext<'_>,
        input: W::Input,
        mut draft: EventDraft,
        cutoff: Option<Instant>,
        started: Instant,
    ) -> Stage {
        let descriptor = self.worker.descriptor();
        let analysis_started = Instant::now();
        let work = self
            .worker
            .process(input)
            .instrument(info_span!("analyse", worker = descriptor.name));
        let result = match guarded(cutoff, work).await {
            Guarded::Finished(result) => result,
            Guarded::TimedOut => return out_of_time(),
            Guarded::Panicked(error) => Err(error),
        };
        draft
            .timings
            .insert("process".to_owned(), elapsed_ms(analysis_started));
        let analysed = result.and_then(|output| {
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
        self.build_event(context, draft, analysed, started)
    }

    /// The claim-checked bytes; whether they are JSON shows when the input is read from them.
    async fn fetch_claim_check(&self, location: &S3Location) -> Result<Vec<u8>, RecordError> {
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

    /// The event for an analysis result or a permanent error; a transient error is a retry.
    fn build_event(
        &self,
        context: &RecordContext<'_>,
        draft: EventDraft,
        result: Result<Analysed, RecordError>,
        started: Instant,
    ) -> Stage {
        let result = result.map_err(|error| self.escalate_on_last_receive(context, error));
        let (result, attributes, metrics, error) = match result {
            Ok(analysed) => (
                Some(analysed.value),
                analysed.attributes,
                analysed.metrics,
                None,
            ),
            Err(error @ RecordError::Transient { .. }) => {
                return Stage::Done(RecordOutcome::Retry(error))
            }
            Err(error) => (None, Vec::new(), Vec::new(), Some(error)),
        };
        let event = draft.into_event(self.worker.descriptor(), result, error.as_ref(), started);
        tracing::Span::current().record("event_id", event.event_id.as_str());
        let error_code = error.as_ref().map(RecordError::code);
        match Prepared::new(event, attributes, metrics, error_code) {
            Ok(prepared) => Stage::Ready(prepared),
            Err(error) => Stage::Done(RecordOutcome::Retry(error)),
        }
    }

    /// `error` as the event of a record that was never analysed (it never started, or was
    /// held back behind a FIFO predecessor): the event names what an inline body says.
    fn error_event_unanalysed(&self, context: &RecordContext<'_>, error: RecordError) -> Stage {
        let draft = EventDraft::best_effort(context.record, self.worker.descriptor().subject_key);
        self.build_event(context, draft, Err(error), Instant::now())
    }

    /// An internal fault on the record's last allowed receive becomes a permanent
    /// `internal_error`, so the consumer hears of it; earlier receives retry it.
    fn escalate_on_last_receive(
        &self,
        context: &RecordContext<'_>,
        error: RecordError,
    ) -> RecordError {
        if error.is_retryable() && error.is_internal() && context.last_receive {
            error!(
                code = error.code(),
                receive_count = context.receive_count,
                "internal fault on the last receive: publishing internal_error"
            );
            return error.into_internal_error(context.receive_count);
        }
        error
    }

    /// A retry that is not the record's fault, on its last receive: an error event under
    /// the same code (deadline) or, for an idempotency key another invocation holds, an
    /// acknowledgement (that invocation publishes the event). Other stages pass through.
    pub(crate) fn escalate_stage(&self, context: &RecordContext<'_>, stage: Stage) -> Stage {
        let Stage::Done(RecordOutcome::Retry(error)) = stage else {
            return stage;
        };
        if !context.last_receive {
            return Stage::Done(RecordOutcome::Retry(error));
        }
        let count = context.receive_count;
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
                self.error_event_unanalysed(context, final_error)
            }
            _ => Stage::Done(RecordOutcome::Retry(error)),
        }
    }

    /// A result over the SNS limit goes to S3; the published event keeps the envelope and
    /// a pointer to it. Without a bucket the record gets a `result_too_large` error event.
    async fn offload(&self, stage: Stage, cutoff: Option<Instant>) -> Stage {
        let Stage::Ready(prepared) = stage else {
            return stage;
        };
        if prepared.billed_size() <= SNS_MAX_MESSAGE_BYTES {
            return Stage::Ready(prepared);
        }
        let (Some(bucket), Some(store)) = (&self.config.claim_check_bucket, &self.store) else {
            let too_large = RecordError::permanent(
                codes::RESULT_TOO_LARGE,
                "result exceeds the SNS message limit and no CLAIM_CHECK_BUCKET is set",
            );
            return match prepared.into_error_event(&too_large) {
                Ok(prepared) => Stage::Ready(prepared),
                Err(error) => Stage::Done(RecordOutcome::Retry(error)),
            };
        };
        let location = S3Location {
            bucket: bucket.clone(),
            key: format!(
                "results/{}/{}.json",
                self.worker.descriptor().name,
                prepared.event_id()
            ),
        };
        let bytes = prepared.message().as_bytes().to_vec();
        let size = bytes.len();
        let put = store
            .put(&location, bytes, "application/json")
            .instrument(info_span!("s3.put_object", purpose = "result_offload"));
        let written = match before(cutoff, put).await {
            None => return out_of_time(),
            Some(written) => written,
        };
        let offloaded = written
            .map_err(|e| RecordError::transient(codes::RESULT_OFFLOAD_FAILED, e.to_string()))
            .and_then(|()| prepared.pointing_to(location.uri(), size));
        match offloaded {
            Ok(prepared) => Stage::Ready(prepared),
            Err(error) => Stage::Done(RecordOutcome::Retry(error)),
        }
    }

    /// An error event in place of `prepared`, whose event SNS refused for good.
    pub(super) fn refused_event(&self, prepared: Prepared, error: &RecordError) -> Stage {
        match prepared.into_error_event(error) {
            Ok(prepared) => Stage::Ready(prepared),
            Err(error) => Stage::Done(RecordOutcome::Retry(error)),
        }
    }
}
