//! Structured JSON logs. Fields carry ids and error codes, never user text or secrets.

use tracing_subscriber::{fmt, EnvFilter};

/// Where log lines go: Lambda collects stdout; the CLI keeps stdout for its JSONL output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogTarget {
    Stdout,
    Stderr,
}

/// Installs the JSON subscriber once; later calls are ignored (tests may race to it).
/// `RUST_LOG` overrides `default_level` (Lambdas log at `info`, the CLI at `warn`).
pub fn init(target: LogTarget, default_level: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    let builder = fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(false)
        .with_ansi(false);
    let _ = match target {
        LogTarget::Stdout => builder.with_writer(std::io::stdout).try_init(),
        LogTarget::Stderr => builder.with_writer(std::io::stderr).try_init(),
    };
}
