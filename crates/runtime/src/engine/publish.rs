//! Prepared events to SNS: PublishBatch calls of at most ten entries and 256 KiB, cut off
//! before the invocation's deadline, each entry's fate mapped back to its record, and FIFO
//! successors of a failed entry returned for retry.

use std::collections::VecDeque;
use std::time::Instant;

use tracing::{info_span, Instrument};

use crate::error::{codes, RecordError};
use crate::sink::{PublishEntry, MAX_PUBLISH_BATCH, SNS_MAX_BATCH_BYTES};

use super::fifo::{predecessor_failed, Blocked};
use super::outcome::RecordOutcome;
use super::prepared::Prepared;
use super::record::{RecordContext, Stage};
use super::worker::Worker;
use super::{before, BatchEngine};

/// Time kept after publishing for answering Lambda: the partial batch response and the
/// metrics line.
pub(super) const PUBLISH_MARGIN: std::time::Duration = std::time::Duration::from_millis(200);

/// What publishing a batch's events came to.
pub(super) struct PublishSummary {
    /// One per record, in batch order.
    pub(super) outcomes: Vec<RecordOutcome>,
    /// PublishBatch calls made.
    pub(super) calls: usize,
}

/// An event waiting for its PublishBatch call.
struct Pending {
    index: usize,
    prepared: Prepared,
    /// It already replaces an event SNS refused.
    replacement: bool,
}

impl<W: Worker> BatchEngine<W> {
    /// Publishes prepared events in chunks of ten and maps each entry's fate to its record.
    pub(super) async fn publish(
        &self,
        contexts: &[RecordContext<'_>],
        stages: Vec<Stage>,
        fifo: bool,
        cutoff: Option<Instant>,
    ) -> PublishSummary {
        let out_of_time = || {
            RecordError::transient(
                codes::DEADLINE_EXCEEDED,
                "the invocation deadline came before this record's event was published",
            )
        };
        let mut outcomes: Vec<Option<RecordOutcome>> = vec![None; stages.len()];
        let mut pending = VecDeque::new();
        for (index, stage) in stages.into_iter().enumerate() {
            match stage {
                Stage::Done(outcome) => outcomes[index] = Some(outcome),
                Stage::Ready(prepared) => pending.push_back(Pending {
                    index,
                    prepared,
                    replacement: false,
                }),
            }
        }

        let mut calls = 0;
        let mut blocked = Blocked::default();
        if fifo {
            // Earlier records that failed block their successors' publication too.
            for (context, outcome) in contexts.iter().zip(&outcomes) {
                if matches!(outcome, Some(RecordOutcome::Retry(_))) {
                    blocked.add(context);
                }
            }
        }
        // On its last receive a blocked record was made an error event already (see
        // `escalate_stage`): holding it back now would send it to the DLQ.
        let held_back = |blocked: &Blocked, context: &RecordContext<'_>| {
            fifo && !context.last_receive
                && blocked.blocks_before(context, self.config.fifo_failure_mode)
        };
        while !pending.is_empty() {
            // A call holds at most ten entries and, together, SNS's 256 KiB: ten 32 KB
            // results are two calls, not one refused call.
            let mut chunk: Vec<Pending> = Vec::with_capacity(MAX_PUBLISH_BATCH);
            let mut chunk_bytes = 0;
            while chunk.len() < MAX_PUBLISH_BATCH {
                let fits = pending.front().is_some_and(|next| {
                    chunk.is_empty()
                        || chunk_bytes + next.prepared.billed_size() <= SNS_MAX_BATCH_BYTES
                });
                if !fits {
                    break;
                }
                let Some(next) = pending.pop_front() else {
                    break;
                };
                if held_back(&blocked, &contexts[next.index]) {
                    outcomes[next.index] = Some(RecordOutcome::Retry(predecessor_failed()));
                    continue;
                }
                chunk_bytes += next.prepared.billed_size();
                chunk.push(next);
            }
            if chunk.is_empty() {
                continue;
            }
            calls += 1;
            let entries: Vec<PublishEntry> = chunk
                .iter()
                .map(|p| {
                    let group = self.output_group(&contexts[p.index]);
                    p.prepared.entry(p.index, group)
                })
                .collect();
            let count = entries.len();
            // Cut short, the call may still have published: the retry publishes again
            // under the same event ids, which consumers de-duplicate.
            let publish = self
                .sink
                .publish_batch(entries)
                .instrument(info_span!("sns.publish_batch", entries = count));
            let results = before(cutoff, publish)
                .await
                .unwrap_or_else(|| (0..count).map(|_| Err(out_of_time())).collect());
            let mut refused = Vec::new();
            for (sent, result) in chunk.into_iter().zip(results) {
                let index = sent.index;
                outcomes[index] = Some(match result {
                    Ok(()) => RecordOutcome::Published {
                        event_id: sent.prepared.event_id().to_owned(),
                        status: sent.prepared.status(),
                        error_code: sent.prepared.error_code,
                    },
                    // SNS refused this very event and would refuse it again: an error event
                    // takes its place, so the record is answered instead of looping into
                    // the DLQ. A refused replacement is retried (it is small and ours).
                    Err(error) if !error.is_retryable() && !sent.replacement => {
                        match self.refused_event(sent.prepared, &error) {
                            Stage::Ready(replacement) => {
                                refused.push((index, replacement));
                                continue;
                            }
                            Stage::Done(outcome) => outcome,
                        }
                    }
                    Err(error) => {
                        if fifo {
                            blocked.add(&contexts[index]);
                        }
                        RecordOutcome::Retry(error.into_transient())
                    }
                });
            }
            // Next call first, ahead of anything later in a FIFO group; FIFO successors SNS
            // already accepted in this call are failed below and published again after it.
            for (index, prepared) in refused.into_iter().rev() {
                if fifo {
                    blocked.add(&contexts[index]);
                }
                pending.push_front(Pending {
                    index,
                    prepared,
                    replacement: true,
                });
            }
            if fifo {
                // A failure inside a FIFO chunk also fails its successors that SNS accepted:
                // they will be published again, in order, under the same event ids.
                for (context, outcome) in contexts.iter().zip(outcomes.iter_mut()) {
                    let published = matches!(outcome, Some(RecordOutcome::Published { .. }));
                    if published && held_back(&blocked, context) {
                        *outcome = Some(RecordOutcome::Retry(predecessor_failed()));
                    }
                }
            }
        }
        let outcomes = outcomes
            .into_iter()
            .map(|o| {
                o.unwrap_or_else(|| {
                    RecordOutcome::Retry(RecordError::transient(
                        codes::PUBLISH_FAILED,
                        "record was never published",
                    ))
                })
            })
            .collect();
        PublishSummary { outcomes, calls }
    }
}
