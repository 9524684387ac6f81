//! The Lambda edge: build AWS clients once per container, then hand each SQS batch to
//! the engine and return its partial batch response.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{service_fn, Context, LambdaEvent};
use tracing::{info, info_span, Instrument};

use crate::assemble::{Assemble, Parts};
use crate::config::{AllFailedMode, InvocationSettings, WorkerConfig};
use crate::emf::{emf_lines, InvocationFacts};
use crate::engine::{BatchEngine, BatchReport, Worker};
use crate::sink::SnsSink;
use crate::store::S3Store;

/// The invocation failed as a whole (only with `ALL_FAILED_MODE=error`).
#[derive(Debug, thiserror::Error)]
#[error("all {0} records of the batch failed; failing the invocation (ALL_FAILED_MODE=error)")]
pub struct AllRecordsFailed(pub usize);

/// `worker`'s engine as `config` describes it: publishing to SNS, claim checks and
/// oversized results in S3 through `s3`, idempotency claims in DynamoDB when configured,
/// every client from `shared`. The Lambda and the local stack (under the function's role)
/// wire it the same way.
pub fn wired_engine<W: Worker>(
    worker: W,
    config: WorkerConfig,
    shared: &aws_config::SdkConfig,
    s3: aws_sdk_s3::Client,
) -> BatchEngine<W> {
    let idempotency =
        crate::idempotency::dynamodb_store(config.engine.idempotency.as_ref(), shared);
    let sns = aws_sdk_sns::Client::new(shared);
    let engine = BatchEngine::new(worker, Arc::new(SnsSink::new(sns, config.output_topic_arn)))
        .with_store(Arc::new(S3Store::new(s3)))
        .with_config(config.engine);
    match idempotency {
        Some(store) => engine.with_idempotency(store),
        None => engine,
    }
}

/// A worker's Lambda, all of every worker binary's `main`: logging, settings, the models
/// (copied from `MODEL_S3_URI`, else what `local_models` finds), the worker's
/// [`Assemble::assemble`] with the process environment and S3, then SQS batches until the
/// runtime stops. A setting, model or assembly that fails ends the cold start with its error.
pub async fn serve<W: Assemble>(
    local_models: impl FnOnce() -> Option<PathBuf>,
) -> Result<(), lambda_runtime::Error> {
    let process_started = Instant::now();
    crate::logging::init(crate::logging::LogTarget::Stdout, "info")?;
    let config = WorkerConfig::from_env()?;
    let model_dir = if W::MODELS.is_empty() {
        PathBuf::new()
    } else {
        crate::model_files::model_dir(W::MODELS, local_models).await?
    };
    // One AWS config for every client: loading it resolves credentials and region.
    let shared = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let (_, s3) = crate::clients::clients_for(&shared);
    let environment = |name: &str| std::env::var(name).ok();
    let worker = W::assemble(Parts {
        model_dir: &model_dir,
        settings: &environment,
        store: Arc::new(S3Store::new(s3.clone())),
    })?;
    let invocation = Arc::new(config.invocation.clone());
    let engine = Arc::new(wired_engine(worker, config, &shared, s3));
    let init_ms = crate::metrics::elapsed_ms(process_started);
    info!(
        init_ms,
        worker = engine.worker().descriptor().name,
        "worker ready"
    );
    let cold = Arc::new(AtomicBool::new(true));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let engine = engine.clone();
        let cold = cold.clone();
        let invocation = invocation.clone();
        async move {
            let facts = InvocationFacts {
                cold_start: cold.swap(false, Ordering::Relaxed),
                init_ms: Some(init_ms),
            };
            handle(&engine, event, facts, &invocation).await
        }
    }))
    .await
}

/// One invocation: process the batch, emit metrics, answer the partial batch response.
pub async fn handle<W: Worker>(
    engine: &BatchEngine<W>,
    event: LambdaEvent<SqsEvent>,
    facts: InvocationFacts,
    invocation: &InvocationSettings,
) -> Result<SqsBatchResponse, lambda_runtime::Error> {
    let (answer, report) =
        handle_batch(engine, event, invocation.all_failed_mode, facts.cold_start).await;
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    for line in emf_lines(
        &invocation.metrics,
        engine.worker().descriptor().name,
        &report,
        facts,
        now_ms,
    ) {
        println!("{line}");
    }
    answer
}

/// [`handle`] without the metrics line: what the local event source mapping invokes, so
/// the local stack runs the same code path without EMF on its stdout.
pub async fn handle_batch<W: Worker>(
    engine: &BatchEngine<W>,
    event: LambdaEvent<SqsEvent>,
    all_failed_mode: AllFailedMode,
    cold_start: bool,
) -> (Result<SqsBatchResponse, lambda_runtime::Error>, BatchReport) {
    let (payload, context) = event.into_parts();
    crate::logging::sample_debug(crate::logging::debug_sample_rate(), &context.request_id);
    let span = info_span!(
        "invocation",
        request_id = %context.request_id,
        xray_trace_id = context.xray_trace_id.as_deref().unwrap_or(""),
        cold_start,
    );
    async move {
        let deadline = deadline_instant(&context);
        let remaining_ms =
            deadline.map(|d| d.saturating_duration_since(Instant::now()).as_millis() as u64);
        let outcome = engine.process_batch(&payload.records, deadline).await;
        info!(
            records = outcome.report.records,
            ok = outcome.report.ok,
            error_events = outcome.report.error_events,
            retried = outcome.report.retried,
            remaining_ms_at_start = remaining_ms,
            "batch done"
        );
        let answer = if all_failed_mode == AllFailedMode::Error && outcome.all_failed() {
            Err(AllRecordsFailed(outcome.report.records).into())
        } else {
            Ok(outcome.response)
        };
        (answer, outcome.report)
    }
    .instrument(span)
    .await
}

/// Epoch milliseconds before this (2001-09-09) cannot be a real deadline.
const PLAUSIBLE_EPOCH_MS: u64 = 1_000_000_000_000;

/// The runtime's deadline as an `Instant`; none when unset.
///
/// Lambda sends milliseconds since the epoch. `cargo lambda watch` (1.9) sends the
/// function timeout itself (e.g. `600000`); read as a timestamp that is 1970 and every
/// record would be refused as out of time, so a value that small is taken as the time left.
pub fn deadline_instant(context: &Context) -> Option<Instant> {
    if context.deadline == 0 {
        return None;
    }
    if context.deadline < PLAUSIBLE_EPOCH_MS {
        return Some(Instant::now() + Duration::from_millis(context.deadline));
    }
    let deadline = UNIX_EPOCH + Duration::from_millis(context.deadline);
    let remaining = deadline
        .duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO);
    Some(Instant::now() + remaining)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context_with_deadline(deadline: u64) -> Context {
        let mut context = Context::default();
        context.deadline = deadline;
        context
    }

    #[test]
    fn epoch_deadlines_give_the_time_left() {
        let in_ten_s = SystemTime::now() + Duration::from_secs(10);
        let epoch_ms = in_ten_s
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let left = deadline_instant(&context_with_deadline(epoch_ms))
            .map(|d| d.saturating_duration_since(Instant::now()))
            .unwrap_or_default();
        assert!(
            left > Duration::from_secs(9) && left <= Duration::from_secs(10),
            "{left:?}"
        );
    }

    #[test]
    fn past_deadlines_leave_no_time() {
        let past = SystemTime::now() - Duration::from_secs(5);
        let epoch_ms = past
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let deadline = deadline_instant(&context_with_deadline(epoch_ms)).expect("deadline");
        assert!(deadline <= Instant::now());
    }

    #[test]
    fn cargo_lambda_watch_timeouts_are_read_as_time_left() {
        let left = deadline_instant(&context_with_deadline(600_000))
            .map(|d| d.saturating_duration_since(Instant::now()))
            .unwrap_or_default();
        assert!(left > Duration::from_secs(599), "{left:?}");
        assert_eq!(deadline_instant(&context_with_deadline(0)), None);
    }
}
