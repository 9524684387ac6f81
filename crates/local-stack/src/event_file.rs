//! An SQS event file (what `cargo lambda invoke --data-file` takes) through a worker's real
//! batch engine in-process, publishing into memory: how each worker tests its
//! `fixtures/events/<worker>/` files.

use std::path::Path;
use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use postlens_runtime::{BatchEngine, EngineConfig, MemorySink, OutputEvent, Worker};

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

/// Runs the SQS event in `path` through `worker` with the default engine settings.
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
    let sink = Arc::new(MemorySink::default());
    let engine = BatchEngine::new(worker, sink.clone(), None, EngineConfig::default());
    let outcome = engine.process_batch(&event.records, None).await;
    let failures = outcome
        .response
        .batch_item_failures
        .iter()
        .map(|failure| failure.item_identifier.clone())
        .collect();
    let events = sink
        .take()
        .iter()
        .map(|published| serde_json::from_str(&published.message))
        .collect::<Result<_, _>>()
        .map_err(EventFileError::NotAnOutputEvent)?;
    Ok(EventFileRun { failures, events })
}
