//! Structured JSON logs. Fields carry ids and error codes, never user text or secrets.

use tracing_subscriber::{fmt, EnvFilter};

/// Where log lines go: Lambda collects stdout; the CLI keeps stdout for its JSONL output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogTarget {
    Stdout,
    Stderr,
}

/// Installs the JSON subscriber once; later calls are ignored (tests may race to it).
/// The level comes from [`filter_directive`] (Lambdas default to `info`, the CLI to `warn`).
pub fn init(target: LogTarget, default_level: &str) {
    let directive = filter_directive(|name| std::env::var(name).ok(), default_level);
    let filter = EnvFilter::try_new(&directive).unwrap_or_else(|_| EnvFilter::new(default_level));
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

/// The log filter: `RUST_LOG` when set (a full `tracing` filter, for debugging), else the
/// level Lambda passes as `AWS_LAMBDA_LOG_LEVEL` from the function's `LoggingConfig`
/// (`ApplicationLogLevel`: TRACE, DEBUG, INFO, WARN, ERROR or FATAL), else `default_level`.
/// So an operator changes one function's level in the template or console, without a deploy.
pub fn filter_directive(lookup: impl Fn(&str) -> Option<String>, default_level: &str) -> String {
    let set = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
    if let Some(filter) = set("RUST_LOG") {
        return filter;
    }
    match set("AWS_LAMBDA_LOG_LEVEL")
        .map(|level| level.trim().to_ascii_uppercase())
        .as_deref()
    {
        Some("TRACE") => "trace",
        Some("DEBUG") => "debug",
        Some("INFO") => "info",
        Some("WARN") => "warn",
        // tracing has no fatal: an error is the nearest, and FATAL lines are errors too.
        Some("ERROR") | Some("FATAL") => "error",
        _ => default_level,
    }
    .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn lambdas_log_level_setting_is_read_and_rust_log_wins() {
        assert_eq!(filter_directive(lookup(&[]), "info"), "info");
        assert_eq!(
            filter_directive(lookup(&[("AWS_LAMBDA_LOG_LEVEL", "DEBUG")]), "info"),
            "debug"
        );
        assert_eq!(
            filter_directive(lookup(&[("AWS_LAMBDA_LOG_LEVEL", "fatal")]), "info"),
            "error"
        );
        assert_eq!(
            filter_directive(lookup(&[("AWS_LAMBDA_LOG_LEVEL", "loud")]), "warn"),
            "warn"
        );
        assert_eq!(
            filter_directive(
                lookup(&[
                    ("AWS_LAMBDA_LOG_LEVEL", "DEBUG"),
                    ("RUST_LOG", "postlens_runtime=trace")
                ]),
                "info"
            ),
            "postlens_runtime=trace"
        );
        assert_eq!(
            filter_directive(lookup(&[("RUST_LOG", " ")]), "info"),
            "info"
        );
    }
}
