//! Media for the thumbnail generator, with no AWS and no model in sight: MP4/MOV demuxing
//! (`re_mp4`, which names every codec), H.264 decoding (`openh264`, bundled source), HEVC
//! decoding (`rust_h265`), still images (JPEG, PNG, WebP, HEIC by `heic-rs`), and cropping,
//! resizing and JPEG encoding of the result.
//!
//! Every input is untrusted: sizes, durations, resolutions and decoded frames are capped,
//! and malformed media becomes a [`MediaError`] with a stable code, never a panic.

pub mod colour;
pub mod encode;
pub mod frame;
mod heic;
pub mod mp4_guard;
pub mod still;
pub mod video;

pub use encode::{encode_crop, EncodedImage};
pub use frame::RgbFrame;
pub use still::decode_image;
pub use video::{sample_video, SampledVideo, SamplingPlan, VideoInfo};

/// Caps on what one input may cost.
#[derive(Debug, Clone, Copy)]
pub struct MediaLimits {
    /// Largest media file, in bytes.
    pub max_bytes: usize,
    /// Longest video.
    pub max_duration_ms: u64,
    /// Largest frame kept (video frames bigger than it are downscaled right after
    /// decoding), and largest still decoded whole (PNG, WebP), in pixels (width x height).
    pub max_pixels: u64,
    /// Largest video picture decoded (a phone's 4K, 3840x2160 in either orientation; openh264
    /// decodes up to about 9.4 Mpx), checked on the container's header and on every picture.
    pub max_video_pixels: u64,
    /// Largest still a header may declare (a 48 Mpx phone photo is 8064x6048). JPEGs up to
    /// it are decoded at a reduced DCT scale, never whole (see [`still`]).
    pub max_source_pixels: u64,
    /// Largest HEIC decoded whole (about 6.5 bytes a pixel at the peak): a single coded
    /// picture, or a grid too small to reduce. Phones' tiled grids past twice
    /// `still_long_side` are reduced tile by tile instead and only bounded by
    /// `max_source_pixels` (see `heic.rs`).
    pub max_heic_pixels: u64,
    /// Decoded stills are at least this long on their long side where the source allows:
    /// the largest thumbnail (720) after the crop's zoom (up to 2.5x).
    pub still_long_side: u32,
    /// Most frames a video may make us decode.
    pub max_decoded_frames: usize,
    /// Most samples (frames) a video's tables may declare: each costs memory when the
    /// sample list is built, whether or not it is decoded.
    pub max_samples: u64,
}

impl Default for MediaLimits {
    fn default() -> Self {
        Self {
            // A minute of 1080p phone video at 8 Mbit/s; social uploads run at 2-6 Mbit/s.
            // The bound is memory: the file is held while its frames are decoded (README,
            // "Memory budgets").
            max_bytes: 64 * 1024 * 1024,
            max_duration_ms: 10 * 60 * 1000,
            // Frames are kept at 1080p in either orientation (1920x1080 or 1080x1920): the
            // thumbnails need no more, and twelve candidates of 4K RGB would be 300 MB.
            max_pixels: 1920 * 1080,
            // 4K and DCI 4K; 4096x2304 is openh264's own limit (36,864 macroblocks).
            max_video_pixels: 4096 * 2304,
            // Past 48 Mpx phones (8064x6048), short of what no phone makes.
            max_source_pixels: 64_000_000,
            // A whole decode of 24 Mpx (5712x4284) peaks near 160 MB; 48 Mpx (about 320 MB)
            // would not fit the 512 MB function beside two records' media, which is why
            // grids are reduced tile by tile.
            max_heic_pixels: 25_000_000,
            still_long_side: 1920,
            max_decoded_frames: 240,
            // Ten minutes at 60 fps is 36,000; the list costs about 60 bytes a sample.
            max_samples: 50_000,
        }
    }
}

/// The `error.code` of each [`MediaError`], stable across releases (they reach result events).
pub mod codes {
    /// [`MediaError::TooLarge`].
    pub const MEDIA_TOO_LARGE: &str = "media_too_large";
    /// [`MediaError::TooLong`].
    pub const VIDEO_TOO_LONG: &str = "video_too_long";
    /// [`MediaError::ResolutionTooLarge`].
    pub const RESOLUTION_TOO_LARGE: &str = "resolution_too_large";
    /// [`MediaError::DecompressionBomb`].
    pub const DECOMPRESSION_BOMB: &str = "decompression_bomb";
    /// [`MediaError::TooManySamples`].
    pub const TOO_MANY_SAMPLES: &str = "too_many_samples";
    /// [`MediaError::NotAContainer`].
    pub const NOT_A_VIDEO: &str = "not_a_video";
    /// [`MediaError::NoVideoTrack`].
    pub const NO_VIDEO_TRACK: &str = "no_video_track";
    /// [`MediaError::UnsupportedCodec`].
    pub const UNSUPPORTED_CODEC: &str = "unsupported_codec";
    /// [`MediaError::UnsupportedImage`].
    pub const UNSUPPORTED_IMAGE: &str = "unsupported_image";
    /// [`MediaError::Corrupt`].
    pub const CORRUPT_MEDIA: &str = "corrupt_media";
    /// [`MediaError::NoDecodableFrame`].
    pub const NO_DECODABLE_FRAME: &str = "no_decodable_frame";
    /// [`MediaError::Decoder`].
    pub const DECODER_FAILED: &str = "decoder_failed";
    /// [`MediaError::Encode`].
    pub const ENCODE_FAILED: &str = "encode_failed";
}

/// Why media was refused or could not be read; [`MediaError::code`] names each.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The file is over [`MediaLimits`]'s byte cap.
    #[error("media is {actual} bytes; the limit is {limit}")]
    TooLarge {
        /// The file's size in bytes.
        actual: usize,
        /// The cap in bytes.
        limit: usize,
    },
    /// The video runs longer than the limit.
    #[error("video is {actual_ms} ms long; the limit is {limit_ms} ms")]
    TooLong {
        /// The video's length.
        actual_ms: u64,
        /// The longest allowed.
        limit_ms: u64,
    },
    /// The picture has more pixels than the limit.
    #[error("{width}x{height} is over the limit of {limit} pixels")]
    ResolutionTooLarge {
        /// Pixels across.
        width: u64,
        /// Pixels down.
        height: u64,
        /// The most pixels allowed.
        limit: u64,
    },
    /// A small file declaring a huge picture.
    #[error(
        "a {bytes}-byte file declares {width}x{height}: more pixels per byte than real images have"
    )]
    DecompressionBomb {
        /// Declared width.
        width: u64,
        /// Declared height.
        height: u64,
        /// File size.
        bytes: usize,
    },
    /// The container declares more samples than the limit.
    #[error("the video declares {declared} samples; the limit is {limit}")]
    TooManySamples {
        /// Samples the tables declare.
        declared: u64,
        /// The most allowed.
        limit: u64,
    },
    /// Not an MP4/MOV container.
    #[error("not an MP4/MOV file: {0}")]
    NotAContainer(String),
    /// A container without a video track.
    #[error("the file has no video track")]
    NoVideoTrack,
    /// A codec we do not decode (neither H.264 nor HEVC).
    #[error("video codec {0} is not supported (H.264/AVC and HEVC/H.265 are)")]
    UnsupportedCodec(String),
    /// A still in a format we do not decode.
    #[error("image format is not supported (JPEG, PNG, WebP and HEIC are): {0}")]
    UnsupportedImage(String),
    /// The container or stream is damaged.
    #[error("corrupt media: {0}")]
    Corrupt(String),
    /// The video has samples but none decoded to a frame.
    #[error("no frame could be decoded: {0}")]
    NoDecodableFrame(String),
    /// The decoder itself failed.
    #[error("decoder: {0}")]
    Decoder(String),
    /// The thumbnail could not be encoded.
    #[error("encoding the thumbnail: {0}")]
    Encode(String),
}

impl MediaError {
    /// The stable `error.code` of the result event.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => codes::MEDIA_TOO_LARGE,
            Self::TooLong { .. } => codes::VIDEO_TOO_LONG,
            Self::ResolutionTooLarge { .. } => codes::RESOLUTION_TOO_LARGE,
            Self::DecompressionBomb { .. } => codes::DECOMPRESSION_BOMB,
            Self::TooManySamples { .. } => codes::TOO_MANY_SAMPLES,
            Self::NotAContainer(_) => codes::NOT_A_VIDEO,
            Self::NoVideoTrack => codes::NO_VIDEO_TRACK,
            Self::UnsupportedCodec(_) => codes::UNSUPPORTED_CODEC,
            Self::UnsupportedImage(_) => codes::UNSUPPORTED_IMAGE,
            Self::Corrupt(_) => codes::CORRUPT_MEDIA,
            Self::NoDecodableFrame(_) => codes::NO_DECODABLE_FRAME,
            Self::Decoder(_) => codes::DECODER_FAILED,
            Self::Encode(_) => codes::ENCODE_FAILED,
        }
    }
}

/// A video picture's size against [`MediaLimits::max_video_pixels`].
fn check_video_pixels(width: u64, height: u64, limits: &MediaLimits) -> Result<(), MediaError> {
    if width == 0 || height == 0 {
        return Err(MediaError::Corrupt(format!("{width}x{height} frame")));
    }
    if width * height > limits.max_video_pixels {
        return Err(MediaError::ResolutionTooLarge {
            width,
            height,
            limit: limits.max_video_pixels,
        });
    }
    Ok(())
}

fn check_bytes(len: usize, limits: &MediaLimits) -> Result<(), MediaError> {
    if len > limits.max_bytes {
        return Err(MediaError::TooLarge {
            actual: len,
            limit: limits.max_bytes,
        });
    }
    Ok(())
}
