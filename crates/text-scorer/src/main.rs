use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use postlens_runtime::config::name_list;
use postlens_runtime::logging::{self, LogTarget};
use postlens_runtime::store::S3Store;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let started = Instant::now();
    logging::init(LogTarget::Stdout, "info");
    let model_dir = postlens_models::model_dir()
        .context("MODEL_DIR is not set and no models/ directory was found")?;
    let embedder = postlens_models::SentenceEmbedder::load(&model_dir.join("minilm-l6-v2"))
        .with_context(|| format!("loading MiniLM from {}", model_dir.display()))?;
    let (_, s3) = postlens_runtime::lambda::aws_clients().await;
    let buckets = name_list(&std::env::var("DOCUMENT_BUCKETS").unwrap_or_default());
    let worker =
        text_scorer::TextScorer::new(Some(embedder), Some(Arc::new(S3Store::new(s3))), buckets);
    postlens_runtime::lambda::run(worker, started).await
}
