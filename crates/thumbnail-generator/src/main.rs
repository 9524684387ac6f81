use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use postlens_runtime::config::name_list;
use postlens_runtime::logging::{self, LogTarget};
use postlens_runtime::store::S3Store;
use postlens_runtime::ObjectStore;
use thumbnail_generator::{Destination, Settings, ThumbnailGenerator, UrlPolicy};

fn list(name: &str) -> Vec<String> {
    name_list(&std::env::var(name).unwrap_or_default())
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let started = Instant::now();
    logging::init(LogTarget::Stdout, "info");
    let settings =
        Settings::from_lookup(|name| std::env::var(name).ok()).map_err(anyhow::Error::msg)?;
    let output_bucket = std::env::var("THUMBNAIL_BUCKET").context("THUMBNAIL_BUCKET is not set")?;
    let model_dir =
        postlens_runtime::model_files::model_dir(&["yolox-nano"], postlens_models::model_dir)
            .await?;
    let detector = postlens_models::YoloxNano::load(&model_dir.join("yolox-nano"))
        .with_context(|| format!("loading YOLOX-Nano from {}", model_dir.display()))?;
    let (_, s3) = postlens_runtime::lambda::aws_clients().await;
    let store: Arc<dyn ObjectStore> = Arc::new(S3Store::new(s3));
    let worker = ThumbnailGenerator::new(
        detector,
        Some(store.clone()),
        list("MEDIA_BUCKETS"),
        Destination::S3 {
            store,
            bucket: output_bucket,
        },
        UrlPolicy {
            allowed_hosts: list("VIDEO_URL_HOSTS"),
            ..Default::default()
        },
        settings,
    );
    postlens_runtime::lambda::run(worker, started).await
}
