//! FIFO rules: records of a FIFO queue are analysed one at a time, in order, and a record
//! that fails blocks its successors (the whole batch, or only its message group), so SQS
//! redelivers them in order; a FIFO output topic gets a group and a deduplication id.

use std::collections::BTreeMap;
use std::time::Instant;

use aws_lambda_events::event::sqs::SqsMessage;

use crate::config::FifoFailureMode;
use crate::error::{codes, RecordError};

use super::outcome::RecordOutcome;
use super::record::{RecordContext, Stage};
use super::worker::Worker;
use super::BatchEngine;

impl<W: Worker> BatchEngine<W> {
    /// FIFO: one record at a time, in order; a failure blocks what follows it.
    pub(super) async fn prepare_in_order(
        &self,
        contexts: &[RecordContext<'_>],
        cutoff: Option<Instant>,
    ) -> Vec<Stage> {
        let mut stages = Vec::with_capacity(contexts.len());
        let mut blocked = Blocked::default();
        for context in contexts {
            if blocked.blocks(context, self.config.fifo_failure_mode) {
                stages.push(Stage::Done(RecordOutcome::Retry(predecessor_failed())));
                continue;
            }
            let stage = self.prepare_record(context, cutoff).await;
            if matches!(stage, Stage::Done(RecordOutcome::Retry(_))) {
                blocked.add(context);
            }
            stages.push(stage);
        }
        stages
    }

    /// A FIFO output topic's MessageGroupId: the input's group (the event id is the
    /// deduplication id); none for a standard topic.
    pub(super) fn output_group<'a>(&self, context: &RecordContext<'a>) -> Option<&'a str> {
        self.config
            .output_is_fifo
            .then(|| context.group_id.unwrap_or("default"))
    }
}

/// Which FIFO message groups (or the whole batch) are blocked by a failed record.
#[derive(Default)]
pub(super) struct Blocked {
    first_failure: Option<usize>,
    groups: BTreeMap<String, usize>,
}

impl Blocked {
    pub(super) fn add(&mut self, context: &RecordContext<'_>) {
        let index = context.index;
        self.first_failure = Some(self.first_failure.map_or(index, |f| f.min(index)));
        let group = context.group_id.unwrap_or_default().to_owned();
        let entry = self.groups.entry(group).or_insert(index);
        *entry = (*entry).min(index);
    }

    pub(super) fn blocks(&self, context: &RecordContext<'_>, mode: FifoFailureMode) -> bool {
        match mode {
            FifoFailureMode::StopAll => self.first_failure.is_some(),
            FifoFailureMode::SkipGroup => self
                .groups
                .contains_key(context.group_id.unwrap_or_default()),
        }
    }

    /// Blocked by a failure at an earlier position.
    pub(super) fn blocks_before(&self, context: &RecordContext<'_>, mode: FifoFailureMode) -> bool {
        let index = context.index;
        match mode {
            FifoFailureMode::StopAll => self.first_failure.is_some_and(|f| f < index),
            FifoFailureMode::SkipGroup => self
                .groups
                .get(context.group_id.unwrap_or_default())
                .is_some_and(|&f| f < index),
        }
    }
}

pub(super) fn predecessor_failed() -> RecordError {
    RecordError::transient(
        codes::FIFO_PREDECESSOR_FAILED,
        "an earlier record of this FIFO batch failed",
    )
}

/// A record of a FIFO queue: its queue's name ends in `.fifo`, as SQS requires of FIFO
/// queues. `MessageGroupId` alone says nothing: SQS fair queues (standard queues) carry it
/// too, and their records must not be serialised or blocked by one another.
pub(super) fn is_fifo_record(record: &SqsMessage) -> bool {
    record
        .event_source_arn
        .as_deref()
        .is_some_and(|arn| arn.ends_with(".fifo"))
}

pub(super) fn message_group(record: &SqsMessage) -> Option<&str> {
    record.attributes.get("MessageGroupId").map(String::as_str)
}
