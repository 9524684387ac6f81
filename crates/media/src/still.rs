//! Still images: JPEG, PNG, WebP and HEIC, upright (phones store portrait photos sideways
//! and say so in an EXIF tag, or in HEIC's `irot`/`imir`).
//!
//! What is capped is what we decode, not what the header says. Phones write 12-48 Mpx
//! JPEGs; decoded whole, a 48 Mpx photo is 145 MB of RGB. A JPEG is therefore decoded at
//! the smallest DCT scale (1/8, 1/4, 1/2 or 1, by `jpeg-decoder`) whose long side still
//! reaches [`MediaLimits::still_long_side`] (1920), the size the largest thumbnail needs
//! after the crop's zoom, then resized to that long side: a 12 Mpx photo (4032x3024)
//! decodes at 1/2 to 2016x1512, a 48 Mpx one (8064x6048) at 1/4 to the same, a 24 Mpx one
//! (6000x4000) at 1/2 to 3000x2000; each becomes 1920 on its long side. PNG and WebP have no
//! such scaling: they are decoded whole, up to [`MediaLimits::max_pixels`], and refused
//! above it with `resolution_too_large` (phones do not write them; a screenshot fits).
//! HEIC (the iPhone's default) has none either, but phones store it as a grid of tiles, so
//! a large one is reduced tile by tile (see [`crate::heic`]), then resized like a JPEG.
//!
//! Decompression bombs stay refused: a header over [`MediaLimits::max_source_pixels`] is
//! `resolution_too_large`, and a still over `max_pixels` whose file has fewer than one byte
//! per [`MAX_PIXELS_PER_BYTE`] pixels (a 100 KB file claiming 48 Mpx) is
//! `decompression_bomb`: real photos that large carry several bits a pixel.

use std::io::Cursor;

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, RgbImage};

use crate::{check_bytes, heic, MediaError, MediaLimits, RgbFrame};

/// Declared pixels per byte of file above which a large still is a decompression bomb. A
/// phone JPEG carries 3-8 pixels a byte, a flat studio shot tens; 200 leaves room.
pub const MAX_PIXELS_PER_BYTE: u64 = 200;

/// The most a JPEG decode may buffer: a progressive JPEG keeps every coefficient of the
/// full-size image (2 bytes a sample) whatever the output scale, 72 MB for 24 Mpx 4:2:0.
const MAX_JPEG_BUFFER_BYTES: usize = 160 * 1024 * 1024;

/// Decodes a still (JPEG, PNG, WebP, HEIC) within `limits`, upright, reduced to
/// [`MediaLimits::still_long_side`] where it is larger (see the module's comment).
pub fn decode_image(bytes: &[u8], limits: &MediaLimits) -> Result<RgbFrame, MediaError> {
    check_bytes(bytes.len(), limits)?;
    if heic::is_heic(bytes) {
        return heic::decode_heic(bytes, limits);
    }
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| MediaError::Corrupt(e.to_string()))?;
    match reader.format() {
        Some(ImageFormat::Jpeg) => match decode_jpeg_reduced(bytes, limits)? {
            Some(frame) => Ok(frame),
            // Already small enough: zune-jpeg (image's decoder) is the faster whole decoder,
            // and its long side is at most `still_long_side`.
            None => decode_whole(reader, bytes.len(), limits, u64::MAX),
        },
        Some(ImageFormat::Png | ImageFormat::WebP) => {
            decode_whole(reader, bytes.len(), limits, limits.max_pixels)
        }
        Some(other) => Err(MediaError::UnsupportedImage(format!("{other:?}"))),
        None => Err(MediaError::UnsupportedImage(
            "unrecognised bytes".to_owned(),
        )),
    }
}

/// What every still's header must pass before any pixel is allocated.
pub(crate) fn check_source(
    width: u64,
    height: u64,
    bytes: usize,
    limits: &MediaLimits,
) -> Result<(), MediaError> {
    if width == 0 || height == 0 {
        return Err(MediaError::Corrupt(format!("{width}x{height} image")));
    }
    let pixels = width * height;
    if pixels > limits.max_source_pixels {
        return Err(MediaError::ResolutionTooLarge {
            width,
            height,
            limit: limits.max_source_pixels,
        });
    }
    if pixels > limits.max_pixels && pixels > MAX_PIXELS_PER_BYTE * bytes as u64 {
        return Err(MediaError::DecompressionBomb {
            width,
            height,
            bytes,
        });
    }
    Ok(())
}

/// Decoded whole, so only up to `max_decoded` pixels (PNG and WebP: `max_pixels`).
fn decode_whole(
    reader: ImageReader<Cursor<&[u8]>>,
    bytes: usize,
    limits: &MediaLimits,
    max_decoded: u64,
) -> Result<RgbFrame, MediaError> {
    // The header is read before any pixel is allocated, so a tiny file that claims to be
    // 100,000 pixels wide is refused here rather than by the allocator.
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| MediaError::Corrupt(e.to_string()))?;
    let (width, height) = decoder.dimensions();
    check_source(width as u64, height as u64, bytes, limits)?;
    if u64::from(width) * u64::from(height) > max_decoded {
        return Err(MediaError::ResolutionTooLarge {
            width: width.into(),
            height: height.into(),
            limit: max_decoded,
        });
    }
    let orientation = decoder
        .orientation()
        .map_err(|e| MediaError::Corrupt(e.to_string()))?;
    let image =
        DynamicImage::from_decoder(decoder).map_err(|e| MediaError::Corrupt(e.to_string()))?;
    Ok(oriented(image, orientation, (width, height)))
}

/// A JPEG longer than `still_long_side`, at the smallest DCT scale that serves the
/// thumbnails (see the module comment); `None` for one short enough to decode whole.
fn decode_jpeg_reduced(bytes: &[u8], limits: &MediaLimits) -> Result<Option<RgbFrame>, MediaError> {
    // jpeg-decoder panics on a few malformed frame headers (two colour components, say):
    // for us that is one more corrupt file, not a crashed record.
    std::panic::catch_unwind(|| decode_jpeg_scaled(bytes, limits)).unwrap_or_else(|_| {
        Err(MediaError::Corrupt(
            "the JPEG decoder could not read this file".to_owned(),
        ))
    })
}

fn decode_jpeg_scaled(bytes: &[u8], limits: &MediaLimits) -> Result<Option<RgbFrame>, MediaError> {
    let corrupt = |e: jpeg_decoder::Error| MediaError::Corrupt(e.to_string());
    let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    decoder.set_max_decoding_buffer_size(MAX_JPEG_BUFFER_BYTES);
    decoder.read_info().map_err(corrupt)?;
    let header = decoder
        .info()
        .ok_or_else(|| MediaError::Corrupt("no JPEG frame header".to_owned()))?;
    let (width, height) = (u64::from(header.width), u64::from(header.height));
    check_source(width, height, bytes.len(), limits)?;
    let long_side = width.max(height);
    let wanted = u64::from(limits.still_long_side.max(1));
    if long_side <= wanted {
        return Ok(None);
    }
    // Proportional, so the scale that reaches `wanted` on the long side is chosen.
    let scaled =
        |side: u64| ((side * wanted).div_ceil(long_side)).clamp(1, u64::from(u16::MAX)) as u16;
    decoder
        .scale(scaled(width), scaled(height))
        .map_err(corrupt)?;
    let samples = decoder.decode().map_err(corrupt)?;
    let info = decoder
        .info()
        .ok_or_else(|| MediaError::Corrupt("no JPEG frame header".to_owned()))?;
    let (out_width, out_height) = (u32::from(info.width), u32::from(info.height));
    let rgb = match info.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 => samples,
        jpeg_decoder::PixelFormat::L8 => samples.iter().flat_map(|&l| [l, l, l]).collect(),
        // Big-endian 16-bit grey (lossless JPEG): its high byte.
        jpeg_decoder::PixelFormat::L16 => samples
            .chunks_exact(2)
            .flat_map(|l| [l[0], l[0], l[0]])
            .collect(),
        // jpeg-decoder undoes Adobe's inversion: plain CMYK, ink 255 = full.
        jpeg_decoder::PixelFormat::CMYK32 => samples
            .chunks_exact(4)
            .flat_map(|p| {
                let k = 255 - u16::from(p[3]);
                let channel = |c: u8| ((255 - u16::from(c)) * k / 255) as u8;
                [channel(p[0]), channel(p[1]), channel(p[2])]
            })
            .collect(),
    };
    let image = RgbImage::from_raw(out_width, out_height, rgb)
        .ok_or_else(|| MediaError::Corrupt("JPEG samples do not fill the frame".to_owned()))?;
    let image = fit_long_side(image, limits.still_long_side)?;
    let orientation = decoder
        .exif_data()
        .and_then(Orientation::from_exif_chunk)
        .unwrap_or(Orientation::NoTransforms);
    Ok(Some(oriented(
        DynamicImage::ImageRgb8(image),
        orientation,
        (u32::from(header.width), u32::from(header.height)),
    )))
}

/// `jpeg` with an APP1 Exif segment saying `orientation` (1-8) inserted after SOI, as a phone
/// writes a photo it stored sideways; for tests and the bench media. `jpeg` must start with SOI.
pub fn with_exif_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let mut tiff = b"MM\0\x2a\0\0\0\x08".to_vec();
    tiff.extend_from_slice(&1u16.to_be_bytes()); // one entry
    tiff.extend_from_slice(&0x0112u16.to_be_bytes()); // Orientation
    tiff.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_be_bytes());
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]); // value padding, no next IFD
    let mut segment = vec![0xFF, 0xE1];
    segment.extend_from_slice(&((2 + 6 + tiff.len()) as u16).to_be_bytes());
    segment.extend_from_slice(b"Exif\0\0");
    segment.extend_from_slice(&tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&segment);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// `image` resized (Lanczos3) so its long side is at most `long_side`. A DCT scale lands
/// between one and two times the wanted size (3000x2000 for a 24 Mpx photo); each of a
/// post's ten images is kept while the best is chosen, so each is brought down to the size
/// the thumbnails use.
pub(crate) fn fit_long_side(image: RgbImage, long_side: u32) -> Result<RgbImage, MediaError> {
    let (width, height) = image.dimensions();
    let long = width.max(height);
    if long <= long_side.max(1) {
        return Ok(image);
    }
    let scaled =
        |side: u32| ((u64::from(side) * u64::from(long_side)) / u64::from(long)).max(1) as u32;
    let to = (scaled(width), scaled(height));
    let pixels = crate::frame::resize_rgb(image.as_raw(), (width, height), to)?;
    RgbImage::from_raw(to.0, to.1, pixels)
        .ok_or_else(|| MediaError::Decoder("resized still has the wrong size".to_owned()))
}

/// `image` turned as `orientation` says; `stored` is the source's size as stored.
fn oriented(mut image: DynamicImage, orientation: Orientation, stored: (u32, u32)) -> RgbFrame {
    image.apply_orientation(orientation);
    let turned = matches!(
        orientation,
        Orientation::Rotate90
            | Orientation::Rotate270
            | Orientation::Rotate90FlipH
            | Orientation::Rotate270FlipH
    );
    let rgb = image.into_rgb8();
    RgbFrame {
        width: rgb.width(),
        height: rgb.height(),
        pixels: rgb.into_raw(),
        time_ms: 0,
        source_size: if turned { (stored.1, stored.0) } else { stored },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/../../fixtures/images/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(path).expect("fixture")
    }

    #[test]
    fn decodes_jpeg_png_and_webp() {
        let jpeg = decode_image(&fixture("coffee.jpg"), &MediaLimits::default()).expect("jpeg");
        assert_eq!((jpeg.width, jpeg.height), (600, 400));
        assert_eq!(jpeg.pixels.len(), 600 * 400 * 3);
        for name in ["coffee-small.png", "coffee-small.webp"] {
            let frame = decode_image(&fixture(name), &MediaLimits::default()).expect(name);
            assert_eq!(frame.width, if name.ends_with("png") { 160 } else { 300 });
        }
    }

    #[test]
    fn refuses_images_over_the_pixel_limit_before_decoding() {
        let limits = MediaLimits {
            max_source_pixels: 1000,
            ..MediaLimits::default()
        };
        let error = decode_image(&fixture("coffee.jpg"), &limits).expect_err("too many pixels");
        assert_eq!(error.code(), "resolution_too_large");
        // PNG and WebP are decoded whole: `max_pixels` is their cap.
        let whole = MediaLimits {
            max_pixels: 1000,
            ..MediaLimits::default()
        };
        let error = decode_image(&fixture("coffee-small.png"), &whole).expect_err("whole");
        assert_eq!(error.code(), "resolution_too_large");
    }

    /// A noisy photo-sized JPEG (noise keeps it as large as a real photo's file), with a red
    /// block in its stored top-left corner.
    fn large_jpeg(width: u32, height: u32) -> Vec<u8> {
        let mut state = 0x2545_f491_u32;
        let image = RgbImage::from_fn(width, height, |x, y| {
            if x < width / 8 && y < height / 8 {
                return image::Rgb([230, 20, 20]);
            }
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let v = 60 + (state % 64) as u8;
            image::Rgb([v / 2, v / 2, v + 40])
        });
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80)
            .encode_image(&image)
            .expect("encode");
        out
    }

    fn is_red(frame: &RgbFrame, x: u32, y: u32) -> bool {
        let at = ((y * frame.width + x) * 3) as usize;
        let p = &frame.pixels[at..at + 3];
        p[0] > 150 && p[1] < 90 && p[2] < 90
    }

    /// Phone photos were refused as `resolution_too_large` (the 1080p cap was read from the
    /// header). Each is now decoded at the scale the thumbnails need, upright.
    #[test]
    fn phone_photos_decode_at_reduced_scale_and_upright() {
        let limits = MediaLimits::default();
        // 12 Mpx as an iPhone writes a portrait photo: stored 4032x3024 sideways, EXIF 6.
        let sideways = with_exif_orientation(&large_jpeg(4032, 3024), 6);
        let frame = decode_image(&sideways, &limits).expect("12 Mpx");
        assert_eq!(
            (frame.width, frame.height),
            (1440, 1920),
            "reduced, then rotated"
        );
        assert_eq!(frame.source_size, (3024, 4032), "the photo as displayed");
        // Orientation 6 turns the stored top-left corner to the top right.
        assert!(is_red(&frame, frame.width - 5, 5));
        assert!(!is_red(&frame, 5, 5));
        // 24 Mpx camera JPEG: half scale (a quarter would be shorter than 1920), resized.
        let frame = decode_image(&large_jpeg(6000, 4000), &limits).expect("24 Mpx");
        assert_eq!((frame.width, frame.height), (1920, 1280));
        assert!(is_red(&frame, 5, 5));
        // 48 Mpx: a quarter, resized.
        let frame = decode_image(&large_jpeg(8064, 6048), &limits).expect("48 Mpx");
        assert_eq!((frame.width, frame.height), (1920, 1440));
        // Small JPEGs are decoded whole, as before.
        let frame = decode_image(&fixture("coffee.jpg"), &limits).expect("small");
        assert_eq!((frame.width, frame.height), (600, 400));
    }

    #[test]
    fn decompression_bombs_are_still_refused() {
        let limits = MediaLimits::default();
        // A 70 KB JPEG whose frame header claims 8064x6048 (48 Mpx).
        let mut bomb = fixture("coffee.jpg");
        let sof = bomb
            .windows(2)
            .position(|w| w == [0xFF, 0xC0] || w == [0xFF, 0xC2])
            .expect("SOF marker");
        bomb[sof + 5..sof + 7].copy_from_slice(&6048u16.to_be_bytes());
        bomb[sof + 7..sof + 9].copy_from_slice(&8064u16.to_be_bytes());
        let error = decode_image(&bomb, &limits).expect_err("bomb");
        assert_eq!(error.code(), "decompression_bomb", "{error}");
        // A 16k x 16k PNG: over the source cap before anything is decoded.
        let png = png_claiming(16_384, 16_384);
        assert!(png.len() < 100, "{}", png.len());
        let error = decode_image(&png, &limits).expect_err("16k PNG");
        assert_eq!(error.code(), "resolution_too_large", "{error}");
    }

    /// A PNG signature and an IHDR chunk claiming `width` x `height`, and nothing else.
    fn png_claiming(width: u32, height: u32) -> Vec<u8> {
        let mut ihdr = b"IHDR".to_vec();
        ihdr.extend_from_slice(&width.to_be_bytes());
        ihdr.extend_from_slice(&height.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend_from_slice(&13u32.to_be_bytes());
        png.extend_from_slice(&ihdr);
        png.extend_from_slice(&crc32(&ihdr).to_be_bytes());
        // One IDAT: a zlib stream of one stored byte, so the decoder reaches its pixels.
        let mut idat = b"IDAT".to_vec();
        idat.extend_from_slice(&[0x78, 0x01, 0x01, 0x01, 0x00, 0xFE, 0xFF, 0x00]);
        idat.extend_from_slice(&0x0001_0001u32.to_be_bytes());
        png.extend_from_slice(&((idat.len() - 4) as u32).to_be_bytes());
        png.extend_from_slice(&idat);
        png.extend_from_slice(&crc32(&idat).to_be_bytes());
        png
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &byte in bytes {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn other_bytes_are_typed_errors() {
        let limits = MediaLimits::default();
        assert_eq!(
            decode_image(b"hello", &limits).expect_err("text").code(),
            "unsupported_image"
        );
        let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;";
        assert_eq!(
            decode_image(gif, &limits).expect_err("gif").code(),
            "unsupported_image"
        );
        // Cut inside the headers (a JPEG cut in its entropy-coded data still decodes, grey
        // at the bottom, as browsers show it).
        let mut truncated = fixture("coffee.jpg");
        truncated.truncate(60);
        assert_eq!(
            decode_image(&truncated, &limits).expect_err("cut").code(),
            "corrupt_media"
        );
    }
}
