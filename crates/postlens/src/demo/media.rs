//! Fixture media up to the media bucket before posts go out; thumbnails back to `out/`.

use std::path::Path;

use anyhow::Context as _;
use postlens_runtime::envelope::S3Location;
use postlens_runtime::ObjectStore;
use serde_json::Value;

/// Uploads every file of `fixtures/videos` and `fixtures/images` to the media bucket as
/// `videos/NAME` and `images/NAME`, where the fixture posts point.
pub(crate) async fn upload_media(
    store: &dyn ObjectStore,
    bucket: &str,
    fixtures: &Path,
) -> anyhow::Result<usize> {
    let mut count = 0;
    for folder in ["videos", "images"] {
        let Ok(entries) = std::fs::read_dir(fixtures.join(folder)) else {
            continue;
        };
        for entry in entries {
            let path = entry?.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if !path.is_file() || name.ends_with(".md") {
                continue;
            }
            let location = S3Location {
                bucket: bucket.to_owned(),
                key: format!("{folder}/{name}"),
            };
            let bytes =
                std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            store
                .put(&location, bytes, "application/octet-stream")
                .await
                .with_context(|| format!("uploading {}", location.uri()))?;
            count += 1;
        }
    }
    Ok(count)
}

/// Copies the thumbnails the events list from S3 into `out/thumbnails/`, keeping their keys.
pub(super) async fn download_thumbnails(
    store: &dyn ObjectStore,
    events: &[Value],
    out_dir: &Path,
) -> anyhow::Result<usize> {
    let mut count = 0;
    for event in events {
        for thumbnail in event["result"]["thumbnails"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let Some(location) = thumbnail["s3_uri"].as_str().and_then(S3Location::parse) else {
                continue;
            };
            let bytes = store
                .get(&location, 64 * 1024 * 1024)
                .await
                .with_context(|| format!("downloading {}", location.uri()))?;
            let target = out_dir.join(&location.key);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&target, bytes)
                .with_context(|| format!("writing {}", target.display()))?;
            count += 1;
        }
    }
    Ok(count)
}
