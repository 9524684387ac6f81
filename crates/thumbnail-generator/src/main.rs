use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use postlens_runtime::config::name_list;
use postlens_runtime::logging::{self, LogTarget};
use postlens_runtime::store::S3Store;
use postlens_runtime::ObjectStore;
use thumbnail_generator::{Destination, OutputSpec, Settings, ThumbnailGenerator, UrlPolicy};

fn list(name: &str) -> Vec<String> {
    name_list(&std::env::var(name).unwrap_or_default())
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let started = Instant::now();
    logging::init(LogTarget::Stdout, "info");
    let mut settings = Settings::default();
    if let Ok(sizes) = std::env::var("THUMBNAIL_SIZES") {
        settings.outputs = OutputSpec::parse_list(&sizes).map_err(anyhow::Error::msg)?;
    }
    if let Ok(quality) = std::env::var("JPEG_QUALITY") {
        settings.jpeg_quality = quality.parse().context("JPEG_QUALITY must be 1-100")?;
    }
    if let Ok(bytes) = std::env::var("MAX_MEDIA_BYTES") {
        settings.limits.max_bytes = bytes
            .parse()
            .context("MAX_MEDIA_BYTES must be a number of bytes")?;
    }
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
