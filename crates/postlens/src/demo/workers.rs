//! The worker behind each binary the template names, built from the function's resolved
//! environment with the constructor its Lambda uses.

use std::sync::Arc;

use postlens_local_stack::{FunctionSpec, LocalFunction, LocalStack};
use postlens_runtime::ObjectStore;

/// The handler behind each binary the template names; `None` when its models are missing.
/// A binary with no arm here is an error, so a worker added to infra/workers.toml without
/// one fails the demo (and its test) instead of sitting idle.
pub(super) fn local_function(
    stack: &LocalStack,
    function: &FunctionSpec,
    config: &aws_config::SdkConfig,
) -> anyhow::Result<Option<Arc<dyn LocalFunction>>> {
    let function: Arc<dyn LocalFunction> = match function.binary.as_str() {
        "caption-parser" => Arc::new(stack.function(
            caption_parser::CaptionParser::new(),
            function,
            config,
        )?),
        "language-detector" => {
            let Some(dir) = postlens_models::model_dir() else {
                eprintln!("  language-detector: no models/ (run `make models`); not started");
                return Ok(None);
            };
            let model = postlens_models::LanguageId::load(&dir)?;
            Arc::new(stack.function(
                language_detector::LanguageDetector::new(model),
                function,
                config,
            )?)
        }
        "auto-tagger" => {
            let Some(dir) = postlens_models::model_dir() else {
                eprintln!("  auto-tagger: no models/ (run `make models`); not started");
                return Ok(None);
            };
            let models = auto_tagger::Models::load(&dir)?;
            Arc::new(stack.function(
                auto_tagger::AutoTagger::new(models),
                function,
                config,
            )?)
        }
        "text-scorer" => {
            let Some(dir) = postlens_models::model_dir() else {
                eprintln!("  text-scorer: no models/ (run `make models`); not started");
                return Ok(None);
            };
            let models = text_scorer::Models::load(&dir)?;
            let environment = stack.environment(function)?;
            let settings =
                text_scorer::TextScorerConfig::from_lookup(|name| environment.get(name).cloned())?;
            // The worker's own reads go through the function's role, as its engine's do.
            let (role, _) = stack.role_config(function, config)?;
            let store = Arc::new(postlens_runtime::store::S3Store::new(
                postlens_local_stack::emulator::s3_client(&role),
            ));
            Arc::new(stack.function(
                text_scorer::TextScorer::from_config(models, store, settings),
                function,
                config,
            )?)
        }
        "thumbnail-generator" => {
            let Some(dir) = postlens_models::model_dir() else {
                eprintln!("  thumbnail-generator: no models/ (run `make models`); not started");
                return Ok(None);
            };
            let detector = postlens_models::YoloxNano::load(&dir.join("yolox-nano"))?;
            let environment = stack.environment(function)?;
            let settings = thumbnail_generator::ThumbnailConfig::from_lookup(|name| {
                environment.get(name).cloned()
            })?;
            let (role, _) = stack.role_config(function, config)?;
            let store: Arc<dyn ObjectStore> = Arc::new(postlens_runtime::store::S3Store::new(
                postlens_local_stack::emulator::s3_client(&role),
            ));
            Arc::new(stack.function(
                thumbnail_generator::ThumbnailGenerator::from_config(detector, store, settings),
                function,
                config,
            )?)
        }
        other => anyhow::bail!(
            "the template's function {} runs binary {other}, which crates/postlens/src/demo/workers.rs does not know",
            function.id
        ),
    };
    Ok(Some(function))
}
