//! What the demo prints: progress while queues drain, then each worker's events in brief.

use std::sync::Arc;

use postlens_local_stack::{EventSourceMapping, FunctionSpec, MappingStats, QueueDepth, Tap};
use serde_json::Value;

pub(super) struct Worker {
    pub(super) spec: FunctionSpec,
    pub(super) tap: Tap,
    pub(super) mapping: Option<Arc<EventSourceMapping>>,
    pub(super) dead_letter_url: Option<String>,
}

pub(super) fn progress_line(
    mappings: &[Arc<EventSourceMapping>],
    snapshot: &[(MappingStats, QueueDepth)],
) -> String {
    mappings
        .iter()
        .zip(snapshot)
        .map(|(mapping, (stats, depth))| {
            format!(
                "{}: {} invocations, {} records done, {} returned for retry, queue {} waiting / {} in flight",
                mapping.function_name,
                stats.invocations,
                stats.deleted,
                stats.returned_for_retry,
                depth.visible,
                depth.in_flight
            )
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

pub(super) fn print_worker(worker: &Worker, events: &[Value], dead: u64) {
    let ok = events.iter().filter(|e| e["status"] == "ok").count();
    println!(
        "\n{} ({}): {} events, {} ok, {} error, {} in the DLQ{}",
        worker.spec.binary,
        worker.spec.id,
        events.len(),
        ok,
        events.len() - ok,
        dead,
        if worker.mapping.is_none() {
            " (not started)"
        } else {
            ""
        }
    );
    for event in events {
        println!("  {}", summarise(event));
    }
}

/// One readable line per event.
fn summarise(event: &Value) -> String {
    let subject = ["video_id", "doc_id"]
        .iter()
        .find_map(|key| event[key].as_str())
        .unwrap_or("(no id)");
    if event["status"] != "ok" {
        return format!(
            "{subject:<14} error {}: {}",
            event["error"]["code"].as_str().unwrap_or("?"),
            event["error"]["message"].as_str().unwrap_or("")
        );
    }
    let result = &event["result"];
    match event["event_type"].as_str() {
        Some("caption-parsed") => {
            let price = match (
                &result["price"]["amount"],
                result["price"]["currency"].as_str(),
            ) {
                (Value::Null, _) => "no price".to_owned(),
                (amount, currency) => {
                    format!("{amount} {}", currency.unwrap_or("(currency unknown)"))
                }
            };
            format!(
                "{subject:<14} ok    {:?} · {price} · sizes {} · colours {}",
                result["title"].as_str().unwrap_or(""),
                compact(&result["sizes"]),
                compact(&result["colors"]),
            )
        }
        Some("tags-generated") => {
            let categories: Vec<String> = result["categories"]
                .as_array()
                .map(|c| {
                    c.iter()
                        .take(2)
                        .map(|c| {
                            format!(
                                "{} ({:.2})",
                                c["path"].as_str().unwrap_or(""),
                                c["score"].as_f64().unwrap_or(0.0)
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            let tags: Vec<&str> = result["tags"]
                .as_array()
                .map(|t| t.iter().filter_map(|t| t["tag"].as_str()).take(6).collect())
                .unwrap_or_default();
            format!(
                "{subject:<14} ok    {} · tags {}",
                categories.join(" | "),
                tags.join(", ")
            )
        }
        Some("thumbnail-generated") => {
            let sizes: Vec<String> = result["thumbnails"]
                .as_array()
                .map(|t| {
                    t.iter()
                        .map(|t| format!("{}x{}", t["width"], t["height"]))
                        .collect()
                })
                .unwrap_or_default();
            let shown = match result["subject"]["label"].as_str() {
                Some(label) => format!(
                    "{label} ({:.2})",
                    result["subject"]["score"].as_f64().unwrap_or(0.0)
                ),
                None => "no object, detail-centred crop".to_owned(),
            };
            format!(
                "{subject:<14} ok    {} frame at {} ms · {shown} · sharpness {:.2} · {}",
                result["source"]["kind"].as_str().unwrap_or(""),
                result["source"]["frame_time_ms"],
                result["quality"]["sharpness"].as_f64().unwrap_or(0.0),
                sizes.join(", "),
            )
        }
        Some("language-detected") => format!(
            "{subject:<14} ok    {} ({:.2}, {}){}",
            result["language"].as_str().unwrap_or("undetermined"),
            result["confidence"].as_f64().unwrap_or(0.0),
            result["evidence"]
                .as_array()
                .map(|words| {
                    let words: Vec<&str> = words.iter().filter_map(Value::as_str).collect();
                    words.join(" ")
                })
                .filter(|words| !words.is_empty())
                .or_else(|| {
                    // No words: a script decided, or nothing could.
                    result["undetermined"]
                        .as_str()
                        .or(result["script"].as_str())
                        .map(str::to_owned)
                })
                .unwrap_or_default(),
            if result["fits_market"] == false {
                " · does not fit the market"
            } else {
                ""
            }
        ),
        Some("text-scored") => format!(
            "{subject:<18} ok    {} {:.2} (confidence {:.2}) · {} spans",
            result["level"].as_str().unwrap_or(""),
            result["slop_score"].as_f64().unwrap_or(0.0),
            result["confidence"].as_f64().unwrap_or(0.0),
            result["spans"].as_array().map_or(0, Vec::len)
        ),
        _ => format!("{subject:<14} ok    {}", compact(result)),
    }
}

fn compact(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 100 {
        format!("{}…", text.chars().take(100).collect::<String>())
    } else {
        text
    }
}
