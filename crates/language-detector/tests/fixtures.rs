//! The SQS event fixtures (what `cargo lambda invoke --data-file` takes) through the real
//! handler in-process: the languages and error events the README promises.

use std::path::Path;

use language_detector::LanguageDetector;
use postlens_local_stack::run_event_file;
use postlens_runtime::OutputEvent;
use serde_json::Value;

async fn run(name: &str) -> (Vec<String>, Vec<OutputEvent>) {
    let path = format!(
        "{}/../../fixtures/events/language-detector/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let run = run_event_file(LanguageDetector::rules_only(), Path::new(&path))
        .await
        .expect("fixture runs");
    (run.failures, run.events)
}

fn field(event: &OutputEvent, name: &str) -> Value {
    event
        .result
        .as_ref()
        .map_or(Value::Null, |r| r[name].clone())
}

#[tokio::test]
async fn captions_in_six_markets_get_their_languages() {
    let (failures, events) = run("sqs-sns-raw.json").await;
    assert!(failures.is_empty());
    let languages: Vec<Value> = events.iter().map(|e| field(e, "language")).collect();
    assert_eq!(
        languages,
        ["pt", "id", "ms", "ko", "en"]
            .map(Value::from)
            .into_iter()
            .chain([Value::Null])
            .collect::<Vec<_>>()
    );
    // An English caption in a Brazilian post does not fit its market; a brand name alone
    // is not guessed.
    assert_eq!(field(&events[4], "fits_market"), false);
    assert_eq!(field(&events[5], "undetermined"), "no_marker_words");
    assert!(events.iter().all(|e| e.event_type == "language-detected"));
}

#[tokio::test]
async fn a_mixed_batch_acknowledges_every_record_with_an_event() {
    let (failures, events) = run("sqs-mixed-batch.json").await;
    assert!(
        failures.is_empty(),
        "malformed records are permanent errors"
    );
    let codes: Vec<Option<String>> = events
        .iter()
        .map(|e| e.error.as_ref().map(|x| x.code.clone()))
        .collect();
    assert_eq!(
        codes,
        vec![
            None,
            None,
            Some("invalid_json".to_owned()),
            Some("schema_violation".to_owned()),
            Some("invalid_json".to_owned()),
            Some("schema_violation".to_owned()),
            None,
        ]
    );
    assert_eq!(field(&events[0], "language"), "ms");
    assert_eq!(field(&events[6], "language"), "en");
}
