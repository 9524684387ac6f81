//! The thumbnail-generator worker: `new-video-posted` → `thumbnail-generated`.
//!
//! Media comes from `video_s3_uri` or `image_s3_uris` (buckets on an allow-list);
//! thumbnails go to
//! `s3://{THUMBNAIL_BUCKET}/thumbnails/{video id}/{media digest}/{aspect}-{w}x{h}.jpg`, a key
//! that depends only on the media, so a retried record overwrites its own objects rather
//! than duplicating them, and no other post's (see [`media_digest`]). `video_url` is
//! downloaded only from allow-listed hosts (see [`download`]).

pub mod download;
pub mod pipeline;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use postlens_analysis::thumbnail::{CropRect, FrameQuality, ObjectBox};
use postlens_models::{ModelError, YoloxNano};
use postlens_runtime::contracts::NewVideoPosted;
use postlens_runtime::envelope::S3Location;
use postlens_runtime::event::WorkerDescriptor;
use postlens_runtime::metrics::Metric;
use postlens_runtime::settings::{ConfigError, Env};
use postlens_runtime::store::AllowedObjects;
use postlens_runtime::{codes, Assemble, CpuPool, ObjectStore, Parts, RecordError, Worker};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tracing::Instrument;

pub use download::{Downloader, UrlPolicy};
pub use pipeline::{
    generate, Generated, Media, OutputSpec, OutputSpecError, Settings, ThumbnailError,
};
use pipeline::{FrameCounts, SourceInfo};

/// Names the worker in its events (`thumbnail-generated`, keyed by `video_id`).
pub const DESCRIPTOR: WorkerDescriptor = WorkerDescriptor {
    name: "thumbnail-generator",
    version: env!("CARGO_PKG_VERSION"),
    event_type: "thumbnail-generated",
    subject_key: "video_id",
};

/// The `error.code`s the thumbnail generator's error events carry.
pub mod error_codes {
    pub use postlens_runtime::codes::{
        BUCKET_NOT_ALLOWED, OBJECT_NOT_FOUND, S3_URI_INVALID as BAD_S3_URI,
    };
    /// Neither `video_s3_uri`, `video_url` nor `image_s3_uris`.
    pub const MEDIA_MISSING: &str = "media_missing";
    /// `video_url` names a host outside `VIDEO_URL_HOSTS`.
    pub const URL_NOT_ALLOWED: &str = "url_not_allowed";
    /// The thumbnail bucket could not be written.
    pub const OUTPUT_UNAVAILABLE: &str = "thumbnail_store_unavailable";
    /// `video_path` or `image_path` outside `postlens thumbnail --out`.
    pub const LOCAL_PATH_NOT_ALLOWED: &str = "local_path_not_allowed";
    /// Media over the byte cap, however it arrives (S3, URL): the decoder's own code.
    pub use postlens_media::codes::MEDIA_TOO_LARGE;
    /// Every candidate frame was black or blank.
    pub const NO_USABLE_FRAME: &str = "no_usable_frame";
    /// `video_url` answered 404 or 410.
    pub const URL_NOT_FOUND: &str = "url_not_found";
    /// `video_url` failed in a way a retry will not fix (4xx, bad redirect, bad body).
    pub const URL_FETCH_FAILED: &str = "url_fetch_failed";
    /// `video_url` failed in a way a retry may fix (5xx, 429, connection, timeout).
    pub const URL_UNAVAILABLE: &str = "url_unavailable";
}

/// One stored thumbnail as the event lists it.
#[derive(Debug, Clone, Serialize)]
pub struct ThumbnailEntry {
    /// Where it is: `s3://…` from the Lambda, a file path from `postlens thumbnail`.
    pub uri: String,
    /// The same as `uri` when stored in S3.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_uri: Option<String>,
    /// Pixels across.
    pub width: u32,
    /// Pixels down.
    pub height: u32,
    /// `jpeg`.
    pub format: &'static str,
    /// File size.
    pub bytes: usize,
    /// `w:h`
    pub aspect: String,
    /// The crop it was made from, in source pixels.
    pub crop: CropRect,
}

/// The `thumbnail-generated` result.
#[derive(Debug, Clone, Serialize)]
pub struct ThumbnailGenerated {
    /// One per configured output, in `THUMBNAIL_SIZES` order.
    pub thumbnails: Vec<ThumbnailEntry>,
    /// The media and the frame chosen.
    pub source: SourceInfo,
    /// The first output's crop, in source pixels.
    pub crop: CropRect,
    /// Objects in the chosen frame, best first.
    pub detections: Vec<ObjectBox>,
    /// The detection the crops are centred on; none means the smart-crop fallback.
    pub subject: Option<ObjectBox>,
    /// How sharp, bright and busy the chosen frame is.
    pub quality: FrameQuality,
    /// Frames considered at each stage.
    pub frames: FrameCounts,
    /// Milliseconds per stage.
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
                w: generated.source.frame_width,
                h: generated.source.frame_height,
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

/// The media's content address in thumbnail keys: the first 16 bytes of sha256 over the
/// bytes (each image's length-prefixed, in order), as hex.
///
/// Keys that depended on `video_id` alone let a late retry of an older post overwrite a
/// newer post's thumbnails, and anyone reusing a `video_id` overwrite another's. Under the
/// media's digest a retry of the same post writes the same objects (the pipeline is
/// deterministic), and different media never share a key.
pub fn media_digest(video: Option<&[u8]>, images: &[Vec<u8>]) -> String {
    let mut hasher = Sha256::new();
    match video {
        Some(bytes) => {
            hasher.update(b"video");
            hasher.update(bytes);
        }
        None => {
            for image in images {
                hasher.update((image.len() as u64).to_be_bytes());
                hasher.update(image);
            }
        }
    }
    hex::encode(&hasher.finalize()[..16])
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
    /// The post as published.
    #[serde(flatten)]
    pub post: NewVideoPosted,
    /// A local video, instead of the post's media (`postlens thumbnail` only).
    #[serde(default)]
    pub video_path: Option<PathBuf>,
    /// A local image, instead of the post's media (`postlens thumbnail` only).
    #[serde(default)]
    pub image_path: Option<PathBuf>,
}

/// Where thumbnails are written.
pub enum Destination {
    /// `s3://{bucket}/thumbnails/…` (the Lambda).
    S3 {
        /// Where writes go.
        store: Arc<dyn ObjectStore>,
        /// The bucket (`THUMBNAIL_BUCKET`).
        bucket: String,
    },
    /// `{dir}/{video id}/…` on local disk (`postlens thumbnail --out DIR`); local input
    /// paths are accepted only with this destination.
    Directory(PathBuf),
}

/// The thumbnail-generator [`Worker`].
pub struct ThumbnailGenerator {
    detector: Arc<YoloxNano>,
    /// Where `s3://` media may be read (`MEDIA_BUCKETS`).
    media: AllowedObjects,
    destination: Destination,
    downloader: Downloader,
    settings: Arc<Settings>,
    cpu: CpuPool,
    /// One per post whose media may be in memory (see [`Settings::media_slots`]).
    media_slots: Arc<tokio::sync::Semaphore>,
}

/// The function's settings, read from its environment by [`ThumbnailConfig::from_lookup`]:
/// the Lambda, the local stack and `postlens hostile` read the same names the same way.
#[derive(Debug, Clone)]
pub struct ThumbnailConfig {
    /// `THUMBNAIL_BUCKET`: where thumbnails are written.
    pub output_bucket: String,
    /// `MEDIA_BUCKETS`: the buckets `video_s3_uri` and `image_s3_uris` may name.
    pub media_buckets: Vec<String>,
    /// `VIDEO_URL_HOSTS`: the hosts `video_url` may name (none by default).
    pub urls: UrlPolicy,
    /// `THUMBNAIL_SIZES`, `JPEG_QUALITY` and `MAX_MEDIA_BYTES` over the defaults.
    pub settings: Settings,
}

impl ThumbnailConfig {
    /// Reads the settings through `lookup` (the process environment in the Lambda, the
    /// template's resolved environment in the local stack).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env::new(&lookup);
        Ok(Self {
            output_bucket: env.required("THUMBNAIL_BUCKET")?,
            media_buckets: env.list("MEDIA_BUCKETS"),
            urls: UrlPolicy {
                allowed_hosts: env.list("VIDEO_URL_HOSTS"),
                ..UrlPolicy::default()
            },
            settings: Settings::from_lookup(&lookup)?,
        })
    }
}

/// Why the thumbnail generator could not be built.
#[derive(Debug, thiserror::Error)]
pub enum AssemblyError {
    /// A setting could not be read.
    #[error(transparent)]
    Settings(#[from] ConfigError),
    /// YOLOX-Nano did not load.
    #[error(transparent)]
    Detector(#[from] ModelError),
}

/// YOLOX-Nano from the model directory; media from `MEDIA_BUCKETS` and thumbnails to
/// `THUMBNAIL_BUCKET` through the store, with the settings of [`ThumbnailConfig`].
impl Assemble for ThumbnailGenerator {
    const BINARY: &'static str = "thumbnail-generator";
    const MODELS: &'static [&'static str] = &["yolox-nano"];
    type Error = AssemblyError;

    fn assemble(parts: Parts<'_>) -> Result<Self, AssemblyError> {
        // Settings first: a bad one needs no model load to be reported.
        let config = ThumbnailConfig::from_lookup(parts.settings)?;
        let detector = YoloxNano::load(&parts.model_dir.join("yolox-nano"))?;
        Ok(Self::from_config(detector, parts.store, config))
    }
}

impl ThumbnailGenerator {
    /// A generator writing to `destination` that reads no S3 media, downloads nothing and
    /// uses the default settings; the `with_*` methods add the rest.
    pub fn new(detector: YoloxNano, destination: Destination) -> Self {
        Self {
            detector: Arc::new(detector),
            media: AllowedObjects::none("MEDIA_BUCKETS"),
            destination,
            downloader: Self::downloader_for(UrlPolicy::default()),
            settings: Arc::new(Settings::default()),
            cpu: CpuPool::per_vcpu(),
            media_slots: Arc::new(tokio::sync::Semaphore::new(Settings::default().media_slots)),
        }
    }

    /// The function as deployed: media read from the `MEDIA_BUCKETS` and thumbnails written
    /// to `THUMBNAIL_BUCKET`, both through `store`.
    pub fn from_config(
        detector: YoloxNano,
        store: Arc<dyn ObjectStore>,
        config: ThumbnailConfig,
    ) -> Self {
        Self::new(
            detector,
            Destination::S3 {
                store: store.clone(),
                bucket: config.output_bucket,
            },
        )
        .with_media_store(store, config.media_buckets)
        .with_url_policy(config.urls)
        .with_settings(config.settings)
    }

    /// Reads `s3://` media through `store`, from these buckets only.
    pub fn with_media_store(mut self, store: Arc<dyn ObjectStore>, buckets: Vec<String>) -> Self {
        self.media = AllowedObjects::new(store, buckets, "MEDIA_BUCKETS");
        self
    }

    /// Downloads `video_url`s as `urls` allows.
    pub fn with_url_policy(mut self, urls: UrlPolicy) -> Self {
        self.downloader = Self::downloader_for(urls);
        self
    }

    /// Sizes, quality and limits (`THUMBNAIL_SIZES`, `JPEG_QUALITY`, `MAX_MEDIA_BYTES`).
    pub fn with_settings(mut self, settings: Settings) -> Self {
        self.media_slots = Arc::new(tokio::sync::Semaphore::new(settings.media_slots.max(1)));
        self.cpu = settings
            .cpu_workers
            .map_or_else(CpuPool::per_vcpu, CpuPool::new);
        self.settings = Arc::new(settings);
        self
    }

    /// Replaces the downloader (tests use one that trusts their own certificate).
    pub fn with_downloader(mut self, downloader: Downloader) -> Self {
        self.downloader = downloader;
        self
    }

    fn downloader_for(urls: UrlPolicy) -> Downloader {
        // No allowed host, nothing to download: skip reading the system certificates.
        if urls.allowed_hosts.is_empty() {
            Downloader::with_roots(urls, rustls::RootCertStore::empty())
        } else {
            Downloader::new(urls)
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
        self.media
            .read(uri, max_bytes, error_codes::MEDIA_TOO_LARGE)
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
        // Before any download: media abandoned at an earlier deadline still holds its slot
        // while its decoding runs on, so the memory budget counts it.
        let media_slot = self
            .media_slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| RecordError::transient(codes::PANIC, "media slots closed"))?;
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
        let (media_digest, generated) = self
            .cpu
            .run_holding(media_slot, move || {
                let digest = media_digest(video.as_deref(), &images);
                let media = match &video {
                    Some(bytes) => Media::Video(bytes),
                    None => Media::Images(images.iter().map(Vec::as_slice).collect()),
                };
                (digest, generate(media, &detector, &settings))
            })
            .await?;
        let generated = generated.map_err(|e| match e {
            ThumbnailError::Detector(error) => {
                RecordError::transient(codes::INFERENCE_FAILED, error.to_string())
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
                        key: format!("thumbnails/{segment}/{media_digest}/{name}"),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_digests_separate_media_and_keep_retries_alike() {
        let a = media_digest(Some(b"clip one"), &[]);
        assert_eq!(a, media_digest(Some(b"clip one"), &[]));
        assert_eq!(a.len(), 32);
        assert_ne!(a, media_digest(Some(b"clip two"), &[]));
        // The same bytes as a video or as an image are different media; image boundaries count.
        assert_ne!(a, media_digest(None, &[b"clip one".to_vec()]));
        assert_ne!(
            media_digest(None, &[b"ab".to_vec(), b"c".to_vec()]),
            media_digest(None, &[b"a".to_vec(), b"bc".to_vec()])
        );
    }

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
