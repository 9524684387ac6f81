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
    let model_dir = postlens_runtime::model_files::model_dir(
        &["minilm-l6-v2", "smollm2-135m"],
        postlens_models::model_dir,
    )
    .await?;
    let models = text_scorer::Models::load(&model_dir)
        .with_context(|| format!("loading models from {}", model_dir.display()))?;
    let (_, s3) = postlens_runtime::lambda::aws_clients().await;
    let buckets = name_list(&std::env::var("DOCUMENT_BUCKETS").unwrap_or_default());
    let worker = text_scorer::TextScorer::new(models, Some(Arc::new(S3Store::new(s3))), buckets);
    postlens_runtime::lambda::run(worker, started).await
}
