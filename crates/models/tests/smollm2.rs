//! SmolLM2 on the real GGUF against an independent reference: token ids from a plain
//! Python BPE with llama.cpp's pre-tokenizer patterns, surprisals from a NumPy forward
//! pass over weights dequantised by llama.cpp's `gguf` reader
//! (fixtures/models/smollm2-reference.json, from scripts/smollm2_reference.py).

use std::path::PathBuf;

use postlens_models::{model_dir, SmolLm2};
use serde_json::Value;

fn reference() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/models/smollm2-reference.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("reference file")).expect("json")
}

fn model() -> SmolLm2 {
    let dir = model_dir()
        .expect("models/ (run `make models`)")
        .join("smollm2-135m");
    SmolLm2::load(&dir).expect("SmolLM2 loads")
}

fn mean(values: &[f32]) -> f32 {
    values.iter().sum::<f32>() / values.len() as f32
}

#[test]
fn tokens_and_surprisals_match_the_reference() {
    let model = model();
    for case in reference()["cases"].as_array().expect("cases") {
        let text = case["text"].as_str().expect("text");
        let tokens = model.tokenize(text).expect("tokenizes");
        let ids: Vec<u64> = tokens.iter().map(|t| u64::from(t.id)).collect();
        let expected_ids: Vec<u64> = case["token_ids"]
            .as_array()
            .expect("ids")
            .iter()
            .filter_map(Value::as_u64)
            .collect();
        assert_eq!(ids, expected_ids, "{text}");
        // Byte ranges tile the text: the flagged spans built on them must be exact.
        let rebuilt: String = tokens.iter().map(|t| &text[t.start..t.end]).collect();
        assert_eq!(rebuilt.replace(' ', ""), text.replace(' ', ""), "{text}");

        let scored = model.surprisals(&tokens).expect("scores");
        let expected: Vec<f32> = case["surprisal_bits"]
            .as_array()
            .expect("bits")
            .iter()
            .filter_map(Value::as_f64)
            .map(|v| v as f32)
            .collect();
        assert_eq!(scored.len(), expected.len());
        let bits: Vec<f32> = scored.iter().map(|t| t.bits).collect();
        // candle quantizes activations to 8 bits for the Q4_1 products; the reference
        // multiplies in f32, so single tokens differ a little and means hardly at all.
        for (i, (a, b)) in bits.iter().zip(&expected).enumerate() {
            assert!((a - b).abs() < 0.6, "{text}: token {i}: {a} vs {b}");
        }
        assert!(
            (mean(&bits) - mean(&expected)).abs() < 0.15,
            "{text}: mean {} vs {}",
            mean(&bits),
            mean(&expected)
        );
    }
}

#[test]
fn the_model_knows_capitals_and_word_salad() {
    let model = model();
    let score = |text: &str| {
        let tokens = model.tokenize(text).expect("tokenizes");
        model.surprisals(&tokens).expect("scores")
    };
    let capital = score("The capital of France is Paris.");
    let paris = capital
        .iter()
        .find(|t| t.start == 24)
        .expect("a token starting at ' Paris'");
    assert!(paris.bits < 1.0, "{paris:?}");
    let fluent = mean(
        &score("The cat sat on the mat and looked out of the window.")
            .iter()
            .map(|t| t.bits)
            .collect::<Vec<_>>(),
    );
    let salad = mean(
        &score("window the mat out cat looked of sat the on and.")
            .iter()
            .map(|t| t.bits)
            .collect::<Vec<_>>(),
    );
    assert!(salad > fluent + 3.0, "salad {salad} vs fluent {fluent}");
}

#[test]
fn empty_text_scores_nothing_and_overlong_windows_are_refused() {
    let model = model();
    assert!(model.surprisals(&[]).expect("empty").is_empty());
    let token = postlens_models::smollm2::Token {
        id: 42,
        start: 0,
        end: 1,
    };
    let too_long = vec![token; model.context_length()];
    assert!(model.surprisals(&too_long).is_err());
}
