//! An SQS event (what `cargo lambda invoke --data-file` takes) through a worker's real
//! batch engine in-process, publishing into memory: `postlens invoke`, and how each worker
//! tests its `fixtures/events/<worker>/` files.

use std::path::Path;
use std::sync::Arc;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use postlens_runtime::sink::PublishCall;
use postlens_runtime::{BatchEngine, MemorySink, OutputEvent, PublishEntry, Worker};

/// What one in-process invocation answered and published.
#[derive(Debug)]
pub struct InMemoryInvocation {
    /// The partial batch response the handler returned.
    pub response: SqsBatchResponse,
    /// The entries published, in order.
    pub published: Vec<PublishEntry>,
    /// The PublishBatch calls as SNS would have seen them (entries, bytes).
    pub calls: Vec<PublishCall>,
}

/// Runs `event` through `worker` with the default engine settings and an in-memory SNS.
pub async fn invoke_in_memory<W: Worker>(worker: W, event: &SqsEvent) -> InMemoryInvocation {
    let sink = Arc::new(MemorySink::default());
    let engine = BatchEngine::new(worker, sink.clone());
    let outcome = engine.process_batch(&event.records, None).await;
    InMemoryInvocation {
        response: outcome.response,
        published: sink.take(),
        calls: sink.calls(),
    }
}

/// What one event file did.
#[derive(Debug)]
pub struct EventFileRun {
    /// The `batchItemFailures` identifiers: the records Lambda would retry.
    pub failures: Vec<String>,
    /// The events published, in order.
    pub events: Vec<OutputEvent>,
}

/// Why an event file could not be run.
#[derive(Debug, thiserror::Error)]
pub enum EventFileError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// What the read said.
        source: std::io::Error,
    },
    /// The file is not an SQS event.
    #[error("{path} is not an SQS event: {source}")]
    NotAnSqsEvent {
        /// The file.
        path: String,
        /// What the parse said.
        source: serde_json::Error,
    },
    /// The engine published something that is not an output event.
    #[error("a published message is not an output event: {0}")]
    NotAnOutputEvent(serde_json::Error),
}

/// Runs the SQS event in `path` through `worker` ([`invoke_in_memory`]).
pub async fn run_event_file<W: Worker>(
    worker: W,
    path: &Path,
) -> Result<EventFileRun, EventFileError> {
    let shown = || path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| EventFileError::Read {
        path: shown(),
        source,
    })?;
    let event: SqsEvent =
        serde_json::from_str(&text).map_err(|source| EventFileError::NotAnSqsEvent {
            path: shown(),
            source,
        })?;
    let invocation = invoke_in_memory(worker, &event).await;
    let failures = invocation
        .response
        .batch_item_failures
        .iter()
        .map(|failure| failure.item_identifier.clone())
        .collect();
    let events = invocation
        .published
        .iter()
        .map(|published| serde_json::from_str(&published.message))
        .collect::<Result<_, _>>()
        .map_err(EventFileError::NotAnOutputEvent)?;
    Ok(EventFileRun { failures, events })
}
