//! Each worker's one assembly: how it is built from its models, its settings and an object
//! store, wherever it runs. The Lambda binary ([`crate::lambda::serve`]), the local stack's
//! demo and the `postlens` CLI all build a worker through [`Assemble::assemble`], so a
//! worker's construction is written once, beside the worker.

use std::path::Path;
use std::sync::Arc;

use crate::engine::Worker;
use crate::store::ObjectStore;

/// What building a worker may use.
pub struct Parts<'a> {
    /// The model directory (a worker without models ignores it).
    pub model_dir: &'a Path,
    /// The function's settings: the process environment in Lambda, the template's resolved
    /// environment in the local stack, with overrides in the CLI's hostile runs.
    pub settings: &'a dyn Fn(&str) -> Option<String>,
    /// The store for the worker's own S3 reads and writes (media, documents, thumbnails),
    /// under the function's role where one applies.
    pub store: Arc<dyn ObjectStore>,
}

/// A worker that builds itself from [`Parts`].
pub trait Assemble: Worker + Sized {
    /// The function's binary, as the template and cargo-lambda name it.
    const BINARY: &'static str;
    /// The model directory's sub-directories it reads (what `MODEL_S3_URI` copies); empty
    /// for a worker without models.
    const MODELS: &'static [&'static str];
    /// Why it could not be built.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Builds the worker.
    fn assemble(parts: Parts<'_>) -> Result<Self, Self::Error>;
}
