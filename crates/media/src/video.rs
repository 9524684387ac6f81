//! MP4/MOV demuxing, and H.264 or HEVC decoding of a few candidate frames.
//!
//! Decoding every frame of a 15 s clip costs seconds; we decode only what we look at.
//! When the clip has keyframes every few seconds (phones and social platforms encode with
//! 1-4 s GOPs: four or more, or three or more none further than 2.5 s apart) the candidates are
//! keyframes, each decodable on its own. With fewer keyframes than that, the clip is decoded
//! in order up to `max_decoded_frames` and frames are taken at a fixed rate from what was
//! decoded.
//!
//! H.264 goes to openh264 (C, bundled source); HEVC, the iPhone's default, to `rust_h265`
//! (pure Rust). Both hand back 4:2:0 pictures that one integer conversion turns into RGB.

use openh264::decoder::{DecodeOptions, Decoder, DecoderConfig, Flush};
use openh264::formats::YUVSource;
use openh264::OpenH264API;
use re_mp4::{Mp4, StsdBoxContent, TrackKind};
use serde::Serialize;

use crate::colour::{Coefficients, Colour};
use crate::{check_bytes, check_video_pixels, MediaError, MediaLimits, RgbFrame};

/// Which frames of a video become candidates.
#[derive(Debug, Clone, Copy)]
pub struct SamplingPlan {
    /// Most candidate frames returned.
    pub max_candidates: usize,
    /// Keyframes enough to sample keyframes only, however they are spread.
    pub min_keyframes: usize,
    /// Three or more keyframes, fewer than `min_keyframes`, still do when none is further
    /// than this from the next (or from the clip's ends): a 5 s clip with a keyframe every
    /// 2 s is covered by its 3 keyframes, and decoding its 150 frames in order cost more
    /// than a 15 s clip.
    pub max_keyframe_gap_ms: u64,
}

impl Default for SamplingPlan {
    fn default() -> Self {
        Self {
            max_candidates: 12,
            min_keyframes: 4,
            max_keyframe_gap_ms: 2_500,
        }
    }
}

impl SamplingPlan {
    /// Whether keyframes at `times_ms` (any order) are enough candidates for a clip of
    /// `duration_ms`.
    fn keyframes_suffice(&self, times_ms: &[u64], duration_ms: u64) -> bool {
        if times_ms.len() >= self.min_keyframes {
            return true;
        }
        // Two keyframes are no choice (often a black opening and a scene cut after it).
        if times_ms.len() < 3 {
            return false;
        }
        let mut times = times_ms.to_vec();
        times.sort_unstable();
        let mut widest = times[0];
        for pair in times.windows(2) {
            widest = widest.max(pair[1] - pair[0]);
        }
        widest = widest.max(duration_ms.saturating_sub(times[times.len() - 1]));
        widest <= self.max_keyframe_gap_ms
    }
}

/// What the container and stream say about a video.
#[derive(Debug, Clone, Serialize)]
pub struct VideoInfo {
    /// RFC 6381 codec string, e.g. `avc1.64001E`.
    pub codec: String,
    /// Pixels across, as displayed.
    pub width: u32,
    /// Pixels down, as displayed.
    pub height: u32,
    /// Length.
    pub duration_ms: u64,
    /// Video samples in the track.
    pub frame_count: usize,
    /// Of those, sync samples (keyframes).
    pub keyframe_count: usize,
    /// The YUV matrix the stream's VUI names (`bt601` when it names none) and its range.
    pub matrix: &'static str,
    /// Whether samples use the full 0-255 range rather than studio range.
    pub full_range: bool,
}

/// A video's candidate frames and how they were found.
#[derive(Debug)]
pub struct SampledVideo {
    /// The container's and stream's description.
    pub info: VideoInfo,
    /// Candidates in presentation order.
    pub frames: Vec<RgbFrame>,
    /// Frames the decoder produced to get the candidates.
    pub decoded_frames: usize,
    /// Samples the decoder rejected (a damaged clip can still give some frames).
    pub failed_samples: usize,
}

/// Demuxes `bytes`, checks the limits and decodes up to `plan.max_candidates` frames.
pub fn sample_video(
    bytes: &[u8],
    limits: &MediaLimits,
    plan: &SamplingPlan,
) -> Result<SampledVideo, MediaError> {
    check_bytes(bytes.len(), limits)?;
    crate::mp4_guard::check_sample_tables(bytes, limits)?;
    let mp4 = demux(bytes)?;
    // The walk above reads the tables `re_mp4` is known to trust; this catches any other way
    // to a long sample list.
    let declared: u64 = mp4.tracks().values().map(|t| t.samples.len() as u64).sum();
    if declared > limits.max_samples {
        return Err(MediaError::TooManySamples {
            declared,
            limit: limits.max_samples,
        });
    }
    let track = mp4
        .tracks()
        .values()
        .find(|t| t.kind == Some(TrackKind::Video))
        .ok_or(MediaError::NoVideoTrack)?;
    let stsd = &track.trak(&mp4).mdia.minf.stbl.stsd.contents;
    let stream = match stsd {
        StsdBoxContent::Avc1(avc1) => {
            let avcc = &avc1.avcc.contents;
            Stream {
                codec: Codec::H264,
                length_size: usize::from(avcc.length_size_minus_one) + 1,
                parameter_sets: avcc
                    .sequence_parameter_sets
                    .iter()
                    .chain(&avcc.picture_parameter_sets)
                    .map(|nal| nal.bytes.as_slice())
                    .collect(),
                colour: avcc
                    .sequence_parameter_sets
                    .first()
                    .and_then(|sps| crate::colour::colour_of_sps(&sps.bytes))
                    .unwrap_or_default(),
            }
        }
        StsdBoxContent::Hvc1(hevc) | StsdBoxContent::Hev1(hevc) => {
            let hvcc = &hevc.hvcc.contents;
            Stream {
                codec: Codec::Hevc,
                length_size: usize::from(hvcc.length_size_minus_one) + 1,
                // VPS, SPS, PPS (and SEI) in the record's order; `hev1` may repeat them in
                // the samples, which the decoder takes as they come.
                parameter_sets: hvcc
                    .arrays
                    .iter()
                    .flat_map(|array| &array.nalus)
                    .map(|nal| nal.data.as_slice())
                    .collect(),
                colour: sample_entry_colr(bytes)
                    .and_then(crate::colour::colour_of_colr)
                    .unwrap_or_default(),
            }
        }
        StsdBoxContent::Unknown(fourcc) => {
            return Err(MediaError::UnsupportedCodec(fourcc.to_string()))
        }
        other => {
            let codec = other.codec_string().unwrap_or_else(|| "unknown".to_owned());
            return Err(MediaError::UnsupportedCodec(codec));
        }
    };
    if track.timescale == 0 || track.samples.is_empty() {
        return Err(MediaError::Corrupt(
            "the video track has no samples".to_owned(),
        ));
    }
    let duration_ms = track.duration.saturating_mul(1000) / track.timescale;
    if duration_ms > limits.max_duration_ms {
        return Err(MediaError::TooLong {
            actual_ms: duration_ms,
            limit_ms: limits.max_duration_ms,
        });
    }
    check_video_pixels(track.width as u64, track.height as u64, limits)?;
    let info = VideoInfo {
        codec: track
            .codec_string(&mp4)
            .unwrap_or_else(|| stream.codec.fourcc().to_owned()),
        width: track.width as u32,
        height: track.height as u32,
        duration_ms,
        frame_count: track.samples.len(),
        keyframe_count: track.samples.iter().filter(|s| s.is_sync).count(),
        matrix: stream.colour.matrix.name(),
        full_range: stream.colour.full_range,
    };
    let coefficients = stream.colour.coefficients();

    let sample_nals = |sample: &re_mp4::Sample| -> Result<Vec<&[u8]>, MediaError> {
        let start = usize::try_from(sample.offset).ok();
        let end = start.and_then(|s| s.checked_add(usize::try_from(sample.size).ok()?));
        let data = start
            .zip(end)
            .and_then(|(s, e)| bytes.get(s..e))
            .ok_or_else(|| {
                MediaError::Corrupt(format!("sample {} lies outside the file", sample.id))
            })?;
        nal_units(data, stream.length_size)
    };
    let time_ms = |sample: &re_mp4::Sample| {
        sample.composition_timestamp.max(0) as u64 * 1000 / track.timescale
    };

    let mut sampled = SampledVideo {
        info,
        frames: Vec::new(),
        decoded_frames: 0,
        failed_samples: 0,
    };
    let keyframes: Vec<&re_mp4::Sample> = track.samples.iter().filter(|s| s.is_sync).collect();
    let keyframe_times: Vec<u64> = keyframes.iter().map(|s| time_ms(s)).collect();
    if plan.keyframes_suffice(&keyframe_times, duration_ms) {
        let budget = plan.max_candidates.min(limits.max_decoded_frames);
        let mut decoder = VideoDecoder::new(&stream, limits)?;
        for sample in spread(&keyframes, budget) {
            let time = time_ms(sample);
            let nals = sample_nals(sample)?;
            let mut frame = None;
            let decoded = decoder.decode_alone(&stream.parameter_sets, &nals, &mut |yuv| {
                // One picture is all a keyframe decoded alone gives.
                if frame.is_none() {
                    frame = Some(to_rgb(yuv, time, coefficients, limits)?);
                }
                Ok(())
            })?;
            match (decoded, frame) {
                (_, Some(frame)) => {
                    sampled.decoded_frames += 1;
                    sampled.frames.push(frame);
                }
                (Decoded::Failed, None) => sampled.failed_samples += 1,
                (Decoded::Ok, None) => {}
            }
        }
    } else {
        // Decode order; decoders hand pictures back in presentation order, so the n-th
        // picture out has the n-th smallest presentation time among samples fed in.
        let to_decode = track.samples.len().min(limits.max_decoded_frames);
        let every = to_decode.div_ceil(plan.max_candidates.max(1)).max(1);
        let mut times: Vec<u64> = Vec::with_capacity(to_decode);
        let mut decoder = VideoDecoder::new(&stream, limits)?;
        let take = |yuv: Yuv420<'_>, times: &mut Vec<u64>, sampled: &mut SampledVideo| {
            let index = sampled.decoded_frames;
            sampled.decoded_frames += 1;
            if index % every == every / 2 {
                times.sort_unstable();
                let time = times.get(index).copied().unwrap_or_default();
                sampled
                    .frames
                    .push(to_rgb(yuv, time, coefficients, limits)?);
            }
            Ok(())
        };
        for (position, sample) in track.samples[..to_decode].iter().enumerate() {
            let nals = sample_nals(sample)?;
            times.push(time_ms(sample));
            let parameter_sets = if position == 0 {
                stream.parameter_sets.as_slice()
            } else {
                &[]
            };
            let decoded = decoder.decode_next(parameter_sets, &nals, &mut |yuv| {
                take(yuv, &mut times, &mut sampled)
            })?;
            if decoded == Decoded::Failed {
                sampled.failed_samples += 1;
            }
        }
        decoder.finish(&mut |yuv| take(yuv, &mut times, &mut sampled))?;
    }
    if sampled.frames.is_empty() {
        return Err(MediaError::NoDecodableFrame(format!(
            "{} of {} samples failed to decode",
            sampled.failed_samples, sampled.info.frame_count
        )));
    }
    sampled.frames.sort_by_key(|f| f.time_ms);
    Ok(sampled)
}

fn demux(bytes: &[u8]) -> Result<Mp4, MediaError> {
    // re_mp4 reports malformed boxes as errors but can still panic on some inconsistent
    // tables; a hostile file must not take the batch down with it.
    let parsed = std::panic::catch_unwind(|| Mp4::read_bytes(bytes))
        .map_err(|_| MediaError::Corrupt("the MP4 structure is inconsistent".to_owned()))?;
    parsed.map_err(|e| {
        // A file that starts like an ISO-BMFF box is a damaged video, anything else is not
        // a video at all.
        let boxed = bytes
            .get(4..8)
            .is_some_and(|kind| [&b"ftyp"[..], b"moov", b"mdat", b"free", b"wide"].contains(&kind));
        if boxed {
            MediaError::Corrupt(e.to_string())
        } else {
            MediaError::NotAContainer(e.to_string())
        }
    })
}

/// Up to `n` items evenly spread over `items`, first and last included when n > 1.
fn spread<'a, T>(items: &[&'a T], n: usize) -> Vec<&'a T> {
    if items.len() <= n {
        return items.to_vec();
    }
    if n == 0 {
        return Vec::new();
    }
    if n == 1 {
        return vec![items[items.len() / 2]];
    }
    (0..n)
        .map(|i| items[i * (items.len() - 1) / (n - 1)])
        .collect()
}

/// The NAL units of one AVCC/HVCC sample (each behind a `length_size`-byte big-endian
/// length). Empty ones are dropped: with a 1-byte length each would cost openh264's 4-byte
/// start code, so a sample of them would grow fourfold; without them the Annex-B form is at
/// most 2.5 times the sample (a 1-byte NAL behind a 1-byte length).
fn nal_units(sample: &[u8], length_size: usize) -> Result<Vec<&[u8]>, MediaError> {
    if !(1..=4).contains(&length_size) {
        return Err(MediaError::Corrupt(format!(
            "NAL length size {length_size}"
        )));
    }
    let mut nals = Vec::new();
    let mut rest = sample;
    while !rest.is_empty() {
        if rest.len() < length_size {
            return Err(MediaError::Corrupt("truncated NAL length".to_owned()));
        }
        let (prefix, tail) = rest.split_at(length_size);
        let len = prefix
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | b as usize);
        let nal = tail
            .get(..len)
            .ok_or_else(|| MediaError::Corrupt("NAL unit runs past its sample".to_owned()))?;
        if !nal.is_empty() {
            nals.push(nal);
        }
        rest = &tail[len..];
    }
    Ok(nals)
}

/// NAL units behind Annex-B start codes, which openh264 reads.
fn annex_b(nals: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(nals.iter().map(|nal| nal.len() + 4).sum());
    for nal in nals {
        out.extend_from_slice(&[0, 0, 0, 1]);
        out.extend_from_slice(nal);
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Codec {
    H264,
    Hevc,
}

impl Codec {
    fn fourcc(self) -> &'static str {
        match self {
            Self::H264 => "avc1",
            Self::Hevc => "hvc1",
        }
    }
}

/// What the sample entry says about the stream.
struct Stream<'a> {
    codec: Codec,
    length_size: usize,
    /// Parameter-set NAL units from the sample entry (SPS and PPS; HEVC's VPS first).
    parameter_sets: Vec<&'a [u8]>,
    colour: Colour,
}

/// Whether the decoder took a sample (with or without a picture out of it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decoded {
    Ok,
    Failed,
}

/// One decoded 4:2:0 picture at 8 bits a sample, borrowed from the decoder.
struct Yuv420<'a> {
    planes: (&'a [u8], &'a [u8], &'a [u8]),
    size: (usize, usize),
    strides: (usize, usize, usize),
}

/// Called with each picture a decoder hands back.
type OnPicture<'f> = dyn FnMut(Yuv420<'_>) -> Result<(), MediaError> + 'f;

enum VideoDecoder {
    H264(Box<Decoder>),
    /// A fresh `rust_h265` decoder is made for each keyframe decoded alone; the sequential
    /// path keeps this one.
    Hevc(Box<rust_h265::Decoder>, rust_h265::DecodeLimits),
}

impl VideoDecoder {
    fn new(stream: &Stream<'_>, limits: &MediaLimits) -> Result<Self, MediaError> {
        match stream.codec {
            Codec::H264 => {
                // No flushing after each packet: with it the decoder hands back reordered
                // pictures early and then reports errors on B-frame streams.
                let config = DecoderConfig::new().flush_after_decode(Flush::NoFlush);
                let decoder = Decoder::with_api_config(OpenH264API::from_source(), config)
                    .map_err(|e| MediaError::Decoder(e.to_string()))?;
                Ok(Self::H264(Box::new(decoder)))
            }
            Codec::Hevc => {
                let hevc_limits = rust_h265::DecodeLimits {
                    max_picture_pixels: limits.max_video_pixels,
                    // Its estimate of picture state for one 4K picture is about 100 MB;
                    // the rest of the record's budget is the candidates and the file.
                    max_picture_memory_bytes: 256 * 1024 * 1024,
                };
                Ok(Self::Hevc(Box::new(new_hevc(hevc_limits)), hevc_limits))
            }
        }
    }

    /// Decodes one keyframe on its own, its parameter sets first.
    fn decode_alone(
        &mut self,
        parameter_sets: &[&[u8]],
        nals: &[&[u8]],
        on_picture: &mut OnPicture<'_>,
    ) -> Result<Decoded, MediaError> {
        match self {
            Self::H264(decoder) => {
                let packet = annex_b(&[parameter_sets, nals].concat());
                // Flushed at once: a keyframe decoded alone has nothing to wait for, and
                // unflushed the decoder would hand each picture back one call late.
                let flush = DecodeOptions::new().flush_after_decode(Flush::Flush);
                match decoder.decode_with_options(&packet, flush) {
                    Ok(Some(yuv)) => on_picture(openh264_picture(&yuv))?,
                    Ok(None) => {}
                    Err(_) => return Ok(Decoded::Failed),
                }
                Ok(Decoded::Ok)
            }
            Self::Hevc(decoder, limits) => {
                // A keyframe may be a CRA picture whose leading pictures refer to the GOP
                // before it; in a fresh decoder it starts a sequence, and they are skipped.
                **decoder = new_hevc(*limits);
                let fed = feed_hevc(decoder, parameter_sets.iter().chain(nals), on_picture)?;
                drain_hevc(decoder, on_picture)?;
                Ok(fed)
            }
        }
    }

    /// Decodes the next sample in decode order (`parameter_sets` with the first).
    fn decode_next(
        &mut self,
        parameter_sets: &[&[u8]],
        nals: &[&[u8]],
        on_picture: &mut OnPicture<'_>,
    ) -> Result<Decoded, MediaError> {
        match self {
            Self::H264(decoder) => match decoder.decode(&annex_b(&[parameter_sets, nals].concat()))
            {
                Ok(Some(yuv)) => {
                    on_picture(openh264_picture(&yuv))?;
                    Ok(Decoded::Ok)
                }
                Ok(None) => Ok(Decoded::Ok),
                Err(_) => Ok(Decoded::Failed),
            },
            Self::Hevc(decoder, _) => {
                feed_hevc(decoder, parameter_sets.iter().chain(nals), on_picture)
            }
        }
    }

    /// The pictures still held for reordering. openh264's are left there, as they always
    /// were: the frames sampled from a clip decoded in order do not change with this.
    fn finish(&mut self, on_picture: &mut OnPicture<'_>) -> Result<(), MediaError> {
        match self {
            Self::H264(_) => Ok(()),
            Self::Hevc(decoder, _) => drain_hevc(decoder, on_picture),
        }
    }
}

fn new_hevc(limits: rust_h265::DecodeLimits) -> rust_h265::Decoder {
    // One thread: a Lambda record decodes on one core (the CPU pool), and the frames come
    // out in display order as openh264's do.
    rust_h265::Decoder::with_limits(limits)
        .with_display_order()
        .with_threads(1)
}

fn feed_hevc<'n>(
    decoder: &mut rust_h265::Decoder,
    nals: impl Iterator<Item = &'n &'n [u8]>,
    on_picture: &mut OnPicture<'_>,
) -> Result<Decoded, MediaError> {
    let mut decoded = Decoded::Ok;
    for nal in nals {
        let Some(unit) = rust_h265::parse_nal(nal) else {
            decoded = Decoded::Failed;
            continue;
        };
        match decoder.decode_nal(&unit) {
            Ok(Some(frame)) => hevc_picture(&frame, on_picture)?,
            Ok(None) => {}
            Err(_) => decoded = Decoded::Failed,
        }
        while let Some(frame) = decoder.next_output() {
            hevc_picture(&frame, on_picture)?;
        }
    }
    Ok(decoded)
}

fn drain_hevc(
    decoder: &mut rust_h265::Decoder,
    on_picture: &mut OnPicture<'_>,
) -> Result<(), MediaError> {
    while let Some(frame) = decoder.flush() {
        hevc_picture(&frame, on_picture)?;
    }
    Ok(())
}

fn openh264_picture<'a>(yuv: &'a openh264::decoder::DecodedYUV<'a>) -> Yuv420<'a> {
    Yuv420 {
        planes: (yuv.y(), yuv.u(), yuv.v()),
        size: yuv.dimensions(),
        strides: yuv.strides(),
    }
}

/// A `rust_h265` frame as 8-bit 4:2:0. Main 10 (iPhone HDR video) is brought to 8 bits by
/// rounding off its low bits; HLG and PQ are not tone-mapped (see the README's "HEVC and
/// HEIC").
fn hevc_picture(
    frame: &rust_h265::Frame,
    on_picture: &mut OnPicture<'_>,
) -> Result<(), MediaError> {
    if frame.chroma_format_idc != 1 {
        return Err(MediaError::UnsupportedCodec(format!(
            "HEVC with chroma format {} (only 4:2:0 is)",
            frame.chroma_format_idc
        )));
    }
    let (width, height) = (frame.width as usize, frame.height as usize);
    let chroma = (width.div_ceil(2), height.div_ceil(2));
    let narrowed;
    let planes = match (frame.y.as_u8(), frame.u.as_u8(), frame.v.as_u8()) {
        (Some(y), Some(u), Some(v)) => (y, u, v),
        _ => {
            let shift = u32::from(frame.bit_depth.clamp(8, 16) - 8);
            let narrow = |plane: &rust_h265::PixelData| -> Vec<u8> {
                match plane {
                    rust_h265::PixelData::U8(samples) => samples.clone(),
                    rust_h265::PixelData::U16(samples) => samples
                        .iter()
                        .map(|&s| ((u32::from(s) + ((1 << shift) >> 1)) >> shift).min(255) as u8)
                        .collect(),
                }
            };
            narrowed = (narrow(&frame.y), narrow(&frame.u), narrow(&frame.v));
            (
                narrowed.0.as_slice(),
                narrowed.1.as_slice(),
                narrowed.2.as_slice(),
            )
        }
    };
    if planes.0.len() < width * height
        || planes.1.len() < chroma.0 * chroma.1
        || planes.2.len() < chroma.0 * chroma.1
    {
        return Err(MediaError::Decoder(format!(
            "a {width}x{height} HEVC picture came back with short planes"
        )));
    }
    on_picture(Yuv420 {
        planes,
        size: (width, height),
        strides: (width, chroma.0, chroma.0),
    })
}

/// The body of the `colr` box in the first HEVC sample entry (`hvc1`/`hev1`), if any:
/// `re_mp4` reads the entry's `hvcC` and passes over the rest.
fn sample_entry_colr(file: &[u8]) -> Option<&[u8]> {
    let mut stsds = vec![file];
    for kind in [b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stsd"] {
        stsds = stsds
            .into_iter()
            .flat_map(|data| boxes(data).filter(|(k, _)| k == kind).map(|(_, body)| body))
            .collect();
    }
    stsds
        .into_iter()
        .flat_map(|stsd| boxes(stsd.get(8..).unwrap_or_default()))
        .filter(|(kind, _)| matches!(kind, b"hvc1" | b"hev1"))
        .find_map(|(_, entry)| {
            boxes(entry.get(78..).unwrap_or_default())
                .find(|(kind, _)| kind == b"colr")
                .map(|(_, body)| body)
        })
}

/// The boxes in `data` as (type, body); stops at the first that does not fit.
fn boxes(data: &[u8]) -> impl Iterator<Item = ([u8; 4], &[u8])> {
    let mut rest = data;
    std::iter::from_fn(move || {
        let size = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?) as usize;
        let kind: [u8; 4] = rest.get(4..8)?.try_into().ok()?;
        let (header, size) = match size {
            0 => (8, rest.len()),
            1 => (
                16,
                usize::try_from(u64::from_be_bytes(rest.get(8..16)?.try_into().ok()?)).ok()?,
            ),
            n => (8, n),
        };
        let body = rest.get(header..size)?;
        rest = &rest[size..];
        Some((kind, body))
    })
}

fn to_rgb(
    yuv: Yuv420<'_>,
    time_ms: u64,
    coefficients: Coefficients,
    limits: &MediaLimits,
) -> Result<RgbFrame, MediaError> {
    let (width, height) = yuv.size;
    // The stream's own parameter sets decide the picture size, not the container's tkhd
    // (checked earlier): openh264 accepts pictures of up to about 9.4 Mpx.
    check_video_pixels(width as u64, height as u64, limits)?;
    let pixels = yuv420_to_rgb8(yuv.planes, (width, height), yuv.strides, coefficients);
    let size = (
        u32::try_from(width).map_err(|e| MediaError::Decoder(e.to_string()))?,
        u32::try_from(height).map_err(|e| MediaError::Decoder(e.to_string()))?,
    );
    // A 4K picture is brought down to the kept size at once: only one full-size RGB
    // picture (25 MB) exists at a time, and the candidates stay 6 MB each.
    let kept = crate::frame::fit_pixels(size.0, size.1, limits.max_pixels);
    let pixels = if kept == size {
        pixels
    } else {
        crate::frame::resize_rgb(&pixels, size, kept)?
    };
    Ok(RgbFrame {
        width: kept.0,
        height: kept.1,
        pixels,
        time_ms,
        source_size: size,
    })
}

/// YUV 4:2:0 to RGB in 8.8 fixed point, with the stream's matrix and range
/// ([`crate::colour`]).
///
/// openh264's own `write_rgb8` takes an AVX2 integer path on x86 and a float path
/// elsewhere, which round differently: an arm64 Lambda would see other pixels than x86,
/// and pick other frames and crops. Integer arithmetic gives every CPU the same pixels
/// (and the loop still vectorises).
fn yuv420_to_rgb8(
    (y_plane, u_plane, v_plane): (&[u8], &[u8], &[u8]),
    (width, height): (usize, usize),
    (y_stride, u_stride, v_stride): (usize, usize, usize),
    k: Coefficients,
) -> Vec<u8> {
    let mut rgb = vec![0u8; width * height * 3];
    let clamp = |value: i32| (value >> 8).clamp(0, 255) as u8;
    for (row, out) in rgb.chunks_exact_mut(width * 3).enumerate() {
        let luma = &y_plane[row * y_stride..][..width];
        let u_row = &u_plane[(row / 2) * u_stride..];
        let v_row = &v_plane[(row / 2) * v_stride..];
        for (column, (pixel, &y)) in out.chunks_exact_mut(3).zip(luma).enumerate() {
            let c = k.y_gain * (i32::from(y) - k.y_offset) + 128;
            let d = i32::from(u_row[column / 2]) - 128;
            let e = i32::from(v_row[column / 2]) - 128;
            pixel[0] = clamp(c + k.rv * e);
            pixel[1] = clamp(c - k.gu * d - k.gv * e);
            pixel[2] = clamp(c + k.bu * d);
        }
    }
    rgb
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::colour::Colour;

    #[test]
    fn yuv_to_rgb_has_the_bt601_reference_values() {
        // Studio white and black, and saturated primaries, on a 2x2 picture.
        let bt601 = Colour::default().coefficients();
        let rgb =
            |y: u8, u: u8, v: u8| yuv420_to_rgb8((&[y; 4], &[u], &[v]), (2, 2), (2, 1, 1), bt601);
        assert_eq!(&rgb(235, 128, 128)[..3], &[255, 255, 255]);
        assert_eq!(&rgb(16, 128, 128)[..3], &[0, 0, 0]);
        assert_eq!(&rgb(126, 128, 128)[..3], &[128, 128, 128]);
        // BT.601 red (Y 81, U 90, V 240) and blue (Y 41, U 240, V 110).
        let red = rgb(81, 90, 240);
        assert!(red[0] >= 253 && red[1] <= 2 && red[2] <= 2, "{red:?}");
        let blue = rgb(41, 240, 110);
        assert!(blue[0] <= 2 && blue[1] <= 2 && blue[2] >= 253, "{blue:?}");
        // Chroma is shared by 2x2 blocks and rows honour their strides.
        let picture = yuv420_to_rgb8(
            (&[235, 235, 0, 16, 16, 0], &[128, 0], &[128, 0]),
            (2, 2),
            (3, 2, 2),
            bt601,
        );
        assert_eq!(picture, [255, 255, 255, 255, 255, 255, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn keyframes_suffice_when_many_or_close_enough() {
        let plan = SamplingPlan::default();
        assert!(
            plan.keyframes_suffice(&[0, 1000, 2000, 3000], 60_000),
            "four"
        );
        assert!(plan.keyframes_suffice(&[0, 2000, 4000], 5000), "every 2 s");
        assert!(
            !plan.keyframes_suffice(&[0, 500], 4000),
            "3.5 s after the last"
        );
        assert!(!plan.keyframes_suffice(&[0], 1000), "one is not a choice");
        assert!(
            !plan.keyframes_suffice(&[0, 1500], 3000),
            "two are no choice"
        );
        assert!(
            !plan.keyframes_suffice(&[1000, 4000, 4500], 5000),
            "a 3 s gap"
        );
        assert!(
            !plan.keyframes_suffice(&[2600, 4000, 4500], 5000),
            "2.6 s before the first"
        );
    }

    #[test]
    fn avcc_becomes_start_codes() {
        let convert =
            |sample: &[u8], length_size: usize| nal_units(sample, length_size).map(|n| annex_b(&n));
        let sample = [0, 0, 0, 2, 0x65, 0xAA, 0, 0, 0, 1, 0x41];
        assert_eq!(
            convert(&sample, 4).expect("valid"),
            vec![0, 0, 0, 1, 0x65, 0xAA, 0, 0, 0, 1, 0x41]
        );
        assert!(convert(&[0, 0, 0, 9, 0x65], 4).is_err());
        assert!(convert(&[0, 0], 4).is_err());
        assert!(convert(&sample, 5).is_err());
    }

    #[test]
    fn empty_nal_units_cannot_grow_a_sample_fourfold() {
        let out = annex_b(&nal_units(&vec![0u8; 100_000], 1).expect("valid"));
        assert!(out.is_empty());
        let ones: Vec<u8> = std::iter::repeat_n([1u8, 0x41], 50_000).flatten().collect();
        let out = annex_b(&nal_units(&ones, 1).expect("valid"));
        assert!(
            out.len() <= ones.len() * 5 / 2,
            "{} from {}",
            out.len(),
            ones.len()
        );
    }

    #[test]
    fn spread_keeps_the_ends_and_spaces_evenly() {
        let items: Vec<usize> = (0..10).collect();
        let refs: Vec<&usize> = items.iter().collect();
        let picked: Vec<usize> = spread(&refs, 4).into_iter().copied().collect();
        assert_eq!(picked, vec![0, 3, 6, 9]);
        assert_eq!(spread(&refs, 20).len(), 10);
        assert!(spread(&refs, 0).is_empty());
    }
}
