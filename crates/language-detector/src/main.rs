use std::time::Instant;

use postlens_runtime::logging::{self, LogTarget};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let started = Instant::now();
    logging::init(LogTarget::Stdout, "info");
    postlens_runtime::lambda::run(language_detector::LanguageDetector::new(), started).await
}
