//! What a batch came to, and each record in it.

use std::collections::BTreeMap;

use aws_lambda_events::event::sqs::SqsBatchResponse;

#[cfg(doc)]
use super::Worker;
use crate::error::RecordError;
use crate::event::Status;
use crate::metrics::Metric;

/// What happened to one record.
#[derive(Debug, Clone, PartialEq)]
pub enum RecordOutcome {
    /// An event was published: `ok`, or `error` for a permanent failure. The record is acknowledged.
    Published {
        /// The published event's id.
        event_id: String,
        /// `ok` or `error`.
        status: Status,
        /// The error event's code.
        error_code: Option<&'static str>,
    },
    /// The record is returned in `batchItemFailures` for SQS to redeliver.
    Retry(RecordError),
    /// Acknowledged without an event of its own, because another delivery of the same
    /// content publishes it: a duplicate that, on its last receive, still found the
    /// idempotency key held by the invocation processing the other copy.
    Acknowledged {
        /// Why no event was published for this delivery.
        code: &'static str,
    },
}

/// Counts and timings of one batch, for the EMF line and the invocation log.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BatchReport {
    /// Records in the batch.
    pub records: usize,
    /// `ok` events published.
    pub ok: usize,
    /// Error events published (permanent failures).
    pub error_events: usize,
    /// Error events for internal faults that lasted to the last receive (also in `error_events`).
    pub internal_errors: usize,
    /// Records returned in `batchItemFailures`.
    pub retried: usize,
    /// PublishBatch calls made.
    pub publish_calls: usize,
    /// Results written to S3 because they were too large for SNS.
    pub offloaded: usize,
    /// Time decoding and analysing records, in milliseconds.
    pub process_ms: f64,
    /// Time publishing, in milliseconds.
    pub publish_ms: f64,
    /// The whole batch, in milliseconds.
    pub total_ms: f64,
    /// Error events and retries by error code.
    pub error_codes: BTreeMap<&'static str, usize>,
    /// The worker's own metrics ([`Worker::metrics`]) summed over the records it analysed.
    pub worker_metrics: Vec<Metric>,
    /// Records whose stored result was published again instead of analysed (idempotency).
    pub republished: usize,
    /// Duplicate deliveries acknowledged without an event ([`RecordOutcome::Acknowledged`]).
    pub acknowledged: usize,
}

impl BatchReport {
    /// Adds one record's outcome to the counts.
    pub fn count(&mut self, outcome: &RecordOutcome) {
        match outcome {
            RecordOutcome::Published {
                status: Status::Ok, ..
            } => self.ok += 1,
            RecordOutcome::Published { error_code, .. } => {
                self.error_events += 1;
                if let Some(code) = error_code {
                    *self.error_codes.entry(code).or_default() += 1;
                }
                if *error_code == Some(crate::error::codes::INTERNAL_ERROR) {
                    self.internal_errors += 1;
                }
            }
            RecordOutcome::Acknowledged { code } => {
                self.acknowledged += 1;
                *self.error_codes.entry(code).or_default() += 1;
            }
            RecordOutcome::Retry(error) => {
                self.retried += 1;
                *self.error_codes.entry(error.code()).or_default() += 1;
            }
        }
    }

    /// Adds what a record's prepared event brings before it is published: the worker's
    /// metrics, and whether it was republished or its result offloaded.
    pub(crate) fn count_prepared(
        &mut self,
        metrics: impl IntoIterator<Item = Metric>,
        republished: bool,
        offloaded: bool,
    ) {
        crate::metrics::accumulate(&mut self.worker_metrics, metrics);
        self.republished += usize::from(republished);
        self.offloaded += usize::from(offloaded);
    }
}

/// What `BatchEngine::process_batch` returns: the answer for SQS and what it came from.
#[derive(Debug, Clone)]
pub struct BatchOutcome {
    /// The partial batch response the handler returns.
    pub response: SqsBatchResponse,
    /// Counts and timings.
    pub report: BatchReport,
    /// One outcome per input record, in input order.
    pub outcomes: Vec<(String, RecordOutcome)>,
}

impl BatchOutcome {
    /// Every record is being retried (see [`crate::config::AllFailedMode`]).
    pub fn all_failed(&self) -> bool {
        !self.outcomes.is_empty() && self.report.retried == self.outcomes.len()
    }
}
