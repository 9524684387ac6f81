//! Category embeddings for the auto-tagger: every taxonomy category embedded once (at
//! `make models` time), stored as F16 safetensors next to a small JSON description, and
//! loaded at cold start in a few milliseconds.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use postlens_analysis::tags::{CategoryVectors, Taxonomy};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{ModelError, SentenceEmbedder};

/// Changes whenever the text embedded per category changes (`Taxonomy::embedding_text`).
pub const RECIPE: &str = "leaf-first-path-v1";
/// The index's file name in the model directory (its description sits beside it as `.json`).
pub const FILE_NAME: &str = "category-embeddings.safetensors";
const TENSOR: &str = "embeddings";

/// What an index was built from; an index whose description differs from the expected one is rebuilt, not used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexDescription {
    /// [`RECIPE`] at build time.
    pub recipe: String,
    /// SHA-256 of the taxonomy text.
    pub taxonomy_sha256: String,
    /// SHA-256 of the MiniLM weights.
    pub model_sha256: String,
    /// Rows: one per taxonomy category.
    pub categories: usize,
    /// Columns: the embedding size.
    pub dimensions: usize,
}

impl IndexDescription {
    /// What an index built from these inputs must say about itself; also the cache key.
    pub fn expected(
        taxonomy_text: &str,
        model_weights: &Path,
        categories: usize,
    ) -> Result<Self, ModelError> {
        let weights = std::fs::read(model_weights).map_err(|e| ModelError::Load {
            path: model_weights.to_owned(),
            message: e.to_string(),
        })?;
        Ok(Self {
            recipe: RECIPE.to_owned(),
            taxonomy_sha256: hex::encode(Sha256::digest(taxonomy_text.as_bytes())),
            model_sha256: hex::encode(Sha256::digest(&weights)),
            categories,
            dimensions: crate::minilm::DIMENSIONS,
        })
    }

    /// A short, stable name for the index built from these inputs (24 hex digits).
    pub fn cache_key(&self) -> String {
        let joined = format!(
            "{}|{}|{}",
            self.recipe, self.taxonomy_sha256, self.model_sha256
        );
        hex::encode(&Sha256::digest(joined.as_bytes())[..12])
    }
}

/// Embeds every category, `batch` at a time.
pub fn build(
    embedder: &SentenceEmbedder,
    taxonomy: &Taxonomy,
    batch: usize,
) -> Result<CategoryVectors, ModelError> {
    let texts: Vec<String> = (0..taxonomy.len())
        .map(|i| taxonomy.embedding_text(i))
        .collect();
    let mut values = Vec::with_capacity(texts.len() * crate::minilm::DIMENSIONS);
    for chunk in texts.chunks(batch.max(1)) {
        let refs: Vec<&str> = chunk.iter().map(String::as_str).collect();
        for embedding in embedder.embed(&refs)? {
            values.extend(embedding);
        }
    }
    Ok(CategoryVectors {
        dimensions: crate::minilm::DIMENSIONS,
        values,
    })
}

fn description_path(path: &Path) -> PathBuf {
    path.with_extension("json")
}

/// Writes the vectors as safetensors and the description beside them.
pub fn save(
    vectors: &CategoryVectors,
    description: &IndexDescription,
    path: &Path,
) -> Result<(), ModelError> {
    let rows = vectors.values.len() / vectors.dimensions.max(1);
    let tensor = Tensor::from_slice(&vectors.values, (rows, vectors.dimensions), &Device::Cpu)?
        .to_dtype(DType::F16)?;
    candle_core::safetensors::save(&HashMap::from([(TENSOR.to_owned(), tensor)]), path)?;
    let json = serde_json::to_string_pretty(description).map_err(|e| ModelError::Load {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    std::fs::write(description_path(path), json + "\n").map_err(|e| ModelError::Load {
        path: path.to_owned(),
        message: e.to_string(),
    })
}

/// Loads an index, refusing one built for another taxonomy size.
pub fn load(
    path: &Path,
    expected_categories: usize,
) -> Result<(CategoryVectors, IndexDescription), ModelError> {
    let describe = description_path(path);
    let text =
        std::fs::read_to_string(&describe).map_err(|_| ModelError::Missing(describe.clone()))?;
    let description: IndexDescription =
        serde_json::from_str(&text).map_err(|e| ModelError::Load {
            path: describe.clone(),
            message: e.to_string(),
        })?;
    let tensors = candle_core::safetensors::load(crate::require(path)?, &Device::Cpu)?;
    let tensor = tensors.get(TENSOR).ok_or_else(|| ModelError::Load {
        path: path.to_owned(),
        message: format!("no `{TENSOR}` tensor"),
    })?;
    let (rows, dimensions) = tensor.dims2()?;
    if rows != expected_categories || rows != description.categories {
        return Err(ModelError::Load {
            path: path.to_owned(),
            message: format!("{rows} rows; the taxonomy has {expected_categories} categories (rebuild with `make models`)"),
        });
    }
    let values = tensor
        .to_dtype(DType::F32)?
        .flatten_all()?
        .to_vec1::<f32>()?;
    Ok((CategoryVectors { dimensions, values }, description))
}

/// Makes sure `model_dir/taxonomy/` holds an index for this taxonomy and these weights:
/// kept if up to date, else copied from `cache_dir` (keyed by [`IndexDescription::cache_key`]),
/// else built (about a minute on two cores) and cached. Returns the index path.
pub fn ensure(
    model_dir: &Path,
    taxonomy: &Taxonomy,
    taxonomy_text: &str,
    cache_dir: &Path,
) -> Result<PathBuf, ModelError> {
    let weights = model_dir.join("minilm-l6-v2").join("model.safetensors");
    let expected =
        IndexDescription::expected(taxonomy_text, crate::require(&weights)?, taxonomy.len())?;
    let target = model_dir.join("taxonomy").join(FILE_NAME);
    if let Ok((_, description)) = load(&target, taxonomy.len()) {
        if description == expected {
            return Ok(target);
        }
    }
    let io = |path: &Path, e: std::io::Error| ModelError::Load {
        path: path.to_owned(),
        message: e.to_string(),
    };
    let cached = cache_dir.join(format!(
        "category-index-{}.safetensors",
        expected.cache_key()
    ));
    let cached_is_good = matches!(load(&cached, taxonomy.len()), Ok((_, d)) if d == expected);
    if !cached_is_good {
        std::fs::create_dir_all(cache_dir).map_err(|e| io(cache_dir, e))?;
        let embedder = SentenceEmbedder::load(&model_dir.join("minilm-l6-v2"))?;
        let vectors = build(&embedder, taxonomy, 64)?;
        save(&vectors, &expected, &cached)?;
    }
    let parent = model_dir.join("taxonomy");
    std::fs::create_dir_all(&parent).map_err(|e| io(&parent, e))?;
    std::fs::copy(&cached, &target).map_err(|e| io(&target, e))?;
    std::fs::copy(description_path(&cached), description_path(&target))
        .map_err(|e| io(&target, e))?;
    Ok(target)
}
