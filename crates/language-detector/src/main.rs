//! The `language-detector` Lambda (the `bootstrap` cargo-lambda builds): reads its settings, loads
//! what it needs once, and hands SQS batches to the shared runtime.

use std::time::Instant;

use anyhow::Context;
use postlens_runtime::logging::{self, LogTarget};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let started = Instant::now();
    logging::init(LogTarget::Stdout, "info")?;
    let model_dir =
        postlens_runtime::model_files::model_dir(&["lid-176"], postlens_models::model_dir).await?;
    let model = postlens_models::LanguageId::load(&model_dir)
        .with_context(|| format!("loading lid.176 from {}", model_dir.display()))?;
    postlens_runtime::lambda::run(language_detector::LanguageDetector::new(model), started).await
}
