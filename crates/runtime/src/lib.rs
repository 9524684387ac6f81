//! The shared SQS → SNS batch runtime of the postlens Lambdas (DESIGN §4).
//!
//! Knows envelopes, error classes, SNS/S3 and Lambda; knows nothing about analysis.

pub mod assemble;
pub mod clients;
pub mod config;
pub mod contracts;
pub mod cpu;
pub mod emf;
pub mod engine;
pub mod envelope;
pub mod error;
pub mod event;
pub mod idempotency;
mod identity;
pub mod lambda;
pub mod logging;
pub mod metrics;
pub mod model_files;
pub mod redact;
pub mod settings;
pub mod sink;
pub mod sqs_text;
pub mod store;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod xray;

pub use assemble::{Assemble, Parts};
pub use config::{AllFailedMode, EngineConfig, FifoFailureMode, InvocationSettings, WorkerConfig};
pub use cpu::CpuPool;
pub use engine::{BatchEngine, BatchOutcome, BatchReport, RecordOutcome, Worker};
pub use error::{codes, RecordError};
pub use event::{OutputEvent, Status, WorkerDescriptor};
pub use settings::ConfigError;
pub use sink::{EventSink, MemorySink, PublishEntry};
pub use store::{MemoryStore, ObjectStore, StoreError};
