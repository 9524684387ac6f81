//! The language-detector worker: `new-video-posted` → `language-detected`.
//!
//! Wires the pure detector (`postlens_analysis::language`) to the batch runtime, as the
//! caption parser wires its parser, with fastText's lid.176 where the rules abstain;
//! `main.rs` hands it to Lambda.

use std::sync::Arc;

use postlens_analysis::language::{detect_language_with, LanguageGuess, LanguageModel};
use postlens_models::{LanguageId, ModelError};
use postlens_runtime::contracts::NewVideoPosted;
use postlens_runtime::event::WorkerDescriptor;
use postlens_runtime::metrics::Metric;
use postlens_runtime::{Assemble, CpuPool, Parts, RecordError, Worker};

/// Who publishes `language-detected` events, about which subject.
pub const DESCRIPTOR: WorkerDescriptor = WorkerDescriptor {
    name: "language-detector",
    version: env!("CARGO_PKG_VERSION"),
    event_type: "language-detected",
    subject_key: "video_id",
};

/// A post's caption to its language, and whether that fits the post's market.
pub struct LanguageDetector {
    cpu: CpuPool,
    model: Option<Arc<LanguageId>>,
}

/// lid.176 from the model directory; no settings of its own.
impl Assemble for LanguageDetector {
    const BINARY: &'static str = "language-detector";
    const MODELS: &'static [&'static str] = &["lid-176"];
    type Error = ModelError;

    fn assemble(parts: Parts<'_>) -> Result<Self, ModelError> {
        Ok(Self::new(LanguageId::load(parts.model_dir)?))
    }
}

impl LanguageDetector {
    /// The rules, then `model` where they abstain or are unsure (what Lambda runs), on one
    /// thread per vCPU.
    pub fn new(model: LanguageId) -> Self {
        Self {
            cpu: CpuPool::per_vcpu(),
            model: Some(Arc::new(model)),
        }
    }

    /// The rules alone: captions without a marker word stay `undetermined`.
    pub fn rules_only() -> Self {
        Self {
            cpu: CpuPool::per_vcpu(),
            model: None,
        }
    }
}

impl Worker for LanguageDetector {
    type Input = NewVideoPosted;
    type Output = LanguageGuess;

    fn descriptor(&self) -> &WorkerDescriptor {
        &DESCRIPTOR
    }

    async fn process(&self, post: NewVideoPosted) -> Result<LanguageGuess, RecordError> {
        post.validate()?;
        let NewVideoPosted {
            caption, market, ..
        } = post;
        let model = self.model.clone();
        self.cpu
            .run(move || {
                let model = model.as_deref().map(|m| m as &dyn LanguageModel);
                detect_language_with(&caption, market.as_deref(), model)
            })
            .await
    }

    /// Filter-policy attributes: subscribers can ask for one language, or for posts whose
    /// caption does not fit their market (a mislabelled market, a cross-border seller).
    fn attributes(&self, guess: &LanguageGuess) -> Vec<(String, String)> {
        let mut attributes = Vec::new();
        if let Some(language) = guess.language {
            attributes.push(("language".to_owned(), language.code().to_owned()));
        }
        if let Some(fits) = guess.fits_market {
            attributes.push(("fits_market".to_owned(), fits.to_string()));
        }
        attributes
    }

    /// How often a caption has no language we can name, and how often it does not fit
    /// its market.
    fn metrics(&self, guess: &LanguageGuess) -> Vec<Metric> {
        vec![
            Metric::count(
                "CaptionsUndetermined",
                f64::from(u8::from(guess.language.is_none())),
            ),
            Metric::count(
                "CaptionsOutsideMarket",
                f64::from(u8::from(guess.fits_market == Some(false))),
            ),
        ]
    }
}
