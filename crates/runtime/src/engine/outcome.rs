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
