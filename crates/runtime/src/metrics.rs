//! CloudWatch Embedded Metric Format: one JSON line per invocation on stdout, which
//! CloudWatch Logs turns into metrics without any API call from the function.

use serde_json::{json, Map, Value};

use crate::engine::BatchReport;

pub const NAMESPACE: &str = "postlens";

/// Per-invocation facts outside the batch itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct InvocationFacts {
    pub cold_start: bool,
    /// Time spent before the first invocation (config, clients, models), reported on cold starts.
    pub init_ms: Option<f64>,
}

pub fn emf_line(
    worker: &str,
    report: &BatchReport,
    facts: InvocationFacts,
    timestamp_ms: u64,
) -> String {
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
    let definitions: Vec<Value> = metrics
        .iter()
        .map(|(name, _, unit)| json!({"Name": name, "Unit": unit}))
        .collect();
    let mut line = Map::new();
    line.insert(
        "_aws".to_owned(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{"Namespace": NAMESPACE, "Dimensions": [["worker"]], "Metrics": definitions}],
        }),
    );
    line.insert("worker".to_owned(), json!(worker));
    for (name, value, _) in metrics {
        line.insert(name.to_owned(), json!(value));
    }
    Value::Object(line).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emf_line_declares_every_metric_it_carries() {
        let report = BatchReport {
            records: 3,
            ok: 1,
            error_events: 1,
            retried: 1,
            ..BatchReport::default()
        };
        let line = emf_line(
            "caption-parser",
            &report,
            InvocationFacts {
                cold_start: true,
                init_ms: Some(12.5),
            },
            1,
        );
        let value: Value = serde_json::from_str(&line).unwrap();
        let declared = value["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap();
        for definition in declared {
            let name = definition["Name"].as_str().unwrap();
            assert!(value.get(name).is_some(), "{name} declared but missing");
        }
        assert_eq!(value["RecordsRetried"], 1.0);
        assert_eq!(value["InitMs"], 12.5);
        assert_eq!(value["worker"], "caption-parser");
    }
}
