//! The auto-tagger behind the template's queue in moto, fed through SNS by the local event
//! source mapping: tags-generated events arrive on its topic with the `top_category`
//! attribute, a malformed post becomes an error event, and nothing is retried.

use std::time::Duration;

use postlens_local_stack::emulator::Emulator;
use postlens_local_stack::WorkerFixture;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posts_become_tags_generated_events() {
    let emulator = Emulator::start().await.expect("moto (make venv)");
    let config = emulator.sdk_config().await;
    let fixture = WorkerFixture::create(&config, "auto-tagger")
        .await
        .expect("stack");
    fixture
        .publish(
            "NewVideoPostedTopic",
            [
                json!({"video_id": "v1", "caption": "Red bottom heels size 38 ₦30,000", "market": "NG"})
                    .to_string(),
                json!({"video_id": "v2", "caption": "AirPods Pro 2, sealed, KSh 6,000", "market": "KE"})
                    .to_string(),
                json!({"video_id": "v3", "caption": "Nice", "market": "Kenya"}).to_string(),
                "{not json".to_owned(),
            ],
        )
        .await
        .expect("publish");

    let dir = postlens_models::model_dir().expect("models/ (make models)");
    let models = auto_tagger::Models::load(&dir).expect("models");
    let report = fixture
        .drain(
            auto_tagger::AutoTagger::new(models),
            Duration::from_secs(60),
        )
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
    assert_eq!(
        by_video("v1")["result"]["categories"][0]["path"],
        "Apparel & Accessories > Shoes > Heels"
    );
    assert!(by_video("v2")["result"]["categories"][0]["path"]
        .as_str()
        .is_some_and(|p| p.contains("Headphones")));
    assert_eq!(by_video("v3")["error"]["code"], "schema_violation");
    assert!(events.iter().all(|e| e["event_type"] == "tags-generated"));
    emulator.stop().await;
}
