//! MiniLM on the real weights against an independent NumPy forward pass
//! (fixtures/models/minilm-reference.json, from scripts/minilm_reference.py).

use std::path::PathBuf;

use postlens_models::minilm::{cosine, DIMENSIONS};
use postlens_models::{model_dir, SentenceEmbedder};
use serde_json::Value;

fn reference() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/models/minilm-reference.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("reference file")).expect("json")
}

fn embedder() -> SentenceEmbedder {
    let dir = model_dir()
        .expect("models/ (run `make models`)")
        .join("minilm-l6-v2");
    SentenceEmbedder::load(&dir).expect("MiniLM loads")
}

#[test]
fn embeddings_match_the_numpy_reference_in_one_padded_batch() {
    let reference = reference();
    let sentences: Vec<&str> = reference["sentences"]
        .as_array()
        .expect("sentences")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let embedder = embedder();
    // One batch of different lengths: padding must not change any embedding.
    let embeddings = embedder.embed(&sentences).expect("embeds");
    assert_eq!(embeddings.len(), sentences.len());
    for (i, embedding) in embeddings.iter().enumerate() {
        assert_eq!(embedding.len(), DIMENSIONS);
        let norm: f32 = embedding.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "sentence {i} norm {norm}");
        let expected = reference["first_dims"][i].as_array().expect("dims");
        for (d, value) in expected.iter().enumerate() {
            let value = value.as_f64().expect("number") as f32;
            assert!(
                (embedding[d] - value).abs() < 1e-4,
                "sentence {i} dim {d}: {} vs {value}",
                embedding[d]
            );
        }
        for (j, other) in embeddings.iter().enumerate() {
            let expected = reference["cosine"][i][j].as_f64().expect("cosine") as f32;
            let actual = cosine(embedding, other);
            assert!(
                (actual - expected).abs() < 1e-4,
                "cosine({i},{j}) {actual} vs {expected}"
            );
        }
    }
    // The well-known pair.
    let pair = cosine(&embeddings[0], &embeddings[1]);
    assert!((pair - 0.755).abs() < 0.001, "{pair}");
}

/// One sentence at a time runs the few-rows kernel over half-precision weights (the padded
/// batch above runs the f32 matrix product): the same reference, the same tolerance.
/// Measured 2026-12-06: 6.7e-5 in a dimension and 8.6e-5 in a cosine at worst (5.5e-7 and
/// 5.7e-7 with f32 weights).
#[test]
fn each_sentence_alone_matches_the_numpy_reference() {
    let reference = reference();
    let embedder = embedder();
    let sentences = reference["sentences"].as_array().expect("sentences");
    let alone: Vec<Vec<f32>> = sentences
        .iter()
        .map(|sentence| {
            let sentence = sentence.as_str().expect("sentence");
            let mut embeddings = embedder.embed(&[sentence]).expect("embeds");
            embeddings.pop().expect("one embedding")
        })
        .collect();
    let mut worst = (0.0f32, 0.0f32);
    for (i, embedding) in alone.iter().enumerate() {
        let expected = reference["first_dims"][i].as_array().expect("dims");
        for (d, value) in expected.iter().enumerate() {
            let value = value.as_f64().expect("number") as f32;
            worst.0 = worst.0.max((embedding[d] - value).abs());
        }
        for (j, other) in alone.iter().enumerate() {
            let expected = reference["cosine"][i][j].as_f64().expect("cosine") as f32;
            worst.1 = worst.1.max((cosine(embedding, other) - expected).abs());
        }
    }
    eprintln!("worst dimension {:e}, worst cosine {:e}", worst.0, worst.1);
    assert!(worst.0 < 1e-4 && worst.1 < 1e-4, "{worst:?}");
}

#[test]
fn single_and_batched_embeddings_agree() {
    let embedder = embedder();
    let alone = embedder
        .embed(&["Wireless earbuds with noise cancelling"])
        .expect("embeds");
    let batched = embedder
        .embed(&[
            "x",
            "Wireless earbuds with noise cancelling",
            "a much longer sentence that forces padding of the others in the batch",
        ])
        .expect("embeds");
    assert!(cosine(&alone[0], &batched[1]) > 0.9999);
    assert!(embedder.embed(&[]).expect("empty").is_empty());
}

#[test]
fn a_missing_model_dir_is_a_clear_error() {
    let error = SentenceEmbedder::load(std::path::Path::new("/nonexistent"))
        .err()
        .expect("fails");
    assert!(error.to_string().contains("make models"), "{error}");
}
