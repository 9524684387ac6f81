//! Prepared events to SNS: PublishBatch calls of at most ten entries and 256 KiB, cut off
//! before the invocation's deadline, each entry's fate mapped back to its record, and FIFO
//! successors of a failed entry returned for retry.

use std::time::Instant;

use aws_lambda_events::event::sqs::SqsMessage;
use tracing::{info_span, Instrument};

use crate::error::{codes, RecordError};
use crate::sink::{PublishEntry, MAX_PUBLISH_BATCH, SNS_MAX_BATCH_BYTES};

use super::fifo::{predecessor_failed, Blocked};
use super::outcome::RecordOutcome;
use super::record::{Prepared, Stage};
use super::worker::Worker;
use super::{before, BatchEngine};

/// Time kept after publishing for answering Lambda: the partial batch response and the
/// metrics line.
pub(super) const PUBLISH_MARGIN: std::time::Duration = std::time::Duration::from_millis(200);

impl<W: Worker> BatchEngine<W> {
    /// Publishes prepared events in chunks of ten and maps each entry's fate to its record.
    pub(super) async fn publish(
        &self,
        records: &[SqsMessage],
        stages: Vec<Stage>,
        fifo: bool,
        cutoff: Option<Instant>,
    ) -> (Vec<RecordOutcome>, usize, usize) {
        let out_of_time = || {
            RecordError::transient(
                codes::DEADLINE_EXCEEDED,
                "the invocation deadline came before this record's event was published",
            )
        };
        let mut outcomes: Vec<Option<RecordOutcome>> = vec![None; stages.len()];
        let mut ready = Vec::new();
        let mut offloaded = 0;
        for (index, stage) in stages.into_iter().enumerate() {
            match stage {
                Stage::Done(outcome) => outcomes[index] = Some(outcome),
                Stage::Ready(prepared) => {
                    let offloaded_entry = before(cutoff, self.offload_oversized(prepared))
                        .await
                        .unwrap_or_else(|| Err(out_of_time()));
                    match offloaded_entry {
                        Ok((prepared, was_offloaded)) => {
                            offloaded += usize::from(was_offloaded);
                            ready.push((index, prepared));
                        }
                        Err(error) => outcomes[index] = Some(RecordOutcome::Retry(error)),
                    }
                }
            }
        }

        let mut calls = 0;
        let mut blocked = Blocked::default();
        if fifo {
            // Earlier records that failed analysis block their successors' publication too.
            for (index, outcome) in outcomes.iter().enumerate() {
                if matches!(outcome, Some(RecordOutcome::Retry(_))) {
                    blocked.add_at(&records[index], index);
                }
            }
        }
        // Each entry with whether it already replaces an event SNS refused.
        let mut pending: std::collections::VecDeque<(usize, Prepared, bool)> =
            ready.into_iter().map(|(i, p)| (i, p, false)).collect();
        while !pending.is_empty() {
            // A call holds at most ten entries and, together, SNS's 256 KiB: ten 32 KB
            // results are two calls, not one refused call.
            let mut chunk = Vec::with_capacity(MAX_PUBLISH_BATCH);
            let mut chunk_bytes = 0;
            while chunk.len() < MAX_PUBLISH_BATCH {
                let fits = pending.front().is_some_and(|(_, next, _)| {
                    chunk.is_empty()
                        || chunk_bytes + next.entry.billed_size() <= SNS_MAX_BATCH_BYTES
                });
                if !fits {
                    break;
                }
                let Some((index, prepared, replacement)) = pending.pop_front() else {
                    break;
                };
                // On its last receive a blocked record was made an error event already
                // (see `escalate_stage`): holding it back now would send it to the DLQ.
                if fifo
                    && !self.on_last_receive(&records[index])
                    && blocked.blocks_before(&records[index], index, self.config.fifo_failure_mode)
                {
                    outcomes[index] = Some(RecordOutcome::Retry(predecessor_failed()));
                    continue;
                }
                chunk_bytes += prepared.entry.billed_size();
                chunk.push((index, prepared, replacement));
            }
            if chunk.is_empty() {
                continue;
            }
            calls += 1;
            let entries: Vec<PublishEntry> =
                chunk.iter().map(|(_, p, _)| p.entry.clone()).collect();
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
            for ((index, prepared, replacement), result) in chunk.into_iter().zip(results) {
                outcomes[index] = Some(match result {
                    Ok(()) => RecordOutcome::Published {
                        event_id: prepared.event_id,
                        status: prepared.status,
                        error_code: prepared.error_code,
                    },
                    // SNS refused this very event and would refuse it again: an error event
                    // takes its place, so the record is answered instead of looping into
                    // the DLQ. A refused replacement is retried (it is small and ours).
                    Err(error) if !error.is_retryable() && !replacement => {
                        refused.push((index, self.replace_with_error(prepared, error)));
                        continue;
                    }
                    Err(error) => {
                        if fifo {
                            blocked.add_at(&records[index], index);
                        }
                        RecordOutcome::Retry(error.into_transient())
                    }
                });
            }
            // Next call first, ahead of anything later in a FIFO group; FIFO successors SNS
            // already accepted in this call are failed below and published again after it.
            for (index, replacement) in refused.into_iter().rev() {
                if fifo {
                    blocked.add_at(&records[index], index);
                }
                pending.push_front((index, replacement, true));
            }
            if fifo {
                // A failure inside a FIFO chunk also fails its successors that SNS accepted:
                // they will be published again, in order, under the same event ids.
                for index in 0..outcomes.len() {
                    let published =
                        matches!(outcomes[index], Some(RecordOutcome::Published { .. }));
                    if published
                        && !self.on_last_receive(&records[index])
                        && blocked.blocks_before(
                            &records[index],
                            index,
                            self.config.fifo_failure_mode,
                        )
                    {
                        outcomes[index] = Some(RecordOutcome::Retry(predecessor_failed()));
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
        (outcomes, calls, offloaded)
    }
}
