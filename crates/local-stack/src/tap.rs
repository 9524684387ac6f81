//! A queue subscribed to an output topic, so a local run can read what a worker published.
//! Taps are an observer added by the local stack; they are not part of the template.

use aws_sdk_sqs::types::DeleteMessageBatchRequestEntry;

use crate::queue::queue_arn;
use crate::stack::StackError;

/// A raw-delivery queue subscribed to a topic, read by `drain`.
pub struct Tap {
    /// The tap queue's URL.
    pub queue_url: String,
    sqs: aws_sdk_sqs::Client,
}

impl Tap {
    /// Subscribes a new queue, with raw delivery, to `topic_arn`.
    pub async fn subscribe(
        name: &str,
        topic_arn: &str,
        sqs: aws_sdk_sqs::Client,
        sns: &aws_sdk_sns::Client,
    ) -> Result<Self, StackError> {
        let error = |operation: &'static str, message: String| StackError::Aws {
            operation,
            resource: name.to_owned(),
            message,
        };
        let queue_url = sqs
            .create_queue()
            .queue_name(name)
            .send()
            .await
            .map_err(|e| error("CreateQueue", crate::errors::describe(&e)))?
            .queue_url()
            .unwrap_or_default()
            .to_owned();
        let queue_arn = queue_arn(&sqs, &queue_url)
            .await
            .map_err(|e| error("GetQueueAttributes", crate::errors::describe(&e)))?;
        sns.subscribe()
            .topic_arn(topic_arn)
            .protocol("sqs")
            .endpoint(queue_arn)
            .attributes("RawMessageDelivery", "true")
            .send()
            .await
            .map_err(|e| error("Subscribe", crate::errors::describe(&e)))?;
        Ok(Self { queue_url, sqs })
    }

    /// Reads an existing queue, e.g. a dead-letter queue.
    pub fn existing(queue_url: String, sqs: aws_sdk_sqs::Client) -> Self {
        Self { queue_url, sqs }
    }

    /// Receives and deletes everything now in the queue. Bodies that are not JSON are
    /// returned as JSON strings rather than dropped.
    pub async fn drain(&self) -> Result<Vec<serde_json::Value>, StackError> {
        let mut events = Vec::new();
        loop {
            let received = self
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .send()
                .await
                .map_err(|e| StackError::Aws {
                    operation: "ReceiveMessage",
                    resource: self.queue_url.clone(),
                    message: crate::errors::describe(&e),
                })?;
            let messages = received.messages.unwrap_or_default();
            if messages.is_empty() {
                return Ok(events);
            }
            let mut entries = Vec::new();
            for (i, message) in messages.iter().enumerate() {
                let body = message.body().unwrap_or_default();
                events.push(
                    serde_json::from_str(body)
                        .unwrap_or_else(|_| serde_json::Value::String(body.to_owned())),
                );
                if let Some(handle) = message.receipt_handle() {
                    if let Ok(entry) = DeleteMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(handle)
                        .build()
                    {
                        entries.push(entry);
                    }
                }
            }
            self.sqs
                .delete_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| StackError::Aws {
                    operation: "DeleteMessageBatch",
                    resource: self.queue_url.clone(),
                    message: crate::errors::describe(&e),
                })?;
        }
    }
}
