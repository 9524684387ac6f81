//! An optional idempotency store with Powertools' semantics, so a duplicate delivery costs
//! one DynamoDB call instead of a model run.
//!
//! Before a record is analysed the engine *claims* its key: a conditional PutItem writes an
//! `INPROGRESS` item that expires with the invocation (so a crashed or timed-out attempt
//! frees the key by itself). If the key is taken, DynamoDB returns the item that holds it
//! in the same call (`ReturnValuesOnConditionCheckFailure`):
//! - `COMPLETED` with the same payload hash: the stored event is published again, with its
//!   `event_id`, and nothing is recomputed;
//! - `COMPLETED` or `INPROGRESS` with another payload hash: the key was reused for different
//!   content (`idempotency_key_reused`, permanent);
//! - `INPROGRESS` and not expired: another invocation is on it; the record is retried.
//!
//! When the record is done the item becomes `COMPLETED` with the event (an error event too:
//! a bad input is not re-analysed either); when it is to be retried the claim is deleted.
//! Items carry `expiration` (epoch seconds) for the table's TTL.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};

use crate::event::Status;
use crate::settings::{ConfigError, Env};

/// How the store is set up: `IDEMPOTENCY_TABLE` turns it on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyConfig {
    /// `IDEMPOTENCY_TABLE`: the DynamoDB table's name.
    pub table: String,
    /// Top-level input fields (strings or numbers) that make the key, in this order
    /// (`IDEMPOTENCY_KEY_FIELDS`, comma-separated). Empty: the whole content (the digest the
    /// `event_id` is derived from).
    pub key_fields: Vec<String>,
    /// How long a completed result is kept (`IDEMPOTENCY_TTL_SECONDS`, default 1 hour).
    pub ttl: Duration,
}

impl IdempotencyConfig {
    /// Reads the settings; `None` when `IDEMPOTENCY_TABLE` is unset.
    pub fn from_env<F: Fn(&str) -> Option<String>>(
        env: &Env<F>,
    ) -> Result<Option<Self>, ConfigError> {
        let Some(table) = env.text("IDEMPOTENCY_TABLE") else {
            return Ok(None);
        };
        Ok(Some(Self {
            table,
            key_fields: env.list("IDEMPOTENCY_KEY_FIELDS"),
            ttl: Duration::from_secs(env.positive("IDEMPOTENCY_TTL_SECONDS", 3600)?),
        }))
    }
}

/// The event a completed record published, kept to publish again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredResult {
    /// The published event's id.
    pub event_id: String,
    /// Its status.
    pub status: Status,
    /// The SNS message (the event JSON) and its attributes.
    pub message: String,
    /// The message attributes, by name.
    pub attributes: Vec<(String, String)>,
}

/// What a claim found.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// The key is ours: analyse the record.
    Granted,
    /// Done before with the same payload: publish this again.
    Completed(StoredResult),
    /// Another invocation holds the key and has time left.
    InProgress,
    /// The key was used for a different payload.
    PayloadMismatch,
}

/// The store could not be read or written; the record is retried.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("idempotency store: {0}")]
pub struct StoreFailure(pub String);

/// The claims a record goes through; DynamoDB in production ([`DynamoDbStore`]).
pub trait IdempotencyStore: Send + Sync {
    /// Claims `key` for a record whose payload hashes to `payload_hash`, until
    /// `in_progress_until_ms` (epoch milliseconds: the invocation's deadline).
    fn claim<'a>(
        &'a self,
        key: &'a str,
        payload_hash: &'a str,
        in_progress_until_ms: u64,
    ) -> BoxFuture<'a, Result<Claim, StoreFailure>>;

    /// Marks `key` done, with the event it published.
    fn complete<'a>(
        &'a self,
        key: &'a str,
        payload_hash: &'a str,
        result: &'a StoredResult,
    ) -> BoxFuture<'a, Result<(), StoreFailure>>;

    /// Gives a claim up, so the record's retry may claim it again.
    fn release<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), StoreFailure>>;
}

const IN_PROGRESS: &str = "INPROGRESS";
const COMPLETED: &str = "COMPLETED";

/// The store on a DynamoDB table whose partition key is the string attribute `id` and
/// whose TTL attribute is `expiration` (the template's `IdempotencyTable`).
pub struct DynamoDbStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
    ttl: Duration,
}

impl DynamoDbStore {
    /// The store on `config.table`, keeping results for `config.ttl`.
    pub fn new(client: aws_sdk_dynamodb::Client, config: &IdempotencyConfig) -> Self {
        Self {
            client,
            table: config.table.clone(),
            ttl: config.ttl,
        }
    }
}

fn now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

fn failure(operation: &str, error: impl std::error::Error) -> StoreFailure {
    StoreFailure(format!(
        "{operation}: {}",
        aws_sdk_dynamodb::error::DisplayErrorContext(error)
    ))
}

fn string(item: &std::collections::HashMap<String, AttributeValue>, name: &str) -> Option<String> {
    item.get(name)?.as_s().ok().cloned()
}

impl IdempotencyStore for DynamoDbStore {
    fn claim<'a>(
        &'a self,
        key: &'a str,
        payload_hash: &'a str,
        in_progress_until_ms: u64,
    ) -> BoxFuture<'a, Result<Claim, StoreFailure>> {
        Box::pin(async move {
            let now = now();
            let result = self
                .client
                .put_item()
                .table_name(&self.table)
                .item("id", AttributeValue::S(key.to_owned()))
                .item("status", AttributeValue::S(IN_PROGRESS.to_owned()))
                .item("payload_hash", AttributeValue::S(payload_hash.to_owned()))
                .item(
                    "in_progress_expiration",
                    AttributeValue::N(in_progress_until_ms.to_string()),
                )
                .item(
                    "expiration",
                    AttributeValue::N((now + self.ttl).as_secs().to_string()),
                )
                // Free, expired (TTL deletion lags by up to days), or an in-progress claim
                // whose invocation has ended.
                .condition_expression(
                    "attribute_not_exists(id) OR expiration < :now_s \
                     OR (#status = :in_progress AND in_progress_expiration < :now_ms)",
                )
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":now_s", AttributeValue::N(now.as_secs().to_string()))
                .expression_attribute_values(
                    ":now_ms",
                    AttributeValue::N(now.as_millis().to_string()),
                )
                .expression_attribute_values(
                    ":in_progress",
                    AttributeValue::S(IN_PROGRESS.to_owned()),
                )
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .send()
                .await;
            let error = match result {
                Ok(_) => return Ok(Claim::Granted),
                Err(error) => error,
            };
            let Some(held) = error
                .as_service_error()
                .filter(|e| e.is_conditional_check_failed_exception())
                .map(|e| match e {
                    aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(
                        failed,
                    ) => failed.item().cloned().unwrap_or_default(),
                    _ => Default::default(),
                })
            else {
                return Err(failure("PutItem", error));
            };
            if string(&held, "payload_hash").as_deref() != Some(payload_hash) {
                return Ok(Claim::PayloadMismatch);
            }
            match string(&held, "status").as_deref() {
                Some(COMPLETED) => {
                    let data = string(&held, "data").unwrap_or_default();
                    serde_json::from_str(&data)
                        .map(Claim::Completed)
                        .map_err(|e| StoreFailure(format!("stored result of {key}: {e}")))
                }
                // Held by a live invocation (an expired claim would have been taken over);
                // the retry, after the visibility timeout, finds it done or expired.
                _ => Ok(Claim::InProgress),
            }
        })
    }

    fn complete<'a>(
        &'a self,
        key: &'a str,
        payload_hash: &'a str,
        result: &'a StoredResult,
    ) -> BoxFuture<'a, Result<(), StoreFailure>> {
        Box::pin(async move {
            let data = serde_json::to_string(result)
                .map_err(|e| StoreFailure(format!("serialising the result of {key}: {e}")))?;
            self.client
                .put_item()
                .table_name(&self.table)
                .item("id", AttributeValue::S(key.to_owned()))
                .item("status", AttributeValue::S(COMPLETED.to_owned()))
                .item("payload_hash", AttributeValue::S(payload_hash.to_owned()))
                .item(
                    "expiration",
                    AttributeValue::N((now() + self.ttl).as_secs().to_string()),
                )
                .item("data", AttributeValue::S(data))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| failure("PutItem", e))
        })
    }

    fn release<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), StoreFailure>> {
        Box::pin(async move {
            self.client
                .delete_item()
                .table_name(&self.table)
                .key("id", AttributeValue::S(key.to_owned()))
                // Only our own claim: a completed item is never removed by a late release.
                .condition_expression("#status = :in_progress")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(
                    ":in_progress",
                    AttributeValue::S(IN_PROGRESS.to_owned()),
                )
                .send()
                .await
                .map(|_| ())
                .or_else(|error| {
                    let not_ours = error
                        .as_service_error()
                        .is_some_and(|e| e.is_conditional_check_failed_exception());
                    if not_ours {
                        Ok(())
                    } else {
                        Err(failure("DeleteItem", error))
                    }
                })
        })
    }
}

/// The DynamoDB store `settings` ask for (none when idempotency is off), on the clients'
/// shared AWS config.
pub fn dynamodb_store(
    settings: Option<&IdempotencyConfig>,
    sdk: &aws_config::SdkConfig,
) -> Option<std::sync::Arc<dyn IdempotencyStore>> {
    settings.map(|settings| {
        std::sync::Arc::new(DynamoDbStore::new(
            aws_sdk_dynamodb::Client::new(sdk),
            settings,
        )) as std::sync::Arc<dyn IdempotencyStore>
    })
}

/// The item key for one record: `<worker>#<hex sha256 of the key material>`.
pub fn item_key(worker: &str, material: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    format!("{worker}#{}", hex::encode(Sha256::digest(material)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_is_off_unless_a_table_is_named() {
        let read = |pairs: &[(&str, &str)]| {
            IdempotencyConfig::from_env(&Env::new(crate::settings::lookup_in(pairs)))
        };
        assert_eq!(read(&[]), Ok(None));
        let config = read(&[
            ("IDEMPOTENCY_TABLE", "idem"),
            ("IDEMPOTENCY_KEY_FIELDS", "video_id, caption"),
            ("IDEMPOTENCY_TTL_SECONDS", "60"),
        ])
        .expect("readable")
        .expect("on");
        assert_eq!(config.table, "idem");
        assert_eq!(config.key_fields, ["video_id", "caption"]);
        assert_eq!(config.ttl, Duration::from_secs(60));
        let defaults = read(&[("IDEMPOTENCY_TABLE", "t")])
            .expect("readable")
            .expect("on");
        assert!(defaults.key_fields.is_empty());
        assert_eq!(defaults.ttl, Duration::from_secs(3600));
        // A TTL that cannot be read stops the function; it was an hour, silently.
        assert!(matches!(
            read(&[
                ("IDEMPOTENCY_TABLE", "t"),
                ("IDEMPOTENCY_TTL_SECONDS", "1h")
            ]),
            Err(ConfigError::Invalid {
                name: "IDEMPOTENCY_TTL_SECONDS",
                ..
            })
        ));
    }

    #[test]
    fn keys_name_the_worker_and_hash_the_material() {
        let key = item_key("caption-parser", b"abc");
        assert!(key.starts_with("caption-parser#"));
        assert_eq!(key.len(), "caption-parser#".len() + 64);
        assert_ne!(key, item_key("auto-tagger", b"abc"));
        assert_ne!(key, item_key("caption-parser", b"abd"));
    }
}
