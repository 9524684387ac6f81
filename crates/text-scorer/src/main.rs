//! The `text-scorer` Lambda (the `bootstrap` cargo-lambda builds): reads its settings, loads
//! what it needs once, and hands SQS batches to the shared runtime.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use postlens_runtime::logging::{self, LogTarget};
use postlens_runtime::store::S3Store;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let started = Instant::now();
    logging::init(LogTarget::Stdout, "info")?;
    let model_dir = postlens_runtime::model_files::model_dir(
        &["minilm-l6-v2", "smollm2-135m"],
        postlens_models::model_dir,
    )
    .await?;
    let models = text_scorer::Models::load(&model_dir)
        .with_context(|| format!("loading models from {}", model_dir.display()))?;
    let (_, s3) = postlens_runtime::lambda::aws_clients().await;
    let config = text_scorer::TextScorerConfig::from_lookup(|name| std::env::var(name).ok())?;
    let worker = text_scorer::TextScorer::from_config(models, Arc::new(S3Store::new(s3)), config);
    postlens_runtime::lambda::run(worker, started).await
}
