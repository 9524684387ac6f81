//! The text-scorer worker: `text-submitted` → `text-scored` (Sloposcope's contract).
//!
//! Input `{doc_id, domain, text | s3_uri, prompt?, references?, options?}`. Documents in S3
//! may be gzip-compressed; sizes are capped before and after decompression.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use postlens_analysis::slop::{self, Level, ModelEvidence, ScoreOptions, SlopResult};
use postlens_models::{ModelError, SentenceEmbedder, SmolLm2};
use postlens_runtime::event::WorkerDescriptor;
use postlens_runtime::metrics::{elapsed_ms, Metric};
use postlens_runtime::settings::{ConfigError, Env};
use postlens_runtime::store::AllowedObjects;
use postlens_runtime::{codes, Assemble, CpuPool, ObjectStore, Parts, RecordError, Worker};
use serde::{Deserialize, Serialize};

/// Names the worker in its events (`text-scored`, keyed by `doc_id`).
pub const DESCRIPTOR: WorkerDescriptor = WorkerDescriptor {
    name: "text-scorer",
    version: env!("CARGO_PKG_VERSION"),
    event_type: "text-scored",
    subject_key: "doc_id",
};

/// Largest document accepted, as text (after decompression).
pub const MAX_TEXT_BYTES: usize = 1024 * 1024;
/// Largest object read from S3 (compressed or not).
pub const MAX_OBJECT_BYTES: usize = 8 * 1024 * 1024;
/// Sentences embedded per document: a longer one has its first 256 embedded, and relevance
/// and coherence read that opening (`embedded_share` says how much). This bounds MiniLM's
/// pass (a 4,000-word document of about 216 sentences takes 2.6 s in all on one core) and
/// its memory (README, "Memory budgets").
pub const MAX_EMBEDDED_SENTENCES: usize = 256;
/// Tokens the language model scores: the document's first ones, in one pass. A pass costs
/// about 4.7 ms per token on one core (plus attention, quadratic), and MiniLM already takes
/// about 0.75 s of the 1.5 s budget for 1,000 words, so the window is 128 tokens (about
/// 95 words): the opening, where generic framing shows most.
pub const LM_WINDOW_TOKENS: usize = 128;
/// `references` each join the document's MiniLM pass, so their count and size are bounded
/// like the document's sentences: MiniLM reads 128 tokens (well under 2 KB) of each, and
/// comparing against more than a handful of references says nothing more.
pub const MAX_REFERENCES: usize = 16;
/// Longest `prompt` or reference, in bytes.
pub const MAX_REFERENCE_BYTES: usize = 16 * 1024;

/// The models the scorer runs. Either may be absent: its axes then report `null` and the
/// confidence drops (the CLI's and tests' rule-only mode).
#[derive(Clone, Default)]
pub struct Models {
    /// MiniLM, for relevance and coherence.
    pub embedder: Option<Arc<SentenceEmbedder>>,
    /// SmolLM2, for density and fluency.
    pub language_model: Option<Arc<SmolLm2>>,
}

impl Models {
    /// Reads `minilm-l6-v2/` and `smollm2-135m/` under `model_dir`.
    pub fn load(model_dir: &Path) -> Result<Self, ModelError> {
        Ok(Self {
            embedder: Some(Arc::new(SentenceEmbedder::load(
                &model_dir.join("minilm-l6-v2"),
            )?)),
            language_model: Some(Arc::new(SmolLm2::load(&model_dir.join("smollm2-135m"))?)),
        })
    }
}

/// The `error.code`s the text scorer's error events carry.
pub mod error_codes {
    pub use postlens_runtime::codes::{
        BUCKET_NOT_ALLOWED, OBJECT_NOT_FOUND, S3_URI_INVALID as BAD_S3_URI,
    };
    /// Neither `text` nor `s3_uri`.
    pub const TEXT_MISSING: &str = "text_missing";
    /// Both `text` and `s3_uri`.
    pub const TEXT_AMBIGUOUS: &str = "text_and_s3_uri";
    /// Text over [`MAX_TEXT_BYTES`] (after decompression).
    pub const TEXT_TOO_LARGE: &str = "text_too_large";
    /// An S3 object over [`MAX_OBJECT_BYTES`].
    pub const OBJECT_TOO_LARGE: &str = "object_too_large";
    /// The document is not UTF-8.
    pub const NOT_UTF8: &str = "text_not_utf8";
    /// Gzip-compressed text that does not decompress.
    pub const BAD_GZIP: &str = "gzip_invalid";
    /// `options` that do not parse.
    pub const BAD_OPTIONS: &str = "options_invalid";
}

/// The `text-submitted` event.
#[derive(Debug, Clone, Deserialize)]
pub struct TextSubmitted {
    /// The document's id (the event's subject).
    pub doc_id: String,
    /// The domain whose axis weights apply; `general` by default.
    #[serde(default = "default_domain")]
    pub domain: String,
    /// The document inline; exclusive with `s3_uri`.
    #[serde(default)]
    pub text: Option<String>,
    /// `s3://bucket/key` of the document (plain or gzip-compressed UTF-8).
    #[serde(default)]
    pub s3_uri: Option<String>,
    /// What the document was asked to answer, for relevance.
    #[serde(default)]
    pub prompt: Option<String>,
    /// Texts the document is compared against, for relevance.
    #[serde(default)]
    pub references: Vec<String>,
    /// Score options ([`ScoreOptions`]: thresholds, axes), as JSON.
    #[serde(default)]
    pub options: Option<serde_json::Value>,
}

impl TextSubmitted {
    /// Checks what serde cannot: the id present and bounded, prompt and references bounded.
    pub fn validate(&self) -> Result<(), RecordError> {
        postlens_runtime::contracts::check_id("doc_id", &self.doc_id)?;
        if self.references.len() > MAX_REFERENCES {
            return Err(RecordError::permanent(
                codes::INPUT_TOO_LARGE,
                format!(
                    "{} references; the limit is {MAX_REFERENCES}",
                    self.references.len()
                ),
            ));
        }
        let longest = self
            .references
            .iter()
            .chain(&self.prompt)
            .map(String::len)
            .max()
            .unwrap_or(0);
        if longest > MAX_REFERENCE_BYTES {
            return Err(RecordError::permanent(
                codes::INPUT_TOO_LARGE,
                format!(
                    "a prompt or reference is {longest} bytes; the limit is {MAX_REFERENCE_BYTES}"
                ),
            ));
        }
        Ok(())
    }
}

fn default_domain() -> String {
    "general".to_owned()
}

/// The `text-scored` result: Sloposcope's fields plus where the time went.
#[derive(Debug, Clone, Serialize)]
pub struct TextScored {
    /// The scores, axes and spans.
    #[serde(flatten)]
    pub result: SlopResult,
    /// Milliseconds per stage.
    pub timings_ms: BTreeMap<String, f64>,
}

/// The text-scorer [`Worker`].
pub struct TextScorer {
    models: Models,
    /// Where `s3_uri` documents may be read (`DOCUMENT_BUCKETS`).
    documents: AllowedObjects,
    cpu: CpuPool,
}

/// The function's settings, read from its environment by [`TextScorerConfig::from_lookup`]
/// (the Lambda and the local stack read the same names the same way).
#[derive(Debug, Clone, Default)]
pub struct TextScorerConfig {
    /// `DOCUMENT_BUCKETS`: the buckets `s3_uri` may name; none by default.
    pub document_buckets: Vec<String>,
    /// `DOCUMENT_PREFIX`: the key prefix the role may read in them (the template grants
    /// `documents/*`); unset, any key.
    pub document_prefix: Option<String>,
}

impl TextScorerConfig {
    /// Reads the settings through `lookup` (the process environment in the Lambda).
    /// Neither can be wrong (a list and a prefix); the `Result` is the settings policy's.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env::new(lookup);
        Ok(Self {
            document_buckets: env.list("DOCUMENT_BUCKETS"),
            document_prefix: env.text("DOCUMENT_PREFIX"),
        })
    }
}

/// Why the text scorer could not be built.
#[derive(Debug, thiserror::Error)]
pub enum AssemblyError {
    /// MiniLM or SmolLM2 did not load.
    #[error(transparent)]
    Models(#[from] ModelError),
    /// A setting could not be read.
    #[error(transparent)]
    Settings(#[from] ConfigError),
}

/// MiniLM and SmolLM2 from the model directory; `s3_uri` documents through the store, from
/// `DOCUMENT_BUCKETS` under `DOCUMENT_PREFIX`.
impl Assemble for TextScorer {
    const BINARY: &'static str = "text-scorer";
    const MODELS: &'static [&'static str] = &["minilm-l6-v2", "smollm2-135m"];
    type Error = AssemblyError;

    fn assemble(parts: Parts<'_>) -> Result<Self, AssemblyError> {
        let config = TextScorerConfig::from_lookup(parts.settings)?;
        let models = Models::load(parts.model_dir)?;
        Ok(Self::from_config(models, parts.store, config))
    }
}

impl TextScorer {
    /// A scorer of inline `text` only: `s3_uri` inputs get `bucket_not_allowed`.
    pub fn new(models: Models) -> Self {
        Self {
            models,
            documents: AllowedObjects::none("DOCUMENT_BUCKETS"),
            cpu: CpuPool::per_vcpu(),
        }
    }

    /// The function as deployed: documents also read from the `DOCUMENT_BUCKETS` in S3.
    pub fn from_config(
        models: Models,
        store: Arc<dyn ObjectStore>,
        config: TextScorerConfig,
    ) -> Self {
        let mut scorer = Self::new(models).with_documents(store, config.document_buckets);
        scorer.documents = scorer.documents.under_prefix(config.document_prefix);
        scorer
    }

    /// Reads `s3_uri` documents through `store`, from these buckets only.
    pub fn with_documents(mut self, store: Arc<dyn ObjectStore>, buckets: Vec<String>) -> Self {
        self.documents = AllowedObjects::new(store, buckets, "DOCUMENT_BUCKETS");
        self
    }

    async fn document_text(&self, input: &TextSubmitted) -> Result<String, RecordError> {
        use error_codes::*;
        match (&input.text, &input.s3_uri) {
            (Some(_), Some(_)) => Err(RecordError::permanent(
                TEXT_AMBIGUOUS,
                "give either text or s3_uri, not both",
            )),
            (None, None) => Err(RecordError::permanent(
                TEXT_MISSING,
                "the input has neither text nor s3_uri",
            )),
            (Some(text), None) if text.len() > MAX_TEXT_BYTES => Err(RecordError::permanent(
                TEXT_TOO_LARGE,
                format!(
                    "text is {} bytes; the limit is {MAX_TEXT_BYTES}",
                    text.len()
                ),
            )),
            (Some(text), None) => Ok(text.clone()),
            (None, Some(uri)) => {
                let bytes = self
                    .documents
                    .read(uri, MAX_OBJECT_BYTES, OBJECT_TOO_LARGE)
                    .await?;
                decode_document(&bytes)
            }
        }
    }
}

/// UTF-8 text, gunzipped when it starts with the gzip magic bytes, capped after inflation
/// (a small gzip can expand enormously).
pub fn decode_document(bytes: &[u8]) -> Result<String, RecordError> {
    use error_codes::*;
    let raw = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut inflated = Vec::new();
        // Multi-member: `cat a.gz b.gz` and parallel compressors (pigz, bgzip) write several
        // members, and a single-member reader would silently keep only the first.
        flate2::read::MultiGzDecoder::new(bytes)
            .take(MAX_TEXT_BYTES as u64 + 1)
            .read_to_end(&mut inflated)
            .map_err(|e| RecordError::permanent(BAD_GZIP, format!("not valid gzip: {e}")))?;
        inflated
    } else {
        bytes.to_vec()
    };
    if raw.len() > MAX_TEXT_BYTES {
        return Err(RecordError::permanent(
            TEXT_TOO_LARGE,
            format!("the document is over {MAX_TEXT_BYTES} bytes of text"),
        ));
    }
    String::from_utf8(raw)
        .map_err(|_| RecordError::permanent(NOT_UTF8, "the document is not UTF-8 text"))
}

/// The start of `text` that certainly holds the LM window: a token spans at most a few dozen
/// bytes, so 32 bytes per token is ample, and tokenizing a 1 MB document to keep 128 tokens
/// would be wasted work. Cut at whitespace so the last word is not split differently.
fn lm_prefix(text: &str) -> &str {
    let limit = LM_WINDOW_TOKENS * 32;
    if text.len() <= limit {
        return text;
    }
    let prefix = &text[..text.floor_char_boundary(limit)];
    prefix
        .rfind(char::is_whitespace)
        .map_or(prefix, |space| &prefix[..space])
}

/// Scores one document; CPU work (callers put it on the CPU pool).
pub fn score_document(
    models: &Models,
    text: &str,
    input: &TextSubmitted,
    options: &ScoreOptions,
) -> Result<TextScored, ModelError> {
    let started = Instant::now();
    let mut timings = BTreeMap::new();
    let mut evidence = ModelEvidence::default();
    if let Some(embedder) = &models.embedder {
        let _forward = tracing::info_span!("model.forward", model = "minilm-l6-v2").entered();
        let embed_started = Instant::now();
        let sentences = slop::sentences(text);
        let refs: Vec<&str> = sentences
            .iter()
            .take(MAX_EMBEDDED_SENTENCES)
            .map(String::as_str)
            .collect();
        evidence.sentences = embedder.embed(&refs)?;
        if let Some(prompt) = &input.prompt {
            evidence.prompt = embedder.embed(&[prompt])?.into_iter().next();
        }
        let references: Vec<&str> = input.references.iter().map(String::as_str).collect();
        evidence.references = embedder.embed(&references)?;
        timings.insert("embeddings".to_owned(), elapsed_ms(embed_started));
    }
    if let Some(language_model) = &models.language_model {
        let _forward = tracing::info_span!("model.forward", model = "smollm2-135m").entered();
        let lm_started = Instant::now();
        let mut tokens = language_model.tokenize(lm_prefix(text))?;
        tokens.truncate(LM_WINDOW_TOKENS);
        evidence.surprisal = language_model.surprisals(&tokens)?;
        timings.insert("language_model".to_owned(), elapsed_ms(lm_started));
    }
    let rules_started = Instant::now();
    let result = slop::score(text, &input.domain, Some(&evidence), options);
    timings.insert("metrics".to_owned(), elapsed_ms(rules_started));
    timings.insert("total".to_owned(), elapsed_ms(started));
    Ok(TextScored {
        result,
        timings_ms: timings,
    })
}

impl Worker for TextScorer {
    type Input = TextSubmitted;
    type Output = TextScored;

    fn descriptor(&self) -> &WorkerDescriptor {
        &DESCRIPTOR
    }

    async fn process(&self, input: TextSubmitted) -> Result<TextScored, RecordError> {
        input.validate()?;
        let options: ScoreOptions = match &input.options {
            None => ScoreOptions::default(),
            Some(value) => serde_json::from_value(value.clone()).map_err(|e| {
                RecordError::permanent(error_codes::BAD_OPTIONS, format!("options: {e}"))
            })?,
        };
        let text = self.document_text(&input).await?;
        let models = self.models.clone();
        self.cpu
            .run(move || score_document(&models, &text, &input, &options))
            .await?
            .map_err(|e| RecordError::transient(codes::INFERENCE_FAILED, e.to_string()))
    }

    /// Filter-policy attribute: the level (`Clean`, `Watch`, `Sloppy`, `High-Slop`).
    fn attributes(&self, scored: &TextScored) -> Vec<(String, String)> {
        vec![("level".to_owned(), scored.result.level.as_str().to_owned())]
    }

    /// Documents per slop level (the levels are a closed set of four).
    fn metrics(&self, scored: &TextScored) -> Vec<Metric> {
        let name = match scored.result.level {
            Level::HighSlop => "DocumentsHighSlop",
            Level::Sloppy => "DocumentsSloppy",
            Level::Watch => "DocumentsWatch",
            Level::Clean => "DocumentsClean",
        };
        vec![Metric::count(name, 1.0)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn submitted(json: serde_json::Value) -> TextSubmitted {
        serde_json::from_value(json).expect("valid input")
    }

    #[test]
    fn multi_member_gzip_is_read_whole() {
        use std::io::Write;
        let member = |text: &str| {
            let mut encoder = flate2::write::GzEncoder::new(Vec::new(), Default::default());
            encoder.write_all(text.as_bytes()).expect("gzip");
            encoder.finish().expect("gzip")
        };
        let mut both = member("first member. ");
        both.extend(member("second member."));
        assert_eq!(
            decode_document(&both).expect("valid"),
            "first member. second member."
        );
    }

    #[test]
    fn references_prompt_and_id_are_bounded() {
        let many: Vec<String> = (0..=MAX_REFERENCES).map(|i| format!("ref {i}")).collect();
        let err = submitted(serde_json::json!({"doc_id": "d", "text": "t", "references": many}))
            .validate()
            .unwrap_err();
        assert_eq!(err.code(), codes::INPUT_TOO_LARGE);
        let long = "x".repeat(MAX_REFERENCE_BYTES + 1);
        for input in [
            serde_json::json!({"doc_id": "d", "text": "t", "references": [long]}),
            serde_json::json!({"doc_id": "d", "text": "t", "prompt": long}),
        ] {
            assert_eq!(
                submitted(input).validate().unwrap_err().code(),
                codes::INPUT_TOO_LARGE
            );
        }
        let long_id = "d".repeat(postlens_runtime::contracts::MAX_ID_BYTES + 1);
        assert_eq!(
            submitted(serde_json::json!({"doc_id": long_id, "text": "t"}))
                .validate()
                .unwrap_err()
                .code(),
            codes::SCHEMA_VIOLATION
        );
        assert!(
            submitted(serde_json::json!({"doc_id": "d", "text": "t", "references": ["a"]}))
                .validate()
                .is_ok()
        );
    }

    #[test]
    fn the_lm_prefix_keeps_short_texts_and_cuts_long_ones_at_whitespace() {
        assert_eq!(lm_prefix("short text"), "short text");
        let long = "naïve word ".repeat(1000);
        let prefix = lm_prefix(&long);
        assert!(prefix.len() <= LM_WINDOW_TOKENS * 32 && prefix.len() > LM_WINDOW_TOKENS * 30);
        assert!(
            prefix.ends_with("word") || prefix.ends_with("naïve"),
            "{prefix:?}"
        );
        assert!(long.starts_with(prefix));
    }
}
