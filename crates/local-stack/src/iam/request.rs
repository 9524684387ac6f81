//! Which IAM action, resource and condition keys an SDK request asks for, read from the HTTP
//! request as AWS reads it: S3 by method and path (path-style, as the local stack addresses
//! it), SNS by its query-protocol `Action`, DynamoDB and SQS by `X-Amz-Target`.

use std::collections::BTreeMap;

use super::policy::Access;

/// Account and region the emulator answers for (moto's defaults); ARNs are built with them.
pub const ACCOUNT: &str = "123456789012";

/// The service a request went to, for the shape of its error response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// REST-XML.
    S3,
    /// AWS query protocol (XML errors), or JSON when the SDK sends it.
    Sns {
        /// Whether the SDK spoke JSON (query-compatible) rather than the query protocol.
        json: bool,
    },
    /// JSON 1.0.
    DynamoDb,
    /// JSON 1.0.
    Sqs,
}

/// A request classified: the service and what it asks IAM for. `access` is `None` for a
/// request the classifier does not know, which the role is then denied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classified {
    /// The service.
    pub service: Service,
    /// What it asks for.
    pub access: Option<Access>,
}

/// `hash_keys`: table name → its partition key attribute (for `dynamodb:LeadingKeys`).
pub fn classify(
    method: &str,
    uri: &str,
    target: Option<&str>,
    content_type: Option<&str>,
    body: Option<&[u8]>,
    region: &str,
    hash_keys: &BTreeMap<String, String>,
) -> Classified {
    if let Some(target) = target {
        let body: serde_json::Value = body
            .and_then(|b| serde_json::from_slice(b).ok())
            .unwrap_or_default();
        if let Some(operation) = target.strip_prefix("DynamoDB_20120810.") {
            return Classified {
                service: Service::DynamoDb,
                access: dynamodb(operation, &body, region, hash_keys),
            };
        }
        if let Some(operation) = target.strip_prefix("AmazonSQS.") {
            let queue = body["QueueUrl"]
                .as_str()
                .and_then(|url| url.rsplit('/').next());
            return Classified {
                service: Service::Sqs,
                access: queue.map(|name| Access {
                    action: format!("sqs:{operation}"),
                    resource: format!("arn:aws:sqs:{region}:{ACCOUNT}:{name}"),
                    context: BTreeMap::new(),
                }),
            };
        }
        if let Some(operation) = target.strip_prefix("AmazonSimpleNotificationService.") {
            return Classified {
                service: Service::Sns { json: true },
                access: sns(operation, body["TopicArn"].as_str()),
            };
        }
    }
    if content_type.is_some_and(|c| c.starts_with("application/x-www-form-urlencoded")) {
        let form = form_fields(body.unwrap_or_default());
        let operation = form.get("Action").map(String::as_str).unwrap_or_default();
        return Classified {
            service: Service::Sns { json: false },
            access: sns(operation, form.get("TopicArn").map(String::as_str)),
        };
    }
    Classified {
        service: Service::S3,
        access: s3(method, uri),
    }
}

fn sns(operation: &str, topic_arn: Option<&str>) -> Option<Access> {
    // PublishBatch is authorised as sns:Publish.
    let action = match operation {
        "PublishBatch" => "Publish",
        other => other,
    };
    Some(Access {
        action: format!("sns:{action}"),
        resource: topic_arn?.to_owned(),
        context: BTreeMap::new(),
    })
}

fn dynamodb(
    operation: &str,
    body: &serde_json::Value,
    region: &str,
    hash_keys: &BTreeMap<String, String>,
) -> Option<Access> {
    let table = body["TableName"].as_str()?;
    let mut context = BTreeMap::new();
    if let Some(hash_key) = hash_keys.get(table) {
        // The partition key value the request touches: its Key, or the Item it writes.
        let item = if body["Key"].is_object() {
            &body["Key"]
        } else {
            &body["Item"]
        };
        if let Some(value) = item[hash_key]["S"].as_str() {
            context.insert("dynamodb:LeadingKeys".to_owned(), vec![value.to_owned()]);
        }
    }
    Some(Access {
        action: format!("dynamodb:{operation}"),
        resource: format!("arn:aws:dynamodb:{region}:{ACCOUNT}:table/{table}"),
        context,
    })
}

fn s3(method: &str, uri: &str) -> Option<Access> {
    let after_scheme = uri.split_once("://").map_or(uri, |(_, rest)| rest);
    let path_and_query = after_scheme.find('/').map_or("/", |at| &after_scheme[at..]);
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let query = form_fields(query.as_bytes());
    let path = percent_decode(path.trim_start_matches('/'));
    let (bucket, key) = match path.split_once('/') {
        Some((bucket, key)) if !key.is_empty() => (bucket.to_owned(), Some(key.to_owned())),
        _ => (path.trim_end_matches('/').to_owned(), None),
    };
    if bucket.is_empty() {
        return None;
    }
    let (action, resource, context) = match (method, key) {
        ("GET" | "HEAD", Some(key)) => ("GetObject", format!("{bucket}/{key}"), BTreeMap::new()),
        ("PUT", Some(key)) => ("PutObject", format!("{bucket}/{key}"), BTreeMap::new()),
        ("DELETE", Some(key)) => ("DeleteObject", format!("{bucket}/{key}"), BTreeMap::new()),
        ("GET", None) if query.contains_key("list-type") || query.is_empty() => {
            let mut context = BTreeMap::new();
            if let Some(prefix) = query.get("prefix") {
                context.insert("s3:prefix".to_owned(), vec![prefix.clone()]);
            }
            ("ListBucket", bucket, context)
        }
        ("GET", None) if query.contains_key("location") => {
            ("GetBucketLocation", bucket, BTreeMap::new())
        }
        _ => return None,
    };
    Some(Access {
        action: format!("s3:{action}"),
        resource: format!("arn:aws:s3:::{resource}"),
        context,
    })
}

/// `a=1&b=x%3Ay` (a form body or a query string) as a map.
fn form_fields(body: &[u8]) -> BTreeMap<String, String> {
    String::from_utf8_lossy(body)
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (
                percent_decode(&name.replace('+', " ")),
                percent_decode(&value.replace('+', " ")),
            )
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify_plain(method: &str, uri: &str) -> Option<Access> {
        classify(method, uri, None, None, None, "us-east-1", &BTreeMap::new()).access
    }

    #[test]
    fn s3_requests_by_method_and_path() {
        let get = classify_plain(
            "GET",
            "http://127.0.0.1:5000/media-bucket/documents/a%20b.txt?x-id=GetObject",
        )
        .expect("known");
        assert_eq!(get.action, "s3:GetObject");
        assert_eq!(get.resource, "arn:aws:s3:::media-bucket/documents/a b.txt");
        let put = classify_plain("PUT", "http://h/thumbs/thumbnails/v/1.jpg").expect("known");
        assert_eq!(
            (put.action.as_str(), put.resource.as_str()),
            ("s3:PutObject", "arn:aws:s3:::thumbs/thumbnails/v/1.jpg")
        );
        let list = classify_plain(
            "GET",
            "http://h/media-bucket?list-type=2&prefix=documents%2Fx",
        )
        .expect("known");
        assert_eq!(list.action, "s3:ListBucket");
        assert_eq!(list.resource, "arn:aws:s3:::media-bucket");
        assert_eq!(list.context["s3:prefix"], vec!["documents/x".to_owned()]);
        assert_eq!(classify_plain("POST", "http://h/media-bucket?delete"), None);
    }

    #[test]
    fn sns_by_action_and_dynamodb_by_target_with_leading_keys() {
        let publish = classify(
            "POST",
            "http://h/",
            None,
            Some("application/x-www-form-urlencoded"),
            Some(b"Action=PublishBatch&Version=2010-03-31&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A123456789012%3Aout"),
            "us-east-1",
            &BTreeMap::new(),
        );
        assert_eq!(publish.service, Service::Sns { json: false });
        let access = publish.access.expect("known");
        assert_eq!(access.action, "sns:Publish");
        assert_eq!(access.resource, "arn:aws:sns:us-east-1:123456789012:out");
        let keys = BTreeMap::from([("idempotency-table".to_owned(), "id".to_owned())]);
        let put = classify(
            "POST",
            "http://h/",
            Some("DynamoDB_20120810.PutItem"),
            Some("application/x-amz-json-1.0"),
            Some(br#"{"TableName":"idempotency-table","Item":{"id":{"S":"caption-parser#ab"},"status":{"S":"x"}}}"#),
            "us-east-1",
            &keys,
        );
        let access = put.access.expect("known");
        assert_eq!(access.action, "dynamodb:PutItem");
        assert_eq!(
            access.resource,
            "arn:aws:dynamodb:us-east-1:123456789012:table/idempotency-table"
        );
        assert_eq!(
            access.context["dynamodb:LeadingKeys"],
            vec!["caption-parser#ab".to_owned()]
        );
    }
}
