//! Captions with their markets from a JSONL set under `fixtures/`, shared by
//! `postlens-analysis`'s caption bench and `postlens-models`' language bench.

/// `(caption, market)` of every case in `fixtures/<file>`.
pub fn captions_with_markets(file: &str) -> Vec<(String, Option<String>)> {
    let path = format!("{}/../../fixtures/{file}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let case: serde_json::Value = serde_json::from_str(line).expect("JSONL");
            (
                case["caption"].as_str().unwrap_or_default().to_owned(),
                case["market"].as_str().map(str::to_owned),
            )
        })
        .collect()
}
