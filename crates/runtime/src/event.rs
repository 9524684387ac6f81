//! The output event every worker publishes (DESIGN §3), and its deterministic id.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::RecordError;

/// The `schema_version` of every event this code publishes.
pub const SCHEMA_VERSION: &str = "1";

/// Who produced an event, and the shape of the events it produces.
#[derive(Debug, Clone)]
pub struct WorkerDescriptor {
    /// Worker name, e.g. `caption-parser`.
    pub name: &'static str,
    /// Worker version (the crate's).
    pub version: &'static str,
    /// Output event type, e.g. `caption-parsed`.
    pub event_type: &'static str,
    /// The input field that names the subject, e.g. `video_id` or `doc_id`.
    pub subject_key: &'static str,
}

/// Whether an event carries a result or an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// `result` is set.
    Ok,
    /// `error` is set.
    Error,
}

impl Status {
    /// `ok` or `error`, as in the event and its `status` attribute.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Error => "error",
        }
    }
}

/// An error event's `error`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Stable code (see [`crate::error::codes`]).
    pub code: String,
    /// Redacted detail.
    pub message: String,
    /// Whether the record was, or would have been, retried.
    pub retryable: bool,
}

impl From<&RecordError> for ErrorBody {
    fn from(error: &RecordError) -> Self {
        Self {
            code: error.code().to_owned(),
            // Events reach every subscriber: no signed URL queries or quoted input values.
            message: crate::redact::redact(error.message()),
            retryable: error.is_retryable(),
        }
    }
}

/// An event's `worker`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerInfo {
    /// Worker name.
    pub name: String,
    /// Worker version.
    pub version: String,
}

/// Where a result too large for SNS was written instead (claim check).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultLocation {
    /// Where the result is.
    pub s3_uri: String,
    /// Its size.
    pub bytes: usize,
}

/// One output event. `subject` is flattened so the id appears under its own key
/// (`video_id` or `doc_id`), as the contract says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputEvent {
    /// e.g. `caption-parsed`.
    pub event_type: String,
    /// [`SCHEMA_VERSION`].
    pub schema_version: String,
    /// Derived from the worker, its version and the input's content: a retry publishes the same id.
    pub event_id: String,
    /// The input's `event_id`, when it had one.
    pub source_event_id: Option<String>,
    /// The subject key and its value, e.g. `video_id`.
    #[serde(flatten)]
    pub subject: BTreeMap<String, Option<String>>,
    /// `ok` or `error`.
    pub status: Status,
    /// The worker's result, for `ok` events that fit SNS.
    pub result: Option<serde_json::Value>,
    /// Where an `ok` result too large for SNS was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_location: Option<ResultLocation>,
    /// The error, for `error` events.
    pub error: Option<ErrorBody>,
    /// Who produced it.
    pub worker: WorkerInfo,
    /// Stage timings, in milliseconds.
    pub timings_ms: BTreeMap<String, f64>,
}

/// The sha256 of one input's content: the JSON message a worker reads (inside any SNS
/// envelope), or the bytes of a claim-checked or undecodable body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentDigest([u8; 32]);

impl ContentDigest {
    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lowercase hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The digest of raw bytes.
    pub fn of_bytes(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }

    /// Over the value's compact serialisation with its keys sorted at every level, so
    /// whitespace and key order do not change it, and any value does. (The map keeps
    /// insertion order: a dependency turns on serde_json's `preserve_order`.)
    pub fn of_json(value: &serde_json::Value) -> Self {
        let mut hasher = Sha256::new();
        write_canonical(value, &mut HashWriter(&mut hasher));
        Self(hasher.finalize().into())
    }
}

fn write_canonical(value: &serde_json::Value, out: &mut HashWriter<'_>) {
    use std::io::Write;
    // Writing into a hasher cannot fail.
    match value {
        serde_json::Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let _ = out.write_all(b"{");
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    let _ = out.write_all(b",");
                }
                let _ = serde_json::to_writer(&mut *out, key);
                let _ = out.write_all(b":");
                write_canonical(&map[key], out);
            }
            let _ = out.write_all(b"}");
        }
        serde_json::Value::Array(items) => {
            let _ = out.write_all(b"[");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    let _ = out.write_all(b",");
                }
                write_canonical(item, out);
            }
            let _ = out.write_all(b"]");
        }
        scalar => {
            let _ = serde_json::to_writer(&mut *out, scalar);
        }
    }
}

struct HashWriter<'a>(&'a mut Sha256);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `event_id` = hex of the first 16 bytes of sha256(worker name, schema version, the
/// input's content digest).
///
/// Content, not delivery: every redelivery and every duplicate SNS delivery of one input
/// carries the same message, so it gets the same id (raw delivery hides the SNS MessageId,
/// and the SQS message id differs per copy); an input re-published with new content,
/// even under the same `event_id`, gets a new one, so a consumer deduplicating by
/// `event_id` drops copies and keeps corrections.
pub fn derive_event_id(worker_name: &str, content: &ContentDigest) -> String {
    let mut hasher = Sha256::new();
    for part in [
        worker_name.as_bytes(),
        SCHEMA_VERSION.as_bytes(),
        &content.0,
    ] {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    hex::encode(&hasher.finalize()[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_id_is_deterministic_and_separates_inputs() {
        let one = ContentDigest::of_bytes(b"m-1");
        let a = derive_event_id("caption-parser", &one);
        assert_eq!(a, derive_event_id("caption-parser", &one));
        assert_eq!(a.len(), 32);
        assert_ne!(a, derive_event_id("auto-tagger", &one));
        assert_ne!(
            a,
            derive_event_id("caption-parser", &ContentDigest::of_bytes(b"m-2"))
        );
    }

    #[test]
    fn json_content_ignores_layout_but_not_values() {
        let a = ContentDigest::of_json(&serde_json::json!({"event_id": "e", "caption": "x"}));
        let reordered: serde_json::Value =
            serde_json::from_str(r#"{ "caption" : "x",  "event_id": "e" }"#).expect("json");
        assert_eq!(a, ContentDigest::of_json(&reordered));
        let edited = serde_json::json!({"event_id": "e", "caption": "x!"});
        assert_ne!(a, ContentDigest::of_json(&edited));
    }

    #[test]
    fn subject_is_flattened_under_its_key() {
        let event = OutputEvent {
            event_type: "caption-parsed".into(),
            schema_version: SCHEMA_VERSION.into(),
            event_id: "e".into(),
            source_event_id: None,
            subject: BTreeMap::from([("video_id".to_owned(), Some("v1".to_owned()))]),
            status: Status::Ok,
            result: Some(serde_json::json!({"title": "x"})),
            result_location: None,
            error: None,
            worker: WorkerInfo {
                name: "caption-parser".into(),
                version: "0.1.0".into(),
            },
            timings_ms: BTreeMap::new(),
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["video_id"], "v1");
        assert_eq!(json["status"], "ok");
        assert!(json.get("result_location").is_none());
        let back: OutputEvent = serde_json::from_value(json).unwrap();
        assert_eq!(back, event);
    }
}
