//! CloudWatch Embedded Metric Format: JSON lines on stdout, which CloudWatch Logs turns into
//! metrics without any API call from the function.
//!
//! One line per invocation carries the batch's counts and timings and the worker's own
//! metrics, with the dimensions `stack` and `worker` (just `worker` outside a stack), so two
//! stacks in one account keep their numbers apart. One more line per error code that
//! occurred counts `RecordsByErrorCode` with `error_code` as a third dimension: the codes
//! are a closed set, so the cardinality is bounded.

use serde_json::{json, Map, Value};

use crate::engine::BatchReport;
use crate::metrics::MetricsConfig;

/// Per-invocation facts outside the batch itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct InvocationFacts {
    /// The first invocation of this execution environment.
    pub cold_start: bool,
    /// Time spent before the first invocation (config, clients, models), reported on cold starts.
    pub init_ms: Option<f64>,
}

/// The EMF lines for one invocation: the batch line, then one per error code.
pub fn emf_lines(
    config: &MetricsConfig,
    worker: &str,
    report: &BatchReport,
    facts: InvocationFacts,
    timestamp_ms: u64,
) -> Vec<String> {
    let mut metrics: Vec<(&str, f64, &str)> = vec![
        ("RecordsReceived", report.records as f64, "Count"),
        ("RecordsOk", report.ok as f64, "Count"),
        ("RecordsError", report.error_events as f64, "Count"),
        ("RecordsRetried", report.retried as f64, "Count"),
        // Panics and model failures that lasted to the last receive: bugs to alarm on.
        (
            "RecordsInternalError",
            report.internal_errors as f64,
            "Count",
        ),
        ("ResultsOffloaded", report.offloaded as f64, "Count"),
        // Duplicates answered from the idempotency store without a model run.
        ("RecordsRepublished", report.republished as f64, "Count"),
        ("PublishCalls", report.publish_calls as f64, "Count"),
        ("ProcessMs", report.process_ms, "Milliseconds"),
        ("PublishMs", report.publish_ms, "Milliseconds"),
        ("BatchMs", report.total_ms, "Milliseconds"),
        (
            "ColdStart",
            if facts.cold_start { 1.0 } else { 0.0 },
            "Count",
        ),
    ];
    if let (true, Some(init_ms)) = (facts.cold_start, facts.init_ms) {
        metrics.push(("InitMs", init_ms, "Milliseconds"));
    }
    // A worker metric never replaces one of the engine's.
    for metric in &report.worker_metrics {
        if !metrics.iter().any(|(name, _, _)| *name == metric.name) {
            metrics.push((metric.name, metric.value, metric.unit));
        }
    }
    let mut dimensions = vec!["worker"];
    let mut labels = vec![("worker", worker)];
    if let Some(stack) = &config.stack {
        dimensions.insert(0, "stack");
        labels.insert(0, ("stack", stack.as_str()));
    }
    let mut lines = vec![line(config, timestamp_ms, &dimensions, &labels, &metrics)];
    dimensions.push("error_code");
    for (code, count) in &report.error_codes {
        let mut labels = labels.clone();
        labels.push(("error_code", code));
        lines.push(line(
            config,
            timestamp_ms,
            &dimensions,
            &labels,
            &[("RecordsByErrorCode", *count as f64, "Count")],
        ));
    }
    lines
}

fn line(
    config: &MetricsConfig,
    timestamp_ms: u64,
    dimensions: &[&str],
    labels: &[(&str, &str)],
    metrics: &[(&str, f64, &str)],
) -> String {
    let definitions: Vec<Value> = metrics
        .iter()
        .map(|(name, _, unit)| json!({"Name": name, "Unit": unit}))
        .collect();
    let mut line = Map::new();
    line.insert("level".to_owned(), json!(config.line_level));
    line.insert(
        "_aws".to_owned(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": config.namespace,
                "Dimensions": [dimensions],
                "Metrics": definitions,
            }],
        }),
    );
    for (name, value) in labels {
        line.insert((*name).to_owned(), json!(value));
    }
    for (name, value, _) in metrics {
        line.insert((*name).to_owned(), json!(value));
    }
    Value::Object(line).to_string()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::metrics::{accumulate, Metric};
    use crate::settings::{lookup_in, Env};

    fn metrics_config(pairs: &[(&str, &str)]) -> MetricsConfig {
        MetricsConfig::from_env(&Env::new(lookup_in(pairs))).expect("readable")
    }

    fn parse(line: &str) -> Value {
        serde_json::from_str(line).expect("an EMF line is JSON")
    }

    /// What CloudWatch requires of an EMF line: every declared metric and dimension is a
    /// top-level member, and a metric value is a number.
    fn assert_valid_emf(value: &Value) {
        let directive = &value["_aws"]["CloudWatchMetrics"][0];
        assert!(value["_aws"]["Timestamp"].is_u64());
        for definition in directive["Metrics"].as_array().expect("metrics") {
            let name = definition["Name"].as_str().expect("name");
            assert!(value[name].is_number(), "{name} declared but not a number");
        }
        for set in directive["Dimensions"].as_array().expect("dimensions") {
            for dimension in set.as_array().expect("a dimension set") {
                let name = dimension.as_str().expect("dimension name");
                assert!(value[name].is_string(), "dimension {name} missing");
            }
        }
    }

    #[test]
    fn emf_line_declares_every_metric_it_carries() {
        let report = BatchReport {
            records: 3,
            ok: 1,
            error_events: 1,
            retried: 1,
            ..BatchReport::default()
        };
        let lines = emf_lines(
            &MetricsConfig::default(),
            "caption-parser",
            &report,
            InvocationFacts {
                cold_start: true,
                init_ms: Some(12.5),
            },
            1,
        );
        assert_eq!(lines.len(), 1);
        let value = parse(&lines[0]);
        assert_valid_emf(&value);
        assert_eq!(value["RecordsRetried"], 1.0);
        assert_eq!(value["InitMs"], 12.5);
        assert_eq!(value["worker"], "caption-parser");
        assert_eq!(
            value["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "postlens"
        );
        assert_eq!(
            value["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["worker"]])
        );
    }

    /// At LogLevel WARN, ERROR or FATAL Lambda dropped every EMF line (no `level`: INFO),
    /// so the metrics and their alarms went blind. Every allowed level keeps them now.
    #[test]
    fn metric_lines_survive_lambdas_log_level_filter_at_every_level() {
        let report = BatchReport {
            records: 2,
            internal_errors: 1,
            error_codes: BTreeMap::from([("internal_error", 1)]),
            ..BatchReport::default()
        };
        for level in ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL", "warn"] {
            let config = metrics_config(&[("AWS_LAMBDA_LOG_LEVEL", level)]);
            let lines = emf_lines(&config, "w", &report, InvocationFacts::default(), 1);
            assert_eq!(lines.len(), 2);
            for line in &lines {
                assert!(crate::logging::lambda_keeps(line, level), "{level}: {line}");
                assert_valid_emf(&parse(line));
            }
        }
        let unset = metrics_config(&[]);
        assert_eq!(unset.line_level, "INFO");
    }

    #[test]
    fn stacks_error_codes_and_worker_metrics_have_their_own_dimensions() {
        let config = metrics_config(&[
            ("METRICS_NAMESPACE", "shop-a"),
            ("STACK_NAME", "postlens-prod"),
        ]);
        let mut report = BatchReport {
            records: 4,
            error_events: 3,
            retried: 1,
            ..BatchReport::default()
        };
        report.error_codes.insert("invalid_json", 2);
        report.error_codes.insert("timed_out", 1);
        accumulate(
            &mut report.worker_metrics,
            [
                Metric::count("Detections", 2.0),
                Metric::count("RecordsOk", 99.0),
            ],
        );
        accumulate(
            &mut report.worker_metrics,
            [Metric::count("Detections", 3.0)],
        );
        let lines = emf_lines(
            &config,
            "thumbnail-generator",
            &report,
            InvocationFacts::default(),
            7,
        );
        let values: Vec<Value> = lines.iter().map(|l| parse(l)).collect();
        assert_eq!(values.len(), 3);
        for value in &values {
            assert_valid_emf(value);
            assert_eq!(value["_aws"]["CloudWatchMetrics"][0]["Namespace"], "shop-a");
            assert_eq!(value["stack"], "postlens-prod");
        }
        assert_eq!(
            values[0]["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["stack", "worker"]])
        );
        assert_eq!(values[0]["Detections"], 5.0);
        assert_eq!(
            values[0]["RecordsOk"], 0.0,
            "a worker metric cannot replace the engine's"
        );
        assert_eq!(
            values[1]["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["stack", "worker", "error_code"]])
        );
        assert_eq!(values[1]["error_code"], "invalid_json");
        assert_eq!(values[1]["RecordsByErrorCode"], 2.0);
        assert_eq!(values[2]["error_code"], "timed_out");
        assert_eq!(
            metrics_config(&[("POWERTOOLS_METRICS_NAMESPACE", "pt")]).namespace,
            "pt"
        );
    }
}
