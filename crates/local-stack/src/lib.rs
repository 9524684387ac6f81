//! The local stack: the production topology (`infra/template.yaml`) created on a local
//! emulator, and event source mappings that feed the real handlers in-process.
//!
//! Used by `postlens demo` and by the end-to-end tests.

pub mod drain;
pub mod emulator;
mod errors;
pub mod event_file;
pub mod iam;
pub mod lambda_record;
pub mod mapping;
pub mod queue;
pub mod runtime_api;
pub mod stack;
pub mod tap;
pub mod topology;
pub mod worker_fixture;

pub use drain::{queue_depth, run_until_drained, DrainOptions, DrainReport, QueueDepth};
pub use event_file::{
    invoke_in_memory, run_event_file, EventFileError, EventFileRun, InMemoryInvocation,
};
pub use mapping::{
    EngineFunction, EventSourceMapping, LocalFunction, MappingSettings, MappingStats,
};
pub use queue::LocalQueue;
pub use runtime_api::{InvocationOutcome, RuntimeApi, RuntimeApiError};
pub use stack::{DrainWorkerError, LocalStack, StackError, WiringError};
pub use tap::Tap;
pub use topology::{find_template, FunctionSpec, Topology, TopologyError};
pub use worker_fixture::{FixtureError, WorkerFixture};
