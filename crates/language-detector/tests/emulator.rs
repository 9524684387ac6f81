//! The language detector behind the template's queue in moto, fed through SNS by the local
//! event source mapping: language-detected events arrive on its topic, a malformed post
//! becomes an error event, and nothing is retried.

use std::time::Duration;

use language_detector::LanguageDetector;
use postlens_local_stack::emulator::Emulator;
use postlens_local_stack::WorkerFixture;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posts_become_language_detected_events() {
    let emulator = Emulator::start().await.expect("moto (make venv)");
    let config = emulator.sdk_config().await;
    let fixture = WorkerFixture::create(&config, "language-detector")
        .await
        .expect("stack");
    fixture
        .publish(
            "NewVideoPostedTopic",
            [
                json!({"video_id": "v1", "caption": "Remate!! Chamarra de mezclilla $450 talla M", "market": "MX"})
                    .to_string(),
                json!({"video_id": "v2", "caption": "Viatu vya wanawake mpya Tsh 45,000", "market": "TZ"})
                    .to_string(),
                json!({"video_id": "v3", "caption": "Nice", "market": "Kenya"}).to_string(),
                "{not json".to_owned(),
            ],
        )
        .await
        .expect("publish");

    let report = fixture
        .drain(LanguageDetector::rules_only(), Duration::from_secs(60))
        .await
        .expect("drain");
    assert!(report.drained);
    assert_eq!(report.stats[0].returned_for_retry, 0, "{:?}", report.stats);

    let events = fixture.tap.drain().await.expect("events");
    assert_eq!(events.len(), 4, "{events:#?}");
    let by_video = |id: &str| {
        events
            .iter()
            .find(|e| e["video_id"] == id)
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(by_video("v1")["result"]["language"], "es");
    assert_eq!(by_video("v1")["result"]["fits_market"], true);
    assert_eq!(by_video("v2")["result"]["language"], "sw");
    assert_eq!(by_video("v3")["error"]["code"], "schema_violation");
    assert!(events
        .iter()
        .all(|e| e["event_type"] == "language-detected"));
    emulator.stop().await;
}
