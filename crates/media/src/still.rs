//! Still images: JPEG, PNG and WebP, with EXIF orientation applied (phones store portrait
//! photos sideways and say so in a tag).

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};

use crate::{check_bytes, check_pixels, MediaError, MediaLimits, RgbFrame};

pub fn decode_image(bytes: &[u8], limits: &MediaLimits) -> Result<RgbFrame, MediaError> {
    check_bytes(bytes.len(), limits)?;
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| MediaError::Corrupt(e.to_string()))?;
    match reader.format() {
        Some(ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP) => {}
        Some(other) => return Err(MediaError::UnsupportedImage(format!("{other:?}"))),
        None => {
            return Err(MediaError::UnsupportedImage(
                "unrecognised bytes".to_owned(),
            ))
        }
    }
    // The header is read before any pixel is allocated, so a tiny file that claims to be
    // 100,000 pixels wide is refused here rather than by the allocator.
    let decoder = reader
        .into_decoder()
        .map_err(|e| MediaError::Corrupt(e.to_string()))?;
    let (width, height) = decoder.dimensions();
    check_pixels(width as u64, height as u64, limits)?;
    let mut decoder = decoder;
    let orientation = decoder
        .orientation()
        .map_err(|e| MediaError::Corrupt(e.to_string()))?;
    let mut image =
        DynamicImage::from_decoder(decoder).map_err(|e| MediaError::Corrupt(e.to_string()))?;
    image.apply_orientation(orientation);
    let rgb = image.into_rgb8();
    Ok(RgbFrame {
        width: rgb.width(),
        height: rgb.height(),
        pixels: rgb.into_raw(),
        time_ms: 0,
    })
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
            max_pixels: 1000,
            ..MediaLimits::default()
        };
        let error = decode_image(&fixture("coffee.jpg"), &limits).expect_err("too many pixels");
        assert_eq!(error.code(), "resolution_too_large");
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
