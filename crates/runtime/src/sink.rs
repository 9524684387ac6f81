//! Where output events go: SNS in production, memory for the CLI and unit tests.

use std::sync::Mutex;

use futures::future::BoxFuture;

use crate::error::{codes, RecordError};

/// SNS `PublishBatch` takes at most 10 entries.
pub const MAX_PUBLISH_BATCH: usize = 10;
/// SNS message size limit: body plus attribute names, types and values.
pub const SNS_MAX_MESSAGE_BYTES: usize = 262_144;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishEntry {
    /// Unique within one `publish_batch` call.
    pub id: String,
    pub message: String,
    pub attributes: Vec<(String, String)>,
    /// Set for FIFO topics: the input's message group and the event id.
    pub group_id: Option<String>,
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
    fn publish_batch(
        &self,
        entries: Vec<PublishEntry>,
    ) -> BoxFuture<'_, Vec<Result<(), RecordError>>>;
}

/// Keeps published entries in memory, in publish order.
#[derive(Debug, Default)]
pub struct MemorySink {
    entries: Mutex<Vec<PublishEntry>>,
}

impl MemorySink {
    pub fn take(&self) -> Vec<PublishEntry> {
        std::mem::take(&mut *self.entries.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl EventSink for MemorySink {
    fn publish_batch(
        &self,
        entries: Vec<PublishEntry>,
    ) -> BoxFuture<'_, Vec<Result<(), RecordError>>> {
        Box::pin(async move {
            let results = entries.iter().map(|_| Ok(())).collect();
            self.entries
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend(entries);
            results
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
                            // Sender faults (bad attribute, too large) would fail again, but the
                            // record must not be lost: retry it so it lands in the DLQ.
                            let message = format!(
                                "SNS rejected the entry: {} (sender_fault={})",
                                failed.code(),
                                failed.sender_fault()
                            );
                            results[index] =
                                Err(RecordError::transient(codes::PUBLISH_FAILED, message));
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

#[cfg(test)]
mod tests {
    use super::*;

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
