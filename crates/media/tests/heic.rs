//! HEIC stills (fixtures/images, made by scripts/make_heic_fixtures.sh) against libheif's
//! decode of the same files, kept beside them at 1/16 size.

use postlens_media::{decode_image, MediaLimits, RgbFrame};

fn image(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../fixtures/images/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(path).expect("fixture image")
}

/// Mean absolute difference per channel between `frame` and libheif's reference (a box
/// average): each reference pixel against the mean of the block of `frame` it covers.
fn difference_from_libheif(frame: &RgbFrame, reference: &str) -> f64 {
    let reference = image::load_from_memory(&image(reference))
        .expect("reference png")
        .to_rgb8();
    let (rw, rh) = reference.dimensions();
    let (fw, fh) = (frame.width as usize, frame.height as usize);
    let mut total = 0f64;
    for (x, y, pixel) in reference.enumerate_pixels() {
        let span = |at: u32, from: u32, to: usize| {
            let start = at as usize * to / from as usize;
            start..((at as usize + 1) * to / from as usize).max(start + 1)
        };
        let mut sum = [0f64; 3];
        let mut count = 0f64;
        for yy in span(y, rh, fh) {
            for xx in span(x, rw, fw) {
                let at = (yy * fw + xx) * 3;
                for (c, s) in sum.iter_mut().enumerate() {
                    *s += f64::from(frame.pixels[at + c]);
                }
                count += 1.0;
            }
        }
        for (c, s) in sum.iter().enumerate() {
            total += (s / count - f64::from(pixel[c])).abs();
        }
    }
    total / f64::from(rw * rh * 3)
}

/// iPhones store photos as a grid of 512x512 HEVC tiles; a HEIC was `unsupported_image`.
#[test]
fn a_12_mpx_tiled_heic_decodes_like_libheif() {
    let frame =
        decode_image(&image("phone-12mpx-grid.heic"), &MediaLimits::default()).expect("heic grid");
    assert_eq!(frame.source_size, (4032, 3024));
    assert_eq!(
        (frame.width, frame.height),
        (1920, 1440),
        "to the long side"
    );
    let difference = difference_from_libheif(&frame, "phone-12mpx-grid.libheif.png");
    assert!(difference < 3.0, "mean difference {difference:.2}");
}

#[test]
fn a_heic_turned_by_irot_comes_out_upright() {
    let frame = decode_image(&image("phone-sideways-irot.heic"), &MediaLimits::default())
        .expect("heic irot");
    assert_eq!(frame.source_size, (1512, 2016), "as displayed");
    assert_eq!((frame.width, frame.height), (1440, 1920));
    let difference = difference_from_libheif(&frame, "phone-sideways-irot.libheif.png");
    assert!(difference < 3.0, "mean difference {difference:.2}");
}

/// 48 Mpx "HEIF Max": reduced by 4 tile by tile (192 tiles of 512x512), never decoded whole.
#[test]
fn a_48_mpx_tiled_heic_decodes_reduced_like_libheif() {
    let limits = MediaLimits {
        // The whole picture (48 Mpx) could not be decoded under this cap; one tile can.
        max_heic_pixels: 1_000_000,
        ..MediaLimits::default()
    };
    let frame = decode_image(&image("phone-48mpx-grid.heic"), &limits).expect("48 Mpx grid");
    assert_eq!(frame.source_size, (8064, 6048));
    assert_eq!((frame.width, frame.height), (1920, 1440));
    let difference = difference_from_libheif(&frame, "phone-48mpx-grid.libheif.png");
    assert!(difference < 3.0, "mean difference {difference:.2}");
}

/// A HEIC that cannot be reduced tile by tile (here a grid already near the wanted size) is
/// decoded whole, so `max_heic_pixels` caps it, checked before any tile is decoded.
#[test]
fn a_heic_decoded_whole_is_refused_over_its_pixel_cap() {
    let limits = MediaLimits {
        max_heic_pixels: 10_000_000,
        still_long_side: 3000,
        ..MediaLimits::default()
    };
    let error = decode_image(&image("phone-12mpx-grid.heic"), &limits).expect_err("over cap");
    assert_eq!(error.code(), "resolution_too_large");
    assert!(error.to_string().contains("4032x3024"), "{error}");

    let whole = MediaLimits {
        still_long_side: 3000,
        ..MediaLimits::default()
    };
    let frame = decode_image(&image("phone-12mpx-grid.heic"), &whole).expect("decoded whole");
    assert_eq!((frame.width, frame.height), (3000, 2250));
    let difference = difference_from_libheif(&frame, "phone-12mpx-grid.libheif.png");
    assert!(difference < 3.0, "mean difference {difference:.2}");
}

#[test]
fn every_prefix_of_a_heic_fails_cleanly_or_decodes() {
    let bytes = image("phone-sideways-irot.heic");
    for cut in (0..bytes.len()).step_by(1999) {
        match decode_image(&bytes[..cut], &MediaLimits::default()) {
            Ok(frame) => assert!(frame.width > 0),
            Err(error) => assert!(
                ["corrupt_media", "unsupported_image", "decompression_bomb"]
                    .contains(&error.code()),
                "{cut}: {error}"
            ),
        }
    }
    // A HEIC brand in front of nonsense.
    let mut fake = bytes[..32].to_vec();
    fake.extend_from_slice(&[0xAB; 200]);
    let error = decode_image(&fake, &MediaLimits::default()).expect_err("nonsense");
    assert_eq!(error.code(), "corrupt_media", "{error}");
}
