//! The thumbnail generator behind the template's queue in moto: media read from the media
//! bucket, thumbnails written to the thumbnail bucket and listed in events on its topic,
//! bad media and bad posts turned into error events, nothing retried.

use std::sync::Arc;
use std::time::Duration;

use postlens_local_stack::emulator::{s3_client, Emulator};
use postlens_local_stack::WorkerFixture;
use postlens_runtime::envelope::S3Location;
use postlens_runtime::store::S3Store;
use postlens_runtime::ObjectStore;
use serde_json::json;
use thumbnail_generator::{ThumbnailConfig, ThumbnailGenerator};

fn fixture_file(path: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../../fixtures/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect(path)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_in_s3_becomes_thumbnails_in_s3() {
    let emulator = Emulator::start().await.expect("moto (make venv)");
    let config = emulator.sdk_config().await;
    let fixture = WorkerFixture::create(&config, "thumbnail-generator")
        .await
        .expect("stack");
    let environment = &fixture.environment;
    let media_bucket = environment["MEDIA_BUCKETS"].clone();
    let thumbnail_bucket = environment["THUMBNAIL_BUCKET"].clone();
    let store: Arc<dyn ObjectStore> = Arc::new(S3Store::new(s3_client(&config)));
    for (key, path) in [
        ("in/cup.mp4", "videos/cup-portrait.mp4"),
        ("in/hevc.mp4", "videos/cup-hevc-1080p.mp4"),
        ("in/av1.mp4", "videos/cup-av1.mp4"),
        ("in/phone.heic", "images/phone-sideways-irot.heic"),
        ("in/cat.jpg", "images/chelsea.jpg"),
    ] {
        let location = S3Location {
            bucket: media_bucket.clone(),
            key: key.to_owned(),
        };
        store
            .put(&location, fixture_file(path), "application/octet-stream")
            .await
            .expect("upload");
    }

    let uri = |key: &str| format!("s3://{media_bucket}/{key}");
    fixture
        .publish(
            "NewVideoPostedTopic",
            [
                json!({"video_id": "cup", "video_s3_uri": uri("in/cup.mp4")}),
                json!({"video_id": "cat", "image_s3_uris": [uri("in/cat.jpg")]}),
                json!({"video_id": "hevc", "video_s3_uri": uri("in/hevc.mp4")}),
                json!({"video_id": "heic", "image_s3_uris": [uri("in/phone.heic")]}),
                json!({"video_id": "av1", "video_s3_uri": uri("in/av1.mp4")}),
                json!({"video_id": "gone", "video_s3_uri": uri("in/missing.mp4")}),
                json!({"video_id": "elsewhere", "video_s3_uri": "s3://someone-elses-bucket/v.mp4"}),
                json!({"video_id": "local", "video_path": "/etc/passwd"}),
                json!({"video_id": "nothing"}),
            ]
            .map(|body| body.to_string()),
        )
        .await
        .expect("publish");

    let dir = postlens_models::model_dir().expect("models/ (make models)");
    let detector = postlens_models::YoloxNano::load(&dir.join("yolox-nano")).expect("YOLOX");
    // The function's own environment from the template, read as the Lambda reads it.
    let config = ThumbnailConfig::from_lookup(|name| fixture.environment.get(name).cloned())
        .expect("the template's settings");
    assert_eq!(config.media_buckets, vec![media_bucket.clone()]);
    assert_eq!(config.output_bucket, thumbnail_bucket);
    let worker = ThumbnailGenerator::from_config(detector, store.clone(), config);
    let report = fixture
        .drain(worker, Duration::from_secs(90))
        .await
        .expect("drain");
    assert!(report.drained);
    assert_eq!(report.stats[0].returned_for_retry, 0, "{:?}", report.stats);

    let events = fixture.tap.drain().await.expect("events");
    assert_eq!(events.len(), 9, "{events:#?}");
    let by_video = |id: &str| {
        events
            .iter()
            .find(|e| e["video_id"] == id)
            .cloned()
            .unwrap_or_default()
    };
    let cup = by_video("cup");
    assert_eq!(cup["status"], "ok", "{cup}");
    assert_eq!(cup["result"]["subject"]["label"], "cup");
    for thumbnail in cup["result"]["thumbnails"].as_array().expect("thumbnails") {
        let location = S3Location::parse(thumbnail["s3_uri"].as_str().expect("uri")).expect("s3");
        assert_eq!(location.bucket, thumbnail_bucket);
        assert!(
            location.key.starts_with("thumbnails/cup/"),
            "{}",
            location.key
        );
        let jpeg = store.get(&location, 1 << 24).await.expect("stored");
        assert_eq!(
            jpeg.len() as u64,
            thumbnail["bytes"].as_u64().expect("bytes")
        );
        let decoded = image::load_from_memory(&jpeg).expect("a JPEG");
        assert_eq!(
            decoded.width() as u64,
            thumbnail["width"].as_u64().expect("width")
        );
    }
    assert_eq!(by_video("cat")["status"], "ok");
    assert_eq!(by_video("cat")["result"]["source"]["kind"], "image");
    // The phone's own formats: HEVC video and a HEIC photo.
    for id in ["hevc", "heic"] {
        let event = by_video(id);
        assert_eq!(event["status"], "ok", "{event}");
        assert_eq!(event["result"]["subject"]["label"], "cup", "{event}");
    }
    for (id, code) in [
        ("av1", "unsupported_codec"),
        ("gone", "object_not_found"),
        ("elsewhere", "bucket_not_allowed"),
        ("local", "local_path_not_allowed"),
        ("nothing", "media_missing"),
    ] {
        assert_eq!(
            by_video(id)["error"]["code"],
            code,
            "{id}: {}",
            by_video(id)
        );
    }
    assert!(events
        .iter()
        .all(|e| e["event_type"] == "thumbnail-generated"));
    emulator.stop().await;
}
