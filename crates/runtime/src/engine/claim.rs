//! The idempotency claim around a record's analysis: claimed before `process`, settled after
//! it whichever way it ended (see [`crate::idempotency`] for the store's side).

use std::time::{Duration, Instant};

use serde_json::Value;
use tracing::{info_span, warn, Instrument};

use crate::idempotency::{item_key, Claim, IdempotencyStore, StoredResult};

use super::record::Stage;

/// Longest wait for settling a claim: it may run after the cutoff (the analysis ran into
/// it), and a store that hangs must not hold the batch past the invocation. A claim left
/// unsettled lapses with the invocation, costing at most a second analysis.
pub(super) const SETTLE_TIMEOUT: Duration = Duration::from_millis(1_000);

/// The largest stored result (message and attributes) kept in the store: DynamoDB refuses
/// items over 400 KB, key and bookkeeping attributes included.
pub(super) const MAX_STORED_RESULT_BYTES: usize = 380 * 1024;

/// An idempotency key this record holds in the store, and its payload's hash.
pub(super) struct HeldClaim {
    pub(super) key: String,
    pub(super) payload_hash: String,
}

/// What the store said to a claim.
pub(super) enum ClaimAnswer {
    /// The key is this record's until it is settled.
    Granted(HeldClaim),
    /// Published before: the stored result is published again.
    Completed(StoredResult),
    /// Another invocation holds the key now.
    InProgress,
    /// The key was used before for other content.
    KeyReused,
    /// The store could not be asked.
    Unavailable(String),
}

/// Claims `material`'s key for `worker`, holding it until the invocation's deadline.
pub(super) async fn claim(
    store: &dyn IdempotencyStore,
    worker: &str,
    material: &[u8],
    payload_hash: String,
    until_ms: u64,
) -> ClaimAnswer {
    let held = HeldClaim {
        key: item_key(worker, material),
        payload_hash,
    };
    let answer = store
        .claim(&held.key, &held.payload_hash, until_ms)
        .instrument(info_span!(
            "dynamodb.put_item",
            purpose = "idempotency_claim"
        ))
        .await;
    match answer {
        Ok(Claim::Granted) => ClaimAnswer::Granted(held),
        Ok(Claim::Completed(stored)) => ClaimAnswer::Completed(stored),
        Ok(Claim::InProgress) => ClaimAnswer::InProgress,
        Ok(Claim::PayloadMismatch) => ClaimAnswer::KeyReused,
        Err(failure) => ClaimAnswer::Unavailable(failure.to_string()),
    }
}

/// A finished record's claim becomes its stored result; a record to be retried gives its
/// claim up so the retry can take it. A store that fails here costs at most a second
/// analysis (the claim expires with the invocation), so it is logged, not fatal.
///
/// A result too large for a DynamoDB item (results over SNS's limit are offloaded to S3
/// after this, and the full event is what is stored) gives its claim up too: completing it
/// failed, which left the key in progress and every duplicate retried until it lapsed.
pub(super) async fn settle(store: &dyn IdempotencyStore, claim: HeldClaim, stage: &Stage) {
    let settled = match stage {
        Stage::Ready(prepared) if prepared.billed_size() > MAX_STORED_RESULT_BYTES => {
            warn!(
                bytes = prepared.billed_size(),
                "result too large to store for idempotency; claim released"
            );
            store.release(&claim.key).await
        }
        Stage::Ready(prepared) => {
            let stored = StoredResult {
                event_id: prepared.event_id().to_owned(),
                status: prepared.status(),
                message: prepared.message().to_owned(),
                attributes: prepared.attributes(),
            };
            store
                .complete(&claim.key, &claim.payload_hash, &stored)
                .await
        }
        Stage::Done(_) => store.release(&claim.key).await,
    };
    if let Err(failure) = settled {
        warn!(%failure, "idempotency record not updated");
    }
}

/// The key fields' values in order, as a JSON array; `None` when one is missing or not a
/// string or number (the key then falls back to the whole content).
pub(super) fn chosen_fields(value: &Value, names: &[&str]) -> Option<Value> {
    names
        .iter()
        .map(|name| match value.get(*name) {
            Some(found @ (Value::String(_) | Value::Number(_))) => Some(found.clone()),
            _ => None,
        })
        .collect::<Option<Vec<Value>>>()
        .map(Value::Array)
}

/// When an in-progress claim lapses: the invocation's deadline (the cutoff plus the margin
/// kept before it), as epoch milliseconds; 15 minutes (Lambda's longest) without one.
pub(super) fn in_progress_until_ms(cutoff: Option<Instant>, margin: Duration) -> u64 {
    let left = cutoff.map_or(Duration::from_secs(900), |c| {
        c.saturating_duration_since(Instant::now()) + margin
    });
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    (now + left).as_millis() as u64
}
