//! The caption-parser handler against a real local AWS (moto server): SNS fan-out into
//! SQS (raw and non-raw), claim checks in S3, PublishBatch to SNS, filter policies, and
//! the exact partial batch response. Needs `make venv` (moto in `.venv`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::SqsMessage;
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use caption_parser::CaptionParser;
use postlens_local_stack::emulator::{self, Emulator};
use postlens_local_stack::lambda_record::lambda_record;
use postlens_runtime::sink::SnsSink;
use postlens_runtime::store::S3Store;
use postlens_runtime::{BatchEngine, EngineConfig};
use serde_json::{json, Value};

struct Aws {
    sns: aws_sdk_sns::Client,
    sqs: aws_sdk_sqs::Client,
    s3: aws_sdk_s3::Client,
}

impl Aws {
    async fn queue(&self, name: &str) -> (String, String) {
        let url = self
            .sqs
            .create_queue()
            .queue_name(name)
            .send()
            .await
            .expect("create queue")
            .queue_url()
            .unwrap_or_default()
            .to_owned();
        let attributes = self
            .sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("queue attributes");
        let arn = attributes
            .attributes()
            .and_then(|a| a.get(&QueueAttributeName::QueueArn))
            .cloned()
            .unwrap_or_default();
        (url, arn)
    }

    async fn topic(&self, name: &str) -> String {
        self.sns
            .create_topic()
            .name(name)
            .send()
            .await
            .expect("create topic")
            .topic_arn()
            .unwrap_or_default()
            .to_owned()
    }

    async fn subscribe(&self, topic: &str, queue_arn: &str, raw: bool, filter: Option<&str>) {
        let mut request = self
            .sns
            .subscribe()
            .topic_arn(topic)
            .protocol("sqs")
            .endpoint(queue_arn);
        request = request.attributes("RawMessageDelivery", raw.to_string());
        if let Some(filter) = filter {
            request = request.attributes("FilterPolicy", filter);
        }
        request.send().await.expect("subscribe");
    }

    /// Receives until `count` messages arrived or 15 s passed; deletes nothing.
    async fn receive(&self, queue_url: &str, count: usize) -> Vec<aws_sdk_sqs::types::Message> {
        let mut messages = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(15);
        while messages.len() < count && Instant::now() < deadline {
            let output = self
                .sqs
                .receive_message()
                .queue_url(queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .visibility_timeout(60)
                .message_system_attribute_names(MessageSystemAttributeName::All)
                .message_attribute_names("All")
                .send()
                .await
                .expect("receive");
            messages.extend(output.messages().iter().cloned());
        }
        messages
    }
}

fn events(messages: &[aws_sdk_sqs::types::Message]) -> Vec<Value> {
    messages
        .iter()
        .map(|m| {
            let envelope: Value =
                serde_json::from_str(m.body().unwrap_or_default()).expect("SNS envelope");
            let mut event: Value =
                serde_json::from_str(envelope["Message"].as_str().expect("Message"))
                    .expect("event JSON");
            event["_attributes"] = envelope["MessageAttributes"].clone();
            event
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caption_parser_against_a_local_aws() {
    let emulator = Emulator::start()
        .await
        .expect("moto server (run `make venv`)");
    let config = emulator.sdk_config().await;
    let aws = Aws {
        sns: aws_sdk_sns::Client::new(&config),
        sqs: aws_sdk_sqs::Client::new(&config),
        s3: emulator::s3_client(&config),
    };

    // Topology: new-video-posted fans out to an SNS-enveloped and a raw queue; caption-parsed
    // goes to an "all events" queue and an errors-only queue (filter policy on `status`).
    let input_topic = aws.topic("new-video-posted").await;
    let output_topic = aws.topic("caption-parsed").await;
    let (enveloped_url, enveloped_arn) = aws.queue("caption-parser-in").await;
    let (raw_url, raw_arn) = aws.queue("caption-parser-in-raw").await;
    let (all_url, all_arn) = aws.queue("caption-parsed-all").await;
    let (errors_url, errors_arn) = aws.queue("caption-parsed-errors").await;
    aws.subscribe(&input_topic, &enveloped_arn, false, None)
        .await;
    aws.subscribe(&input_topic, &raw_arn, true, None).await;
    aws.subscribe(&output_topic, &all_arn, false, None).await;
    aws.subscribe(
        &output_topic,
        &errors_arn,
        false,
        Some(r#"{"status": ["error"]}"#),
    )
    .await;
    aws.s3
        .create_bucket()
        .bucket("claims")
        .send()
        .await
        .expect("bucket");

    let posts = [
        json!({"event_id": "evt-1", "video_id": "v-ok", "caption": "Ankara gown ₦15,000 sizes 8-12", "market": "NG"}).to_string(),
        json!({"event_id": "evt-2", "video_id": "v-bad-market", "caption": "hi", "market": "Nigeria"}).to_string(),
        "this is not JSON".to_owned(),
    ];
    for post in &posts {
        aws.sns
            .publish()
            .topic_arn(&input_topic)
            .message(post)
            .send()
            .await
            .expect("publish input");
    }
    // Straight to the queue: a schema violation and a claim-checked payload in S3.
    let big_post = json!({"event_id": "evt-4", "video_id": "v-claim", "caption": "Crop tops KES 800", "market": "KE"});
    aws.s3
        .put_object()
        .bucket("claims")
        .key("posts/4.json")
        .body(big_post.to_string().into_bytes().into())
        .send()
        .await
        .expect("put claim");
    for body in [
        json!({"caption": "no id"}).to_string(),
        json!({"claim_check": {"s3_uri": "s3://claims/posts/4.json"}}).to_string(),
    ] {
        aws.sqs
            .send_message()
            .queue_url(&enveloped_url)
            .message_body(body)
            .send()
            .await
            .expect("send");
    }

    let received = aws.receive(&enveloped_url, 5).await;
    assert_eq!(received.len(), 5, "every input reached the queue");
    let records: Vec<SqsMessage> = received
        .iter()
        .map(|m| lambda_record(m, &enveloped_arn))
        .collect();

    let engine = BatchEngine::new(
        CaptionParser::new(),
        Arc::new(SnsSink::new(aws.sns.clone(), output_topic.clone())),
    )
    .with_store(Arc::new(S3Store::new(aws.s3.clone())))
    .with_config(EngineConfig {
        claim_check_bucket: Some("claims".to_owned()),
        ..EngineConfig::default()
    });
    let outcome = engine.process_batch(&records, None).await;
    assert!(
        outcome.response.batch_item_failures.is_empty(),
        "only permanent errors here: {:?}",
        outcome.outcomes
    );
    assert_eq!((outcome.report.ok, outcome.report.error_events), (2, 3));

    let published = events(&aws.receive(&all_url, 5).await);
    assert_eq!(published.len(), 5, "one event per record, no more");
    let by_subject: HashMap<String, &Value> = published
        .iter()
        .map(|e| (e["video_id"].as_str().unwrap_or("<none>").to_owned(), e))
        .collect();
    let ok = by_subject["v-ok"];
    assert_eq!(ok["status"], "ok");
    assert_eq!(ok["result"]["price"]["amount"], 15000.0);
    assert_eq!(ok["result"]["price"]["currency"], "NGN");
    assert_eq!(ok["result"]["sizes"], json!(["8", "10", "12"]));
    assert_eq!(ok["source_event_id"], "evt-1");
    assert_eq!(ok["_attributes"]["status"]["Value"], "ok");
    assert_eq!(ok["_attributes"]["currency"]["Value"], "NGN");
    assert_eq!(by_subject["v-claim"]["result"]["price"]["currency"], "KES");
    assert_eq!(
        by_subject["v-bad-market"]["error"]["code"],
        "schema_violation"
    );
    let error_codes: Vec<&str> = published
        .iter()
        .filter(|e| e["status"] == "error")
        .filter_map(|e| e["error"]["code"].as_str())
        .collect();
    assert_eq!(
        error_codes.iter().filter(|c| **c == "invalid_json").count(),
        1
    );
    assert_eq!(
        error_codes
            .iter()
            .filter(|c| **c == "schema_violation")
            .count(),
        2
    );

    let errors_only = events(&aws.receive(&errors_url, 3).await);
    assert_eq!(errors_only.len(), 3);
    assert!(
        errors_only.iter().all(|e| e["status"] == "error"),
        "the filter policy saw the status attribute"
    );

    // Raw delivery carries the same post; the input's event_id keeps the output's event_id the same.
    let raw_records: Vec<SqsMessage> = aws
        .receive(&raw_url, 3)
        .await
        .iter()
        .map(|m| lambda_record(m, &raw_arn))
        .collect();
    let raw_outcome = engine.process_batch(&raw_records, None).await;
    assert!(raw_outcome.response.batch_item_failures.is_empty());
    let again = events(&aws.receive(&all_url, 3).await);
    let ok_again = again
        .iter()
        .find(|e| e["video_id"] == "v-ok")
        .expect("ok event from raw delivery");
    assert_eq!(ok_again["event_id"], ok["event_id"]);

    // Publishing to a topic that does not exist is transient: every record comes back for retry.
    let broken = BatchEngine::new(
        CaptionParser::new(),
        Arc::new(SnsSink::new(
            aws.sns.clone(),
            "arn:aws:sns:us-east-1:123456789012:missing",
        )),
    );
    let outcome = broken.process_batch(&records, None).await;
    let mut failed: Vec<String> = outcome
        .response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    let mut all: Vec<String> = records
        .iter()
        .filter_map(|r| r.message_id.clone())
        .collect();
    failed.sort();
    all.sort();
    assert_eq!(failed, all);
    assert!(outcome.all_failed());
    emulator.stop().await;
}
