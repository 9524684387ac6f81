//! Engine configuration, read from the Lambda's environment.

use std::time::Duration;

use crate::settings::{ConfigError, Env};

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
    /// The idempotency store's settings; `None` (no `IDEMPOTENCY_TABLE`) turns it off.
    pub idempotency: Option<crate::idempotency::IdempotencyConfig>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            max_concurrency: 8,
            deadline_margin: Duration::from_millis(2_000),
            fifo_failure_mode: FifoFailureMode::SkipGroup,
            claim_check_bucket: None,
            max_claim_check_bytes: 4 * 1024 * 1024,
            output_is_fifo: false,
            max_receive_count: None,
            idempotency: None,
        }
    }
}

/// Everything a Lambda worker needs from its environment.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// `OUTPUT_TOPIC_ARN`: where result events are published.
    pub output_topic_arn: String,
    /// The engine's settings.
    pub engine: EngineConfig,
    /// What the Lambda does around the engine.
    pub invocation: InvocationSettings,
}

/// What the Lambda does with a batch's outcome, beside the engine: how an all-failed batch
/// is answered and where the EMF metrics go. The engine never reads these.
#[derive(Debug, Clone, PartialEq)]
pub struct InvocationSettings {
    /// See [`AllFailedMode`].
    pub all_failed_mode: AllFailedMode,
    /// Where the EMF metrics go and which stack they belong to.
    pub metrics: crate::metrics::MetricsConfig,
}

impl Default for InvocationSettings {
    fn default() -> Self {
        Self {
            all_failed_mode: AllFailedMode::Report,
            metrics: crate::metrics::MetricsConfig::default(),
        }
    }
}

impl InvocationSettings {
    /// Reads `ALL_FAILED_MODE` and the metrics settings.
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        Ok(Self {
            all_failed_mode: env.choice(
                "ALL_FAILED_MODE",
                &[
                    ("report", AllFailedMode::Report),
                    ("error", AllFailedMode::Error),
                ],
                "report or error",
                AllFailedMode::Report,
            )?,
            metrics: crate::metrics::MetricsConfig::from_env(env)?,
        })
    }
}

impl EngineConfig {
    /// Reads the engine's settings; `output_topic_arn` tells whether the topic is FIFO.
    pub fn from_env<F: Fn(&str) -> Option<String>>(
        env: &Env<F>,
        output_topic_arn: &str,
    ) -> Result<Self, ConfigError> {
        let defaults = Self::default();
        Ok(Self {
            max_concurrency: env.positive("MAX_CONCURRENCY", defaults.max_concurrency)?,
            deadline_margin: Duration::from_millis(env.positive(
                "DEADLINE_MARGIN_MS",
                defaults.deadline_margin.as_millis() as u64,
            )?),
            fifo_failure_mode: env.choice(
                "FIFO_FAILURE_MODE",
                &[
                    ("stop", FifoFailureMode::StopAll),
                    ("skip_group", FifoFailureMode::SkipGroup),
                ],
                "stop or skip_group",
                defaults.fifo_failure_mode,
            )?,
            claim_check_bucket: env.text("CLAIM_CHECK_BUCKET"),
            max_claim_check_bytes: env
                .positive("MAX_CLAIM_CHECK_BYTES", defaults.max_claim_check_bytes)?,
            output_is_fifo: output_topic_arn.ends_with(".fifo"),
            max_receive_count: env.parsed(
                "MAX_RECEIVE_COUNT",
                "a positive integer",
                |n: &u32| *n > 0,
            )?,
            idempotency: crate::idempotency::IdempotencyConfig::from_env(env)?,
        })
    }
}

impl WorkerConfig {
    /// Reads the process environment (see [`WorkerConfig::from_lookup`]).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env::new(lookup);
        let output_topic_arn = env.required("OUTPUT_TOPIC_ARN")?;
        Ok(Self {
            engine: EngineConfig::from_env(&env, &output_topic_arn)?,
            invocation: InvocationSettings::from_env(&env)?,
            output_topic_arn,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::settings::lookup_in as lookup;

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
            config.invocation.metrics,
            crate::metrics::MetricsConfig::default()
        );
        assert_eq!(config.engine.max_concurrency, 3);
        assert_eq!(config.engine.fifo_failure_mode, FifoFailureMode::StopAll);
        assert_eq!(config.invocation.all_failed_mode, AllFailedMode::Error);
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
