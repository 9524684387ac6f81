//! Bridging SQS `ReceiveMessage` results to Lambda's SQS event records, as an event
//! source mapping does: used by the local stack and the integration tests.

use aws_lambda_events::event::sqs::SqsMessage;
use serde_json::{json, Map, Value};

use crate::emulator::REGION;

/// The Lambda record for one received message. `queue_arn` becomes `eventSourceARN`.
pub fn lambda_record(message: &aws_sdk_sqs::types::Message, queue_arn: &str) -> SqsMessage {
    let attributes: Map<String, Value> = message
        .attributes()
        .map(|a| {
            a.iter()
                .map(|(k, v)| (k.as_str().to_owned(), Value::String(v.clone())))
                .collect()
        })
        .unwrap_or_default();
    let message_attributes: Map<String, Value> = message
        .message_attributes()
        .map(|a| {
            a.iter()
                .map(|(k, v)| {
                    let value = json!({"stringValue": v.string_value(), "dataType": v.data_type(), "stringListValues": [], "binaryListValues": []});
                    (k.clone(), value)
                })
                .collect()
        })
        .unwrap_or_default();
    let record = json!({
        "messageId": message.message_id(),
        "receiptHandle": message.receipt_handle(),
        "body": message.body(),
        "md5OfBody": message.md5_of_body(),
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    });
    // Every field above is one SqsMessage declares, with the types it declares.
    serde_json::from_value(record).unwrap_or_default()
}
