//! The network's input: the image letterboxed to 416x416 and folded into the Focus
//! stem's 12-channel space-to-depth layout.

use candle_core::{Device, Tensor};

use super::{RgbView, INPUT_SIZE, PAD_VALUE};
use crate::ModelError;

/// Letterboxes `image` into 416x416 as YOLOX's `ValTransform` does (scale to fit, top-left,
/// grey padding, BGR, 0..255) and rearranges it into the 12-channel space-to-depth layout
/// the Focus stem reads: channels are (top-left, bottom-left, top-right, bottom-right)
/// pixel of each 2x2 cell, each as B, G, R. Returns the tensor and the scale applied.
pub fn focus_input(image: RgbView) -> Result<(Tensor, f32), ModelError> {
    let (width, height) = (image.width, image.height);
    if width == 0 || height == 0 || image.pixels.len() != width * height * 3 {
        return Err(ModelError::Inference(candle_core::Error::Msg(format!(
            "an RGB image of {width}x{height} needs {} bytes, got {}",
            width * height * 3,
            image.pixels.len()
        ))));
    }
    let scale = (INPUT_SIZE as f32 / width as f32).min(INPUT_SIZE as f32 / height as f32);
    let scaled_w = ((width as f32 * scale) as usize).clamp(1, INPUT_SIZE);
    let scaled_h = ((height as f32 * scale) as usize).clamp(1, INPUT_SIZE);
    let half = INPUT_SIZE / 2;
    let plane = half * half;
    let mut data = vec![PAD_VALUE; 12 * plane];
    // Bilinear sampling with pixel centres aligned, as OpenCV's INTER_LINEAR.
    let sx = width as f32 / scaled_w as f32;
    let sy = height as f32 / scaled_h as f32;
    let pixel = |x: usize, y: usize, c: usize| image.pixels[(y * width + x) * 3 + c] as f32;
    for y in 0..scaled_h {
        let fy = ((y as f32 + 0.5) * sy - 0.5).clamp(0.0, (height - 1) as f32);
        let (y0, wy) = (fy as usize, fy.fract());
        let y1 = (y0 + 1).min(height - 1);
        for x in 0..scaled_w {
            let fx = ((x as f32 + 0.5) * sx - 0.5).clamp(0.0, (width - 1) as f32);
            let (x0, wx) = (fx as usize, fx.fract());
            let x1 = (x0 + 1).min(width - 1);
            let quadrant = (x % 2) * 2 + (y % 2);
            let offset = (y / 2) * half + x / 2;
            for (bgr, rgb) in [(0, 2), (1, 1), (2, 0)] {
                let top = pixel(x0, y0, rgb) * (1.0 - wx) + pixel(x1, y0, rgb) * wx;
                let bottom = pixel(x0, y1, rgb) * (1.0 - wx) + pixel(x1, y1, rgb) * wx;
                data[(quadrant * 3 + bgr) * plane + offset] = top * (1.0 - wy) + bottom * wy;
            }
        }
    }
    let tensor = Tensor::from_vec(data, (1, 12, half, half), &Device::Cpu)?;
    Ok((tensor, scale))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letterbox_puts_pixels_in_the_focus_layout() {
        // A 416x416 image needs no scaling: pixel (x=1, y=0) is the top-right of cell 0.
        let mut pixels = vec![0u8; INPUT_SIZE * INPUT_SIZE * 3];
        pixels[3..6].copy_from_slice(&[10, 20, 30]);
        let view = RgbView {
            width: INPUT_SIZE,
            height: INPUT_SIZE,
            pixels: &pixels,
        };
        let (tensor, scale) = focus_input(view).expect("valid image");
        assert_eq!(scale, 1.0);
        let values = tensor
            .flatten_all()
            .and_then(|t| t.to_vec1::<f32>())
            .expect("f32");
        let plane = (INPUT_SIZE / 2) * (INPUT_SIZE / 2);
        // quadrant top-right = 2, channels B, G, R.
        assert_eq!(values[6 * plane], 30.0);
        assert_eq!(values[7 * plane], 20.0);
        assert_eq!(values[8 * plane], 10.0);
        assert_eq!(values[0], 0.0);
    }

    #[test]
    fn a_short_pixel_buffer_is_an_error_not_a_panic() {
        let view = RgbView {
            width: 10,
            height: 10,
            pixels: &[0; 12],
        };
        assert!(focus_input(view).is_err());
    }
}
