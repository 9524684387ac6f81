//! Record-level errors, classified by what SQS should do with the record.

/// Why one record could not produce an `ok` result.
///
/// `Permanent` errors are acknowledged: the engine publishes an `status: "error"` event
/// with the stable `code`, and deletes the message, because retrying cannot help.
/// `Transient` errors are reported in `batchItemFailures` so SQS redelivers the record
/// (and moves it to the DLQ after `maxReceiveCount`). Nothing is dropped either way.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// Retrying cannot help: publish an error event and acknowledge the record.
    #[error("{code}: {message}")]
    Permanent {
        /// Stable code (see [`codes`]).
        code: &'static str,
        /// Detail for people.
        message: String,
    },
    /// A retry may succeed: return the record to SQS.
    #[error("{code}: {message}")]
    Transient {
        /// Stable code (see [`codes`]).
        code: &'static str,
        /// Detail for people.
        message: String,
    },
}

impl RecordError {
    /// A permanent error with a stable `code` (see [`codes`]).
    pub fn permanent(code: &'static str, message: impl Into<String>) -> Self {
        Self::Permanent {
            code,
            message: message.into(),
        }
    }

    /// A transient error with a stable `code` (see [`codes`]).
    pub fn transient(code: &'static str, message: impl Into<String>) -> Self {
        Self::Transient {
            code,
            message: message.into(),
        }
    }

    /// The stable code, as error events and metrics carry it.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Permanent { code, .. } | Self::Transient { code, .. } => code,
        }
    }

    /// The human-readable detail (redacted before it is published).
    pub fn message(&self) -> &str {
        match self {
            Self::Permanent { message, .. } | Self::Transient { message, .. } => message,
        }
    }

    /// True for transient errors.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Transient { .. })
    }

    /// A fault of ours rather than of the input or the infrastructure: a panic, or a model
    /// that failed on this input. It is retried (a rare race may pass), but on the record's
    /// last allowed receive it becomes an `internal_error` event instead of a silent DLQ move.
    pub fn is_internal(&self) -> bool {
        matches!(self.code(), codes::PANIC | codes::INFERENCE_FAILED)
    }

    /// The same error as a transient one (a permanent error that cannot be answered by an
    /// event is retried rather than lost).
    pub fn into_transient(self) -> Self {
        match self {
            Self::Permanent { code, message } => Self::Transient { code, message },
            transient => transient,
        }
    }

    /// The permanent `internal_error` that `self` becomes on the record's last receive.
    pub fn into_internal_error(self, receive_count: u32) -> Self {
        Self::permanent(
            codes::INTERNAL_ERROR,
            format!(
                "{}: {} (failed on all {receive_count} receives)",
                self.code(),
                self.message()
            ),
        )
    }
}

/// Stable error codes shared by every worker. Worker-specific codes live with the worker.
pub mod codes {
    /// The SQS body is missing or blank.
    pub const EMPTY_BODY: &str = "empty_body";
    /// The body (or the SNS `Message`) is not JSON.
    pub const INVALID_JSON: &str = "invalid_json";
    /// An SNS notification or claim-check pointer that is malformed.
    pub const INVALID_ENVELOPE: &str = "invalid_envelope";
    /// JSON that does not match the input contract.
    pub const SCHEMA_VIOLATION: &str = "schema_violation";
    /// An input over the worker's size cap.
    pub const INPUT_TOO_LARGE: &str = "input_too_large";
    /// A claim check names an object that does not exist.
    pub const CLAIM_CHECK_MISSING: &str = "claim_check_missing";
    /// S3 could not be read (retried).
    pub const CLAIM_CHECK_UNAVAILABLE: &str = "claim_check_unavailable";
    /// A result too large for SNS and no bucket to offload it to.
    pub const RESULT_TOO_LARGE: &str = "result_too_large";
    /// Writing an oversized result to S3 failed (retried).
    pub const RESULT_OFFLOAD_FAILED: &str = "result_offload_failed";
    /// SNS refused or failed the event (retried).
    pub const PUBLISH_FAILED: &str = "publish_failed";
    /// SNS refused the event itself (a sender fault about the entry): an error event is
    /// published in its place.
    pub const PUBLISH_REJECTED: &str = "publish_rejected";
    /// The worker panicked on this record (retried; see [`INTERNAL_ERROR`]).
    pub const PANIC: &str = "panic";
    /// Another invocation holds this record's idempotency key (retried).
    pub const IDEMPOTENCY_IN_PROGRESS: &str = "idempotency_in_progress";
    /// The idempotency key was used before for a different payload (permanent).
    pub const IDEMPOTENCY_KEY_REUSED: &str = "idempotency_key_reused";
    /// The idempotency store could not be reached (retried).
    pub const IDEMPOTENCY_UNAVAILABLE: &str = "idempotency_unavailable";
    /// A panic or model failure that kept happening until the record's last receive.
    pub const INTERNAL_ERROR: &str = "internal_error";
    /// A model failed on this input (retried; see [`INTERNAL_ERROR`]).
    pub const INFERENCE_FAILED: &str = "inference_failed";
    /// The record ran past the invocation's deadline (retried).
    pub const DEADLINE_EXCEEDED: &str = "deadline_exceeded";
    /// Too little time was left to start the record (retried).
    pub const NOT_STARTED_DEADLINE: &str = "not_started_deadline";
    /// An earlier record of the same FIFO group failed (retried, to keep order).
    pub const FIFO_PREDECESSOR_FAILED: &str = "fifo_predecessor_failed";
    /// The result could not be serialised (a bug).
    pub const SERIALIZE_FAILED: &str = "serialize_failed";
    /// Inputs named by `s3://` URIs (documents, media).
    pub const S3_URI_INVALID: &str = "s3_uri_invalid";
    /// An `s3://` input outside the allowed buckets.
    pub const BUCKET_NOT_ALLOWED: &str = "bucket_not_allowed";
    /// An `s3://` input that does not exist.
    pub const OBJECT_NOT_FOUND: &str = "object_not_found";
}

/// The panic's message up to its first quoted part: std's own messages quote the values
/// involved (a string sliced off a character boundary is printed whole), and here those
/// are the user's text.
pub(crate) fn describe_panic(payload: &(dyn std::any::Any + Send)) -> String {
    let message = if let Some(s) = payload.downcast_ref::<&str>() {
        *s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.as_str()
    } else {
        "non-string panic payload"
    };
    match message.find(['`', '\'', '"']) {
        Some(at) => format!("{}(quoted value removed)", &message[..at]),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn panic_messages_lose_what_they_quote() {
        let caption = "Robe é";
        let payload = std::panic::catch_unwind(|| {
            let _ = &caption[..6];
        })
        .expect_err("slicing inside é panics");
        let described = super::describe_panic(payload.as_ref());
        assert!(!described.contains("Robe"), "{described}");
        assert!(described.contains("is not a char boundary"), "{described}");
        let plain: Box<dyn std::any::Any + Send> = Box::new("worker exploded");
        assert_eq!(super::describe_panic(plain.as_ref()), "worker exploded");
    }
}
