//! Runs event source mappings until their queues are empty, as a local run or a test needs.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::QueueAttributeName;

use crate::mapping::{EventSourceMapping, MappingError, MappingStats};

/// A queue's approximate message counts, as SQS reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueDepth {
    /// Messages waiting to be received.
    pub visible: u64,
    /// Messages received and not yet deleted or made visible again.
    pub in_flight: u64,
}

impl QueueDepth {
    /// Everything still in the queue, visible or not.
    pub fn total(self) -> u64 {
        self.visible + self.in_flight
    }
}

/// The depth of the queue at `url` (both approximate counts in one `GetQueueAttributes`).
pub async fn queue_depth(sqs: &aws_sdk_sqs::Client, url: &str) -> Result<QueueDepth, MappingError> {
    let response = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .map_err(|e| MappingError::Sqs {
            operation: "GetQueueAttributes",
            queue: url.to_owned(),
            message: crate::errors::describe(&e),
        })?;
    let attribute = |name: QueueAttributeName| -> u64 {
        response
            .attributes()
            .and_then(|a| a.get(&name))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    Ok(QueueDepth {
        visible: attribute(QueueAttributeName::ApproximateNumberOfMessages),
        in_flight: attribute(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
    })
}

/// How a drain runs: how many pollers, for how long, how often it looks.
#[derive(Debug, Clone)]
pub struct DrainOptions {
    /// Concurrent pollers per mapping (Lambda's concurrency for one queue).
    pub pollers: usize,
    /// Give up after this long, even if records remain.
    pub max_duration: Duration,
    /// How often queue depths are checked (and progress reported).
    pub check_every: Duration,
}

impl Default for DrainOptions {
    fn default() -> Self {
        Self {
            pollers: 2,
            max_duration: Duration::from_secs(120),
            check_every: Duration::from_millis(500),
        }
    }
}

/// What a drain did, for the demo's summary and the tests' assertions.
#[derive(Debug, Clone)]
pub struct DrainReport {
    /// Per mapping, in the order given.
    pub stats: Vec<MappingStats>,
    /// True when every source queue emptied; false when `max_duration` ran out.
    pub drained: bool,
    /// Wall time from the first poll to the last check.
    pub elapsed: Duration,
}

/// Runs every mapping until all their source queues are empty (nothing visible, nothing
/// in flight) on two checks in a row, or until `max_duration`. `progress` gets each
/// mapping's stats and queue depth at every check.
pub async fn run_until_drained(
    mappings: &[Arc<EventSourceMapping>],
    sqs: &aws_sdk_sqs::Client,
    options: &DrainOptions,
    mut progress: impl FnMut(&[(MappingStats, QueueDepth)]),
) -> Result<DrainReport, MappingError> {
    let started = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let mut pollers = Vec::new();
    for mapping in mappings {
        for _ in 0..options.pollers.max(1) {
            let mapping = mapping.clone();
            let stop = stop.clone();
            pollers.push(tokio::spawn(async move { mapping.run(&stop).await }));
        }
    }

    let mut empty_checks = 0;
    let mut drained = false;
    let mut failure = None;
    while started.elapsed() < options.max_duration {
        tokio::time::sleep(options.check_every).await;
        if let Some(finished) = pollers.iter().position(|p| p.is_finished()) {
            // A poller only stops early on an SQS error; surface it.
            match pollers.swap_remove(finished).await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => {
                    failure = Some(error);
                    break;
                }
                Err(join) => {
                    failure = Some(MappingError::PollerCrashed(join.to_string()));
                    break;
                }
            }
        }
        let mut snapshot = Vec::with_capacity(mappings.len());
        for mapping in mappings {
            snapshot.push((
                mapping.stats(),
                queue_depth(sqs, &mapping.queue().url).await?,
            ));
        }
        progress(&snapshot);
        if snapshot.iter().all(|(_, depth)| depth.total() == 0) {
            empty_checks += 1;
            if empty_checks >= 2 {
                drained = true;
                break;
            }
        } else {
            empty_checks = 0;
        }
    }
    stop.store(true, Ordering::Relaxed);
    for poller in pollers {
        match poller.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                failure.get_or_insert(error);
            }
            Err(join) => {
                failure.get_or_insert(MappingError::PollerCrashed(join.to_string()));
            }
        }
    }
    if let Some(error) = failure {
        return Err(error);
    }
    Ok(DrainReport {
        stats: mappings.iter().map(|m| m.stats()).collect(),
        drained,
        elapsed: started.elapsed(),
    })
}
