//! Turning one SQS message body into the JSON payload a worker reads.
//!
//! Three shapes arrive on a postlens queue:
//! - a plain body: the payload itself (producers sending to SQS, or SNS raw delivery);
//! - an SNS notification (SNS → SQS without raw delivery): `{"Type":"Notification",
//!   "MessageId", "TopicArn", "Message": "<payload as a string>"}`;
//! - a claim-check pointer for payloads over the SQS/SNS limit, in the format of the AWS
//!   extended clients (`["software.amazon.payloadoffloading.PayloadS3Pointer",
//!   {"s3BucketName", "s3Key"}]`) or postlens' own `{"claim_check": {"s3_uri": "s3://bucket/key"}}`.

use serde_json::Value;

use crate::error::{codes, RecordError};

const AWS_POINTER_CLASS: &str = "software.amazon.payloadoffloading.PayloadS3Pointer";

/// How the message reached the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvelopeKind {
    /// Sent to the queue directly, or by SNS with raw message delivery.
    Plain,
    /// Wrapped in SNS's notification JSON (no raw delivery).
    SnsNotification,
}

/// A bucket and key, checked to be ones S3 could hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    /// Bucket name.
    pub bucket: String,
    /// Object key.
    pub key: String,
}

/// S3's longest object key, in bytes of UTF-8.
pub const S3_MAX_KEY_BYTES: usize = 1024;

impl S3Location {
    /// Parses `s3://bucket/key` ([`S3Location::new`]'s rules apply).
    pub fn parse(uri: &str) -> Option<Self> {
        let rest = uri.strip_prefix("s3://")?;
        let (bucket, key) = rest.split_once('/')?;
        Self::new(bucket, key)
    }

    /// A location S3 could hold: a bucket name by S3's naming rules (3-63 of `a-z 0-9 . -`,
    /// starting and ending with a letter or digit, no `..`) and a key of 1 to 1,024 bytes.
    /// S3 answers anything else with a 400, which the SDK reports as a failed request and
    /// the engine would retry into the DLQ; refused here, it is a permanent error instead.
    pub fn new(bucket: &str, key: &str) -> Option<Self> {
        let bucket_ok = (3..=63).contains(&bucket.len())
            && bucket
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
            && bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
            && bucket.ends_with(|c: char| c.is_ascii_alphanumeric())
            && !bucket.contains("..");
        let key_ok = !key.is_empty() && key.len() <= S3_MAX_KEY_BYTES;
        (bucket_ok && key_ok).then(|| Self {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
        })
    }

    /// `s3://bucket/key`.
    pub fn uri(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }
}

/// What the body decoded to: the payload, or where to fetch it.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// The message itself.
    Inline(Value),
    /// An extended-client pointer: the message is in S3.
    ClaimCheck(S3Location),
}

/// One SQS body, unwrapped.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedBody {
    /// How it came.
    pub envelope: EnvelopeKind,
    /// The SNS `MessageId` when the body was an SNS notification.
    pub sns_message_id: Option<String>,
    /// What it carries.
    pub payload: Payload,
}

/// Decodes one SQS body. Every failure is permanent: the same bytes will never decode.
pub fn decode_body(body: Option<&str>) -> Result<DecodedBody, RecordError> {
    let body = body.unwrap_or_default();
    if body.trim().is_empty() {
        return Err(RecordError::permanent(
            codes::EMPTY_BODY,
            "message body is empty",
        ));
    }
    let outer: Value = serde_json::from_str(body).map_err(|e| {
        RecordError::permanent(codes::INVALID_JSON, format!("body is not JSON: {e}"))
    })?;

    if let Some(sns) = as_sns_notification(&outer)? {
        let inner: Value = serde_json::from_str(sns.message).map_err(|e| {
            RecordError::permanent(codes::INVALID_JSON, format!("SNS Message is not JSON: {e}"))
        })?;
        return Ok(DecodedBody {
            envelope: EnvelopeKind::SnsNotification,
            sns_message_id: sns.message_id,
            payload: classify_payload(inner)?,
        });
    }
    Ok(DecodedBody {
        envelope: EnvelopeKind::Plain,
        sns_message_id: None,
        payload: classify_payload(outer)?,
    })
}

struct SnsNotification<'a> {
    message_id: Option<String>,
    message: &'a str,
}

fn as_sns_notification(value: &Value) -> Result<Option<SnsNotification<'_>>, RecordError> {
    let Some(object) = value.as_object() else {
        return Ok(None);
    };
    let is_sns = object.get("Type").and_then(Value::as_str) == Some("Notification")
        && object.contains_key("TopicArn");
    if !is_sns {
        return Ok(None);
    }
    let message = object
        .get("Message")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            RecordError::permanent(
                codes::INVALID_ENVELOPE,
                "SNS notification has no string Message",
            )
        })?;
    let message_id = object
        .get("MessageId")
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok(Some(SnsNotification {
        message_id,
        message,
    }))
}

fn classify_payload(value: Value) -> Result<Payload, RecordError> {
    if let Some(pointer) = aws_extended_client_pointer(&value) {
        return pointer.map(Payload::ClaimCheck).ok_or_else(|| {
            RecordError::permanent(
                codes::INVALID_ENVELOPE,
                "the S3 pointer names a bucket or key S3 cannot hold",
            )
        });
    }
    if let Some(claim) = value.as_object().and_then(|o| o.get("claim_check")) {
        let location = claim
            .get("s3_uri")
            .and_then(Value::as_str)
            .and_then(S3Location::parse)
            .ok_or_else(|| {
                RecordError::permanent(
                    codes::INVALID_ENVELOPE,
                    "claim_check needs s3_uri of the form s3://bucket/key",
                )
            })?;
        return Ok(Payload::ClaimCheck(location));
    }
    Ok(Payload::Inline(value))
}

/// The extended client's pointer, if `value` is one; `Some(None)` for a pointer to a
/// location S3 cannot hold.
fn aws_extended_client_pointer(value: &Value) -> Option<Option<S3Location>> {
    let items = value.as_array()?;
    if items.len() != 2 || items[0].as_str() != Some(AWS_POINTER_CLASS) {
        return None;
    }
    let bucket = items[1].get("s3BucketName")?.as_str()?;
    let key = items[1].get("s3Key")?.as_str()?;
    Some(S3Location::new(bucket, key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn plain_body_is_the_payload() {
        let decoded = decode_body(Some(r#"{"video_id":"v1","caption":"hi"}"#)).unwrap();
        assert_eq!(decoded.envelope, EnvelopeKind::Plain);
        assert_eq!(
            decoded.payload,
            Payload::Inline(json!({"video_id":"v1","caption":"hi"}))
        );
    }

    #[test]
    fn sns_notification_is_unwrapped() {
        let body = json!({
            "Type": "Notification", "MessageId": "sns-1", "TopicArn": "arn:aws:sns:us-east-1:1:t",
            "Message": "{\"video_id\":\"v2\"}"
        })
        .to_string();
        let decoded = decode_body(Some(&body)).unwrap();
        assert_eq!(decoded.envelope, EnvelopeKind::SnsNotification);
        assert_eq!(decoded.sns_message_id.as_deref(), Some("sns-1"));
        assert_eq!(decoded.payload, Payload::Inline(json!({"video_id":"v2"})));
    }

    #[test]
    fn sns_message_that_is_not_json_is_permanent() {
        let body =
            json!({"Type":"Notification","TopicArn":"arn","Message":"hello there"}).to_string();
        let err = decode_body(Some(&body)).unwrap_err();
        assert_eq!(err.code(), codes::INVALID_JSON);
        assert!(!err.is_retryable());
    }

    #[test]
    fn sns_notification_without_message_is_invalid_envelope() {
        let body = json!({"Type":"Notification","TopicArn":"arn","Message": 5}).to_string();
        assert_eq!(
            decode_body(Some(&body)).unwrap_err().code(),
            codes::INVALID_ENVELOPE
        );
    }

    #[test]
    fn empty_and_non_json_bodies_are_permanent() {
        assert_eq!(decode_body(None).unwrap_err().code(), codes::EMPTY_BODY);
        assert_eq!(
            decode_body(Some("  ")).unwrap_err().code(),
            codes::EMPTY_BODY
        );
        assert_eq!(
            decode_body(Some("{nope")).unwrap_err().code(),
            codes::INVALID_JSON
        );
    }

    #[test]
    fn claim_check_pointers_in_both_formats() {
        let aws =
            json!([AWS_POINTER_CLASS, {"s3BucketName": "bkt", "s3Key": "k/1.json"}]).to_string();
        let ours = json!({"claim_check": {"s3_uri": "s3://bkt/k/1.json"}}).to_string();
        let expected = Payload::ClaimCheck(S3Location {
            bucket: "bkt".into(),
            key: "k/1.json".into(),
        });
        assert_eq!(decode_body(Some(&aws)).unwrap().payload, expected);
        assert_eq!(decode_body(Some(&ours)).unwrap().payload, expected);
        let broken = json!({"claim_check": {"s3_uri": "https://x"}}).to_string();
        assert_eq!(
            decode_body(Some(&broken)).unwrap_err().code(),
            codes::INVALID_ENVELOPE
        );
    }

    #[test]
    fn s3_uri_parsing() {
        assert_eq!(
            S3Location::parse("s3://bkt/a/b.mp4").unwrap().key,
            "a/b.mp4"
        );
        assert!(S3Location::parse("s3://bkt/").is_none());
        // S3's rules: these would be a 400 from S3, retried into the DLQ.
        let long_key = format!("s3://bkt/{}", "k".repeat(S3_MAX_KEY_BYTES + 1));
        for bad in [
            "s3://b/k",
            "s3://Bucket/k",
            "s3://-bkt/k",
            "s3://a..b/k",
            "s3://bk_t/k",
            &long_key,
        ] {
            assert!(S3Location::parse(bad).is_none(), "{bad}");
        }
        let longest = format!("s3://{}/{}", "b".repeat(63), "k".repeat(S3_MAX_KEY_BYTES));
        assert!(S3Location::parse(&longest).is_some());
        let pointer = json!([AWS_POINTER_CLASS, {"s3BucketName": "B", "s3Key": "k"}]).to_string();
        assert_eq!(
            decode_body(Some(&pointer)).unwrap_err().code(),
            codes::INVALID_ENVELOPE
        );
        assert!(S3Location::parse("s3:///k").is_none());
        assert!(S3Location::parse("http://b/k").is_none());
    }
}
