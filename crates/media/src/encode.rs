//! Crop, resize (Lanczos3 convolution, `fast_image_resize`) and JPEG-encode a frame.

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use jpeg_encoder::{ColorType, Encoder, SamplingFactor};

use crate::{MediaError, RgbFrame};

/// A JPEG thumbnail and its size.
#[derive(Debug, Clone)]
pub struct EncodedImage {
    /// Pixels across.
    pub width: u32,
    /// Pixels down.
    pub height: u32,
    /// The JPEG file.
    pub jpeg: Vec<u8>,
}

/// The `(x, y, w, h)` region of `frame`, resized to `width` x `height` and encoded as JPEG
/// at `quality` (1-100).
pub fn encode_crop(
    frame: &RgbFrame,
    region: (u32, u32, u32, u32),
    width: u32,
    height: u32,
    quality: u8,
) -> Result<EncodedImage, MediaError> {
    let (x, y, w, h) = region;
    let inside = w > 0
        && h > 0
        && x.checked_add(w).is_some_and(|r| r <= frame.width)
        && y.checked_add(h).is_some_and(|b| b <= frame.height);
    if !inside || width == 0 || height == 0 {
        return Err(MediaError::Encode(format!(
            "crop {region:?} to {width}x{height} does not fit a {}x{} frame",
            frame.width, frame.height
        )));
    }
    let source = ImageRef::new(frame.width, frame.height, &frame.pixels, PixelType::U8x3)
        .map_err(|e| MediaError::Encode(e.to_string()))?;
    let mut resized = Image::new(width, height, PixelType::U8x3);
    let options = ResizeOptions::new()
        .crop(x as f64, y as f64, w as f64, h as f64)
        .resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
    Resizer::new()
        .resize(&source, &mut resized, &options)
        .map_err(|e| MediaError::Encode(e.to_string()))?;
    let (Ok(jpeg_width), Ok(jpeg_height)) = (u16::try_from(width), u16::try_from(height)) else {
        return Err(MediaError::Encode(format!(
            "{width}x{height} is larger than JPEG allows (65535)"
        )));
    };
    let mut jpeg = Vec::new();
    let mut encoder = Encoder::new(&mut jpeg, quality.clamp(1, 100));
    // Full-resolution chroma, as image's encoder wrote before: the encoder's own default
    // under quality 90 is 4:2:0, 20 % smaller and 3 dB lower PSNR on product colours.
    encoder.set_sampling_factor(SamplingFactor::F_1_1);
    encoder
        .encode(resized.buffer(), jpeg_width, jpeg_height, ColorType::Rgb)
        .map_err(|e| MediaError::Encode(e.to_string()))?;
    Ok(EncodedImage {
        width,
        height,
        jpeg,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(width: u32, height: u32) -> RgbFrame {
        let mut pixels = Vec::new();
        for y in 0..height {
            for x in 0..width {
                pixels.extend_from_slice(&[(x % 256) as u8, (y % 256) as u8, 128]);
            }
        }
        RgbFrame {
            width,
            height,
            pixels,
            time_ms: 0,
            source_size: (width, height),
        }
    }

    #[test]
    fn crops_resizes_and_encodes_a_decodable_jpeg() {
        let frame = gradient(200, 100);
        let encoded = encode_crop(&frame, (100, 0, 100, 100), 64, 64, 85).expect("encodes");
        let decoded = image::load_from_memory(&encoded.jpeg)
            .expect("valid jpeg")
            .to_rgb8();
        assert_eq!(decoded.dimensions(), (64, 64));
        // The right half of the gradient: red runs from 100 to 199 across the crop.
        let left = decoded.get_pixel(2, 32)[0] as i32;
        let right = decoded.get_pixel(61, 32)[0] as i32;
        assert!(
            (left - 103).abs() < 8 && (right - 196).abs() < 8,
            "{left} {right}"
        );
    }

    #[test]
    fn encoding_is_the_same_bytes_everywhere() {
        // jpeg-encoder's scalar path is integer-only; this digest pins its output so that a
        // change of encoder, settings or SIMD path (which rounds otherwise) shows up here and
        // in `make lambda-smoke`'s x86 / arm64 comparison.
        let frame = gradient(300, 200);
        let encoded = encode_crop(&frame, (20, 10, 240, 180), 120, 90, 85).expect("encodes");
        let digest = encoded.jpeg.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
        });
        assert_eq!(
            (encoded.jpeg.len(), digest),
            (2470, 4_743_504_803_300_571_084),
            "FNV-1a of the JPEG"
        );
        // Full-resolution chroma: every component sampled 1x1 in the frame header.
        let sof = encoded
            .jpeg
            .windows(2)
            .position(|w| w == [0xFF, 0xC0])
            .expect("baseline frame header");
        let sampling: Vec<u8> = (0..3).map(|c| encoded.jpeg[sof + 11 + 3 * c]).collect();
        assert_eq!(sampling, [0x11, 0x11, 0x11]);
    }

    #[test]
    fn a_crop_outside_the_frame_is_an_error() {
        let frame = gradient(50, 50);
        assert!(encode_crop(&frame, (40, 0, 20, 20), 10, 10, 80).is_err());
        assert!(encode_crop(&frame, (0, 0, 0, 20), 10, 10, 80).is_err());
        assert!(encode_crop(&frame, (u32::MAX, 0, 2, 2), 10, 10, 80).is_err());
    }
}
