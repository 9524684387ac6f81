//! The auto-tagger on the real MiniLM weights and category index (`make models`).

use std::sync::OnceLock;

use auto_tagger::eval::{evaluate, parse_cases};
use auto_tagger::Models;

fn models() -> &'static Models {
    static MODELS: OnceLock<Models> = OnceLock::new();
    MODELS.get_or_init(|| {
        let dir = postlens_models::model_dir().expect("models/ (run `make models`)");
        Models::load(&dir).expect("models load")
    })
}

fn top(caption: &str) -> String {
    let result = models().tag(caption, None).expect("tags");
    result
        .categories
        .first()
        .map(|c| c.path.clone())
        .unwrap_or_default()
}

#[test]
fn known_products_land_in_their_category_not_a_lexical_near_miss() {
    assert_eq!(
        top("Nude heels, size 39"),
        "Apparel & Accessories > Shoes > Heels"
    );
    assert!(top("AirPods 3rd generation, sealed")
        .starts_with("Electronics > Audio > Audio Components > Headphones & Headsets"));
    assert!(top("Air Force 1 low white").starts_with("Apparel & Accessories > Shoes > Sneakers"));
    assert!(top("iPhone 13 128GB")
        .starts_with("Electronics > Communications > Telephony > Mobile & Smart Phones"));
}

#[test]
fn without_product_words_the_embedding_still_finds_the_area() {
    // No lexicon word: "espresso machine" must come from the embedding alone.
    assert!(top("Espresso machine with milk frother, barely used")
        .starts_with("Home & Garden > Kitchen & Dining"));
}

/// The held-out set was written before the tagger was run on it and is not tuned on.
#[test]
fn held_out_accuracy_beats_the_embedding_only_baseline() {
    let text = include_str!("../../../fixtures/tags/heldout.jsonl");
    let cases = parse_cases(text).expect("cases");
    assert!(cases.len() >= 60);
    let report = evaluate(models(), &cases).expect("evaluates");
    let top1 = report.tagger.top1 as f64 / report.cases as f64;
    let baseline = report.baseline.top1 as f64 / report.cases as f64;
    assert!(top1 >= 0.85, "top-1 {top1:.2}; misses {:#?}", report.misses);
    assert!(
        top1 >= baseline + 0.2,
        "tagger {top1:.2} vs baseline {baseline:.2}"
    );
}

#[test]
fn tags_are_useful_and_deduplicated() {
    let result = models()
        .tag(
            "Genuine leather crossbody bag for ladies, tan. #leatherbag #fyp #viral #handbags",
            Some("NG"),
        )
        .expect("tags");
    let tags: Vec<&str> = result.tags.iter().map(|t| t.tag.as_str()).collect();
    assert!(
        !tags.contains(&"fyp") && !tags.contains(&"viral"),
        "{tags:?}"
    );
    assert!(tags.iter().any(|t| t.contains("crossbody")), "{tags:?}");
    let mut unique = tags.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), tags.len(), "{tags:?}");
    assert_eq!(result.attributes.material, ["leather"]);
}

/// Ten records through the real engine: one forward pass for the whole batch, and the
/// same categories as tagging each caption alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_shares_one_forward_pass_and_matches_single_records() {
    use std::sync::Arc;

    use aws_lambda_events::event::sqs::SqsMessage;
    use postlens_runtime::{BatchEngine, EngineConfig, MemorySink};

    let dir = postlens_models::model_dir().expect("models/");
    let worker = auto_tagger::AutoTagger::new(Models::load(&dir).expect("models"));
    let cases = parse_cases(include_str!("../../../fixtures/tags/heldout.jsonl")).expect("cases");
    let records: Vec<SqsMessage> = cases
        .iter()
        .take(10)
        .enumerate()
        .map(|(i, case)| {
            let body = serde_json::json!({"video_id": format!("v{i}"), "caption": case.caption})
                .to_string();
            serde_json::from_value(serde_json::json!({"messageId": format!("m{i}"), "body": body}))
                .expect("record")
        })
        .collect();
    let sink = Arc::new(MemorySink::default());
    // All ten in flight together, as the template configures the auto-tagger
    // (MAX_CONCURRENCY = BatchSize), so all ten share the pass.
    let config = EngineConfig {
        max_concurrency: 10,
        ..EngineConfig::default()
    };
    let engine = BatchEngine::new(worker, sink.clone()).with_config(config);
    let outcome = engine.process_batch(&records, None).await;
    assert_eq!(outcome.report.ok, 10, "{:?}", outcome.report);
    assert_eq!(
        engine.worker().forward_passes(),
        1,
        "one forward pass for the batch"
    );

    for (entry, case) in sink.take().iter().zip(&cases) {
        let event: serde_json::Value = serde_json::from_str(&entry.message).expect("event");
        let alone = models().tag(&case.caption, None).expect("tags");
        assert_eq!(
            event["result"]["categories"][0]["path"].as_str(),
            alone.categories.first().map(|c| c.path.as_str()),
            "{}",
            case.caption
        );
    }
}

/// Detections sent with the post (a thumbnail result's) become object tags.
#[tokio::test]
async fn detections_in_the_post_become_object_tags() {
    use postlens_runtime::Worker;

    let dir = postlens_models::model_dir().expect("models/");
    let worker = auto_tagger::AutoTagger::new(Models::load(&dir).expect("models"));
    let post = serde_json::from_value(serde_json::json!({
        "video_id": "v1",
        "caption": "Tan leather bag, Lagos pickup",
        "detections": [
            {"label": "handbag", "score": 0.82, "box": [10.0, 10.0, 200.0, 220.0]},
            {"label": "person", "score": 0.95, "box": [0.0, 0.0, 400.0, 700.0]},
            {"label": "cup", "score": 0.2, "box": [5.0, 5.0, 20.0, 20.0]}
        ]
    }))
    .expect("post");
    let result = worker.process(post).await.expect("tags");
    let objects: Vec<&str> = result
        .tags
        .iter()
        .filter(|t| t.kind == postlens_analysis::tags::TagKind::Object)
        .map(|t| t.tag.as_str())
        .collect();
    assert_eq!(objects, ["handbag"], "{:?}", result.tags);
}
