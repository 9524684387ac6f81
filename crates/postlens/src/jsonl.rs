//! JSON lines through the batch engine, and in-process invocation of a handler.

use std::process::ExitCode;
use std::sync::Arc;

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use postlens_runtime::{BatchEngine, MemorySink, RecordOutcome, Worker};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};

/// Lines handed to the engine at once, as an SQS batch of the default size.
const BATCH_LINES: usize = 10;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub published: usize,
    /// Lines the Lambda would have returned for retry (reported on stderr).
    pub retried: usize,
}

impl Summary {
    pub fn exit_code(&self) -> ExitCode {
        if self.retried == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    }
}

/// Each input line becomes one SQS record (message id `line-N`), each published event one output line.
pub async fn run<W: Worker>(
    worker: W,
    input: impl AsyncRead + Unpin,
    mut output: impl AsyncWrite + Unpin,
) -> anyhow::Result<Summary> {
    let sink = Arc::new(MemorySink::default());
    let engine = BatchEngine::new(worker, sink.clone());
    let mut lines = BufReader::new(input).lines();
    let mut summary = Summary::default();
    let mut batch = Vec::with_capacity(BATCH_LINES);
    let mut line_number = 0;
    loop {
        let line = lines.next_line().await?;
        if let Some(line) = &line {
            line_number += 1;
            if !line.trim().is_empty() {
                batch.push(record(&format!("line-{line_number}"), line));
            }
        }
        if batch.len() == BATCH_LINES || (line.is_none() && !batch.is_empty()) {
            let outcome = engine.process_batch(&batch, None).await;
            for entry in sink.take() {
                output.write_all(entry.message.as_bytes()).await?;
                output.write_all(b"\n").await?;
                summary.published += 1;
            }
            for (message_id, outcome) in &outcome.outcomes {
                if let RecordOutcome::Retry(error) = outcome {
                    summary.retried += 1;
                    eprintln!(
                        "{}",
                        json!({"record": message_id, "retryable_error": {"code": error.code(), "message": error.message()}})
                    );
                }
            }
            batch.clear();
        }
        if line.is_none() {
            break;
        }
    }
    output.flush().await?;
    Ok(summary)
}

/// Runs the handler on an SQS event (the `cargo lambda invoke --data-file` format).
pub async fn invoke<W: Worker>(worker: W, event_json: &str) -> anyhow::Result<Value> {
    let event: SqsEvent = serde_json::from_str(event_json)?;
    let invocation = postlens_local_stack::invoke_in_memory(worker, &event).await;
    let published: Vec<Value> = invocation
        .published
        .into_iter()
        .map(|entry| {
            let attributes: serde_json::Map<String, Value> = entry.attributes.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
            json!({"message": serde_json::from_str::<Value>(&entry.message).unwrap_or(Value::String(entry.message)), "attributes": attributes})
        })
        .collect();
    // The calls as SNS would have seen them: a user can check a batch against SNS's limits
    // (10 entries, 256 KiB together) without an AWS account.
    Ok(
        json!({"batch_response": invocation.response, "published": published, "publish_calls": invocation.calls}),
    )
}

fn record(message_id: &str, body: &str) -> SqsMessage {
    let mut record = SqsMessage::default();
    record.message_id = Some(message_id.to_owned());
    record.body = Some(body.to_owned());
    record.event_source = Some("postlens:stdin".to_owned());
    record
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn invoke_reports_its_publish_calls() {
        let event = json!({"Records": [
            {"messageId": "m1", "body": "{\"video_id\":\"a\",\"caption\":\"Dress ₦5,000\"}"},
            {"messageId": "m2", "body": "not json"}
        ]})
        .to_string();
        let output = invoke(caption_parser::CaptionParser::new(), &event)
            .await
            .unwrap();
        let calls = output["publish_calls"].as_array().expect("publish_calls");
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0]["entries"], 2);
        assert!(calls[0]["bytes"].as_u64().is_some_and(|b| b > 100));
    }

    #[tokio::test]
    async fn every_line_becomes_exactly_one_event() {
        let input = "{\"video_id\":\"a\",\"caption\":\"Dress ₦5,000\",\"market\":\"NG\"}\n\nnot json\n{\"caption\":\"no id\"}\n";
        let mut out = Vec::new();
        let summary = run(
            caption_parser::CaptionParser::new(),
            input.as_bytes(),
            &mut out,
        )
        .await
        .unwrap();
        assert_eq!(
            summary,
            Summary {
                published: 3,
                retried: 0
            }
        );
        let events: Vec<Value> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(events[0]["result"]["price"]["amount"], 5000.0);
        assert_eq!(events[1]["error"]["code"], "invalid_json");
        assert_eq!(events[2]["error"]["code"], "schema_violation");
    }

    #[tokio::test]
    async fn batches_of_more_than_ten_lines_keep_their_order() {
        let input: String = (0..25)
            .map(|i| format!("{{\"video_id\":\"v{i}\",\"caption\":\"x\"}}\n"))
            .collect();
        let mut out = Vec::new();
        run(
            caption_parser::CaptionParser::new(),
            input.as_bytes(),
            &mut out,
        )
        .await
        .unwrap();
        let ids: Vec<String> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["video_id"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(ids, (0..25).map(|i| format!("v{i}")).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn invoke_reports_the_batch_response_and_published_events() {
        let event = json!({"Records": [
            {"messageId": "m1", "body": "{\"video_id\":\"v1\",\"caption\":\"Top $20\"}"},
            {"messageId": "m2", "body": "{\"claim_check\":{\"s3_uri\":\"s3://bucket/k\"}}"}
        ]});
        let output = invoke(caption_parser::CaptionParser::new(), &event.to_string())
            .await
            .unwrap();
        assert_eq!(
            output["batch_response"]["batchItemFailures"],
            json!([{"itemIdentifier": "m2"}])
        );
        assert_eq!(output["published"].as_array().unwrap().len(), 1);
        assert_eq!(output["published"][0]["attributes"]["status"], "ok");
    }
}
