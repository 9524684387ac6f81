//! The SQS event fixtures (the files `cargo lambda invoke --data-file` takes) give the
//! batch responses and events the README promises.

use std::path::Path;

use caption_parser::CaptionParser;
use postlens_local_stack::run_event_file;
use postlens_runtime::{OutputEvent, Status};

async fn run(name: &str) -> (Vec<String>, Vec<OutputEvent>) {
    let path = format!(
        "{}/../../fixtures/events/caption-parser/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let run = run_event_file(CaptionParser::new(), Path::new(&path))
        .await
        .expect("fixture runs");
    (run.failures, run.events)
}

#[tokio::test]
async fn direct_sns_and_raw_fixtures_all_succeed() {
    for name in [
        "sqs-direct.json",
        "sqs-sns-envelope.json",
        "sqs-sns-raw.json",
    ] {
        let (failures, events) = run(name).await;
        assert!(failures.is_empty(), "{name}");
        assert!(
            !events.is_empty() && events.iter().all(|e| e.status == Status::Ok),
            "{name}"
        );
        assert!(
            events
                .iter()
                .all(|e| e.result.as_ref().is_some_and(|r| !r["title"].is_null())),
            "{name}"
        );
    }
}

#[tokio::test]
async fn mixed_batch_acknowledges_every_record_with_an_event() {
    let (failures, events) = run("sqs-mixed-batch.json").await;
    assert!(
        failures.is_empty(),
        "malformed records are permanent errors, not retries"
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
    assert_eq!(events[1].result.as_ref().unwrap()["price_on_request"], true);
    assert_eq!(
        events[6].result.as_ref().unwrap()["compare_at_price"]["amount"],
        45.0
    );
}
