//! Where output events go: SNS in production, memory for the CLI and unit tests.

use std::sync::Mutex;

use futures::future::BoxFuture;

use crate::error::{codes, RecordError};

/// SNS `PublishBatch` takes at most 10 entries.
pub const MAX_PUBLISH_BATCH: usize = 10;
/// SNS message size limit: body plus attribute names, types and values.
pub const SNS_MAX_MESSAGE_BYTES: usize = 262_144;
/// PublishBatch also caps the sum of its entries (bodies and attributes) at 256 KiB.
pub const SNS_MAX_BATCH_BYTES: usize = 262_144;
/// Message attributes per message.
pub const SNS_MAX_ATTRIBUTES: usize = 10;
/// Longest message attribute name.
pub const SNS_MAX_ATTRIBUTE_NAME: usize = 256;

/// Why SNS refuses a whole `PublishBatch` request, as its documented error codes name it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchRejection {
    /// No entries.
    #[error("EmptyBatchRequest: the batch has no entries")]
    Empty,
    /// More than [`MAX_PUBLISH_BATCH`] entries.
    #[error("TooManyEntriesInBatchRequest: {0} entries; the limit is {MAX_PUBLISH_BATCH}")]
    TooManyEntries(usize),
    /// Two entries share an id.
    #[error("BatchEntryIdsNotDistinct: id {0:?} appears twice")]
    IdsNotDistinct(String),
    /// The entries together are over [`SNS_MAX_BATCH_BYTES`].
    #[error("BatchRequestTooLong: {0} bytes; the limit is {SNS_MAX_BATCH_BYTES}")]
    TooLong(usize),
    /// One entry breaks a per-message rule (its size, an attribute, a FIFO field).
    #[error("InvalidParameterValue: entry {id:?}: {reason}")]
    InvalidEntry {
        /// The entry's id.
        id: String,
        /// The rule it breaks.
        reason: String,
    },
}

/// Checks a batch against SNS's documented PublishBatch limits, so the in-memory sink (CLI,
/// `postlens invoke`, tests) fails where SNS would rather than where moto would (moto
/// enforces none of the byte limits).
pub fn check_batch(entries: &[PublishEntry]) -> Result<usize, BatchRejection> {
    if entries.is_empty() {
        return Err(BatchRejection::Empty);
    }
    if entries.len() > MAX_PUBLISH_BATCH {
        return Err(BatchRejection::TooManyEntries(entries.len()));
    }
    let mut ids = std::collections::HashSet::new();
    let mut total = 0;
    for entry in entries {
        if !ids.insert(entry.id.as_str()) {
            return Err(BatchRejection::IdsNotDistinct(entry.id.clone()));
        }
        let invalid = |reason: String| BatchRejection::InvalidEntry {
            id: entry.id.clone(),
            reason,
        };
        if entry.id.is_empty()
            || entry.id.len() > 80
            || !entry
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(invalid("ids are 1-80 of A-Z, a-z, 0-9, - and _".to_owned()));
        }
        if entry.message.is_empty() {
            return Err(invalid("the message is empty".to_owned()));
        }
        // SNS passes such a message on and every SQS subscription refuses it
        // (InvalidMessageContents): the strict layer refuses it where it is made.
        if let Some(c) = crate::sqs_text::first_refused(&entry.message) {
            return Err(invalid(format!(
                "the message carries U+{:04X}, which SQS subscribers refuse",
                u32::from(c)
            )));
        }
        if entry.billed_size() > SNS_MAX_MESSAGE_BYTES {
            return Err(invalid(format!(
                "{} bytes; a message may have {SNS_MAX_MESSAGE_BYTES}",
                entry.billed_size()
            )));
        }
        if entry.attributes.len() > SNS_MAX_ATTRIBUTES {
            return Err(invalid(format!(
                "{} message attributes; the limit is {SNS_MAX_ATTRIBUTES}",
                entry.attributes.len()
            )));
        }
        let mut names = std::collections::HashSet::new();
        for (name, value) in &entry.attributes {
            let lower = name.to_ascii_lowercase();
            let valid_name = !name.is_empty()
                && name.len() <= SNS_MAX_ATTRIBUTE_NAME
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
                && !name.starts_with('.')
                && !name.ends_with('.')
                && !name.contains("..")
                && !lower.starts_with("aws.")
                && !lower.starts_with("amazon.");
            if !valid_name || !names.insert(name.as_str()) {
                return Err(invalid(format!("message attribute name {name:?}")));
            }
            if value.is_empty() {
                return Err(invalid(format!(
                    "message attribute {name:?} has an empty value"
                )));
            }
            if let Some(c) = crate::sqs_text::first_refused(value) {
                return Err(invalid(format!(
                    "message attribute {name:?} carries U+{:04X}, which SQS refuses",
                    u32::from(c)
                )));
            }
        }
        total += entry.billed_size();
    }
    if total > SNS_MAX_BATCH_BYTES {
        return Err(BatchRejection::TooLong(total));
    }
    Ok(total)
}

/// One PublishBatch call as made: entries and billed bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PublishCall {
    /// Entries in the call.
    pub entries: usize,
    /// Bytes SNS counts for the call (messages and attributes).
    pub bytes: usize,
}

/// One message of a PublishBatch call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishEntry {
    /// Unique within one `publish_batch` call.
    pub id: String,
    /// The event JSON.
    pub message: String,
    /// String message attributes, for subscription filter policies.
    pub attributes: Vec<(String, String)>,
    /// Set for FIFO topics: the input's message group and the event id.
    pub group_id: Option<String>,
    /// Set for FIFO topics: the event id, so a retry is deduplicated.
    pub deduplication_id: Option<String>,
}

impl PublishEntry {
    /// Bytes SNS counts against its message size limit.
    pub fn billed_size(&self) -> usize {
        let attributes: usize = self
            .attributes
            .iter()
            .map(|(name, value)| name.len() + "String".len() + value.len())
            .sum();
        self.message.len() + attributes
    }
}

/// Publishes up to [`MAX_PUBLISH_BATCH`] entries in one call and answers one result per
/// entry, in order. A failure of the whole call is reported on every entry.
pub trait EventSink: Send + Sync {
    /// Publishes `entries` (at most [`MAX_PUBLISH_BATCH`]) and answers one result per entry, in order.
    fn publish_batch(
        &self,
        entries: Vec<PublishEntry>,
    ) -> BoxFuture<'_, Vec<Result<(), RecordError>>>;
}

/// Keeps published entries in memory, in publish order, and refuses what SNS refuses
/// ([`check_batch`]): a refused call publishes nothing and fails every entry, as SNS does.
#[derive(Debug, Default)]
pub struct MemorySink {
    entries: Mutex<Vec<PublishEntry>>,
    calls: Mutex<Vec<PublishCall>>,
}

impl MemorySink {
    /// Removes and returns what was published so far.
    pub fn take(&self) -> Vec<PublishEntry> {
        std::mem::take(&mut *self.entries.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// The accepted PublishBatch calls so far.
    pub fn calls(&self) -> Vec<PublishCall> {
        self.calls.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl EventSink for MemorySink {
    fn publish_batch(
        &self,
        entries: Vec<PublishEntry>,
    ) -> BoxFuture<'_, Vec<Result<(), RecordError>>> {
        Box::pin(async move {
            match check_batch(&entries) {
                Ok(bytes) => {
                    self.calls
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(PublishCall {
                            entries: entries.len(),
                            bytes,
                        });
                    let results = entries.iter().map(|_| Ok(())).collect();
                    self.entries
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .extend(entries);
                    results
                }
                Err(rejection) => {
                    let message = format!("PublishBatch failed: {rejection}");
                    entries
                        .iter()
                        .map(|_| {
                            Err(RecordError::transient(
                                codes::PUBLISH_FAILED,
                                message.clone(),
                            ))
                        })
                        .collect()
                }
            }
        })
    }
}

/// Publishes to one SNS topic with `PublishBatch`.
#[derive(Debug, Clone)]
pub struct SnsSink {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

impl SnsSink {
    /// A sink for `topic_arn`.
    pub fn new(client: aws_sdk_sns::Client, topic_arn: impl Into<String>) -> Self {
        Self {
            client,
            topic_arn: topic_arn.into(),
        }
    }

    fn request_entry(
        entry: &PublishEntry,
    ) -> Result<aws_sdk_sns::types::PublishBatchRequestEntry, RecordError> {
        use aws_sdk_sns::types::{MessageAttributeValue, PublishBatchRequestEntry};
        let mut builder = PublishBatchRequestEntry::builder()
            .id(&entry.id)
            .message(&entry.message)
            .set_message_group_id(entry.group_id.clone())
            .set_message_deduplication_id(entry.deduplication_id.clone());
        for (name, value) in &entry.attributes {
            let attribute = MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
                .map_err(|e| RecordError::permanent(codes::PUBLISH_FAILED, e.to_string()))?;
            builder = builder.message_attributes(name, attribute);
        }
        builder
            .build()
            .map_err(|e| RecordError::permanent(codes::PUBLISH_FAILED, e.to_string()))
    }
}

impl EventSink for SnsSink {
    fn publish_batch(
        &self,
        entries: Vec<PublishEntry>,
    ) -> BoxFuture<'_, Vec<Result<(), RecordError>>> {
        Box::pin(async move {
            let mut results: Vec<Result<(), RecordError>> = vec![Ok(()); entries.len()];
            let mut request_entries = Vec::with_capacity(entries.len());
            for (index, entry) in entries.iter().enumerate() {
                match Self::request_entry(entry) {
                    Ok(request_entry) => request_entries.push(request_entry),
                    Err(error) => results[index] = Err(error),
                }
            }
            if request_entries.is_empty() {
                return results;
            }
            let response = self
                .client
                .publish_batch()
                .topic_arn(&self.topic_arn)
                .set_publish_batch_request_entries(Some(request_entries))
                .send()
                .await;
            match response {
                Ok(output) => {
                    for failed in output.failed() {
                        if let Some(index) = entries.iter().position(|e| e.id == failed.id()) {
                            results[index] = Err(entry_failure(
                                failed.code(),
                                failed.sender_fault(),
                                failed.message(),
                            ));
                        }
                    }
                }
                Err(error) => {
                    let message = format!(
                        "PublishBatch failed: {}",
                        aws_sdk_sns::error::DisplayErrorContext(&error)
                    );
                    for result in results.iter_mut().filter(|r| r.is_ok()) {
                        *result = Err(RecordError::transient(
                            codes::PUBLISH_FAILED,
                            message.clone(),
                        ));
                    }
                }
            }
            results
        })
    }
}

/// One PublishBatch entry SNS refused, classified. A sender fault about the entry itself (an
/// invalid parameter or message) fails the same way on every retry, so it is permanent: the
/// engine publishes an error event in its place. Sender faults that are about the
/// deployment, not the entry (authorisation, KMS, throttling), and SNS's own faults are
/// retried, so the record reaches the DLQ for a redrive once the deployment is mended.
pub fn entry_failure(code: &str, sender_fault: bool, message: Option<&str>) -> RecordError {
    let detail = format!(
        "SNS rejected the entry: {code} (sender_fault={sender_fault}){}",
        message.map(|m| format!(": {m}")).unwrap_or_default()
    );
    let about_the_deployment = code.starts_with("KMS")
        || code.contains("Throttl")
        || code.contains("Authorization")
        || code.contains("AccessDenied")
        || matches!(code, "NotFound" | "InvalidSecurity" | "EndpointDisabled");
    if sender_fault && !about_the_deployment {
        RecordError::permanent(codes::PUBLISH_REJECTED, detail)
    } else {
        RecordError::transient(codes::PUBLISH_FAILED, detail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sender_faults_about_the_entry_are_permanent_and_the_rest_retried() {
        let rejected = entry_failure("InvalidParameter", true, Some("Invalid parameter: Message"));
        assert_eq!(rejected.code(), codes::PUBLISH_REJECTED);
        assert!(!rejected.is_retryable());
        for (code, sender_fault) in [
            ("InternalError", false),
            ("KMSThrottling", true),
            ("KMSAccessDenied", true),
            ("AuthorizationError", true),
            ("Throttled", true),
        ] {
            let error = entry_failure(code, sender_fault, None);
            assert!(error.is_retryable(), "{code}");
            assert_eq!(error.code(), codes::PUBLISH_FAILED);
        }
    }

    #[test]
    fn characters_sqs_refuses_are_refused_in_messages_and_attributes() {
        let mut entry = PublishEntry {
            id: "0".into(),
            message: "{\"caption\":\"a\u{FFFF}\"}".into(),
            attributes: vec![("status".into(), "ok".into())],
            group_id: None,
            deduplication_id: None,
        };
        assert!(matches!(
            check_batch(std::slice::from_ref(&entry)),
            Err(BatchRejection::InvalidEntry { .. })
        ));
        entry.message = "{}".into();
        entry.attributes = vec![("language".into(), "x\u{FFFE}".into())];
        assert!(check_batch(std::slice::from_ref(&entry)).is_err());
        entry.attributes = vec![("language".into(), "en".into())];
        assert!(check_batch(&[entry]).is_ok());
    }

    #[test]
    fn sns_limits_are_enforced_like_sns() {
        let entry = |id: &str, bytes: usize| PublishEntry {
            id: id.into(),
            message: "x".repeat(bytes),
            attributes: vec![("status".into(), "ok".into())],
            group_id: None,
            deduplication_id: None,
        };
        assert!(check_batch(&[entry("0", 100), entry("1", 100)]).is_ok());
        assert_eq!(check_batch(&[]), Err(BatchRejection::Empty));
        let eleven: Vec<_> = (0..11).map(|i| entry(&i.to_string(), 1)).collect();
        assert_eq!(
            check_batch(&eleven),
            Err(BatchRejection::TooManyEntries(11))
        );
        assert!(matches!(
            check_batch(&[entry("0", 1), entry("0", 1)]),
            Err(BatchRejection::IdsNotDistinct(_))
        ));
        // Ten 32 KB messages: each is fine, together they are over the batch limit.
        let ten: Vec<_> = (0..10).map(|i| entry(&i.to_string(), 32 * 1024)).collect();
        assert!(matches!(check_batch(&ten), Err(BatchRejection::TooLong(_))));
        assert!(matches!(
            check_batch(&[entry("0", SNS_MAX_MESSAGE_BYTES)]),
            Err(BatchRejection::InvalidEntry { .. })
        ));
        for (name, value) in [("AWS.trace", "v"), ("a b", "v"), ("", "v"), ("ok", "")] {
            let mut bad = entry("0", 1);
            bad.attributes = vec![(name.into(), value.into())];
            assert!(check_batch(&[bad]).is_err(), "{name:?}={value:?}");
        }
        let mut many = entry("0", 1);
        many.attributes = (0..11).map(|i| (format!("a{i}"), "v".into())).collect();
        assert!(check_batch(&[many]).is_err());
    }

    #[tokio::test]
    async fn a_refused_batch_publishes_nothing() {
        let sink = MemorySink::default();
        let ten: Vec<_> = (0..10)
            .map(|i| PublishEntry {
                id: i.to_string(),
                message: "x".repeat(30 * 1024),
                attributes: Vec::new(),
                group_id: None,
                deduplication_id: None,
            })
            .collect();
        let results = sink.publish_batch(ten).await;
        assert!(results
            .iter()
            .all(|r| r.as_ref().is_err_and(RecordError::is_retryable)));
        assert!(sink.take().is_empty() && sink.calls().is_empty());
    }

    #[test]
    fn billed_size_counts_attributes() {
        let entry = PublishEntry {
            id: "0".into(),
            message: "abc".into(),
            attributes: vec![("status".into(), "ok".into())],
            group_id: None,
            deduplication_id: None,
        };
        assert_eq!(entry.billed_size(), 3 + 6 + 6 + 2);
    }
}
