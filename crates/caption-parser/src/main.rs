//! The `caption-parser` Lambda (the `bootstrap` cargo-lambda builds): reads its settings, loads
//! what it needs once, and hands SQS batches to the shared runtime.

use std::time::Instant;

use postlens_runtime::logging::{self, LogTarget};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let started = Instant::now();
    logging::init(LogTarget::Stdout, "info")?;
    postlens_runtime::lambda::run(caption_parser::CaptionParser::new(), started).await
}
