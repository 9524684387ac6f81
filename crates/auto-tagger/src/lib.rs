//! The auto-tagger worker: `new-video-posted` → `tags-generated`.
//!
//! Loads MiniLM and the category index once; per record it parses the caption (rules),
//! encodes the product text once (sentence + token vectors) and ranks categories and tags.

mod batcher;
pub mod eval;

use std::path::Path;
use std::sync::Arc;

use postlens_analysis::caption::parse_caption;
use postlens_analysis::tags::{
    product_text, EncodedText, TagInput, Tagger, TagsResult, Taxonomy, SHOPIFY_TAXONOMY,
};
use postlens_models::{category_index, ModelError, SentenceEmbedder};
use postlens_runtime::contracts::{DetectedObject, NewVideoPosted};
use postlens_runtime::event::WorkerDescriptor;
use postlens_runtime::metrics::Metric;
use postlens_runtime::{Assemble, CpuPool, Parts, RecordError, Worker};

use crate::batcher::EncodeBatcher;

/// Names the worker in its events (`tags-generated`, keyed by `video_id`).
pub const DESCRIPTOR: WorkerDescriptor = WorkerDescriptor {
    name: "auto-tagger",
    version: env!("CARGO_PKG_VERSION"),
    event_type: "tags-generated",
    subject_key: "video_id",
};

/// Why the tagger's models could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// MiniLM or the category index.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The built-in taxonomy did not parse, or the tagger refused it with its index.
    #[error("taxonomy: {0}")]
    Taxonomy(String),
}

/// A caption's share of a batch's model work: its MiniLM encoding and its cosine with
/// every taxonomy category.
#[derive(Debug, Clone)]
pub struct EncodedCaption {
    /// The caption's MiniLM token and sentence vectors.
    pub encoded: EncodedText,
    /// Cosine with each category of the index, in its order.
    pub category_similarity: Vec<f32>,
}

/// The loaded models, shared by every record of every invocation.
pub struct Models {
    /// MiniLM.
    pub embedder: SentenceEmbedder,
    /// The taxonomy, its category embeddings and the keyword rules.
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

    /// Tags one post: caption rules, one forward pass, ranking. Pure CPU work.
    pub fn tag(&self, caption: &str, market: Option<&str>) -> Result<TagsResult, ModelError> {
        let text = product_text(caption);
        let encoded = self.encode_one(&text)?;
        Ok(self.tag_encoded(caption, &text, market, &[], encoded.as_ref()))
    }

    /// One product text on its own; `None` when nothing of it is left to encode.
    pub fn encode_one(&self, text: &str) -> Result<Option<EncodedCaption>, ModelError> {
        if text.trim().is_empty() {
            return Ok(None);
        }
        Ok(self.encode(&[text])?.into_iter().next())
    }

    /// Encodes a batch of product texts in one forward pass and scores each against every
    /// category in one sweep over the category vectors.
    pub fn encode(&self, texts: &[&str]) -> Result<Vec<EncodedCaption>, ModelError> {
        let _forward =
            tracing::info_span!("model.forward", model = "minilm-l6-v2", texts = texts.len())
                .entered();
        let encoded = self.embedder.encode(texts)?;
        let sentences: Vec<&[f32]> = encoded.iter().map(|e| e.sentence.as_slice()).collect();
        let similarities = self.tagger.category_similarities(&sentences);
        Ok(encoded
            .into_iter()
            .zip(similarities)
            .map(|(encoded, category_similarity)| EncodedCaption {
                encoded,
                category_similarity,
            })
            .collect())
    }

    /// Tags one post whose product text (`text`, from [`product_text`]) is already encoded;
    /// `objects` are detector labels that become object tags.
    pub fn tag_encoded(
        &self,
        caption: &str,
        text: &str,
        market: Option<&str>,
        objects: &[String],
        encoded: Option<&EncodedCaption>,
    ) -> TagsResult {
        let parsed = parse_caption(caption, market);
        self.tagger.tag_with_similarity(
            &TagInput {
                text,
                parsed: &parsed,
                objects,
            },
            encoded.map(|e| &e.encoded),
            encoded.map(|e| e.category_similarity.as_slice()),
        )
    }
}

/// The auto-tagger [`Worker`]: records of a batch share MiniLM passes (see `batcher`).
pub struct AutoTagger {
    models: Arc<Models>,
    batcher: EncodeBatcher,
    cpu: CpuPool,
}

impl AutoTagger {
    /// The worker over loaded `models`, one CPU worker per vCPU.
    pub fn new(models: Models) -> Self {
        let models = Arc::new(models);
        let cpu = CpuPool::per_vcpu();
        Self {
            batcher: EncodeBatcher::new(models.clone(), cpu.clone()),
            models,
            cpu,
        }
    }
}

/// MiniLM and the category index from the model directory; no settings of its own.
impl Assemble for AutoTagger {
    const BINARY: &'static str = "auto-tagger";
    const MODELS: &'static [&'static str] = &["minilm-l6-v2", "taxonomy"];
    type Error = LoadError;

    fn assemble(parts: Parts<'_>) -> Result<Self, LoadError> {
        Ok(Self::new(Models::load(parts.model_dir)?))
    }
}

impl AutoTagger {
    /// MiniLM forward passes so far: one per SQS batch, not one per record.
    pub fn forward_passes(&self) -> u64 {
        self.batcher.forward_passes()
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
        let text = product_text(&post.caption);
        // The batch's records share one forward pass (see `batcher`).
        let encoded = if text.trim().is_empty() {
            None
        } else {
            Some(self.batcher.encode(text.clone()).await?)
        };
        let models = self.models.clone();
        let objects = object_labels(&post.detections);
        let NewVideoPosted {
            caption, market, ..
        } = post;
        self.cpu
            .run(move || {
                models.tag_encoded(
                    &caption,
                    &text,
                    market.as_deref(),
                    &objects,
                    encoded.as_ref(),
                )
            })
            .await
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

    /// Posts left without a category, and how many tags the others get.
    fn metrics(&self, result: &TagsResult) -> Vec<Metric> {
        vec![
            Metric::count(
                "PostsUncategorised",
                f64::from(u8::from(result.categories.is_empty())),
            ),
            Metric::count("TagsAssigned", result.tags.len() as f64),
        ]
    }
}

/// Below this a detection is too unsure to tag a post with (the thumbnail generator keeps
/// boxes from 0.25 up, for cropping).
const MIN_OBJECT_SCORE: f32 = 0.4;

/// Detector labels worth a tag, most confident first, each once. `person` is in nearly
/// every seller's video and says nothing about the product.
fn object_labels(detections: &[DetectedObject]) -> Vec<String> {
    let mut sure: Vec<&DetectedObject> = detections
        .iter()
        .filter(|d| d.score >= MIN_OBJECT_SCORE && !d.label.trim().eq_ignore_ascii_case("person"))
        .collect();
    sure.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut labels: Vec<String> = Vec::new();
    for detection in sure {
        let label = detection.label.trim().to_lowercase();
        if !labels.contains(&label) {
            labels.push(label);
        }
    }
    labels
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confident_detections_become_labels_once_best_first() {
        let detection = |label: &str, score: f32| DetectedObject {
            label: label.to_owned(),
            score,
        };
        let labels = object_labels(&[
            detection("cup", 0.3),
            detection("Handbag", 0.7),
            detection("person", 0.9),
            detection("handbag", 0.5),
        ]);
        assert_eq!(labels, ["handbag"]);
    }
}
