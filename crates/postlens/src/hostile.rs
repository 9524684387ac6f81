//! `postlens hostile WORKER --cases FILE`: a corpus of hostile inputs through a worker's real
//! handler, in batches of ten as SQS delivers them, with in-memory SNS and S3.
//!
//! A case is one JSON line: `{name, body | input, objects?, expect}`. `body` is the SQS body
//! as sent: a string, or an object spec like those below (so a 250 KB id need not be
//! written out); `input` is a JSON value sent as its text. `objects` are put in the
//! in-memory S3 first, keyed by `s3://` URI, each `{file}` (under the corpus's folder),
//! `{text}`, or `{repeat, times, prefix?, suffix?}`, gzip-compressed with `gzip: true` (or
//! one gzip member per string with `gzip_members`). `expect` is `ok` or the error code.
//! The output is one JSON document: each case's outcome, the records returned for retry,
//! and the process's peak resident memory, which the memory test reads.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context};
use aws_lambda_events::event::sqs::SqsMessage;
use postlens_runtime::envelope::S3Location;
use postlens_runtime::{
    BatchEngine, MemorySink, MemoryStore, ObjectStore, RecordOutcome, Worker, WorkerConfig,
};
use serde::Deserialize;
use serde_json::{json, Value};

/// Bucket names the corpus's objects live in, allowed for the workers that read S3.
pub const MEDIA_BUCKET: &str = "media";
pub const DOCUMENT_BUCKET: &str = "documents";
pub const CLAIM_CHECK_BUCKET: &str = "claims";
/// Where the thumbnail generator writes, in the in-memory S3.
pub const THUMBNAIL_BUCKET: &str = "thumbnails";

/// The settings a worker runs with against the in-memory S3: the process environment, with
/// the buckets the template would name replaced by the in-memory S3's (whose corpus keys
/// have no `documents/` prefix).
pub fn in_memory_settings(name: &str) -> Option<String> {
    match name {
        "MEDIA_BUCKETS" => Some(MEDIA_BUCKET.to_owned()),
        "DOCUMENT_BUCKETS" => Some(DOCUMENT_BUCKET.to_owned()),
        "DOCUMENT_PREFIX" => None,
        "THUMBNAIL_BUCKET" => Some(THUMBNAIL_BUCKET.to_owned()),
        _ => std::env::var(name).ok(),
    }
}

#[derive(Deserialize)]
struct Case {
    name: String,
    #[serde(default)]
    body: Option<Value>,
    #[serde(default)]
    input: Option<Value>,
    #[serde(default)]
    objects: serde_json::Map<String, Value>,
    expect: String,
}

#[derive(Deserialize)]
struct ObjectSpec {
    #[serde(default)]
    file: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    repeat: Option<String>,
    #[serde(default)]
    times: usize,
    #[serde(default)]
    prefix: String,
    #[serde(default)]
    suffix: String,
    #[serde(default)]
    gzip: bool,
    #[serde(default)]
    gzip_members: Vec<String>,
}

/// Reads the cases of `path`, putting their objects into `store`.
fn read_cases(path: &Path, store: &MemoryStore) -> anyhow::Result<Vec<(Case, SqsMessage)>> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut cases = Vec::new();
    for (line_number, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let case: Case = serde_json::from_str(line)
            .with_context(|| format!("{}:{}", path.display(), line_number + 1))?;
        for (uri, spec) in &case.objects {
            let spec: ObjectSpec = serde_json::from_value(spec.clone())
                .with_context(|| format!("object {uri} of case {}", case.name))?;
            let location = S3Location::parse(uri)
                .with_context(|| format!("object {uri} of case {}: not an s3:// URI", case.name))?;
            store.insert(&location, object_bytes(&spec, dir)?);
        }
        let body = match (&case.body, &case.input) {
            (Some(Value::String(body)), None) => body.clone(),
            (Some(spec), None) => {
                let spec: ObjectSpec = serde_json::from_value(spec.clone())
                    .with_context(|| format!("body of case {}", case.name))?;
                String::from_utf8(object_bytes(&spec, dir)?)
                    .with_context(|| format!("body of case {} is not UTF-8", case.name))?
            }
            (None, Some(input)) => input.to_string(),
            _ => bail!("case {} needs exactly one of body and input", case.name),
        };
        let mut record = SqsMessage::default();
        record.message_id = Some(format!("hostile-{}", cases.len()));
        record.body = Some(body);
        record.event_source = Some("aws:sqs".to_owned());
        cases.push((case, record));
    }
    Ok(cases)
}

fn object_bytes(spec: &ObjectSpec, dir: &Path) -> anyhow::Result<Vec<u8>> {
    let gzip = |bytes: &[u8]| -> anyhow::Result<Vec<u8>> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(bytes)?;
        Ok(encoder.finish()?)
    };
    if !spec.gzip_members.is_empty() {
        let mut out = Vec::new();
        for member in &spec.gzip_members {
            out.extend(gzip(member.as_bytes())?);
        }
        return Ok(out);
    }
    let raw = match (&spec.file, &spec.text, &spec.repeat) {
        (Some(file), None, None) => {
            std::fs::read(dir.join(file)).with_context(|| format!("reading {file}"))?
        }
        (None, Some(text), None) => text.clone().into_bytes(),
        (None, None, Some(unit)) => {
            format!("{}{}{}", spec.prefix, unit.repeat(spec.times), spec.suffix).into_bytes()
        }
        _ => bail!("an object needs exactly one of file, text and repeat"),
    };
    if spec.gzip {
        gzip(&raw)
    } else {
        Ok(raw)
    }
}

/// Runs the corpus through `worker` and prints the report; fails if any case's outcome is
/// not the one it expects (the report says which).
pub async fn run<W: Worker>(
    worker: impl FnOnce(Arc<dyn ObjectStore>) -> anyhow::Result<W>,
    cases_path: &Path,
    dry_run: bool,
) -> anyhow::Result<bool> {
    let store = Arc::new(MemoryStore::default());
    let cases = read_cases(cases_path, &store)?;
    if dry_run {
        // What the in-memory S3 holds: in AWS those bytes live in S3, not in the function,
        // so the memory test adds them to the function's MemorySize.
        println!(
            "{}",
            json!({"cases": cases.len(), "store_bytes": store.total_bytes()})
        );
        return Ok(true);
    }
    let config = WorkerConfig::from_lookup(|name| match name {
        "OUTPUT_TOPIC_ARN" => Some("arn:aws:sns:us-east-1:000000000000:hostile".to_owned()),
        "CLAIM_CHECK_BUCKET" => Some(CLAIM_CHECK_BUCKET.to_owned()),
        other => std::env::var(other).ok(),
    })?;
    let sink = Arc::new(MemorySink::default());
    let store_dyn: Arc<dyn ObjectStore> = store.clone();
    let engine = BatchEngine::new(worker(store_dyn.clone())?, sink.clone())
        .with_store(store_dyn)
        .with_config(config.engine);
    let (cases, records): (Vec<Case>, Vec<SqsMessage>) = cases.into_iter().unzip();
    let mut outcomes = Vec::with_capacity(records.len());
    // Batches of ten, as the event source mapping delivers them by default.
    for batch in records.chunks(10) {
        outcomes.extend(engine.process_batch(batch, None).await.outcomes);
    }
    let published = sink.take().len();
    let mut all_as_expected = published == cases.len();
    let mut report = Vec::with_capacity(cases.len());
    for (case, (_, outcome)) in cases.iter().zip(&outcomes) {
        let (status, code) = match outcome {
            RecordOutcome::Published {
                error_code: None, ..
            } => ("ok", "ok"),
            RecordOutcome::Published {
                error_code: Some(code),
                ..
            } => ("error", *code),
            RecordOutcome::Retry(error) => ("retry", error.code()),
            RecordOutcome::Acknowledged { code } => ("acknowledged", *code),
        };
        let as_expected = status != "retry" && code == case.expect;
        all_as_expected &= as_expected;
        report.push(json!({"name": case.name, "status": status, "code": code, "expect": case.expect, "as_expected": as_expected}));
    }
    let output = json!({
        "cases": report,
        "published": published,
        "store_bytes": store.total_bytes(),
        "peak_rss_kib": peak_rss_kib(),
    });
    println!("{}", serde_json::to_string_pretty(&output)?);
    Ok(all_as_expected)
}

/// The process's peak resident set (`VmHWM`), in KiB; `None` off Linux.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}
