//! Engine configuration, read from the Lambda's environment.

use std::time::Duration;

/// What a failed record does to the later records of a FIFO batch (`FIFO_FAILURE_MODE`), which must not overtake it.
///
/// The default is [`SkipGroup`](Self::SkipGroup): order is kept per message group, and a
/// record that keeps failing must not use up the receive counts of other groups' records
/// (under `StopAll` one poison message walked every group that shared its batches into the
/// DLQ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FifoFailureMode {
    /// Stop at the first failed record and fail every later record of the batch
    /// (`FIFO_FAILURE_MODE=stop`).
    StopAll,
    /// Fail only the later records of the failed record's message group (`skip_group`, the default).
    SkipGroup,
}

/// How a batch whose every record failed is answered (`ALL_FAILED_MODE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllFailedMode {
    /// Return every record in `batchItemFailures` (the invocation itself succeeds).
    Report,
    /// Fail the invocation, so the event source mapping backs off as for a crashing function.
    Error,
}

/// How the batch engine runs; each field has a default and an environment variable.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Records in flight at once (I/O concurrency). CPU work is bounded separately.
    pub max_concurrency: usize,
    /// Stop starting records this long before the invocation deadline, leaving time to publish.
    pub deadline_margin: Duration,
    /// See [`FifoFailureMode`].
    pub fifo_failure_mode: FifoFailureMode,
    /// See [`AllFailedMode`].
    pub all_failed_mode: AllFailedMode,
    /// Bucket for results too large for SNS; without one such results become error events.
    pub claim_check_bucket: Option<String>,
    /// Cap on a claim-checked input payload.
    pub max_claim_check_bytes: usize,
    /// Set MessageGroupId / MessageDeduplicationId on publish (FIFO output topic).
    pub output_is_fifo: bool,
    /// The queue's redrive `maxReceiveCount` (the template passes it as `MAX_RECEIVE_COUNT`).
    /// On a record's last receive an internal fault (a panic, a failed model) is published
    /// as a permanent `internal_error` event instead of returned for a retry that would move
    /// it to the DLQ unseen. `None` (unknown) always retries.
    pub max_receive_count: Option<u32>,
    /// Where the EMF metrics go and which stack they belong to.
    pub metrics: crate::metrics::MetricsConfig,
    /// The idempotency store's settings; `None` (no `IDEMPOTENCY_TABLE`) turns it off.
    pub idempotency: Option<crate::idempotency::IdempotencyConfig>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            max_concurrency: 8,
            deadline_margin: Duration::from_millis(2_000),
            fifo_failure_mode: FifoFailureMode::SkipGroup,
            all_failed_mode: AllFailedMode::Report,
            claim_check_bucket: None,
            max_claim_check_bytes: 4 * 1024 * 1024,
            output_is_fifo: false,
            max_receive_count: None,
            metrics: crate::metrics::MetricsConfig::default(),
            idempotency: None,
        }
    }
}

/// Why the environment could not be read as a configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A required variable is unset or blank.
    #[error("environment variable {0} is required")]
    Missing(&'static str),
    /// A variable is set to something unusable.
    #[error("environment variable {name} has an invalid value {value:?}: {expected}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
        /// What it should have been.
        expected: &'static str,
    },
}

/// Everything a Lambda worker needs from its environment.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// `OUTPUT_TOPIC_ARN`: where result events are published.
    pub output_topic_arn: String,
    /// The engine's settings.
    pub engine: EngineConfig,
}

impl WorkerConfig {
    /// Reads the process environment (see [`WorkerConfig::from_lookup`]).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let output_topic_arn =
            get("OUTPUT_TOPIC_ARN").ok_or(ConfigError::Missing("OUTPUT_TOPIC_ARN"))?;
        let defaults = EngineConfig::default();
        let number = |name: &'static str, default: usize| -> Result<usize, ConfigError> {
            match get(name) {
                None => Ok(default),
                Some(value) => match value.trim().parse::<usize>() {
                    Ok(n) if n > 0 => Ok(n),
                    _ => Err(ConfigError::Invalid {
                        name,
                        value,
                        expected: "a positive integer",
                    }),
                },
            }
        };
        let fifo_failure_mode = match get("FIFO_FAILURE_MODE").as_deref() {
            Some("stop") => FifoFailureMode::StopAll,
            None | Some("skip_group") => FifoFailureMode::SkipGroup,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "FIFO_FAILURE_MODE",
                    value: other.to_owned(),
                    expected: "stop or skip_group",
                })
            }
        };
        let all_failed_mode = match get("ALL_FAILED_MODE").as_deref() {
            None | Some("report") => AllFailedMode::Report,
            Some("error") => AllFailedMode::Error,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "ALL_FAILED_MODE",
                    value: other.to_owned(),
                    expected: "report or error",
                })
            }
        };
        let engine = EngineConfig {
            max_concurrency: number("MAX_CONCURRENCY", defaults.max_concurrency)?,
            deadline_margin: std::time::Duration::from_millis(number(
                "DEADLINE_MARGIN_MS",
                defaults.deadline_margin.as_millis() as usize,
            )? as u64),
            fifo_failure_mode,
            all_failed_mode,
            claim_check_bucket: get("CLAIM_CHECK_BUCKET"),
            max_claim_check_bytes: number("MAX_CLAIM_CHECK_BYTES", defaults.max_claim_check_bytes)?,
            output_is_fifo: output_topic_arn.ends_with(".fifo"),
            max_receive_count: match get("MAX_RECEIVE_COUNT") {
                None => None,
                Some(_) => Some(number("MAX_RECEIVE_COUNT", 0)? as u32),
            },
            metrics: crate::metrics::MetricsConfig::from_lookup(get),
            idempotency: crate::idempotency::IdempotencyConfig::from_lookup(get),
        };
        Ok(Self {
            output_topic_arn,
            engine,
        })
    }
}

/// A comma-separated list setting (`MEDIA_BUCKETS=a, b`): trimmed, empty entries dropped.
pub fn name_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_lists_are_trimmed_and_skip_empty_entries() {
        assert_eq!(name_list(" a, b ,,c "), vec!["a", "b", "c"]);
        assert!(name_list("").is_empty());
    }
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn topic_is_required() {
        assert_eq!(
            WorkerConfig::from_lookup(lookup(&[])).unwrap_err(),
            ConfigError::Missing("OUTPUT_TOPIC_ARN")
        );
    }

    #[test]
    fn defaults_and_overrides() {
        let config =
            WorkerConfig::from_lookup(lookup(&[("OUTPUT_TOPIC_ARN", "arn:aws:sns:r:1:t.fifo")]))
                .unwrap();
        assert!(config.engine.output_is_fifo);
        assert_eq!(config.engine.fifo_failure_mode, FifoFailureMode::SkipGroup);
        let config = WorkerConfig::from_lookup(lookup(&[
            ("OUTPUT_TOPIC_ARN", "arn"),
            ("MAX_CONCURRENCY", "3"),
            ("FIFO_FAILURE_MODE", "stop"),
            ("ALL_FAILED_MODE", "error"),
            ("CLAIM_CHECK_BUCKET", "big-results"),
            ("MAX_RECEIVE_COUNT", "5"),
        ]))
        .unwrap();
        assert_eq!(config.engine.max_receive_count, Some(5));
        assert_eq!(
            config.engine.metrics,
            crate::metrics::MetricsConfig::default()
        );
        assert_eq!(config.engine.max_concurrency, 3);
        assert_eq!(config.engine.fifo_failure_mode, FifoFailureMode::StopAll);
        assert_eq!(config.engine.all_failed_mode, AllFailedMode::Error);
        assert_eq!(
            config.engine.claim_check_bucket.as_deref(),
            Some("big-results")
        );
    }

    #[test]
    fn bad_values_are_named() {
        let err = WorkerConfig::from_lookup(lookup(&[
            ("OUTPUT_TOPIC_ARN", "a"),
            ("MAX_CONCURRENCY", "0"),
        ]))
        .unwrap_err();
        assert!(matches!(
            err,
            ConfigError::Invalid {
                name: "MAX_CONCURRENCY",
                ..
            }
        ));
        let err = WorkerConfig::from_lookup(lookup(&[
            ("OUTPUT_TOPIC_ARN", "a"),
            ("FIFO_FAILURE_MODE", "x"),
        ]))
        .unwrap_err();
        assert!(matches!(
            err,
            ConfigError::Invalid {
                name: "FIFO_FAILURE_MODE",
                ..
            }
        ));
    }
}
