//! `postlens demo` end to end, as `make demo` runs it: the binary against moto, reading
//! the real template and fixtures.

use std::path::Path;
use std::process::Command;

#[test]
fn demo_runs_the_fan_out_and_writes_every_result_event() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = std::env::temp_dir().join(format!("postlens-demo-test-{}", std::process::id()));
    let output = Command::new(env!("CARGO_BIN_EXE_postlens"))
        .current_dir(&root)
        .args(["demo", "--max-seconds", "60", "--out"])
        .arg(&out)
        .output()
        .expect("postlens runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "demo failed:\n{stdout}\n{stderr}");

    let events = std::fs::read_to_string(out.join("events.jsonl")).expect("events.jsonl");
    let events: Vec<serde_json::Value> = events
        .lines()
        .map(|line| serde_json::from_str(line).expect("event is JSON"))
        .collect();
    // fixtures/posts/posts.jsonl: eight posts and two malformed lines, for each worker
    // that reads new-video-posted and exists.
    for event_type in ["caption-parsed", "tags-generated", "language-detected"] {
        let of_type = || {
            events
                .iter()
                .filter(move |e| e["event_type"].as_str() == Some(event_type))
        };
        let ok = of_type().filter(|e| e["status"] == "ok").count();
        let errors = of_type().filter(|e| e["status"] == "error").count();
        assert_eq!((ok, errors), (8, 2), "{event_type}\n{stdout}");
    }
    assert!(
        stdout.contains("vid-ng-001") && stdout.contains("15000"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Dresses"),
        "the Ankara gown is tagged as a dress:\n{stdout}"
    );
    // The same posts carry media: six usable (one of them an HEVC clip), one off-list URL,
    // one black clip, and the two malformed lines.
    let thumbnails: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| e["event_type"] == "thumbnail-generated")
        .collect();
    let codes: Vec<&str> = thumbnails
        .iter()
        .filter_map(|e| e["error"]["code"].as_str())
        .collect();
    assert_eq!(thumbnails.len(), 10, "{stdout}");
    for code in ["url_not_allowed", "no_usable_frame"] {
        assert!(codes.contains(&code), "{code} missing from {codes:?}");
    }
    let hevc = thumbnails
        .iter()
        .find(|e| e["video_id"] == "vid-us-005")
        .expect("the HEVC clip's event");
    assert_eq!(hevc["status"], "ok", "{hevc}");
    // Every function ran under its role from the template and needed nothing more.
    assert!(
        stdout.contains("refused by the functions' roles: none"),
        "{stdout}"
    );
    let cup = thumbnails
        .iter()
        .find(|e| e["video_id"] == "vid-ng-001")
        .expect("the cup clip's event");
    assert_eq!(cup["result"]["subject"]["label"], "cup", "{cup}");
    for thumbnail in cup["result"]["thumbnails"].as_array().expect("thumbnails") {
        let key = thumbnail["s3_uri"]
            .as_str()
            .and_then(|uri| uri.strip_prefix("s3://"))
            .and_then(|rest| rest.split_once('/'))
            .map(|(_, key)| key)
            .expect("an s3 uri");
        let bytes = std::fs::read(out.join(key)).expect("thumbnail copied to out/");
        assert_eq!(
            bytes.len() as u64,
            thumbnail["bytes"].as_u64().expect("bytes")
        );
        assert!(bytes.starts_with(&[0xFF, 0xD8]), "a JPEG");
    }
    // fixtures/texts/documents.jsonl: four documents, one without an id, one in a bucket
    // outside DOCUMENT_BUCKETS.
    let scored = |status: &str| {
        events
            .iter()
            .filter(|e| e["event_type"] == "text-scored" && e["status"] == status)
            .count()
    };
    assert_eq!((scored("ok"), scored("error")), (4, 2), "{stdout}");
    assert!(stdout.contains("High-Slop"), "{stdout}");
    assert!(stderr.contains("moto stopped"), "{stderr}");
    let _ = std::fs::remove_dir_all(&out);
}
