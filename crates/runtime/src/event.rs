//! The output event every worker publishes (DESIGN §3), and its deterministic id.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::RecordError;

pub const SCHEMA_VERSION: &str = "1";

/// Who produced an event, and the shape of the events it produces.
#[derive(Debug, Clone)]
pub struct WorkerDescriptor {
    /// Worker name, e.g. `caption-parser`.
    pub name: &'static str,
    pub version: &'static str,
    /// Output event type, e.g. `caption-parsed`.
    pub event_type: &'static str,
    /// The input field that names the subject, e.g. `video_id` or `doc_id`.
    pub subject_key: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Error,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Error => "error",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerInfo {
    pub name: String,
    pub version: String,
}

/// Where a result too large for SNS was written instead (claim check).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultLocation {
    pub s3_uri: String,
    pub bytes: usize,
}

/// One output event. `subject` is flattened so the id appears under its own key
/// (`video_id` or `doc_id`), as the contract says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputEvent {
    pub event_type: String,
    pub schema_version: String,
    pub event_id: String,
    pub source_event_id: Option<String>,
    #[serde(flatten)]
    pub subject: BTreeMap<String, Option<String>>,
    pub status: Status,
    pub result: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_location: Option<ResultLocation>,
    pub error: Option<ErrorBody>,
    pub worker: WorkerInfo,
    pub timings_ms: BTreeMap<String, f64>,
}

/// `event_id` = hex of the first 16 bytes of sha256(worker name, schema version, source id).
///
/// The source id is the input's own `event_id` when it has one, else the SNS message id,
/// else the SQS message id: all stable across redeliveries, so a consumer can drop
/// duplicates of at-least-once delivery by `event_id` alone.
pub fn derive_event_id(worker_name: &str, source_id: &str) -> String {
    let mut hasher = Sha256::new();
    for part in [worker_name, SCHEMA_VERSION, source_id] {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    hex::encode(&hasher.finalize()[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_id_is_deterministic_and_separates_inputs() {
        let a = derive_event_id("caption-parser", "m-1");
        assert_eq!(a, derive_event_id("caption-parser", "m-1"));
        assert_eq!(a.len(), 32);
        assert_ne!(a, derive_event_id("auto-tagger", "m-1"));
        assert_ne!(a, derive_event_id("caption-parser", "m-2"));
        // Length prefixes keep ("ab","c") and ("a","bc") apart.
        assert_ne!(derive_event_id("ab", "c"), derive_event_id("a", "bc"));
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
