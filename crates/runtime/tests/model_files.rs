//! MODEL_S3_URI against moto: the needed sub-directories are copied once, checked against
//! the manifest's sha256, and a tampered file is refused.

use aws_sdk_s3::primitives::ByteStream;
use postlens_local_stack::emulator::{s3_client, Emulator};
use postlens_runtime::model_files::{fetch, ModelFetchError};
use sha2::{Digest, Sha256};

async fn put(s3: &aws_sdk_s3::Client, key: &str, bytes: &[u8]) {
    s3.put_object()
        .bucket("models")
        .key(key)
        .body(ByteStream::from(bytes.to_vec()))
        .send()
        .await
        .expect("put");
}

fn manifest(weights_sha256: &str) -> Vec<u8> {
    serde_json::json!({"models": [{"name": "tiny", "files": [
        {"path": "tiny/weights.bin", "sha256": weights_sha256}
    ]}]})
    .to_string()
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn model_directories_are_copied_once_and_checked() {
    let emulator = Emulator::start().await.expect("moto (make venv)");
    let s3 = s3_client(&emulator.sdk_config().await);
    s3.create_bucket()
        .bucket("models")
        .send()
        .await
        .expect("bucket");
    let weights = vec![7u8; 300_000];
    let digest = hex::encode(Sha256::digest(&weights));
    put(&s3, "v1/manifest.json", &manifest(&digest)).await;
    put(&s3, "v1/tiny/weights.bin", &weights).await;
    put(&s3, "v1/tiny/nested/vocab.txt", b"a\nb\n").await;
    put(&s3, "v1/other/unneeded.bin", b"not fetched").await;

    let cache = std::env::temp_dir().join(format!("postlens-model-files-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache);
    let dir = fetch(&s3, "s3://models/v1/", &["tiny"], &cache)
        .await
        .expect("fetches");
    assert_eq!(
        std::fs::read(dir.join("tiny/weights.bin")).expect("weights"),
        weights
    );
    assert_eq!(
        std::fs::read(dir.join("tiny/nested/vocab.txt")).expect("vocab"),
        b"a\nb\n"
    );
    assert!(
        !dir.join("other").exists(),
        "only the sub-directories asked for"
    );

    // A second init in the same sandbox reuses the copy: even with the bucket gone.
    s3.delete_object()
        .bucket("models")
        .key("v1/tiny/weights.bin")
        .send()
        .await
        .expect("delete");
    let again = fetch(&s3, "s3://models/v1", &["tiny"], &cache)
        .await
        .expect("reuses");
    assert_eq!(again, dir);

    // A file that does not match the manifest is refused and leaves no complete copy.
    put(&s3, "v2/manifest.json", &manifest(&digest)).await;
    put(&s3, "v2/tiny/weights.bin", b"tampered").await;
    let error = fetch(&s3, "s3://models/v2", &["tiny"], &cache)
        .await
        .expect_err("checksum");
    assert!(matches!(error, ModelFetchError::Checksum { .. }), "{error}");

    // Nothing under the prefix, and a URI that is not s3://.
    let error = fetch(&s3, "s3://models/v3", &["tiny"], &cache)
        .await
        .expect_err("empty");
    assert!(matches!(error, ModelFetchError::Empty(_)), "{error}");
    assert!(matches!(
        fetch(&s3, "models/v1", &["tiny"], &cache).await,
        Err(ModelFetchError::InvalidUri(_))
    ));
    let _ = std::fs::remove_dir_all(&cache);
    emulator.stop().await;
}
