//! The thumbnail-generator worker: `new-video-posted` → `thumbnail-generated`.
//!
//! Media comes from `video_s3_uri` or `image_s3_uris` (buckets on an allow-list);
//! thumbnails go to `s3://{THUMBNAIL_BUCKET}/thumbnails/{video id}/{aspect}-{w}x{h}.jpg`,
//! a key that depends only on the input, so a retried record overwrites rather than
//! duplicates. `video_url` is downloaded only from allow-listed hosts (see [`download`]).

pub mod download;
pub mod pipeline;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use postlens_analysis::thumbnail::{CropRect, FrameQuality, ObjectBox};
use postlens_models::YoloxNano;
use postlens_runtime::contracts::NewVideoPosted;
use postlens_runtime::envelope::S3Location;
use postlens_runtime::event::WorkerDescriptor;
use postlens_runtime::metrics::Metric;
use postlens_runtime::store::read_allowed;
use postlens_runtime::{codes, CpuPool, ObjectStore, RecordError, Worker};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tracing::Instrument;

pub use download::{Downloader, UrlPolicy};
pub use pipeline::{generate, Generated, Media, OutputSpec, Settings, ThumbnailError};
use pipeline::{FrameCounts, SourceInfo};

pub const DESCRIPTOR: WorkerDescriptor = WorkerDescriptor {
    name: "thumbnail-generator",
    version: env!("CARGO_PKG_VERSION"),
    event_type: "thumbnail-generated",
    subject_key: "video_id",
};

pub mod error_codes {
    pub use postlens_runtime::codes::{
        BUCKET_NOT_ALLOWED, OBJECT_NOT_FOUND, S3_URI_INVALID as BAD_S3_URI,
    };
    pub const MEDIA_MISSING: &str = "media_missing";
    pub const URL_NOT_ALLOWED: &str = "url_not_allowed";
    pub const OUTPUT_UNAVAILABLE: &str = "thumbnail_store_unavailable";
    pub const LOCAL_PATH_NOT_ALLOWED: &str = "local_path_not_allowed";
    pub const MEDIA_TOO_LARGE: &str = "media_too_large";
}

/// One stored thumbnail as the event lists it.
#[derive(Debug, Clone, Serialize)]
pub struct ThumbnailEntry {
    /// Where it is: `s3://…` from the Lambda, a file path from `postlens thumbnail`.
    pub uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_uri: Option<String>,
    pub width: u32,
    pub height: u32,
    pub format: &'static str,
    pub bytes: usize,
    /// `w:h`
    pub aspect: String,
    pub crop: CropRect,
}

/// The `thumbnail-generated` result.
#[derive(Debug, Clone, Serialize)]
pub struct ThumbnailGenerated {
    pub thumbnails: Vec<ThumbnailEntry>,
    pub source: SourceInfo,
    /// The first output's crop, in source pixels.
    pub crop: CropRect,
    /// Objects in the chosen frame, best first.
    pub detections: Vec<ObjectBox>,
    /// The detection the crops are centred on; none means the smart-crop fallback.
    pub subject: Option<ObjectBox>,
    pub quality: FrameQuality,
    pub frames: FrameCounts,
    pub timings_ms: BTreeMap<String, f64>,
}

impl ThumbnailGenerated {
    /// The event for `generated`, its thumbnails stored at `uris` (same order).
    pub fn new(generated: Generated, uris: Vec<(String, Option<String>)>) -> Self {
        let crop = generated
            .thumbnails
            .first()
            .map(|t| t.crop)
            .unwrap_or(CropRect {
                x: 0,
                y: 0,
                w: generated.source.width,
                h: generated.source.height,
            });
        let thumbnails = generated
            .thumbnails
            .iter()
            .zip(uris)
            .map(|(t, (uri, s3_uri))| ThumbnailEntry {
                uri,
                s3_uri,
                width: t.width,
                height: t.height,
                format: "jpeg",
                bytes: t.jpeg.len(),
                aspect: format!("{}:{}", t.spec.aspect.0, t.spec.aspect.1),
                crop: t.crop,
            })
            .collect();
        Self {
            thumbnails,
            source: generated.source,
            crop,
            detections: generated.detections,
            subject: generated.subject,
            quality: generated.quality,
            frames: generated.frames,
            timings_ms: generated
                .timings_ms
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
        }
    }
}

/// A path segment for the object key: the video id when it is plain, else its hash.
pub fn key_segment(video_id: &str) -> String {
    let plain = !video_id.is_empty()
        && video_id.len() <= 128
        && video_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !video_id.starts_with('.');
    if plain {
        video_id.to_owned()
    } else {
        hex::encode(&Sha256::digest(video_id.as_bytes())[..16])
    }
}

/// The `new-video-posted` event, plus local paths that only `postlens thumbnail` honours.
#[derive(Debug, Clone, Deserialize)]
pub struct ThumbnailRequest {
    #[serde(flatten)]
    pub post: NewVideoPosted,
    #[serde(default)]
    pub video_path: Option<PathBuf>,
    #[serde(default)]
    pub image_path: Option<PathBuf>,
}

/// Where thumbnails are written.
pub enum Destination {
    /// `s3://{bucket}/thumbnails/…` (the Lambda).
    S3 {
        store: Arc<dyn ObjectStore>,
        bucket: String,
    },
    /// `{dir}/{video id}/…` on local disk (`postlens thumbnail --out DIR`); local input
    /// paths are accepted only with this destination.
    Directory(PathBuf),
}

pub struct ThumbnailGenerator {
    detector: Arc<YoloxNano>,
    /// Reads `s3://` media; `None` refuses it.
    media_store: Option<Arc<dyn ObjectStore>>,
    media_buckets: Vec<String>,
    destination: Destination,
    downloader: Downloader,
    settings: Arc<Settings>,
    cpu: CpuPool,
}

impl ThumbnailGenerator {
    pub fn new(
        detector: YoloxNano,
        media_store: Option<Arc<dyn ObjectStore>>,
        media_buckets: Vec<String>,
        destination: Destination,
        urls: UrlPolicy,
        settings: Settings,
    ) -> Self {
        Self {
            detector: Arc::new(detector),
            media_store,
            media_buckets,
            destination,
            // No allowed host, nothing to download: skip reading the system certificates.
            downloader: if urls.allowed_hosts.is_empty() {
                Downloader::with_roots(urls, rustls::RootCertStore::empty())
            } else {
                Downloader::new(urls)
            },
            settings: Arc::new(settings),
            cpu: CpuPool::per_vcpu(),
        }
    }

    fn read_local(&self, path: &Path) -> Result<Vec<u8>, RecordError> {
        use error_codes::*;
        if !matches!(self.destination, Destination::Directory(_)) {
            return Err(RecordError::permanent(
                LOCAL_PATH_NOT_ALLOWED,
                "video_path and image_path are read only by `postlens thumbnail`",
            ));
        }
        let missing = |e: std::io::Error| {
            RecordError::permanent(OBJECT_NOT_FOUND, format!("{}: {e}", path.display()))
        };
        let limit = self.settings.limits.max_bytes;
        let size = std::fs::metadata(path).map_err(missing)?.len();
        if size > limit as u64 {
            return Err(RecordError::permanent(
                MEDIA_TOO_LARGE,
                format!("{} is {size} bytes; the limit is {limit}", path.display()),
            ));
        }
        std::fs::read(path).map_err(missing)
    }

    async fn fetch(&self, uri: &str, max_bytes: usize) -> Result<Vec<u8>, RecordError> {
        read_allowed(
            self.media_store.as_deref(),
            uri,
            &self.media_buckets,
            "MEDIA_BUCKETS",
            max_bytes,
            error_codes::MEDIA_TOO_LARGE,
        )
        .instrument(tracing::info_span!("s3.get_object", purpose = "media"))
        .await
    }
}

impl Worker for ThumbnailGenerator {
    type Input = ThumbnailRequest;
    type Output = ThumbnailGenerated;

    fn descriptor(&self) -> &WorkerDescriptor {
        &DESCRIPTOR
    }

    async fn process(&self, request: ThumbnailRequest) -> Result<ThumbnailGenerated, RecordError> {
        let post = &request.post;
        post.validate()?;
        let (video, images) = if let Some(path) = &request.video_path {
            (Some(self.read_local(path)?), Vec::new())
        } else if let Some(path) = &request.image_path {
            (None, vec![self.read_local(path)?])
        } else if let Some(uri) = &post.video_s3_uri {
            (
                Some(self.fetch(uri, self.settings.limits.max_bytes).await?),
                Vec::new(),
            )
        } else if !post.image_s3_uris.is_empty() {
            // One media budget per post, shared by its images: ten images at the cap each
            // would hold ten times the memory the function is sized for.
            let mut images = Vec::new();
            let mut left = self.settings.limits.max_bytes;
            for uri in post.image_s3_uris.iter().take(self.settings.max_images) {
                let image = self.fetch(uri, left).await?;
                left -= image.len();
                images.push(image);
            }
            (None, images)
        } else if let Some(url) = &post.video_url {
            (
                Some(
                    self.downloader
                        .get(url, self.settings.limits.max_bytes)
                        .instrument(tracing::info_span!("media.download"))
                        .await?,
                ),
                Vec::new(),
            )
        } else {
            return Err(RecordError::permanent(
                error_codes::MEDIA_MISSING,
                "the post has no video_s3_uri, image_s3_uris or video_url",
            ));
        };

        let detector = self.detector.clone();
        let settings = self.settings.clone();
        let generated = self
            .cpu
            .run(move || {
                let media = match &video {
                    Some(bytes) => Media::Video(bytes),
                    None => Media::Images(images.iter().map(Vec::as_slice).collect()),
                };
                generate(media, &detector, &settings)
            })
            .await?
            .map_err(|e| match e {
                ThumbnailError::Detector(message) => {
                    RecordError::transient(codes::INFERENCE_FAILED, message)
                }
                other => RecordError::permanent(other.code(), other.to_string()),
            })?;

        let segment = key_segment(&post.video_id);
        let mut uris = Vec::with_capacity(generated.thumbnails.len());
        for thumbnail in &generated.thumbnails {
            let name = format!(
                "{}-{}x{}.jpg",
                thumbnail.spec.name, thumbnail.width, thumbnail.height
            );
            let unavailable =
                |message: String| RecordError::transient(error_codes::OUTPUT_UNAVAILABLE, message);
            match &self.destination {
                Destination::S3 { store, bucket } => {
                    let location = S3Location {
                        bucket: bucket.clone(),
                        key: format!("thumbnails/{segment}/{name}"),
                    };
                    store
                        .put(&location, thumbnail.jpeg.clone(), "image/jpeg")
                        .await
                        .map_err(|e| unavailable(e.to_string()))?;
                    let uri = location.uri();
                    uris.push((uri.clone(), Some(uri)));
                }
                Destination::Directory(dir) => {
                    let folder = dir.join(&segment);
                    let path = folder.join(&name);
                    std::fs::create_dir_all(&folder)
                        .and_then(|()| std::fs::write(&path, &thumbnail.jpeg))
                        .map_err(|e| unavailable(format!("{}: {e}", path.display())))?;
                    uris.push((path.display().to_string(), None));
                }
            }
        }
        Ok(ThumbnailGenerated::new(generated, uris))
    }

    /// Filter-policy attribute: what the thumbnail shows (`cup`, `person`, or `none`).
    fn attributes(&self, output: &ThumbnailGenerated) -> Vec<(String, String)> {
        let subject = output
            .subject
            .as_ref()
            .map_or("none".to_owned(), |s| s.label.clone());
        vec![("subject".to_owned(), subject)]
    }

    /// Objects found in the chosen frame, frames decoded, and crops without a subject.
    fn metrics(&self, output: &ThumbnailGenerated) -> Vec<Metric> {
        vec![
            Metric::count("Detections", output.detections.len() as f64),
            Metric::count("FramesDecoded", output.frames.decoded as f64),
            Metric::count(
                "CropsWithoutSubject",
                f64::from(u8::from(output.subject.is_none())),
            ),
        ]
    }
}

impl ThumbnailGenerator {
    /// Replaces the downloader (tests use one that trusts their own certificate).
    pub fn with_downloader(mut self, downloader: Downloader) -> Self {
        self.downloader = downloader;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_ids_are_keys_and_anything_else_is_hashed() {
        assert_eq!(key_segment("vid-123_a.b"), "vid-123_a.b");
        for odd in ["../../etc", "a/b", "", ".hidden", "é"] {
            let segment = key_segment(odd);
            assert_eq!(segment.len(), 32, "{odd}");
            assert!(segment.chars().all(|c| c.is_ascii_hexdigit()));
        }
    }
}
