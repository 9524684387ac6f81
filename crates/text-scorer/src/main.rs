//! The `text-scorer` Lambda (the `bootstrap` cargo-lambda builds): the shared runtime serves the
//! worker's one assembly ([`postlens_runtime::Assemble`]); models, when it has any, come from
//! `MODEL_S3_URI`, `MODEL_DIR` or the nearest `models/`.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    postlens_runtime::lambda::serve::<text_scorer::TextScorer>(postlens_models::model_dir).await
}
