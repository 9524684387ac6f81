//! A bounded pool for CPU-bound analysis, so I/O stays concurrent while CPU work
//! never oversubscribes the function's vCPUs.

use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::error::{codes, RecordError};

/// Runs CPU-bound closures on blocking threads, at most one per permit.
#[derive(Debug, Clone)]
pub struct CpuPool {
    permits: Arc<Semaphore>,
}

impl CpuPool {
    /// A pool of `workers` permits (at least one).
    pub fn new(workers: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(workers.max(1))),
        }
    }

    /// One worker per vCPU the process may use.
    pub fn per_vcpu() -> Self {
        Self::new(
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
        )
    }

    /// Runs `work` on the blocking pool; a panic inside becomes a retryable record error.
    pub async fn run<T, F>(&self, work: F) -> Result<T, RecordError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        self.run_holding((), work).await
    }

    /// [`run`](Self::run), keeping `held` (a permit of some other budget, such as a media
    /// slot) until `work` has really ended: if the caller is cancelled at its deadline, the
    /// work runs on, and so must the budget it uses stay taken.
    pub async fn run_holding<T, F, H>(&self, held: H, work: F) -> Result<T, RecordError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
        H: Send + 'static,
    {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| RecordError::transient(codes::PANIC, "CPU pool closed"))?;
        // The permit moves into the blocking task: when the record's future is dropped (its
        // deadline passed) the work cannot be stopped and runs on, and its vCPU stays taken
        // until it ends, so the next invocation's records wait instead of oversubscribing.
        // The work runs under the record's span on the blocking thread too, so its own
        // spans (a model forward, say) nest under the record in logs and traces.
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let _held = held;
            span.in_scope(work)
        })
        .await
        .map_err(|join_error| {
            RecordError::transient(
                codes::PANIC,
                format!("analysis panicked: {}", panic_message(join_error)),
            )
        })
    }
}

fn panic_message(error: tokio::task::JoinError) -> String {
    match error.try_into_panic() {
        Ok(payload) => crate::error::describe_panic(payload.as_ref()),
        Err(error) => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn cancelled_work_keeps_its_vcpu_until_it_ends() {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::Arc;
        use std::time::Duration;
        let pool = CpuPool::new(1);
        let first_done = Arc::new(AtomicBool::new(false));
        let done = first_done.clone();
        let cancelled = tokio::time::timeout(
            Duration::from_millis(20),
            pool.run(move || {
                std::thread::sleep(Duration::from_millis(300));
                done.store(true, Ordering::SeqCst);
            }),
        )
        .await;
        assert!(
            cancelled.is_err(),
            "the first run is cancelled by its timeout"
        );
        // The next record may only start once the cancelled work has really finished.
        let seen = first_done.clone();
        let saw_first_done = pool.run(move || seen.load(Ordering::SeqCst)).await;
        assert_eq!(saw_first_done, Ok(true));
    }

    /// Abandoned work held its vCPU but not the memory of its media: the next invocation
    /// could download more while it ran on. What it is handed is now held until it ends.
    #[tokio::test]
    async fn cancelled_work_keeps_what_it_holds_until_it_ends() {
        use std::time::Duration;
        let pool = CpuPool::new(2);
        let slots = Arc::new(Semaphore::new(1));
        let slot = slots.clone().acquire_owned().await.expect("slot");
        let cancelled = tokio::time::timeout(
            Duration::from_millis(20),
            pool.run_holding(slot, || std::thread::sleep(Duration::from_millis(300))),
        )
        .await;
        assert!(cancelled.is_err());
        assert!(
            slots.try_acquire().is_err(),
            "the slot stays taken while the abandoned work runs"
        );
        let again = tokio::time::timeout(Duration::from_secs(5), slots.acquire())
            .await
            .expect("freed when the work ends");
        assert!(again.is_ok());
    }

    #[tokio::test]
    async fn panics_become_transient_errors() {
        let pool = CpuPool::new(1);
        assert_eq!(pool.run(|| 2 + 2).await, Ok(4));
        let err = pool.run(|| -> u32 { panic!("boom") }).await.unwrap_err();
        assert_eq!(err.code(), codes::PANIC);
        assert!(err.is_retryable());
        assert!(err.message().contains("boom"));
    }
}
