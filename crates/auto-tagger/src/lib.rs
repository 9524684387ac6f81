//! The auto-tagger worker: `new-video-posted` → `tags-generated`.
//!
//! Loads MiniLM and the category index once; per record it parses the caption (rules),
//! encodes the product text once (sentence + token vectors) and ranks categories and tags.

pub mod eval;

use std::path::Path;
use std::sync::Arc;

use postlens_analysis::caption::parse_caption;
use postlens_analysis::tags::{
    product_text, TagInput, Tagger, TagsResult, Taxonomy, SHOPIFY_TAXONOMY,
};
use postlens_models::{category_index, ModelError, SentenceEmbedder};
use postlens_runtime::contracts::NewVideoPosted;
use postlens_runtime::event::WorkerDescriptor;
use postlens_runtime::{codes, CpuPool, RecordError, Worker};

pub const DESCRIPTOR: WorkerDescriptor = WorkerDescriptor {
    name: "auto-tagger",
    version: env!("CARGO_PKG_VERSION"),
    event_type: "tags-generated",
    subject_key: "video_id",
};

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("taxonomy: {0}")]
    Taxonomy(String),
}

/// The loaded models, shared by every record of every invocation.
pub struct Models {
    pub embedder: SentenceEmbedder,
    pub tagger: Tagger,
}

impl Models {
    /// Reads `minilm-l6-v2/` and `taxonomy/category-embeddings.safetensors` under `model_dir`.
    pub fn load(model_dir: &Path) -> Result<Self, LoadError> {
        let taxonomy =
            Taxonomy::parse(SHOPIFY_TAXONOMY).map_err(|e| LoadError::Taxonomy(e.to_string()))?;
        let embedder = SentenceEmbedder::load(&model_dir.join("minilm-l6-v2"))?;
        let (vectors, _) = category_index::load(
            &model_dir.join("taxonomy").join(category_index::FILE_NAME),
            taxonomy.len(),
        )?;
        let tagger =
            Tagger::new(taxonomy, Some(vectors)).map_err(|e| LoadError::Taxonomy(e.to_string()))?;
        Ok(Self { embedder, tagger })
    }

    /// Tags one post. Pure CPU work; callers run it on the CPU pool.
    pub fn tag(&self, caption: &str, market: Option<&str>) -> Result<TagsResult, ModelError> {
        let parsed = parse_caption(caption, market);
        let text = product_text(caption);
        let encoded = if text.trim().is_empty() {
            None
        } else {
            self.embedder.encode(&[&text])?.into_iter().next()
        };
        Ok(self.tagger.tag(
            &TagInput {
                text: &text,
                parsed: &parsed,
                objects: &[],
            },
            encoded.as_ref(),
        ))
    }
}

pub struct AutoTagger {
    models: Arc<Models>,
    cpu: CpuPool,
}

impl AutoTagger {
    pub fn new(models: Models) -> Self {
        Self {
            models: Arc::new(models),
            cpu: CpuPool::per_vcpu(),
        }
    }
}

impl Worker for AutoTagger {
    type Input = NewVideoPosted;
    type Output = TagsResult;

    fn descriptor(&self) -> &WorkerDescriptor {
        &DESCRIPTOR
    }

    async fn process(&self, post: NewVideoPosted) -> Result<TagsResult, RecordError> {
        post.validate()?;
        let models = self.models.clone();
        let NewVideoPosted {
            caption, market, ..
        } = post;
        self.cpu
            .run(move || models.tag(&caption, market.as_deref()))
            .await?
            // The input was valid; a failing forward pass is the machine's problem.
            .map_err(|e| RecordError::transient(codes::INFERENCE_FAILED, e.to_string()))
    }

    /// Filter-policy attribute: the top-level category of the best match.
    fn attributes(&self, result: &TagsResult) -> Vec<(String, String)> {
        result
            .categories
            .first()
            .and_then(|c| c.path.split(" > ").next())
            .map(|top| vec![("top_category".to_owned(), top.to_owned())])
            .unwrap_or_default()
    }
}
