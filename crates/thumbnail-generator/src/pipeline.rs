//! From media bytes to encoded thumbnails; no AWS. The Lambda and `postlens thumbnail`
//! both run this and differ only in where bytes come from and go to.

use std::time::Instant;

use postlens_analysis::thumbnail::{
    active_picture, crop_around, detail_centre, frame_quality, frame_score, main_subject,
    quality_score, widen_to, CropRect, FrameQuality, ObjectBox,
};
use postlens_media::{
    decode_image, encode_crop, sample_video, MediaError, MediaLimits, RgbFrame, SamplingPlan,
    VideoInfo,
};
use postlens_models::{DetectorSettings, ModelError, RgbView, YoloxNano};
use postlens_runtime::metrics::elapsed_ms;
use postlens_runtime::settings::{ConfigError, Env};
use serde::Serialize;

/// One requested output: an aspect ratio and a width in pixels.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutputSpec {
    /// `1x1`, `4x5`, ...: used in the object key.
    pub name: String,
    /// `(w, h)`.
    pub aspect: (u32, u32),
    /// Output width in pixels; the height follows from the aspect.
    pub width: u32,
}

impl OutputSpec {
    /// Parses `1:1@720,4:5@720` (aspect `w:h`, `@` width in pixels).
    pub fn parse_list(text: &str) -> Result<Vec<Self>, OutputSpecError> {
        let specs = text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|item| {
                let (aspect, width) = item
                    .split_once('@')
                    .ok_or_else(|| OutputSpecError::NoWidth(item.to_owned()))?;
                let (w, h) = aspect
                    .split_once(':')
                    .ok_or_else(|| OutputSpecError::NoAspect(item.to_owned()))?;
                let parse = |v: &str| {
                    v.trim()
                        .parse::<u32>()
                        .ok()
                        .filter(|n| (1..=4096).contains(n))
                        .ok_or_else(|| OutputSpecError::OutOfRange {
                            item: item.to_owned(),
                            value: v.to_owned(),
                        })
                };
                let (w, h, width) = (parse(w)?, parse(h)?, parse(width)?);
                Ok(Self {
                    name: format!("{w}x{h}"),
                    aspect: (w, h),
                    width,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if specs.is_empty() {
            return Err(OutputSpecError::Empty);
        }
        Ok(specs)
    }
}

/// Why a `THUMBNAIL_SIZES` list (`1:1@720,4:5@720`) does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutputSpecError {
    /// An item without `@WIDTH`.
    #[error("{0}: expected ASPECT@WIDTH, e.g. 4:5@720")]
    NoWidth(String),
    /// An item whose aspect is not `w:h`.
    #[error("{0}: expected an aspect like 4:5")]
    NoAspect(String),
    /// A side or width that is not a whole number from 1 to 4096.
    #[error("{item}: {value} is not a number from 1 to 4096")]
    OutOfRange {
        /// The whole item.
        item: String,
        /// The number as written.
        value: String,
    },
    /// No item at all.
    #[error("no thumbnail sizes given")]
    Empty,
}

/// How thumbnails are made (defaults as DESIGN.md states them).
#[derive(Debug, Clone)]
pub struct Settings {
    /// The thumbnails made per post.
    pub outputs: Vec<OutputSpec>,
    /// JPEG quality, 1-100.
    pub jpeg_quality: u8,
    /// Bytes, pixels and lengths media may have.
    pub limits: MediaLimits,
    /// Which frames of a video are candidates.
    pub sampling: SamplingPlan,
    /// YOLOX-Nano's thresholds.
    pub detector: DetectorSettings,
    /// The detector runs on this many of the best-looking candidates.
    pub detected_frames: usize,
    /// A crop may zoom in at most this much on a small product.
    pub max_zoom: f32,
    /// Most still images looked at per post.
    pub max_images: usize,
    /// Posts whose media may be in memory at once (`MAX_CONCURRENCY`, the records the
    /// engine keeps in flight): a post holds its slot from download until its CPU work
    /// ends, even when its invocation gave up on it at the deadline.
    pub media_slots: usize,
    /// Decodes running at once: the vCPUs Lambda gives the function, one per 1,769 MB of
    /// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` and at least one (a second decode on a fraction
    /// of a vCPU gains no time and doubles the decoder's memory: a 4K picture's decoder
    /// state is ~150 MB); `None` (not in Lambda): one per vCPU the process sees.
    pub cpu_workers: Option<usize>,
}

/// Lambda gives a function one full vCPU at 1,769 MB, and CPU in proportion below it.
const LAMBDA_MB_PER_VCPU: usize = 1769;

impl Default for Settings {
    fn default() -> Self {
        Self {
            outputs: OutputSpec::parse_list("1:1@720,4:5@720").unwrap_or_default(),
            jpeg_quality: 85,
            limits: MediaLimits::default(),
            sampling: SamplingPlan::default(),
            detector: DetectorSettings::default(),
            detected_frames: 3,
            max_zoom: 2.5,
            max_images: 10,
            // The engine's default MAX_CONCURRENCY.
            media_slots: 8,
            cpu_workers: None,
        }
    }
}

impl Settings {
    /// The defaults with the function's settings applied: `THUMBNAIL_SIZES`, `JPEG_QUALITY`,
    /// `MAX_MEDIA_BYTES`, `MAX_CONCURRENCY` and the function's memory, read through `lookup`
    /// (the Lambda and `postlens hostile` read the same names; tests need not touch the
    /// process environment). Unset is the default; a value that cannot be read is an error.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env::new(lookup);
        let defaults = Self::default();
        Ok(Self {
            outputs: env
                .read_with("THUMBNAIL_SIZES", OutputSpec::parse_list)?
                .unwrap_or(defaults.outputs),
            jpeg_quality: env
                .parsed("JPEG_QUALITY", "a quality from 1 to 100", |q: &u8| {
                    (1..=100).contains(q)
                })?
                .unwrap_or(defaults.jpeg_quality),
            media_slots: env.positive("MAX_CONCURRENCY", defaults.media_slots)?,
            cpu_workers: env
                .parsed(
                    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                    "megabytes",
                    |_: &usize| true,
                )?
                .map(|megabytes| megabytes.div_ceil(LAMBDA_MB_PER_VCPU).max(1)),
            limits: MediaLimits {
                max_bytes: env.positive("MAX_MEDIA_BYTES", defaults.limits.max_bytes)?,
                ..defaults.limits
            },
            ..defaults
        })
    }
}

/// The media of one post.
pub enum Media<'a> {
    /// An MP4/MOV file.
    Video(&'a [u8]),
    /// Stills, in the post's order (the best one is chosen).
    Images(Vec<&'a [u8]>),
}

/// Why no thumbnail could be made.
#[derive(Debug, thiserror::Error)]
pub enum ThumbnailError {
    /// The media was refused or could not be decoded.
    #[error(transparent)]
    Media(#[from] MediaError),
    /// Every candidate frame was black or blank.
    #[error("every candidate frame is black or blank")]
    NoUsableFrame,
    /// The object detector failed.
    #[error("detector: {0}")]
    Detector(#[source] ModelError),
}

impl ThumbnailError {
    /// The `error.code` for the error event.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Media(e) => e.code(),
            Self::NoUsableFrame => crate::error_codes::NO_USABLE_FRAME,
            Self::Detector(_) => postlens_runtime::codes::INFERENCE_FAILED,
        }
    }
}

/// The media and the frame the thumbnails come from.
#[derive(Debug, Clone, Serialize)]
pub struct SourceInfo {
    /// `video` or `image`.
    pub kind: &'static str,
    /// Where the frame is in the video; 0 for stills.
    pub frame_time_ms: u64,
    /// RFC 6381 codec string for video; none for still images.
    pub codec: Option<String>,
    /// The media's own size, as displayed (EXIF orientation applied).
    pub width: u32,
    /// Pixels down, as displayed.
    pub height: u32,
    /// The picture `crop` and the detection boxes are in: the media decoded at a reduced
    /// scale when it is larger than the thumbnails need (a phone photo, a 4K frame).
    pub frame_width: u32,
    /// Pixels down of that picture.
    pub frame_height: u32,
    /// The video's length; none for stills.
    pub duration_ms: Option<u64>,
    /// Index of the chosen image among `image_s3_uris`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_index: Option<usize>,
}

/// Frames at each stage of the choice.
#[derive(Debug, Clone, Serialize)]
pub struct FrameCounts {
    /// Frames sampled from the video (or stills given).
    pub candidates: usize,
    /// Frames the decoder produced to get them.
    pub decoded: usize,
    /// Candidates neither black nor blank.
    pub usable: usize,
    /// Candidates the detector ran on.
    pub detected: usize,
}

/// One encoded thumbnail, before it is stored anywhere.
#[derive(Debug, Clone)]
pub struct Thumbnail {
    /// The output it was made for.
    pub spec: OutputSpec,
    /// The crop, in the source picture's pixels.
    pub crop: CropRect,
    /// Pixels across.
    pub width: u32,
    /// Pixels down.
    pub height: u32,
    /// The JPEG file.
    pub jpeg: Vec<u8>,
}

/// What [`generate`] made for one post.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The media and the frame chosen.
    pub source: SourceInfo,
    /// How sharp, bright and busy the chosen frame is.
    pub quality: FrameQuality,
    /// Objects in the chosen frame, best first.
    pub detections: Vec<ObjectBox>,
    /// The detection the crops are centred on, if any.
    pub subject: Option<ObjectBox>,
    /// Frames considered at each stage.
    pub frames: FrameCounts,
    /// One per output, in the settings' order.
    pub thumbnails: Vec<Thumbnail>,
    /// Milliseconds per stage.
    pub timings_ms: Vec<(&'static str, f64)>,
}

struct Candidate {
    frame: RgbFrame,
    quality: FrameQuality,
    luma: Vec<u8>,
    image_index: Option<usize>,
    detections: Option<Vec<ObjectBox>>,
}

/// Decodes candidates, keeps the usable ones, detects objects on the best-looking few,
/// picks the best frame and encodes one crop per requested output.
pub fn generate(
    media: Media,
    detector: &YoloxNano,
    settings: &Settings,
) -> Result<Generated, ThumbnailError> {
    let mut timings = Vec::new();
    let mut clock = Instant::now();
    let mut lap = |name: &'static str, timings: &mut Vec<(&'static str, f64)>| {
        timings.push((name, elapsed_ms(clock)));
        clock = Instant::now();
    };

    let decoded = decode(media, settings)?;
    lap("decode", &mut timings);

    let candidate_count = decoded.frames.len();
    let mut candidates = usable_candidates(decoded.frames);
    let usable = candidates.len();
    if candidates.is_empty() {
        return Err(ThumbnailError::NoUsableFrame);
    }
    lap("quality", &mut timings);

    let detected = settings.detected_frames.min(candidates.len());
    detect_objects(&mut candidates[..detected], detector, settings)?;
    lap("detect", &mut timings);

    let best = best_detected(&candidates[..detected]).ok_or(ThumbnailError::NoUsableFrame)?;
    let detections = best.detections.clone().unwrap_or_default();
    let subject = main_subject(&detections, best.frame.width, best.frame.height).cloned();
    let thumbnails = encode_thumbnails(best, subject.as_ref(), settings)?;
    lap("encode", &mut timings);

    Ok(Generated {
        source: source_info(decoded.video_info.as_ref(), best),
        quality: best.quality,
        detections,
        subject,
        frames: FrameCounts {
            candidates: candidate_count,
            decoded: decoded.decoded_frames,
            usable,
            detected,
        },
        thumbnails,
        timings_ms: timings,
    })
}

/// The candidate frames of one post's media.
struct Decoded {
    /// Each frame, with its index among the post's stills (none for video frames).
    frames: Vec<(RgbFrame, Option<usize>)>,
    /// Frames the decoder produced to get them.
    decoded_frames: usize,
    /// The container's description, for video.
    video_info: Option<VideoInfo>,
}

fn decode(media: Media, settings: &Settings) -> Result<Decoded, ThumbnailError> {
    Ok(match media {
        Media::Video(bytes) => {
            let sampled = sample_video(bytes, &settings.limits, &settings.sampling)?;
            Decoded {
                frames: sampled.frames.into_iter().map(|f| (f, None)).collect(),
                decoded_frames: sampled.decoded_frames,
                video_info: Some(sampled.info),
            }
        }
        Media::Images(images) => {
            let mut frames = Vec::new();
            for (index, bytes) in images.into_iter().take(settings.max_images).enumerate() {
                frames.push((decode_image(bytes, &settings.limits)?, Some(index)));
            }
            Decoded {
                decoded_frames: frames.len(),
                frames,
                video_info: None,
            }
        }
    })
}

/// The frames neither black nor blank, best-looking first.
fn usable_candidates(frames: Vec<(RgbFrame, Option<usize>)>) -> Vec<Candidate> {
    let mut candidates: Vec<Candidate> = frames
        .into_iter()
        .map(|(frame, image_index)| {
            let luma = frame.luma();
            let quality = frame_quality(&luma, frame.width as usize, frame.height as usize);
            Candidate {
                frame,
                quality,
                luma,
                image_index,
                detections: None,
            }
        })
        .filter(|c| !c.quality.black && !c.quality.blank)
        .collect();
    candidates.sort_by(|a, b| quality_score(&b.quality).total_cmp(&quality_score(&a.quality)));
    candidates
}

fn detect_objects(
    candidates: &mut [Candidate],
    detector: &YoloxNano,
    settings: &Settings,
) -> Result<(), ThumbnailError> {
    for candidate in candidates {
        let view = RgbView {
            width: candidate.frame.width as usize,
            height: candidate.frame.height as usize,
            pixels: &candidate.frame.pixels,
        };
        let _forward = tracing::info_span!("model.forward", model = "yolox-nano").entered();
        let found = detector
            .detect(view, &settings.detector)
            .map_err(ThumbnailError::Detector)?;
        candidate.detections = Some(
            found
                .into_iter()
                .map(|d| ObjectBox {
                    label: d.label.to_owned(),
                    score: d.score,
                    bbox: d.bbox,
                })
                .collect(),
        );
    }
    Ok(())
}

/// The detected candidate with the best frame score (quality and main subject together).
fn best_detected(detected: &[Candidate]) -> Option<&Candidate> {
    detected.iter().max_by(|a, b| {
        let score = |c: &Candidate| {
            let objects = c.detections.as_deref().unwrap_or_default();
            frame_score(
                &c.quality,
                main_subject(objects, c.frame.width, c.frame.height),
            )
        };
        score(a).total_cmp(&score(b))
    })
}

/// One crop of `best` per output, around `subject` (else the detail centre), inside the
/// active picture.
fn encode_thumbnails(
    best: &Candidate,
    subject: Option<&ObjectBox>,
    settings: &Settings,
) -> Result<Vec<Thumbnail>, ThumbnailError> {
    let frame = &best.frame;
    let focus = detail_centre(&best.luma, frame.width as usize, frame.height as usize);
    // Crops stay inside the picture: letterbox and pillarbox bars are left out.
    let active = active_picture(&best.luma, frame.width as usize, frame.height as usize);
    let (ax, ay) = (active.x as f32, active.y as f32);
    let inside = |v: f32, low: f32, size: u32| (v - low).clamp(0.0, size as f32);
    let subject_inside = subject.map(|s| {
        let [x0, y0, x1, y1] = s.bbox;
        [
            inside(x0, ax, active.w),
            inside(y0, ay, active.h),
            inside(x1, ax, active.w),
            inside(y1, ay, active.h),
        ]
    });
    let focus_inside = (inside(focus.0, ax, active.w), inside(focus.1, ay, active.h));

    let mut thumbnails = Vec::with_capacity(settings.outputs.len());
    for spec in &settings.outputs {
        let within = widen_to(
            crop_around(
                active.w,
                active.h,
                spec.aspect,
                subject_inside,
                focus_inside,
                settings.max_zoom,
            ),
            spec.width,
            active.w,
            active.h,
        );
        let crop = CropRect {
            x: within.x + active.x,
            y: within.y + active.y,
            ..within
        };
        // Never upscale: a small crop gives a smaller thumbnail, not a blurry one.
        let width = spec.width.min(crop.w).max(1);
        let height = ((width as u64 * spec.aspect.1 as u64) / spec.aspect.0.max(1) as u64)
            .clamp(1, 16_384) as u32;
        let encoded = encode_crop(
            frame,
            (crop.x, crop.y, crop.w, crop.h),
            width,
            height,
            settings.jpeg_quality,
        )?;
        thumbnails.push(Thumbnail {
            spec: spec.clone(),
            crop,
            width: encoded.width,
            height: encoded.height,
            jpeg: encoded.jpeg,
        });
    }
    Ok(thumbnails)
}

fn source_info(video_info: Option<&VideoInfo>, best: &Candidate) -> SourceInfo {
    let frame = &best.frame;
    match video_info {
        Some(info) => SourceInfo {
            kind: "video",
            frame_time_ms: frame.time_ms,
            codec: Some(info.codec.clone()),
            width: info.width,
            height: info.height,
            frame_width: frame.width,
            frame_height: frame.height,
            duration_ms: Some(info.duration_ms),
            image_index: None,
        },
        None => SourceInfo {
            kind: "image",
            frame_time_ms: 0,
            codec: None,
            width: frame.source_size.0,
            height: frame.source_size.1,
            frame_width: frame.width,
            frame_height: frame.height,
            duration_ms: None,
            image_index: best.image_index,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_sizes_parse_and_bad_ones_say_why() {
        let specs = OutputSpec::parse_list("1:1@720, 4:5@1080").expect("valid");
        assert_eq!(specs[1].name, "4x5");
        assert_eq!((specs[1].aspect, specs[1].width), ((4, 5), 1080));
        let settings = Settings::from_lookup(|name| match name {
            "JPEG_QUALITY" => Some("70".to_owned()),
            "MAX_MEDIA_BYTES" => Some("1000".to_owned()),
            _ => None,
        })
        .expect("valid settings");
        assert_eq!(
            (settings.jpeg_quality, settings.limits.max_bytes),
            (70, 1000)
        );
        for (name, value) in [
            ("JPEG_QUALITY", "0"),
            ("MAX_MEDIA_BYTES", "lots"),
            ("THUMBNAIL_SIZES", "1x1"),
        ] {
            let error =
                Settings::from_lookup(|n| (n == name).then(|| value.to_owned())).expect_err(name);
            assert!(error.to_string().contains(name), "{error}");
        }
        let out_of_range = |item: &str, value: &str| OutputSpecError::OutOfRange {
            item: item.to_owned(),
            value: value.to_owned(),
        };
        for (bad, expected) in [
            ("", OutputSpecError::Empty),
            ("1:1", OutputSpecError::NoWidth("1:1".to_owned())),
            ("1x1@720", OutputSpecError::NoAspect("1x1@720".to_owned())),
            ("0:1@720", out_of_range("0:1@720", "0")),
            ("1:1@99999", out_of_range("1:1@99999", "99999")),
            ("a:b@1", out_of_range("a:b@1", "a")),
        ] {
            assert_eq!(OutputSpec::parse_list(bad), Err(expected), "{bad}");
        }
    }
}
