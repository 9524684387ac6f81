//! Metrics: a worker's own per-record [`Metric`]s, the millisecond timings every report
//! uses, and where the EMF lines go ([`MetricsConfig`]). Writing the lines is
//! [`crate::emf`]'s, above the engine whose reports it formats; this module sits below it.

use crate::logging::LambdaLogLevel;
use crate::settings::{ConfigError, Env};

/// The CloudWatch namespace when none is set.
pub const DEFAULT_NAMESPACE: &str = "postlens";

/// Milliseconds since `since`, to the microsecond: the unit of every timing postlens reports
/// (EMF, `timings_ms` in events, logs). Finer digits are noise and only lengthen events.
pub fn elapsed_ms(since: std::time::Instant) -> f64 {
    (since.elapsed().as_secs_f64() * 1e6).round() / 1e3
}

/// Where metrics go: `METRICS_NAMESPACE` (or Powertools' `POWERTOOLS_METRICS_NAMESPACE`),
/// default `postlens`; the `stack` dimension from `STACK_NAME` (the template passes
/// `AWS::StackName`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsConfig {
    /// CloudWatch namespace.
    pub namespace: String,
    /// The `stack` dimension, when the stack name is known.
    pub stack: Option<String>,
    /// The `level` each EMF line carries: the function's application log level
    /// (`AWS_LAMBDA_LOG_LEVEL`), or INFO below it. Lambda's log-level filtering reads a JSON
    /// line without `level` as INFO and drops it at WARN, ERROR or FATAL; the metrics, and
    /// the alarms on them, went blind there. At the configured level itself a line always
    /// passes, whatever level an operator chooses.
    pub line_level: &'static str,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            namespace: DEFAULT_NAMESPACE.to_owned(),
            stack: None,
            line_level: "INFO",
        }
    }
}

impl MetricsConfig {
    /// Reads `METRICS_NAMESPACE` (or `POWERTOOLS_METRICS_NAMESPACE`), `STACK_NAME` and
    /// `AWS_LAMBDA_LOG_LEVEL`.
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let line_level = match env.text("AWS_LAMBDA_LOG_LEVEL") {
            None => LambdaLogLevel::Info,
            Some(value) => LambdaLogLevel::parse(&value).ok_or(ConfigError::Invalid {
                name: "AWS_LAMBDA_LOG_LEVEL",
                value,
                expected: "TRACE, DEBUG, INFO, WARN, ERROR or FATAL",
            })?,
        };
        Ok(Self {
            namespace: env
                .text("METRICS_NAMESPACE")
                .or_else(|| env.text("POWERTOOLS_METRICS_NAMESPACE"))
                .unwrap_or_else(|| DEFAULT_NAMESPACE.to_owned()),
            stack: env.text("STACK_NAME"),
            line_level: line_level.max(LambdaLogLevel::Info).as_str(),
        })
    }
}

/// A worker's own metric for one record (summed over the batch), e.g. detections found.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    /// CloudWatch metric name, e.g. `Detections`.
    pub name: &'static str,
    /// CloudWatch unit, e.g. `Count` or `Milliseconds`.
    pub unit: &'static str,
    /// The value for this record.
    pub value: f64,
}

impl Metric {
    /// A `Count` metric.
    pub fn count(name: &'static str, value: f64) -> Self {
        Self {
            name,
            unit: "Count",
            value,
        }
    }
}

/// Adds `more` into `totals`, by name.
pub fn accumulate(totals: &mut Vec<Metric>, more: impl IntoIterator<Item = Metric>) {
    for metric in more {
        match totals.iter_mut().find(|m| m.name == metric.name) {
            Some(total) => total.value += metric.value,
            None => totals.push(metric),
        }
    }
}
