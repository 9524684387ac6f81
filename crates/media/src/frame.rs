//! A decoded picture, and bringing one down to the size we work at.

use crate::MediaError;

/// An 8-bit RGB picture, row-major, no padding.
#[derive(Clone)]
pub struct RgbFrame {
    /// Pixels across.
    pub width: u32,
    /// Pixels down.
    pub height: u32,
    /// `width * height * 3` bytes, R G B.
    pub pixels: Vec<u8>,
    /// Presentation time in the video; 0 for still images.
    pub time_ms: u64,
    /// The size of the picture this one was decoded from, as displayed (after EXIF
    /// orientation): larger than `width` x `height` when a phone photo was decoded at a
    /// reduced scale or a 4K picture brought down to 1080p.
    pub source_size: (u32, u32),
}

impl std::fmt::Debug for RgbFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "RgbFrame({}x{} at {} ms)",
            self.width, self.height, self.time_ms
        )
    }
}

impl RgbFrame {
    /// BT.601 luma, the plane the quality measures read.
    pub fn luma(&self) -> Vec<u8> {
        self.pixels
            .chunks_exact(3)
            .map(|p| ((77 * p[0] as u32 + 150 * p[1] as u32 + 29 * p[2] as u32) >> 8) as u8)
            .collect()
    }
}

/// `pixels` (RGB, `width` x `height`) resized to `to_width` x `to_height`, with the
/// convolution fast_image_resize widens by the scale factor when shrinking (so 2x down
/// averages, it does not skip). Integer arithmetic: the same pixels on x86 and arm64.
pub(crate) fn resize_rgb(
    pixels: &[u8],
    (width, height): (u32, u32),
    (to_width, to_height): (u32, u32),
) -> Result<Vec<u8>, MediaError> {
    use fast_image_resize::images::{Image, ImageRef};
    use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
    let source = ImageRef::new(width, height, pixels, PixelType::U8x3)
        .map_err(|e| MediaError::Decoder(e.to_string()))?;
    let mut resized = Image::new(to_width.max(1), to_height.max(1), PixelType::U8x3);
    Resizer::new()
        .resize(
            &source,
            &mut resized,
            &ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3)),
        )
        .map_err(|e| MediaError::Decoder(e.to_string()))?;
    Ok(resized.into_vec())
}

/// The largest size of `width` x `height`'s aspect with at most `max_pixels` pixels.
pub(crate) fn fit_pixels(width: u32, height: u32, max_pixels: u64) -> (u32, u32) {
    let pixels = u64::from(width) * u64::from(height);
    if pixels <= max_pixels {
        return (width, height);
    }
    let scale = (max_pixels as f64 / pixels as f64).sqrt();
    let mut to = (
        ((f64::from(width) * scale) as u32).max(1),
        ((f64::from(height) * scale) as u32).max(1),
    );
    while u64::from(to.0) * u64::from(to.1) > max_pixels && to.0 > 1 && to.1 > 1 {
        to = (to.0 - 1, to.1 - 1);
    }
    to
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fitting_keeps_the_aspect_under_the_cap() {
        assert_eq!(fit_pixels(3840, 2160, 1920 * 1080), (1920, 1080));
        assert_eq!(fit_pixels(2160, 3840, 1920 * 1080), (1080, 1920));
        assert_eq!(fit_pixels(640, 360, 1920 * 1080), (640, 360));
        let (w, h) = fit_pixels(360, 640, 320 * 320);
        assert!(
            u64::from(w) * u64::from(h) <= 320 * 320 && w >= 230,
            "{w}x{h}"
        );
    }
}
