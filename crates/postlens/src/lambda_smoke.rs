//! `postlens lambda-smoke`: the deployed artifacts run as Lambda runs them. Each function's
//! `bootstrap` (the arm64 one from `cargo lambda build --arm64`, under qemu-aarch64-static)
//! is started as its own process against a local Lambda Runtime API, with the template's
//! environment on moto, and invoked with each fixture event under `fixtures/events/`.
//! The same is done with the x86-64 binary the tests build, and the two must agree: the
//! same batch response and the same published events (timings aside, numbers to 1e-4).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use postlens_local_stack::emulator::Emulator;
use postlens_local_stack::{
    FunctionSpec, InvocationOutcome, LocalStack, RuntimeApi, RuntimeApiError, Tap, Topology,
};
use serde::Serialize;

/// Where the artifacts are and how to run them.
pub struct SmokeOptions {
    pub template: PathBuf,
    /// `cargo lambda build` output: `<dir>/<binary>/bootstrap`.
    pub bootstrap_dir: PathBuf,
    /// The command line the bootstraps run under, e.g. `qemu-aarch64-static -L /usr/aarch64-linux-gnu`.
    pub runner: Vec<String>,
    /// The x86-64 binaries to compare with: `<dir>/<binary>`.
    pub reference_dir: PathBuf,
    pub events_dir: PathBuf,
    /// Deadlines are the template's Timeout times this (an emulated CPU is slower).
    pub time_scale: u32,
    /// Only these functions (binary names); all when empty.
    pub only: Vec<String>,
    pub out_dir: PathBuf,
    /// `AWS_LAMBDA_LOG_LEVEL` for every function. Each invocation's EMF lines must pass
    /// Lambda's log-level filter at it (`logging::lambda_keeps`): at WARN and above Lambda
    /// dropped them when they carried no `level`, and the alarms went blind.
    pub log_level: String,
}

/// One invocation of one artifact.
#[derive(Debug, Clone, Serialize)]
pub struct InvocationRecord {
    pub response: serde_json::Value,
    /// Published events, sorted by `event_id`, without any `timings_ms`.
    pub events: Vec<serde_json::Value>,
    /// From the invoke to the answer (the first one includes the function's init).
    pub invoke_ms: f64,
}

#[derive(Debug, Serialize)]
pub struct SmokeCase {
    pub binary: String,
    pub event_file: String,
    pub records: usize,
    pub reference: InvocationRecord,
    pub artifact: InvocationRecord,
    pub same: bool,
}

/// Runs every function with every fixture event on both builds; returns the cases, and
/// writes them to `<out>/lambda-smoke.json`.
pub async fn run(options: &SmokeOptions) -> anyhow::Result<Vec<SmokeCase>> {
    let emulator = Emulator::start().await?;
    let config = emulator.sdk_config().await;
    let stack = LocalStack::create(Topology::from_file(&options.template)?, &config).await?;
    if let Some(bucket) = stack.buckets.get("MediaBucket") {
        let store = postlens_runtime::store::S3Store::new(
            postlens_local_stack::emulator::s3_client(&config),
        );
        crate::demo::upload_media(&store, bucket, Path::new("fixtures")).await?;
    }
    std::fs::create_dir_all(&options.out_dir)
        .with_context(|| format!("creating {}", options.out_dir.display()))?;
    let sns = aws_sdk_sns::Client::new(&config);
    let mut cases = Vec::new();
    for function in &stack.topology.functions {
        if !options.only.is_empty() && !options.only.contains(&function.binary) {
            continue;
        }
        let events = fixture_events(&options.events_dir.join(&function.binary))?;
        if events.is_empty() {
            continue;
        }
        let mut environment = crate::demo::local_environment(&stack, function, &emulator.endpoint)?;
        // Both builds must compute every result: with the idempotency table on, the second
        // would answer from the first one's stored events and agree trivially.
        environment.remove("IDEMPOTENCY_TABLE");
        if !function.layers.is_empty() {
            let opt = mount_layers(
                &stack.topology,
                function,
                &options.template,
                &options.out_dir,
            )?;
            environment.insert("MODEL_DIR".to_owned(), opt.display().to_string());
        }
        let Some(output_topic) = environment.get("OUTPUT_TOPIC_ARN") else {
            bail!("{} has no OUTPUT_TOPIC_ARN", function.id);
        };
        let tap = Tap::subscribe(
            &format!("{}-smoke-tap", function.binary),
            output_topic,
            aws_sdk_sqs::Client::new(&config),
            &sns,
        )
        .await?;
        let reference = Artifact {
            label: "x86_64",
            command: vec![options
                .reference_dir
                .join(&function.binary)
                .display()
                .to_string()],
        };
        let mut arm64 = options.runner.clone();
        arm64.push(
            options
                .bootstrap_dir
                .join(&function.binary)
                .join("bootstrap")
                .display()
                .to_string(),
        );
        let artifact = Artifact {
            label: "arm64",
            command: arm64,
        };
        let run_all = |artifact: Artifact| {
            let (environment, events, tap) = (&environment, &events, &tap);
            async move {
                artifact
                    .invoke_all(function, environment, events, tap, options)
                    .await
            }
        };
        let reference_records = run_all(reference).await?;
        let artifact_records = run_all(artifact).await?;
        for (((path, body), reference), artifact) in
            events.iter().zip(reference_records).zip(artifact_records)
        {
            let same = reference.response == artifact.response
                && reference.events.len() == artifact.events.len()
                && reference
                    .events
                    .iter()
                    .zip(&artifact.events)
                    .all(|(a, b)| same_json(a, b));
            cases.push(SmokeCase {
                binary: function.binary.clone(),
                event_file: path.display().to_string(),
                records: record_count(body),
                reference,
                artifact,
                same,
            });
        }
    }
    emulator.stop().await;
    let report = options.out_dir.join("lambda-smoke.json");
    std::fs::write(&report, serde_json::to_string_pretty(&cases)?)
        .with_context(|| format!("writing {}", report.display()))?;
    Ok(cases)
}

struct Artifact {
    label: &'static str,
    command: Vec<String>,
}

impl Artifact {
    /// Starts the artifact once (one execution environment, as Lambda reuses a warm one)
    /// and invokes it with each event in turn.
    async fn invoke_all(
        &self,
        function: &FunctionSpec,
        environment: &BTreeMap<String, String>,
        events: &[(PathBuf, Vec<u8>)],
        tap: &Tap,
        options: &SmokeOptions,
    ) -> anyhow::Result<Vec<InvocationRecord>> {
        let Some((program, arguments)) = self.command.split_first() else {
            bail!("empty command for {}", function.binary);
        };
        if !Path::new(&self.command[self.command.len() - 1]).is_file() {
            bail!(
                "{} {}: {} does not exist (build it first)",
                function.binary,
                self.label,
                self.command[self.command.len() - 1]
            );
        }
        let api = RuntimeApi::start(&format!(
            "arn:aws:lambda:us-east-1:123456789012:function:{}",
            function.binary
        ))
        .await?;
        let log_path = options
            .out_dir
            .join(format!("{}-{}.log", function.binary, self.label));
        let log = std::fs::File::create(&log_path)
            .with_context(|| format!("creating {}", log_path.display()))?;
        let mut child = tokio::process::Command::new(program)
            .args(arguments)
            .envs(environment)
            // The variables Lambda sets for every function (lambda_runtime reads them).
            .env("AWS_LAMBDA_RUNTIME_API", api.address.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", &function.binary)
            .env(
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                function.memory_mb.to_string(),
            )
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env(
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{}", function.binary),
            )
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "smoke")
            .env("AWS_LAMBDA_LOG_LEVEL", &options.log_level)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", self.command.join(" ")))?;
        let timeout = Duration::from_secs(u64::from(function.timeout_s * options.time_scale));
        let mut records = Vec::new();
        for (path, body) in events {
            let started = Instant::now();
            let outcome = tokio::select! {
                outcome = api.invoke(body.clone(), timeout, timeout + Duration::from_secs(60)) => outcome,
                exit = child.wait() => bail!(
                    "{} {} exited ({}) during {}; see {}",
                    function.binary, self.label,
                    exit.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string()),
                    path.display(), log_path.display()
                ),
            };
            let invoke_ms = postlens_runtime::metrics::elapsed_ms(started);
            let response = match outcome {
                Ok(InvocationOutcome::Response(bytes)) => serde_json::from_slice(&bytes)
                    .unwrap_or_else(|_| {
                        serde_json::Value::String(String::from_utf8_lossy(&bytes).into_owned())
                    }),
                Ok(InvocationOutcome::Error(bytes)) => serde_json::json!({
                    "invocation_error": String::from_utf8_lossy(&bytes),
                }),
                Err(error @ (RuntimeApiError::InitFailed(_) | RuntimeApiError::TimedOut(_))) => {
                    bail!(
                        "{} {} on {}: {error}; see {}",
                        function.binary,
                        self.label,
                        path.display(),
                        log_path.display()
                    )
                }
                Err(error) => return Err(error.into()),
            };
            let expected = record_count(body).saturating_sub(
                response["batchItemFailures"]
                    .as_array()
                    .map_or(0, |failures| failures.len()),
            );
            let events = published_events(tap, expected).await?;
            records.push(InvocationRecord {
                response,
                events,
                invoke_ms,
            });
        }
        let _ = child.kill().await;
        let kept = metric_lines_kept(&log_path, &options.log_level)?;
        if kept < events.len() {
            bail!(
                "{} {}: {kept} metric lines of {} invocations survive Lambda's log-level filter \
                 at {}; see {}",
                function.binary,
                self.label,
                events.len(),
                options.log_level,
                log_path.display()
            );
        }
        Ok(records)
    }
}

/// The EMF lines (JSON objects with `_aws`) in `log` that Lambda keeps at `level`.
fn metric_lines_kept(log: &Path, level: &str) -> anyhow::Result<usize> {
    let text =
        std::fs::read_to_string(log).with_context(|| format!("reading {}", log.display()))?;
    Ok(text
        .lines()
        .filter(|line| {
            serde_json::from_str::<serde_json::Value>(line)
                .is_ok_and(|value| value.get("_aws").is_some())
        })
        .filter(|line| postlens_runtime::logging::lambda_keeps(line, level))
        .count())
}

/// Reads the tap until `expected` events arrived (one per record not returned for retry),
/// then once more after a pause, so an extra event would be seen too.
async fn published_events(tap: &Tap, expected: usize) -> anyhow::Result<Vec<serde_json::Value>> {
    let mut events = Vec::new();
    let give_up = Instant::now() + Duration::from_secs(30);
    while events.len() < expected && Instant::now() < give_up {
        events.extend(tap.drain().await?);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    events.extend(tap.drain().await?);
    for event in &mut events {
        drop_timings(event);
    }
    events.sort_by(|a, b| a["event_id"].to_string().cmp(&b["event_id"].to_string()));
    Ok(events)
}

/// What Lambda puts under /opt/models for this function: each of its layers' `models/`
/// entries, linked into one directory, so the function sees only the models its layers
/// carry (`make models-layer` stages them).
fn mount_layers(
    topology: &Topology,
    function: &FunctionSpec,
    template: &Path,
    out_dir: &Path,
) -> anyhow::Result<PathBuf> {
    let template_dir = template.parent().unwrap_or(Path::new("."));
    let models = out_dir.join("opt").join(&function.binary).join("models");
    if models.exists() {
        std::fs::remove_dir_all(&models)
            .with_context(|| format!("clearing {}", models.display()))?;
    }
    std::fs::create_dir_all(&models).with_context(|| format!("creating {}", models.display()))?;
    for layer in &function.layers {
        let Some(content) = topology.layers.get(layer) else {
            bail!("{}: layer {layer} is not in the template", function.id);
        };
        let layer_models = template_dir.join(content).join("models");
        let entries = std::fs::read_dir(&layer_models).with_context(|| {
            format!(
                "reading {} (run `make models-layer`)",
                layer_models.display()
            )
        })?;
        for entry in entries {
            let entry = entry?;
            let target = models.join(entry.file_name());
            if target.exists() {
                bail!(
                    "{}: two layers both carry models/{:?}",
                    function.id,
                    entry.file_name()
                );
            }
            std::os::unix::fs::symlink(std::fs::canonicalize(entry.path())?, &target)
                .with_context(|| format!("linking {}", target.display()))?;
        }
    }
    Ok(models)
}

/// Removes every `timings_ms` (the event's and a result's own): wall-clock times differ
/// between any two runs, emulated or not.
fn drop_timings(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(object) => {
            object.remove("timings_ms");
            object.values_mut().for_each(drop_timings);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(drop_timings),
        _ => {}
    }
}

fn fixture_events(dir: &Path) -> anyhow::Result<Vec<(PathBuf, Vec<u8>)>> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let bytes =
                std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            Ok((path, bytes))
        })
        .collect()
}

fn record_count(event: &[u8]) -> usize {
    serde_json::from_slice::<serde_json::Value>(event)
        .ok()
        .and_then(|v| v["Records"].as_array().map(Vec::len))
        .unwrap_or(0)
}

/// Equal JSON, except that numbers may differ by 1e-4 (relative, or absolute near zero):
/// NEON and AVX2 sum in different orders, so the last bits of a score can differ.
pub fn same_json(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => (x - y).abs() <= 1e-4 * x.abs().max(y.abs()).max(1.0),
            _ => x == y,
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(key, value)| y.get(key).is_some_and(|other| same_json(value, other)))
        }
        _ => a == b,
    }
}

/// The table `postlens lambda-smoke` prints.
pub fn summary(cases: &[SmokeCase]) -> String {
    let mut lines = vec![format!(
        "{:<20} {:<24} {:>7} {:>8} {:>12} {:>12}  same",
        "function", "event", "records", "events", "x86_64 ms", "arm64 ms"
    )];
    for case in cases {
        let file = Path::new(&case.event_file)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        lines.push(format!(
            "{:<20} {:<24} {:>7} {:>8} {:>12.0} {:>12.0}  {}",
            case.binary,
            file,
            case.records,
            case.artifact.events.len(),
            case.reference.invoke_ms,
            case.artifact.invoke_ms,
            if case.same { "yes" } else { "NO" }
        ));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::same_json;
    use serde_json::json;

    #[test]
    fn numbers_may_differ_in_their_last_bits_only() {
        assert!(same_json(
            &json!({"score": 0.612345, "tags": ["a"]}),
            &json!({"score": 0.612349, "tags": ["a"]})
        ));
        assert!(!same_json(&json!({"score": 0.61}), &json!({"score": 0.62})));
        assert!(!same_json(&json!({"tags": ["a"]}), &json!({"tags": ["b"]})));
        assert!(!same_json(&json!({"a": 1}), &json!({"a": 1, "b": 2})));
        assert!(!same_json(&json!([1, 2]), &json!([1])));
    }
}
