//! A local SQS event source mapping that behaves like Lambda's: long-poll, gather a batch
//! within the batching window, invoke the handler, delete the records that succeeded, and
//! leave the rest to reappear after the visibility timeout (the queue's redrive policy
//! moves them to the DLQ after maxReceiveCount receives).
//!
//! One deliberate difference: failed records are made visible again after `retry_after`
//! (default 1 s) rather than the queue's full visibility timeout (minutes in the
//! template), so a local run shows retries and DLQ moves in seconds.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, DeleteMessageBatchRequestEntry,
    MessageSystemAttributeName,
};
use futures::future::BoxFuture;
use lambda_runtime::{Context, LambdaEvent};
use postlens_runtime::{AllFailedMode, BatchEngine, InvocationSettings, Worker};

use crate::queue::LocalQueue;
use crate::topology::FunctionSpec;

/// What the mapping invokes: the real handler, in-process.
pub trait LocalFunction: Send + Sync {
    /// Handles one batch, as the Lambda's handler would.
    fn invoke(
        &self,
        event: LambdaEvent<SqsEvent>,
    ) -> BoxFuture<'_, Result<SqsBatchResponse, lambda_runtime::Error>>;
}

/// A worker's batch engine behind the same entry point the Lambda binary uses.
pub struct EngineFunction<W: Worker> {
    engine: Arc<BatchEngine<W>>,
    all_failed_mode: AllFailedMode,
}

impl<W: Worker> EngineFunction<W> {
    /// Wraps `engine`, which the mapping then shares between its pollers.
    pub fn new(engine: BatchEngine<W>) -> Self {
        Self {
            engine: Arc::new(engine),
            all_failed_mode: AllFailedMode::Report,
        }
    }

    /// Answers a batch whose every record failed as `invocation` says (`ALL_FAILED_MODE`).
    pub fn with_invocation(mut self, invocation: &InvocationSettings) -> Self {
        self.all_failed_mode = invocation.all_failed_mode;
        self
    }
}

impl<W: Worker> LocalFunction for EngineFunction<W> {
    fn invoke(
        &self,
        event: LambdaEvent<SqsEvent>,
    ) -> BoxFuture<'_, Result<SqsBatchResponse, lambda_runtime::Error>> {
        // The future owns its engine handle, as in `lambda::run`: borrowing `self` across
        // the await trips a higher-ranked Send check on the worker's future.
        let engine = self.engine.clone();
        let mode = self.all_failed_mode;
        Box::pin(async move {
            postlens_runtime::lambda::handle_batch(&engine, event, mode, false)
                .await
                .0
        })
    }
}

/// The event source mapping's settings, from the template's function and its `SQS` event.
#[derive(Debug, Clone)]
pub struct MappingSettings {
    /// Most records per invocation (`BatchSize`).
    pub batch_size: usize,
    /// How long to gather records before invoking (`MaximumBatchingWindowInSeconds`).
    pub batching_window: Duration,
    /// The function's `Timeout`, given to the handler as its deadline.
    pub function_timeout: Duration,
    /// How long a failed record stays invisible before redelivery (see the module docs).
    pub retry_after: Duration,
    /// Long-poll wait per ReceiveMessage call.
    pub poll_wait: Duration,
    /// `FunctionResponseTypes: [ReportBatchItemFailures]`: only the reported records are retried; without it a failure retries the whole batch.
    pub report_batch_item_failures: bool,
}

impl MappingSettings {
    /// The settings the template gives `function`, with short local retry and poll times.
    pub fn for_function(function: &FunctionSpec) -> Self {
        Self {
            batch_size: function.source.batch_size.max(1) as usize,
            batching_window: Duration::from_secs(function.source.batching_window_s.into()),
            function_timeout: Duration::from_secs(function.timeout_s.into()),
            retry_after: Duration::from_secs(1),
            poll_wait: Duration::from_secs(1),
            report_batch_item_failures: function.source.report_batch_item_failures,
        }
    }
}

/// Counters for the summary; updated after each invocation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MappingStats {
    /// Times the function was invoked.
    pub invocations: u64,
    /// Records handed to the function, counting redeliveries.
    pub records: u64,
    /// Records deleted after the function succeeded with them.
    pub deleted: u64,
    /// Records made visible again for a retry (reported failures, or a whole failed batch).
    pub returned_for_retry: u64,
    /// Invocations that returned an error instead of a batch response.
    pub invocation_errors: u64,
    /// Entries SQS refused to delete or to make visible again (an expired receipt handle,
    /// say). Lambda's mapping leaves those to SQS, which redelivers them; so does this one,
    /// but it counts them so a test or the demo can see at-least-once delivery happen.
    pub batch_entry_failures: u64,
    /// Messages received but left for a later batch because the invocation payload would
    /// have passed Lambda's 6 MB limit.
    pub left_for_next_batch: u64,
}

/// Why a mapping could not go on polling.
#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    /// An SQS call failed.
    #[error("{operation} on {queue}: {message}")]
    Sqs {
        /// The SQS operation, e.g. `ReceiveMessage`.
        operation: &'static str,
        /// The queue URL.
        queue: String,
        /// The SDK error, with its service code.
        message: String,
    },
    /// The handler is run inside a panic boundary, so this is a bug in the mapping itself.
    #[error("a poller stopped unexpectedly: {0}")]
    PollerCrashed(String),
}

/// A local SQS event source mapping: polls one queue, invokes one function with batches, deletes what succeeded and returns the rest for retry, as Lambda's poller does.
pub struct EventSourceMapping {
    /// The function's logical id, for logs and the summary.
    pub function_name: String,
    sqs: aws_sdk_sqs::Client,
    queue: LocalQueue,
    settings: MappingSettings,
    function: Arc<dyn LocalFunction>,
    stats: Mutex<MappingStats>,
    request_counter: AtomicU64,
}

impl EventSourceMapping {
    /// A mapping from `queue` to `function` with `settings`; `run` starts polling.
    pub fn new(
        function_name: impl Into<String>,
        sqs: aws_sdk_sqs::Client,
        queue: LocalQueue,
        settings: MappingSettings,
        function: Arc<dyn LocalFunction>,
    ) -> Self {
        Self {
            function_name: function_name.into(),
            sqs,
            queue,
            settings,
            function,
            stats: Mutex::new(MappingStats::default()),
            request_counter: AtomicU64::new(0),
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> MappingStats {
        self.stats.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The queue this mapping reads.
    pub fn queue(&self) -> &LocalQueue {
        &self.queue
    }

    fn sqs_error(&self, operation: &'static str, error: impl std::error::Error) -> MappingError {
        MappingError::Sqs {
            operation,
            queue: self.queue.url.clone(),
            message: crate::errors::describe(&error),
        }
    }

    /// Polls until `stop` is set. Several pollers may share one mapping.
    pub async fn run(&self, stop: &AtomicBool) -> Result<(), MappingError> {
        while !stop.load(Ordering::Relaxed) {
            self.poll_once().await?;
        }
        Ok(())
    }

    /// One receive → invoke → delete cycle. Returns the number of records handled.
    pub async fn poll_once(&self) -> Result<usize, MappingError> {
        let mut messages = self.gather_batch().await?;
        if messages.is_empty() {
            return Ok(0);
        }
        let mut records: Vec<SqsMessage> = messages
            .iter()
            .map(|m| crate::lambda_record::lambda_record(m, &self.queue.arn))
            .collect();
        // Lambda never invokes with more than its payload limit: the rest wait for a later
        // batch. Without this a local batch of 100 large records would reach the handler.
        let fits = records_within_payload(&records, MAX_INVOCATION_PAYLOAD);
        if fits < records.len() {
            records.truncate(fits);
            let overflow = messages.split_off(fits);
            let refused = self
                .make_visible(&overflow.iter().collect::<Vec<_>>(), Duration::ZERO)
                .await?;
            let mut stats = self.stats.lock().unwrap_or_else(|p| p.into_inner());
            stats.left_for_next_batch += overflow.len() as u64;
            stats.batch_entry_failures += refused;
        }
        let failed = self.invoke(records).await;

        let (retry, done): (Vec<_>, Vec<_>) = messages.iter().partition(|m| {
            m.message_id()
                .is_some_and(|id| failed.as_ref().is_none_or(|ids| ids.contains(id)))
        });
        let refused = self.delete(&done).await? + self.return_for_retry(&retry).await?;

        let mut stats = self.stats.lock().unwrap_or_else(|p| p.into_inner());
        stats.invocations += 1;
        stats.records += messages.len() as u64;
        stats.deleted += done.len() as u64;
        stats.returned_for_retry += retry.len() as u64;
        stats.batch_entry_failures += refused;
        if failed.is_none() {
            stats.invocation_errors += 1;
        }
        Ok(messages.len())
    }

    /// Long-polls for the first message, then keeps receiving until the batch is full or
    /// the batching window has passed.
    async fn gather_batch(&self) -> Result<Vec<aws_sdk_sqs::types::Message>, MappingError> {
        let mut batch = Vec::new();
        let mut window_ends: Option<Instant> = None;
        while batch.len() < self.settings.batch_size {
            let wait = match window_ends {
                None => self.settings.poll_wait,
                Some(end) => end.saturating_duration_since(Instant::now()),
            };
            let wanted = (self.settings.batch_size - batch.len()).min(10);
            let received = self
                .sqs
                .receive_message()
                .queue_url(&self.queue.url)
                .max_number_of_messages(wanted as i32)
                .wait_time_seconds(wait.as_secs().min(20) as i32)
                .message_system_attribute_names(MessageSystemAttributeName::All)
                .message_attribute_names("All")
                .send()
                .await
                .map_err(|e| self.sqs_error("ReceiveMessage", e))?;
            let messages = received.messages.unwrap_or_default();
            if messages.is_empty()
                && (batch.is_empty() || window_ends.is_some_and(|end| Instant::now() >= end))
            {
                break;
            }
            if window_ends.is_none() {
                window_ends = Some(Instant::now() + self.settings.batching_window);
            }
            batch.extend(messages);
            if window_ends.is_some_and(|end| Instant::now() >= end) {
                break;
            }
        }
        Ok(batch)
    }

    /// Invokes the function. `Some(ids)` are the records to retry; `None` means the whole
    /// batch failed (invocation error, timeout, or a response Lambda would reject).
    async fn invoke(&self, records: Vec<SqsMessage>) -> Option<HashSet<String>> {
        let in_batch: HashSet<String> = records
            .iter()
            .filter_map(|r| r.message_id.clone())
            .collect();
        let mut event = SqsEvent::default();
        event.records = records;
        let mut context = Context::default();
        let request = self.request_counter.fetch_add(1, Ordering::Relaxed);
        context.request_id = format!("local-{}-{request}", self.function_name);
        context.invoked_function_arn = format!(
            "arn:aws:lambda:{}:000000000000:function:{}",
            crate::emulator::REGION,
            self.function_name
        );
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        context.deadline = now_ms + self.settings.function_timeout.as_millis() as u64;

        let invocation = self.function.invoke(LambdaEvent::new(event, context));
        let response = match tokio::time::timeout(self.settings.function_timeout, invocation).await
        {
            Ok(Ok(response)) => response,
            Ok(Err(error)) => {
                tracing::warn!(function = %self.function_name, %error, "invocation failed; the whole batch will be retried");
                return None;
            }
            Err(_) => {
                tracing::warn!(function = %self.function_name, "invocation timed out; the whole batch will be retried");
                return None;
            }
        };
        let failures: Vec<String> = response
            .batch_item_failures
            .into_iter()
            .map(|f| f.item_identifier)
            .collect();
        if !failures.is_empty() && !self.settings.report_batch_item_failures {
            // Without ReportBatchItemFailures Lambda ignores the list: the batch succeeded.
            return Some(HashSet::new());
        }
        // Lambda treats an empty or unknown identifier as a failure of the whole batch.
        let mut retry = HashSet::new();
        for id in failures {
            if !in_batch.contains(&id) {
                return None;
            }
            retry.insert(id);
        }
        Some(retry)
    }

    /// Deletes `messages`; answers how many entries SQS refused.
    async fn delete(&self, messages: &[&aws_sdk_sqs::types::Message]) -> Result<u64, MappingError> {
        let mut refused = 0;
        for chunk in receipt_chunks(messages) {
            let entries = chunk
                .into_iter()
                .filter_map(|(id, handle)| {
                    DeleteMessageBatchRequestEntry::builder()
                        .id(id)
                        .receipt_handle(handle)
                        .build()
                        .ok()
                })
                .collect();
            let output = self
                .sqs
                .delete_message_batch()
                .queue_url(&self.queue.url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| self.sqs_error("DeleteMessageBatch", e))?;
            refused += self.note_refused("DeleteMessageBatch", output.failed());
        }
        Ok(refused)
    }

    /// Logs the entries a batch call refused and answers how many there were.
    fn note_refused(
        &self,
        operation: &str,
        failed: &[aws_sdk_sqs::types::BatchResultErrorEntry],
    ) -> u64 {
        for entry in failed {
            tracing::warn!(
                queue = %self.queue.url,
                operation,
                code = entry.code(),
                sender_fault = entry.sender_fault(),
                "SQS refused a batch entry; the message will be delivered again"
            );
        }
        failed.len() as u64
    }

    async fn return_for_retry(
        &self,
        messages: &[&aws_sdk_sqs::types::Message],
    ) -> Result<u64, MappingError> {
        self.make_visible(messages, self.settings.retry_after).await
    }

    /// Sets the messages' visibility timeout (0: visible again at once).
    async fn make_visible(
        &self,
        messages: &[&aws_sdk_sqs::types::Message],
        after: Duration,
    ) -> Result<u64, MappingError> {
        let timeout = after.as_secs() as i32;
        let mut refused = 0;
        for chunk in receipt_chunks(messages) {
            let entries = chunk
                .into_iter()
                .filter_map(|(id, handle)| {
                    ChangeMessageVisibilityBatchRequestEntry::builder()
                        .id(id)
                        .receipt_handle(handle)
                        .visibility_timeout(timeout)
                        .build()
                        .ok()
                })
                .collect();
            let output = self
                .sqs
                .change_message_visibility_batch()
                .queue_url(&self.queue.url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| self.sqs_error("ChangeMessageVisibilityBatch", e))?;
            refused += self.note_refused("ChangeMessageVisibilityBatch", output.failed());
        }
        Ok(refused)
    }
}

/// Lambda's limit on a synchronous invocation's payload (the whole SQS event), which the
/// SQS event source mapping respects when it assembles a batch.
pub const MAX_INVOCATION_PAYLOAD: usize = 6 * 1024 * 1024;

/// How many of `records`, from the first, fit in one event of at most `limit` bytes (at
/// least one: a single message can never pass the limit, SQS caps messages far below it).
fn records_within_payload(records: &[SqsMessage], limit: usize) -> usize {
    // {"Records":[ ... ]} and the commas between records.
    let mut size = r#"{"Records":[]}"#.len();
    for (count, record) in records.iter().enumerate() {
        let bytes =
            serde_json::to_vec(record).map_or(0, |json| json.len()) + usize::from(count > 0);
        if count > 0 && size + bytes > limit {
            return count;
        }
        size += bytes;
    }
    records.len()
}

/// Receipt handles in groups of ten (the SQS batch limit), each with an entry id unique
/// within its group; groups with no handle are left out.
fn receipt_chunks<'a>(
    messages: &'a [&aws_sdk_sqs::types::Message],
) -> impl Iterator<Item = Vec<(String, &'a str)>> + 'a {
    messages
        .chunks(10)
        .map(|chunk| {
            chunk
                .iter()
                .enumerate()
                .filter_map(|(i, m)| Some((i.to_string(), m.receipt_handle()?)))
                .collect::<Vec<_>>()
        })
        .filter(|entries| !entries.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(body_bytes: usize) -> SqsMessage {
        let mut record = SqsMessage::default();
        record.message_id = Some("m".to_owned());
        record.body = Some("x".repeat(body_bytes));
        record
    }

    #[test]
    fn a_batch_stops_before_the_invocation_payload_limit() {
        // 100 records of 256 KiB (SNS's largest message) would be 25 MB; Lambda sends 23.
        let records: Vec<SqsMessage> = (0..100).map(|_| record(256 * 1024)).collect();
        let fits = records_within_payload(&records, MAX_INVOCATION_PAYLOAD);
        assert_eq!(fits, 23);
        let event_bytes = |count: usize| {
            let mut event = SqsEvent::default();
            event.records = records[..count].to_vec();
            serde_json::to_vec(&event).expect("json").len()
        };
        assert!(event_bytes(fits) <= MAX_INVOCATION_PAYLOAD);
        assert!(event_bytes(fits + 1) > MAX_INVOCATION_PAYLOAD);
        // Small records all fit; a lone record always goes, whatever its size.
        assert_eq!(records_within_payload(&[record(10), record(10)], 1000), 2);
        assert_eq!(records_within_payload(&[record(5000)], 1000), 1);
    }
}
