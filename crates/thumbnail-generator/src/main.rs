//! The `thumbnail-generator` Lambda (the `bootstrap` cargo-lambda builds): reads its settings, loads
//! what it needs once, and hands SQS batches to the shared runtime.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use postlens_runtime::logging::{self, LogTarget};
use postlens_runtime::store::S3Store;
use thumbnail_generator::{ThumbnailConfig, ThumbnailGenerator};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let started = Instant::now();
    logging::init(LogTarget::Stdout, "info")?;
    let config = ThumbnailConfig::from_lookup(|name| std::env::var(name).ok())?;
    let model_dir =
        postlens_runtime::model_files::model_dir(&["yolox-nano"], postlens_models::model_dir)
            .await?;
    let detector = postlens_models::YoloxNano::load(&model_dir.join("yolox-nano"))
        .with_context(|| format!("loading YOLOX-Nano from {}", model_dir.display()))?;
    let (_, s3) = postlens_runtime::lambda::aws_clients().await;
    let worker = ThumbnailGenerator::from_config(detector, Arc::new(S3Store::new(s3)), config);
    postlens_runtime::lambda::run(worker, started).await
}
