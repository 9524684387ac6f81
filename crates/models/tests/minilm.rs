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
