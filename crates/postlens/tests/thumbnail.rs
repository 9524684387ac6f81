//! `postlens thumbnail`: local files in, one event per line out, thumbnails on disk.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

#[test]
fn local_media_becomes_thumbnail_files_listed_in_events() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = std::env::temp_dir().join(format!("postlens-thumbnail-test-{}", std::process::id()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_postlens"))
        .current_dir(&root)
        .args(["thumbnail", "--sizes", "1:1@200", "--out"])
        .arg(&out)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("postlens runs");
    let input = [
        r#"{"video_id":"cup","video_path":"fixtures/videos/cup-portrait.mp4"}"#,
        r#"{"video_id":"cat","image_path":"fixtures/images/chelsea.jpg"}"#,
        r#"{"video_id":"black","video_path":"fixtures/videos/black.mp4"}"#,
        "not json",
    ]
    .join("\n");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write");
    let output = child.wait_with_output().expect("finishes");
    assert!(output.status.success());
    let events: Vec<serde_json::Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(events.len(), 4);
    let cup = &events[0];
    assert_eq!(cup["status"], "ok", "{cup}");
    let thumbnail = &cup["result"]["thumbnails"][0];
    assert_eq!(
        (thumbnail["width"].as_u64(), thumbnail["height"].as_u64()),
        (Some(200), Some(200))
    );
    let path = thumbnail["uri"].as_str().expect("a file path");
    assert!(Path::new(path).starts_with(&out), "{path}");
    let bytes = std::fs::read(path).expect("thumbnail written");
    assert_eq!(
        bytes.len() as u64,
        thumbnail["bytes"].as_u64().expect("bytes")
    );
    assert_eq!(events[1]["result"]["source"]["kind"], "image");
    assert_eq!(events[2]["error"]["code"], "no_usable_frame");
    assert_eq!(events[3]["error"]["code"], "invalid_json");
    let _ = std::fs::remove_dir_all(&out);
}
