//! A bounded pool for CPU-bound analysis, so I/O stays concurrent while CPU work
//! never oversubscribes the function's vCPUs.

use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::error::{codes, RecordError};

#[derive(Debug, Clone)]
pub struct CpuPool {
    permits: Arc<Semaphore>,
}

impl CpuPool {
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
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| RecordError::transient(codes::PANIC, "CPU pool closed"))?;
        tokio::task::spawn_blocking(work)
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
        Ok(payload) => crate::engine::describe_panic(payload.as_ref()),
        Err(error) => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
