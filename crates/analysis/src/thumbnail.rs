//! Choosing a thumbnail: how good each candidate frame looks (sharpness, exposure,
//! contrast), how clearly it shows a product, and where to crop it. Pure arithmetic on
//! luma planes and boxes; decoding and detection happen elsewhere.

use serde::Serialize;

/// Measures of one frame, each in 0..1 unless stated.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FrameQuality {
    /// Variance of the Laplacian of the luma, downscaled to at most [`ANALYSIS_SIDE`]
    /// pixels a side so that it does not depend on resolution (raw value, not 0..1).
    pub laplacian_variance: f32,
    /// `laplacian_variance` mapped to 0..1 (0.5 at [`BLUR_VARIANCE`]).
    pub sharpness: f32,
    /// Mean luma / 255.
    pub exposure: f32,
    /// Standard deviation of luma / 128.
    pub contrast: f32,
    /// Share of pixels at the ends of the range (crushed blacks, blown highlights).
    pub clipped: f32,
    /// Dark and flat (mean luma under 20, little contrast): a fade or a black frame.
    pub black: bool,
    /// Almost no contrast: a title card, a wall, a lens cap.
    pub blank: bool,
    /// Laplacian variance under the blur threshold.
    pub blurred: bool,
}

/// Frames are measured at this size: enough for focus, cheap at any resolution.
pub const ANALYSIS_SIDE: usize = 256;
/// Below this Laplacian variance (at [`ANALYSIS_SIDE`]) a frame reads as out of focus.
pub const BLUR_VARIANCE: f32 = 60.0;

/// Measures a luma plane of `width` x `height` (row-major, no padding).
pub fn frame_quality(luma: &[u8], width: usize, height: usize) -> FrameQuality {
    let (small, w, h) = downscale(luma, width, height);
    let n = small.len().max(1) as f32;
    let mean = small.iter().sum::<f32>() / n;
    let variance = small.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / n;
    let clipped = small
        .iter()
        .filter(|&&v| !(8.0..=247.0).contains(&v))
        .count() as f32
        / n;
    let laplacian_variance = laplacian_variance(&small, w, h);
    let exposure = mean / 255.0;
    let contrast = (variance.sqrt() / 128.0).min(1.0);
    FrameQuality {
        laplacian_variance,
        sharpness: laplacian_variance / (laplacian_variance + BLUR_VARIANCE),
        exposure,
        contrast,
        clipped,
        black: mean < 20.0 && contrast < 0.1,
        blank: contrast < 0.04,
        blurred: laplacian_variance < BLUR_VARIANCE,
    }
}

/// Resamples the plane so that its longer side is [`ANALYSIS_SIDE`]: a box filter by the
/// whole factor, then bilinear for the rest, so measures compare across resolutions.
fn downscale(luma: &[u8], width: usize, height: usize) -> (Vec<f32>, usize, usize) {
    if width == 0 || height == 0 || luma.len() < width * height {
        return (Vec::new(), 0, 0);
    }
    // The box factor may not exceed the shorter side: a 1x600 strip must keep its one column.
    let factor = (width.max(height) / ANALYSIS_SIDE).clamp(1, width.min(height));
    let (bw, bh) = (width / factor, height / factor);
    let mut boxed = Vec::with_capacity(bw * bh);
    let area = (factor * factor) as f32;
    for y in 0..bh {
        for x in 0..bw {
            let mut sum = 0u32;
            for dy in 0..factor {
                let row = (y * factor + dy) * width + x * factor;
                sum += luma[row..row + factor]
                    .iter()
                    .map(|&v| v as u32)
                    .sum::<u32>();
            }
            boxed.push(sum as f32 / area);
        }
    }
    let scale = ANALYSIS_SIDE as f32 / bw.max(bh) as f32;
    if scale >= 1.0 {
        return (boxed, bw, bh);
    }
    let w = ((bw as f32 * scale).round() as usize).max(1);
    let h = ((bh as f32 * scale).round() as usize).max(1);
    let mut out = Vec::with_capacity(w * h);
    for y in 0..h {
        let fy = ((y as f32 + 0.5) / scale - 0.5).clamp(0.0, (bh - 1) as f32);
        let (y0, wy) = (fy as usize, fy.fract());
        let y1 = (y0 + 1).min(bh - 1);
        for x in 0..w {
            let fx = ((x as f32 + 0.5) / scale - 0.5).clamp(0.0, (bw - 1) as f32);
            let (x0, wx) = (fx as usize, fx.fract());
            let x1 = (x0 + 1).min(bw - 1);
            let at = |x: usize, y: usize| boxed[y * bw + x];
            let top = at(x0, y0) * (1.0 - wx) + at(x1, y0) * wx;
            let bottom = at(x0, y1) * (1.0 - wx) + at(x1, y1) * wx;
            out.push(top * (1.0 - wy) + bottom * wy);
        }
    }
    (out, w, h)
}

fn laplacian_variance(plane: &[f32], w: usize, h: usize) -> f32 {
    if w < 3 || h < 3 {
        return 0.0;
    }
    let mut values = Vec::with_capacity((w - 2) * (h - 2));
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            let at = |x: usize, y: usize| plane[y * w + x];
            values.push(at(x - 1, y) + at(x + 1, y) + at(x, y - 1) + at(x, y + 1) - 4.0 * at(x, y));
        }
    }
    let n = values.len() as f32;
    let mean = values.iter().sum::<f32>() / n;
    values.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / n
}

/// How good a frame looks on its own, 0..1: sharp, well exposed, with contrast.
pub fn quality_score(quality: &FrameQuality) -> f32 {
    if quality.black || quality.blank {
        return 0.0;
    }
    // Exposure is best mid-range; a frame at 0.1 or 0.9 mean luma keeps half its score.
    let exposure = 1.0 - ((quality.exposure - 0.5).abs() / 0.4).powi(2).min(1.0) * 0.5;
    let contrast = (quality.contrast / 0.25).min(1.0);
    let clipping = 1.0 - quality.clipped.min(0.5);
    quality.sharpness * exposure * (0.5 + 0.5 * contrast) * clipping
}

/// A detected object, in the frame's pixels.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObjectBox {
    /// COCO label.
    pub label: String,
    /// Detector confidence, 0 to 1.
    pub score: f32,
    /// `[x0, y0, x1, y1]`
    #[serde(rename = "box")]
    pub bbox: [f32; 4],
}

impl ObjectBox {
    fn area(&self) -> f32 {
        (self.bbox[2] - self.bbox[0]).max(0.0) * (self.bbox[3] - self.bbox[1]).max(0.0)
    }
}

/// How much a COCO class looks like something a seller would be showing. Objects people
/// sell first, then people (who wear the clothes and hold the products), then scenery.
pub fn product_weight(label: &str) -> f32 {
    match label {
        "backpack" | "umbrella" | "handbag" | "tie" | "suitcase" | "bottle" | "wine glass"
        | "cup" | "bowl" | "vase" | "clock" | "book" | "teddy bear" | "cell phone" | "laptop"
        | "mouse" | "remote" | "keyboard" | "tv" | "hair drier" | "toothbrush" | "scissors"
        | "sports ball" | "skateboard" | "surfboard" | "tennis racket" | "skis" | "snowboard"
        | "frisbee" | "kite" | "baseball bat" | "baseball glove" | "chair" | "couch" | "bed"
        | "potted plant" | "microwave" | "oven" | "toaster" | "refrigerator" | "bicycle"
        | "motorcycle" | "cake" | "donut" | "fork" | "knife" | "spoon" => 1.0,
        "person" => 0.7,
        "car" | "truck" | "bus" | "boat" | "airplane" | "train" => 0.5,
        _ => 0.3,
    }
}

/// The detection the thumbnail should show: the best product-weighted score, favouring
/// objects that fill a sensible share of the frame (a speck or the whole frame is a poor
/// subject).
pub fn main_subject(objects: &[ObjectBox], width: u32, height: u32) -> Option<&ObjectBox> {
    let frame_area = (width as f32 * height as f32).max(1.0);
    objects
        .iter()
        .map(|o| {
            let share = o.area() / frame_area;
            let size = if share < 0.02 {
                share / 0.02
            } else if share > 0.8 {
                0.7
            } else {
                1.0
            };
            (o, o.score * product_weight(&o.label) * size)
        })
        .filter(|(_, weight)| *weight > 0.0)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(o, _)| o)
}

/// The score a candidate frame is ranked by: its look, lifted by a clear product.
pub fn frame_score(quality: &FrameQuality, subject: Option<&ObjectBox>) -> f32 {
    let salience = subject.map_or(0.0, |s| s.score * product_weight(&s.label));
    quality_score(quality) * (0.4 + 0.6 * salience)
}

/// A rectangle in a frame's pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CropRect {
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width.
    pub w: u32,
    /// Height.
    pub h: u32,
}

/// Crop of aspect `aspect_w:aspect_h` around `subject` in a `width` x `height` frame: the
/// subject with a margin, never zoomed in more than `max_zoom` times the largest crop of
/// that aspect, moved (not shrunk) to stay inside the frame. Without a subject, centred on
/// `focus` (e.g. from [`detail_centre`]).
pub fn crop_around(
    width: u32,
    height: u32,
    aspect: (u32, u32),
    subject: Option<[f32; 4]>,
    focus: (f32, f32),
    max_zoom: f32,
) -> CropRect {
    if width == 0 || height == 0 {
        return CropRect {
            x: 0,
            y: 0,
            w: width,
            h: height,
        };
    }
    // A box with a NaN or infinite corner says nothing about where the product is.
    let subject = subject.filter(|corners| corners.iter().all(|v| v.is_finite()));
    let focus = if focus.0.is_finite() && focus.1.is_finite() {
        focus
    } else {
        (width as f32 / 2.0, height as f32 / 2.0)
    };
    let (frame_w, frame_h) = (width as f32, height as f32);
    let ratio = aspect.0.max(1) as f32 / aspect.1.max(1) as f32;
    let full_w = frame_w.min(frame_h * ratio);
    let (crop_w, centre) = match subject {
        Some([x0, y0, x1, y1]) => {
            // 15 % margin on each side, so the product is not touching the edges.
            let need_w = ((x1 - x0) * 1.3).max((y1 - y0) * 1.3 * ratio);
            let crop_w = need_w.clamp(full_w / max_zoom.max(1.0), full_w);
            (crop_w, ((x0 + x1) / 2.0, (y0 + y1) / 2.0))
        }
        None => (full_w, focus),
    };
    let crop_h = (crop_w / ratio).min(frame_h);
    let x = (centre.0 - crop_w / 2.0).clamp(0.0, frame_w - crop_w);
    let y = (centre.1 - crop_h / 2.0).clamp(0.0, frame_h - crop_h);
    let w = (crop_w.round() as u32).clamp(1, width);
    let h = (crop_h.round() as u32).clamp(1, height);
    CropRect {
        x: (x.round() as u32).min(width - w),
        y: (y.round() as u32).min(height - h),
        w,
        h,
    }
}

/// `crop` widened about its centre to at least `min_w` pixels wide (the thumbnail's
/// configured width), keeping its aspect and staying inside the `width` x `height` frame.
///
/// The rule for small subjects: a crop tight around a small product gave a 277 px thumbnail
/// where `1:1@720` was configured. The picture is widened around the product until the
/// thumbnail reaches its size, as far as the frame allows; it is never upscaled, so a frame
/// narrower than that still gives a smaller thumbnail, not a blurred one.
pub fn widen_to(crop: CropRect, min_w: u32, width: u32, height: u32) -> CropRect {
    if crop.w >= min_w || crop.w == 0 || crop.h == 0 {
        return crop;
    }
    let ratio = crop.w as f64 / crop.h as f64;
    // The widest crop of this aspect the frame holds.
    let full_w = (width as f64).min(height as f64 * ratio);
    let w = (min_w as f64).min(full_w).max(crop.w as f64);
    let h = (w / ratio).min(height as f64);
    let (cx, cy) = (
        crop.x as f64 + crop.w as f64 / 2.0,
        crop.y as f64 + crop.h as f64 / 2.0,
    );
    let w = (w.round() as u32).clamp(1, width);
    let h = (h.round() as u32).clamp(1, height);
    let x = (cx - w as f64 / 2.0).round().clamp(0.0, (width - w) as f64) as u32;
    let y = (cy - h as f64 / 2.0)
        .round()
        .clamp(0.0, (height - h) as f64) as u32;
    CropRect { x, y, w, h }
}

/// The picture inside letterbox or pillarbox bars, in frame pixels (the whole frame when
/// there are none).
///
/// Landscape footage padded to 9:16, and portrait photos padded to landscape, are common on
/// short-video platforms; a crop that reaches into the padding carries a stripe. Two kinds
/// of bar are found, each edge on its own:
/// - dark bars: rows (or columns) that are flat (standard deviation under 5) and dark (mean
///   under 45), at least 2 % of the frame;
/// - blurred bars: a blurred copy of the picture behind it. Rows whose detail (mean absolute
///   difference of neighbours) is under a fifth of the picture's median, on both opposite
///   edges, of similar thickness (within 10 % of the frame): one-sided smoothness is a plain
///   backdrop (sky, a studio wall), which is picture, not padding.
///
/// Bars are capped at 45 % of the frame each, so a dark or plain frame is never cropped away.
/// They are found on the plane downscaled to [`ANALYSIS_SIDE`] (a full-size column pass cost a
/// 1080p still 10 % of its time), and each found bar is taken one downscaled pixel thicker,
/// rounded up: a row of padding inside a crop shows, a few rows of picture lost do not.
pub fn active_picture(luma: &[u8], width: usize, height: usize) -> CropRect {
    let whole = CropRect {
        x: 0,
        y: 0,
        w: width as u32,
        h: height as u32,
    };
    let (small, sw, sh) = downscale(luma, width, height);
    if sw < 8 || sh < 8 {
        return whole;
    }
    let rows: Vec<LineStats> = (0..sh)
        .map(|y| LineStats::of(small[y * sw..(y + 1) * sw].iter().copied()))
        .collect();
    let columns: Vec<LineStats> = (0..sw)
        .map(|x| LineStats::of((0..sh).map(|y| small[y * sw + x])))
        .collect();
    let full = |bar: usize, small: usize, size: usize| {
        if bar == 0 {
            return 0;
        }
        ((bar + 1) * size).div_ceil(small).min(size * 45 / 100)
    };
    let (top, bottom) = bars(&rows);
    let (left, right) = bars(&columns);
    let (top, bottom) = (full(top, sh, height), full(bottom, sh, height));
    let (left, right) = (full(left, sw, width), full(right, sw, width));
    CropRect {
        x: left as u32,
        y: top as u32,
        w: (width - left - right) as u32,
        h: (height - top - bottom) as u32,
    }
}

/// Mean, standard deviation and detail of one row or column of luma.
struct LineStats {
    mean: f32,
    deviation: f32,
    detail: f32,
}

impl LineStats {
    fn of(values: impl Iterator<Item = f32>) -> Self {
        let (mut n, mut sum, mut squares, mut detail) = (0f32, 0f32, 0f32, 0f32);
        let mut previous: Option<f32> = None;
        for v in values {
            n += 1.0;
            sum += v;
            squares += v * v;
            if let Some(p) = previous {
                detail += (v - p).abs();
            }
            previous = Some(v);
        }
        let mean = sum / n.max(1.0);
        Self {
            mean,
            deviation: (squares / n.max(1.0) - mean * mean).max(0.0).sqrt(),
            detail: detail / (n - 1.0).max(1.0),
        }
    }

    fn is_dark_bar(&self) -> bool {
        self.deviation < 5.0 && self.mean < 45.0
    }
}

/// The bars at the two ends of `lines` (rows top to bottom, or columns left to right).
fn bars(lines: &[LineStats]) -> (usize, usize) {
    let n = lines.len();
    let cap = n * 45 / 100;
    let run = |iter: &mut dyn Iterator<Item = &LineStats>, test: &dyn Fn(&LineStats) -> bool| {
        iter.take(cap).take_while(|line| test(line)).count()
    };
    let at_least = |count: usize, share: usize| if count * 100 >= n * share { count } else { 0 };
    let dark_start = at_least(run(&mut lines.iter(), &LineStats::is_dark_bar), 2);
    let dark_end = at_least(run(&mut lines.iter().rev(), &LineStats::is_dark_bar), 2);

    let mut middle: Vec<f32> = lines[n / 3..n - n / 3].iter().map(|l| l.detail).collect();
    middle.sort_by(f32::total_cmp);
    let median = middle.get(middle.len() / 2).copied().unwrap_or(0.0);
    let (mut blur_start, mut blur_end) = (0, 0);
    if median > 2.0 {
        let smooth = |line: &LineStats| line.detail < median / 5.0;
        let start = at_least(run(&mut lines.iter(), &smooth), 4);
        let end = at_least(run(&mut lines.iter().rev(), &smooth), 4);
        if start > 0 && end > 0 && start.abs_diff(end) * 10 <= n {
            (blur_start, blur_end) = (start, end);
        }
    }
    (dark_start.max(blur_start), dark_end.max(blur_end))
}

/// Where the detail is: the centre of mass of gradient energy in the luma plane, in frame
/// pixels. The smart-crop fallback when nothing is detected keeps the busy part of the
/// frame (the product on a plain backdrop) rather than its geometric centre.
pub fn detail_centre(luma: &[u8], width: usize, height: usize) -> (f32, f32) {
    let (small, w, h) = downscale(luma, width, height);
    let centre = (width as f32 / 2.0, height as f32 / 2.0);
    if w < 3 || h < 3 {
        return centre;
    }
    let (mut sum, mut sx, mut sy) = (0.0f32, 0.0f32, 0.0f32);
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            let at = |x: usize, y: usize| small[y * w + x];
            let energy = (at(x + 1, y) - at(x - 1, y)).abs() + (at(x, y + 1) - at(x, y - 1)).abs();
            sum += energy;
            sx += energy * x as f32;
            sy += energy * y as f32;
        }
    }
    if sum <= 0.0 {
        return centre;
    }
    let scale_x = width as f32 / w as f32;
    let scale_y = height as f32 / h as f32;
    ((sx / sum + 0.5) * scale_x, (sy / sum + 0.5) * scale_y)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plane(width: usize, height: usize, f: impl Fn(usize, usize) -> u8) -> Vec<u8> {
        (0..height)
            .flat_map(|y| (0..width).map(move |x| (x, y)))
            .map(|(x, y)| f(x, y))
            .collect()
    }

    #[test]
    fn one_pixel_strips_are_measured_without_panicking() {
        for (w, h) in [(1, 600), (600, 1), (1, 1), (2, 5000), (5000, 2), (257, 1)] {
            let luma = plane(w, h, |x, y| ((x * 7 + y * 13) % 256) as u8);
            let quality = frame_quality(&luma, w, h);
            assert!(quality.exposure.is_finite(), "{w}x{h}");
            let centre = detail_centre(&luma, w, h);
            assert!(centre.0 <= w as f32 && centre.1 <= h as f32, "{w}x{h}");
            let crop = crop_around(w as u32, h as u32, (1, 1), None, centre, 3.0);
            assert!(crop.x + crop.w <= w as u32 && crop.y + crop.h <= h as u32);
        }
    }

    #[test]
    fn degenerate_crop_inputs_stay_inside_the_frame() {
        let nan = Some([f32::NAN, 0.0, 10.0, 10.0]);
        let crop = crop_around(100, 50, (9, 16), nan, (f32::NAN, 1.0), 3.0);
        assert!(crop.x + crop.w <= 100 && crop.y + crop.h <= 50);
        let zero = crop_around(0, 0, (1, 1), None, (0.0, 0.0), 3.0);
        assert_eq!((zero.w, zero.h), (0, 0));
        let outside = crop_around(
            100,
            50,
            (1, 1),
            Some([-1e9, -1e9, 1e9, 1e9]),
            (0.0, 0.0),
            0.0,
        );
        assert!(outside.x + outside.w <= 100 && outside.y + outside.h <= 50);
    }

    #[test]
    fn black_blank_and_sharp_frames_are_told_apart() {
        let black = frame_quality(&plane(320, 240, |_, _| 16), 320, 240);
        assert!(black.black && black.blank && quality_score(&black) == 0.0);
        let grey = frame_quality(&plane(320, 240, |_, _| 128), 320, 240);
        assert!(!grey.black && grey.blank);
        let checks = plane(320, 240, |x, y| {
            if (x / 4 + y / 4).is_multiple_of(2) {
                40
            } else {
                210
            }
        });
        let sharp = frame_quality(&checks, 320, 240);
        assert!(
            !sharp.blurred && !sharp.blank && sharp.sharpness > 0.9,
            "{sharp:?}"
        );
        let ramp = frame_quality(&plane(320, 240, |x, _| (x * 255 / 319) as u8), 320, 240);
        assert!(
            ramp.blurred && !ramp.blank,
            "a smooth ramp has no focus detail: {ramp:?}"
        );
        assert!(quality_score(&sharp) > quality_score(&ramp));
    }

    #[test]
    fn sharpness_does_not_depend_on_resolution() {
        let pattern = |scale: usize| {
            plane(320 * scale, 240 * scale, |x, y| {
                if (x / (6 * scale) + y / (6 * scale)).is_multiple_of(2) {
                    50
                } else {
                    200
                }
            })
        };
        let small = frame_quality(&pattern(1), 320, 240).laplacian_variance;
        let large = frame_quality(&pattern(4), 1280, 960).laplacian_variance;
        assert!((small - large).abs() / small < 0.2, "{small} vs {large}");
    }

    #[test]
    fn a_short_plane_is_measured_as_blank_not_a_panic() {
        let q = frame_quality(&[1, 2, 3], 10, 10);
        assert!(q.blank);
    }

    #[test]
    fn products_beat_people_and_specks_lose_to_visible_objects() {
        let object = |label: &str, score: f32, bbox: [f32; 4]| ObjectBox {
            label: label.to_owned(),
            score,
            bbox,
        };
        let objects = vec![
            object("person", 0.9, [0.0, 0.0, 500.0, 900.0]),
            object("handbag", 0.8, [100.0, 400.0, 300.0, 600.0]),
            object("cup", 0.95, [10.0, 10.0, 14.0, 14.0]),
        ];
        let subject = main_subject(&objects, 600, 1000).expect("a subject");
        assert_eq!(subject.label, "handbag");
        assert!(main_subject(&[], 600, 1000).is_none());
    }

    #[test]
    fn crops_hold_the_subject_with_the_requested_aspect_inside_the_frame() {
        let (width, height) = (720, 1280);
        let bag = [500.0, 900.0, 700.0, 1100.0];
        for aspect in [(1, 1), (4, 5), (9, 16)] {
            let crop = crop_around(width, height, aspect, Some(bag), (0.0, 0.0), 3.0);
            let ratio = crop.w as f32 / crop.h as f32;
            assert!(
                (ratio - aspect.0 as f32 / aspect.1 as f32).abs() < 0.01,
                "{crop:?}"
            );
            assert!(
                crop.x + crop.w <= width && crop.y + crop.h <= height,
                "{crop:?}"
            );
            assert!(
                crop.x as f32 <= bag[0] && (crop.x + crop.w) as f32 >= bag[2],
                "{crop:?}"
            );
            assert!(
                crop.y as f32 <= bag[1] && (crop.y + crop.h) as f32 >= bag[3],
                "{crop:?}"
            );
        }
        // A tiny subject is not blown up past the zoom limit.
        let speck = crop_around(
            720,
            1280,
            (1, 1),
            Some([350.0, 600.0, 360.0, 610.0]),
            (0.0, 0.0),
            2.0,
        );
        assert_eq!((speck.w, speck.h), (360, 360));
        // No subject: the largest crop, centred on the focus point, clamped.
        let fallback = crop_around(720, 1280, (1, 1), None, (360.0, 1200.0), 2.0);
        assert_eq!(
            fallback,
            CropRect {
                x: 0,
                y: 560,
                w: 720,
                h: 720
            }
        );
    }

    #[test]
    fn the_detail_centre_finds_the_busy_corner() {
        let luma = plane(400, 400, |x, y| {
            if x > 300 && y > 300 && (x + y).is_multiple_of(2) {
                250
            } else {
                100
            }
        });
        let (cx, cy) = detail_centre(&luma, 400, 400);
        assert!(cx > 300.0 && cy > 300.0, "{cx} {cy}");
        assert_eq!(
            detail_centre(&plane(40, 40, |_, _| 9), 40, 40),
            (20.0, 20.0)
        );
    }

    #[test]
    fn a_small_subjects_crop_is_widened_to_the_thumbnail_size() {
        let tight = CropRect {
            x: 400,
            y: 300,
            w: 277,
            h: 277,
        };
        let wide = widen_to(tight, 720, 1080, 1920);
        assert_eq!((wide.w, wide.h), (720, 720));
        // Centred on the same point where the frame allows it.
        let centre = (wide.x + wide.w / 2, wide.y + wide.h / 2);
        assert!(
            centre.0.abs_diff(538) <= 1 && centre.1.abs_diff(438) <= 1,
            "{centre:?}"
        );
        // Against an edge it moves, not shrinks.
        let corner = widen_to(
            CropRect {
                x: 0,
                y: 0,
                w: 100,
                h: 125,
            },
            720,
            1080,
            1920,
        );
        assert_eq!((corner.x, corner.y, corner.w, corner.h), (0, 0, 720, 900));
        // A frame narrower than the size: as wide as the frame, never more.
        let narrow = widen_to(
            CropRect {
                x: 10,
                y: 10,
                w: 100,
                h: 100,
            },
            720,
            360,
            640,
        );
        assert_eq!((narrow.w, narrow.h), (360, 360));
        // Already wide enough: unchanged.
        assert_eq!(widen_to(tight, 200, 1080, 1920), tight);
    }

    /// A luma plane: `picture` rows (noise) between `bar` rows of value `bar_value` top and
    /// bottom, `bar` each.
    fn letterboxed(
        width: usize,
        picture: usize,
        bar: usize,
        bar_value: impl Fn(usize, usize) -> u8,
    ) -> Vec<u8> {
        let height = picture + 2 * bar;
        let mut state = 7u32;
        let mut luma = Vec::with_capacity(width * height);
        for y in 0..height {
            for x in 0..width {
                if y < bar || y >= bar + picture {
                    luma.push(bar_value(x, y));
                } else {
                    state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    luma.push(60 + (state >> 16) as u8 % 120);
                }
            }
        }
        luma
    }

    #[test]
    fn dark_and_blurred_bars_are_found_and_a_plain_backdrop_is_not() {
        // Near-black padding (as ffmpeg's pad writes 0x202020) above and below.
        let dark = letterboxed(90, 120, 100, |_, _| 32);
        let active = active_picture(&dark, 90, 320);
        assert_eq!((active.x, active.w), (0, 90));
        assert!((100..=104).contains(&active.y), "{active:?}");
        assert!((active.y + active.h).abs_diff(220) <= 4, "{active:?}");
        // A blurred background: smooth gradients, not flat, on both sides.
        let blurred = letterboxed(90, 120, 100, |x, y| (80 + x / 3 + y / 10) as u8);
        let active = active_picture(&blurred, 90, 320);
        assert!((100..=104).contains(&active.y), "{active:?}");
        assert!((active.y + active.h).abs_diff(220) <= 4, "{active:?}");
        // A plain white backdrop above the product only: picture, not padding.
        let mut backdrop = letterboxed(90, 220, 0, |_, _| 0);
        backdrop.splice(0..0, std::iter::repeat_n(240u8, 90 * 100));
        let active = active_picture(&backdrop, 90, 320);
        assert_eq!((active.y, active.h), (0, 320), "{active:?}");
        // A black frame is not all bars.
        let black = vec![0u8; 90 * 320];
        let active = active_picture(&black, 90, 320);
        assert!(active.h >= 320 / 10, "{active:?}");
    }
}
