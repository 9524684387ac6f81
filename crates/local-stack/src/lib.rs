//! The local stack: the production topology (`infra/template.yaml`) created on a local
//! emulator, and event source mappings that feed the real handlers in-process.
//!
//! Used by `postlens demo` and by the end-to-end tests.

pub mod drain;
pub mod mapping;
pub mod runtime_api;
pub mod stack;
pub mod tap;
pub mod topology;
pub mod worker_fixture;

pub use drain::{queue_depth, run_until_drained, DrainOptions, DrainReport, QueueDepth};
pub use mapping::{
    EngineFunction, EventSourceMapping, LocalFunction, MappingSettings, MappingStats,
};
pub use runtime_api::{InvocationOutcome, RuntimeApi, RuntimeApiError};
pub use stack::{DrainWorkerError, LocalQueue, LocalStack, StackError, WiringError};
pub use tap::Tap;
pub use topology::{FunctionSpec, Topology, TopologyError};
pub use worker_fixture::{FixtureError, WorkerFixture};

/// `infra/template.yaml`, found from the current directory or one of its parents.
pub fn find_template() -> Option<std::path::PathBuf> {
    let start = std::env::current_dir().ok()?;
    start
        .ancestors()
        .map(|dir| dir.join("infra/template.yaml"))
        .find(|candidate| candidate.is_file())
}

/// An error with its chain of causes: the AWS SDK's own `Display` is terse ("service
/// error"); the reason is in its sources.
pub(crate) fn describe(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message = format!("{message}: {cause}");
        source = cause.source();
    }
    message
}
