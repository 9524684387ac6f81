//! Every worker, once. The CLI's `invoke` and `hostile`, the demo's functions and their tests
//! reach the five workers through [`WorkerKind`], and build each with its own
//! [`Assemble::assemble`] (the Lambda binaries call the same through
//! `postlens_runtime::lambda::serve`). A worker added to infra/workers.toml and not here
//! fails `the_list_is_the_templates` below.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use postlens_runtime::{Assemble, ObjectStore, Parts};

/// A worker, by its binary's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum WorkerKind {
    /// `caption-parser`.
    CaptionParser,
    /// `language-detector`.
    LanguageDetector,
    /// `auto-tagger`.
    AutoTagger,
    /// `text-scorer`.
    TextScorer,
    /// `thumbnail-generator`.
    ThumbnailGenerator,
}

/// Something done with one worker's type; [`WorkerKind::apply`] is the one place the five
/// are matched.
pub trait ForWorker {
    /// What it comes to.
    type Output;
    /// Does it with `W`.
    fn run<W: Assemble>(self) -> Self::Output;
}

impl WorkerKind {
    /// All of them, in the template's order of description.
    pub const ALL: [Self; 5] = [
        Self::CaptionParser,
        Self::LanguageDetector,
        Self::AutoTagger,
        Self::TextScorer,
        Self::ThumbnailGenerator,
    ];

    /// `f` with this worker's type.
    pub fn apply<F: ForWorker>(self, f: F) -> F::Output {
        match self {
            Self::CaptionParser => f.run::<caption_parser::CaptionParser>(),
            Self::LanguageDetector => f.run::<language_detector::LanguageDetector>(),
            Self::AutoTagger => f.run::<auto_tagger::AutoTagger>(),
            Self::TextScorer => f.run::<text_scorer::TextScorer>(),
            Self::ThumbnailGenerator => f.run::<thumbnail_generator::ThumbnailGenerator>(),
        }
    }

    /// Its binary's name.
    pub fn binary(self) -> &'static str {
        struct Binary;
        impl ForWorker for Binary {
            type Output = &'static str;
            fn run<W: Assemble>(self) -> &'static str {
                W::BINARY
            }
        }
        self.apply(Binary)
    }

    /// The worker whose binary is `name`.
    pub fn from_binary(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.binary() == name)
    }
}

/// `W` built on this machine: models from `models/` (or `MODEL_DIR`), settings through
/// `settings`, its own S3 through `store`.
pub fn assemble_local<W: Assemble>(
    settings: &dyn Fn(&str) -> Option<String>,
    store: Arc<dyn ObjectStore>,
) -> anyhow::Result<W> {
    let model_dir = if W::MODELS.is_empty() {
        PathBuf::new()
    } else {
        crate::model_dir()?
    };
    W::assemble(Parts {
        model_dir: &model_dir,
        settings,
        store,
    })
    .with_context(|| format!("building {} from {}", W::BINARY, model_dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_the_templates() {
        let workers = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/workers.toml"),
        )
        .expect("infra/workers.toml");
        let mut binaries: Vec<&str> = workers
            .lines()
            .filter_map(|line| line.strip_prefix("binary = "))
            .map(|name| name.trim().trim_matches('"'))
            .collect();
        binaries.sort_unstable();
        let mut ours: Vec<&str> = WorkerKind::ALL.iter().map(|kind| kind.binary()).collect();
        ours.sort_unstable();
        assert_eq!(binaries, ours);
        for kind in WorkerKind::ALL {
            assert_eq!(WorkerKind::from_binary(kind.binary()), Some(kind));
        }
        assert_eq!(WorkerKind::from_binary("image-upscaler"), None);
    }
}
