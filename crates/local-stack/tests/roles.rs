//! Each function's clients act under its role from the template (issue 27, deliverable 2):
//! what the role grants reaches moto, what it does not is answered as AWS answers it, and
//! the SDK raises the same typed error.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use postlens_local_stack::emulator::{s3_client, Emulator};
use postlens_local_stack::{find_template, LocalStack, Topology};
use postlens_runtime::envelope::S3Location;
use postlens_runtime::store::S3Store;
use postlens_runtime::{ObjectStore, StoreError};

#[tokio::test]
async fn each_function_may_do_what_its_role_grants_and_nothing_else() {
    let emulator = Emulator::start().await.expect("moto (make venv)");
    let config = emulator.sdk_config().await;
    let template = find_template().expect("infra/template.yaml");
    let stack = LocalStack::create(Topology::from_file(&template).expect("template"), &config)
        .await
        .expect("stack");
    let function = |binary: &str| stack.topology.function(binary).expect(binary).clone();
    let admin_s3 = s3_client(&config);
    let media = stack.buckets["MediaBucket"].clone();
    let claim_checks = stack.buckets["ClaimCheckBucket"].clone();
    let thumbnails = stack.buckets["ThumbnailBucket"].clone();
    for (bucket, key) in [
        (&media, "documents/essay.txt"),
        (&media, "videos/clip.mp4"),
        (&claim_checks, "posts/p.json"),
    ] {
        admin_s3
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(b"x".to_vec().into())
            .send()
            .await
            .expect("admin put");
    }
    let at = |bucket: &str, key: &str| S3Location {
        bucket: bucket.to_owned(),
        key: key.to_owned(),
    };

    // The text scorer reads documents/ of the media bucket, and nothing else there.
    let (scorer, scorer_role) = stack
        .role_config(&function("text-scorer"), &config)
        .expect("role");
    let store = S3Store::new(s3_client(&scorer));
    assert_eq!(
        store
            .get(&at(&media, "documents/essay.txt"), 1024)
            .await
            .expect("granted"),
        b"x"
    );
    let refused = store.get(&at(&media, "videos/clip.mp4"), 1024).await;
    assert!(
        matches!(refused, Err(StoreError::AccessDenied(_))),
        "{refused:?}"
    );
    // A missing key answers 403, not 404: the role may not list the bucket unconditionally.
    let missing = store.get(&at(&media, "documents/missing.txt"), 1024).await;
    assert!(
        matches!(missing, Err(StoreError::AccessDenied(_))),
        "{missing:?}"
    );
    // Listing is granted for the documents/ prefix only (s3:prefix condition).
    let list = |prefix: &'static str| {
        s3_client(&scorer)
            .list_objects_v2()
            .bucket(&media)
            .prefix(prefix)
            .send()
    };
    assert_eq!(
        list("documents/").await.expect("granted").key_count(),
        Some(1)
    );
    let error = list("videos/").await.expect_err("denied");
    assert_eq!(
        error.as_service_error().and_then(|e| e.meta().code()),
        Some("AccessDenied")
    );
    // Oversized results go under results/text-scorer/ only.
    assert!(store
        .put(
            &at(&claim_checks, "results/text-scorer/r.json"),
            b"{}".to_vec(),
            "application/json"
        )
        .await
        .is_ok());
    let other = store
        .put(
            &at(&claim_checks, "results/caption-parser/r.json"),
            b"{}".to_vec(),
            "application/json",
        )
        .await;
    assert!(other.is_err(), "{other:?}");

    // The thumbnail generator reads media and writes thumbnails/, not documents' places.
    let (thumbnailer, _) = stack
        .role_config(&function("thumbnail-generator"), &config)
        .expect("role");
    let store = S3Store::new(s3_client(&thumbnailer));
    assert!(store
        .get(&at(&media, "videos/clip.mp4"), 1024)
        .await
        .is_ok());
    // S3ReadPolicy grants ListBucket: a missing key is a 404 to it.
    let missing = store.get(&at(&media, "videos/missing.mp4"), 1024).await;
    assert!(
        matches!(missing, Err(StoreError::NotFound(_))),
        "{missing:?}"
    );
    assert!(store
        .put(
            &at(&thumbnails, "thumbnails/v/1x1.jpg"),
            b"j".to_vec(),
            "image/jpeg"
        )
        .await
        .is_ok());
    assert!(store
        .put(
            &at(&thumbnails, "elsewhere/1x1.jpg"),
            b"j".to_vec(),
            "image/jpeg"
        )
        .await
        .is_err());

    // The caption parser publishes to its own topic only.
    let (parser, _) = stack
        .role_config(&function("caption-parser"), &config)
        .expect("role");
    let sns = aws_sdk_sns::Client::new(&parser);
    let own = &stack.topics["CaptionParsedTopic"];
    let foreign = &stack.topics["TagsGeneratedTopic"];
    sns.publish()
        .topic_arn(own)
        .message("{}")
        .send()
        .await
        .expect("own topic");
    let error = sns
        .publish()
        .topic_arn(foreign)
        .message("{}")
        .send()
        .await
        .expect_err("another worker's topic");
    assert_eq!(
        error.as_service_error().and_then(|e| e.meta().code()),
        Some("AuthorizationError"),
        "{error:?}"
    );

    // Idempotency items: its own key prefix only (dynamodb:LeadingKeys).
    let dynamodb = aws_sdk_dynamodb::Client::new(&parser);
    let table = stack.tables["IdempotencyTable"].clone();
    let hash_key = stack.topology.tables["IdempotencyTable"].clone();
    let put = |key: &str| {
        dynamodb
            .put_item()
            .table_name(&table)
            .set_item(Some(HashMap::from([(
                hash_key.clone(),
                AttributeValue::S(key.to_owned()),
            )])))
            .send()
    };
    put("caption-parser#abc").await.expect("own key");
    let error = put("auto-tagger#abc")
        .await
        .expect_err("another worker's key");
    assert_eq!(
        error.as_service_error().and_then(|e| e.meta().code()),
        Some("AccessDeniedException"),
        "{error:?}"
    );

    // Every refusal is recorded, for tests that require none.
    assert_eq!(scorer_role.denied().len(), 3, "{:?}", scorer_role.denied());
    emulator.stop().await;
}
