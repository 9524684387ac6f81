//! A queue the stack created, as the event source mappings and the drain loop address it.

use aws_sdk_sqs::types::QueueAttributeName;

/// One SQS queue: where to call it, its ARN (for redrive policies and subscriptions) and
/// the visibility timeout the template gave it.
#[derive(Debug, Clone)]
pub struct LocalQueue {
    /// The queue URL, for SQS calls.
    pub url: String,
    /// The queue ARN, for policies, redrive and subscriptions.
    pub arn: String,
    /// `VisibilityTimeout` from the template, in seconds.
    pub visibility_timeout_s: u32,
}

/// The ARN of the queue at `url` (queues are created by URL; policies and subscriptions
/// name them by ARN).
pub async fn queue_arn(
    sqs: &aws_sdk_sqs::Client,
    url: &str,
) -> Result<
    String,
    aws_sdk_sqs::error::SdkError<
        aws_sdk_sqs::operation::get_queue_attributes::GetQueueAttributesError,
    >,
> {
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await?;
    Ok(attributes
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn))
        .cloned()
        .unwrap_or_default())
}
