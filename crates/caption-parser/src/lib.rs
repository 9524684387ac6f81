//! The caption-parser worker: `new-video-posted` → `caption-parsed`.
//!
//! This crate only wires the pure parser (`postlens_analysis::caption`) to the batch
//! runtime; `main.rs` hands it to Lambda.

use postlens_analysis::caption::{parse_caption, CaptionParse};
use postlens_runtime::contracts::NewVideoPosted;
use postlens_runtime::event::WorkerDescriptor;
use postlens_runtime::metrics::Metric;
use postlens_runtime::{Assemble, CpuPool, Parts, RecordError, Worker};

/// Names the worker in its events (`caption-parsed`, keyed by `video_id`).
pub const DESCRIPTOR: WorkerDescriptor = WorkerDescriptor {
    name: "caption-parser",
    version: env!("CARGO_PKG_VERSION"),
    event_type: "caption-parsed",
    subject_key: "video_id",
};

/// The caption-parser [`Worker`]: rules only, no model.
pub struct CaptionParser {
    cpu: CpuPool,
}

impl CaptionParser {
    /// The worker with one CPU worker per vCPU.
    pub fn new() -> Self {
        Self {
            cpu: CpuPool::per_vcpu(),
        }
    }
}

impl Default for CaptionParser {
    fn default() -> Self {
        Self::new()
    }
}

/// No models and no settings of its own.
impl Assemble for CaptionParser {
    const BINARY: &'static str = "caption-parser";
    const MODELS: &'static [&'static str] = &[];
    type Error = std::convert::Infallible;

    fn assemble(_: Parts<'_>) -> Result<Self, Self::Error> {
        Ok(Self::new())
    }
}

impl Worker for CaptionParser {
    type Input = NewVideoPosted;
    type Output = CaptionParse;

    fn descriptor(&self) -> &WorkerDescriptor {
        &DESCRIPTOR
    }

    async fn process(&self, post: NewVideoPosted) -> Result<CaptionParse, RecordError> {
        post.validate()?;
        let NewVideoPosted {
            caption, market, ..
        } = post;
        self.cpu
            .run(move || parse_caption(&caption, market.as_deref()))
            .await
    }

    /// Filter-policy attributes: subscribers can ask for priced posts in one currency.
    fn attributes(&self, parsed: &CaptionParse) -> Vec<(String, String)> {
        let mut attributes = vec![("has_price".to_owned(), parsed.price.is_some().to_string())];
        if let Some(currency) = parsed.price.as_ref().and_then(|p| p.currency.clone()) {
            attributes.push(("currency".to_owned(), currency));
        }
        attributes
    }

    /// How often a caption yields a price, and how many sizes and colours it names.
    fn metrics(&self, parsed: &CaptionParse) -> Vec<Metric> {
        vec![
            Metric::count(
                "CaptionsWithPrice",
                f64::from(u8::from(parsed.price.is_some())),
            ),
            Metric::count("SizesFound", parsed.sizes.len() as f64),
            Metric::count("ColoursFound", parsed.colors.len() as f64),
        ]
    }
}
