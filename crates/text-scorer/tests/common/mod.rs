//! Helpers the text-scorer test files share.

use std::io::Write;

use serde_json::Value;

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("gzip");
    encoder.finish().expect("gzip")
}

/// The text-scored event for `doc_id`, or `null` when there is none.
pub fn event_for(events: &[Value], doc_id: &str) -> Value {
    events
        .iter()
        .find(|e| e["doc_id"] == doc_id)
        .cloned()
        .unwrap_or_default()
}

/// The slop score of `doc_id`'s event; panics when it has none.
pub fn score_of(events: &[Value], doc_id: &str) -> f64 {
    event_for(events, doc_id)["result"]["slop_score"]
        .as_f64()
        .expect(doc_id)
}
