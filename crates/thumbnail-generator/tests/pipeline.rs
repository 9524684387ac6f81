//! The thumbnail pipeline on real media: H.264 clips decoded by openh264, the YOLOX-Nano
//! weights from `make models`, JPEGs decoded back.

use postlens_models::{model_dir, YoloxNano};
use thumbnail_generator::{generate, Media, Settings};

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../../fixtures/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect(path)
}

fn detector() -> YoloxNano {
    YoloxNano::load(
        &model_dir()
            .expect("models/ (make models)")
            .join("yolox-nano"),
    )
    .expect("YOLOX-Nano")
}

#[test]
fn the_cup_clip_gives_a_sharp_frame_cropped_around_the_cup() {
    let clip = fixture("videos/cup-portrait.mp4");
    let generated = generate(Media::Video(&clip), &detector(), &Settings::default()).expect("ok");
    // 0-0.5 s is black and 0.5-1.5 s heavily blurred: the pick must come later.
    assert!(
        generated.source.frame_time_ms >= 1500,
        "{:?}",
        generated.source
    );
    assert_eq!(generated.source.kind, "video");
    assert!(
        !generated.quality.blurred && !generated.quality.black,
        "{:?}",
        generated.quality
    );
    assert!(
        generated.frames.usable < generated.frames.candidates,
        "the black frame is dropped"
    );
    let subject = generated.subject.as_ref().expect("a subject");
    assert_eq!(subject.label, "cup", "{:?}", generated.detections);

    assert_eq!(generated.thumbnails.len(), 2);
    for thumbnail in &generated.thumbnails {
        let crop = thumbnail.crop;
        let [x0, y0, x1, y1] = subject.bbox;
        assert!(
            crop.x as f32 <= x0 + 1.0 && (crop.x + crop.w) as f32 >= x1 - 1.0,
            "{crop:?} {subject:?}"
        );
        assert!(
            crop.y as f32 <= y0 + 1.0 && (crop.y + crop.h) as f32 >= y1 - 1.0,
            "{crop:?} {subject:?}"
        );
        assert!(crop.x + crop.w <= 360 && crop.y + crop.h <= 640);
        let ratio = thumbnail.width as f32 / thumbnail.height as f32;
        let want = thumbnail.spec.aspect.0 as f32 / thumbnail.spec.aspect.1 as f32;
        assert!(
            (ratio - want).abs() < 0.01,
            "{}x{}",
            thumbnail.width,
            thumbnail.height
        );
        assert!(thumbnail.width <= crop.w, "never upscaled");
        let decoded = image::load_from_memory(&thumbnail.jpeg)
            .expect("jpeg")
            .to_rgb8();
        assert_eq!(decoded.dimensions(), (thumbnail.width, thumbnail.height));
        // The clip is padded with dark grey bars above and below the picture; the 4:5 crop
        // carried a stripe of them.
        let luma = image::DynamicImage::ImageRgb8(decoded).to_luma8();
        for row in [2, luma.height() - 3] {
            let values: Vec<f32> = (0..luma.width())
                .map(|x| f32::from(luma.get_pixel(x, row)[0]))
                .collect();
            let mean = values.iter().sum::<f32>() / values.len() as f32;
            let deviation = (values.iter().map(|v| (v - mean).powi(2)).sum::<f32>()
                / values.len() as f32)
                .sqrt();
            assert!(
                !(mean < 45.0 && deviation < 5.0),
                "{}: row {row} is padding (mean {mean:.0}, sd {deviation:.1}); crop {crop:?}",
                thumbnail.spec.name
            );
        }
    }
}

#[test]
fn among_post_images_the_product_photo_wins() {
    let cat = fixture("images/chelsea.jpg");
    let cup = fixture("images/coffee.jpg");
    let generated = generate(
        Media::Images(vec![&cat, &cup]),
        &detector(),
        &Settings::default(),
    )
    .expect("ok");
    assert_eq!(generated.source.kind, "image");
    assert_eq!(generated.source.image_index, Some(1));
    assert_eq!(
        generated.subject.as_ref().map(|s| s.label.as_str()),
        Some("cup")
    );
}

/// A phone photo, 10.8 Mpx stored sideways with EXIF orientation 6, was refused as
/// `resolution_too_large`; it is decoded at half scale, upright, and cropped on the cup.
#[test]
fn a_sideways_phone_photo_is_decoded_upright_and_cropped_on_its_subject() {
    let cup = image::load_from_memory(&fixture("images/coffee.jpg")).expect("jpeg");
    let upright = cup.resize_exact(4032, 2688, image::imageops::FilterType::Triangle);
    let stored = upright.rotate270().to_rgb8();
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90)
        .encode_image(&stored)
        .expect("encode");
    let photo = postlens_media::still::with_exif_orientation(&jpeg, 6);
    let generated = generate(
        Media::Images(vec![&photo]),
        &detector(),
        &Settings::default(),
    )
    .expect("ok");
    assert_eq!(
        (generated.source.width, generated.source.height),
        (4032, 2688),
        "landscape as displayed"
    );
    assert_eq!(
        (generated.source.frame_width, generated.source.frame_height),
        (1920, 1280),
        "reduced to the thumbnails' working size"
    );
    let subject = generated.subject.as_ref().expect("a subject");
    assert_eq!(subject.label, "cup", "{:?}", generated.detections);
    for thumbnail in &generated.thumbnails {
        let crop = thumbnail.crop;
        assert!(
            crop.x + crop.w <= 1920 && crop.y + crop.h <= 1280,
            "{crop:?}"
        );
    }
}

#[test]
fn a_4k_portrait_clip_gives_the_cup() {
    let clip = fixture("videos/cup-4k-portrait.mp4");
    let generated = generate(Media::Video(&clip), &detector(), &Settings::default()).expect("ok");
    assert_eq!(
        (generated.source.width, generated.source.height),
        (2160, 3840)
    );
    assert_eq!(
        (generated.source.frame_width, generated.source.frame_height),
        (1080, 1920)
    );
    let subject = generated.subject.as_ref().expect("a subject");
    assert_eq!(subject.label, "cup", "{:?}", generated.detections);
    for thumbnail in &generated.thumbnails {
        let crop = thumbnail.crop;
        assert!(
            crop.x + crop.w <= 1080 && crop.y + crop.h <= 1920,
            "{crop:?}"
        );
    }
}

/// The iPhone's defaults, HEVC video and HEIC photos, were `unsupported_codec` and
/// `unsupported_image`; both give the cup, 48 Mpx "HEIF Max" included.
#[test]
fn hevc_video_and_heic_photos_from_a_phone_give_the_cup() {
    let clip = fixture("videos/cup-hevc-1080p.mp4");
    let generated = generate(Media::Video(&clip), &detector(), &Settings::default()).expect("hevc");
    assert_eq!(
        (generated.source.width, generated.source.height),
        (1080, 1920)
    );
    let subject = generated.subject.as_ref().expect("a subject");
    assert_eq!(subject.label, "cup", "{:?}", generated.detections);
    for name in [
        "images/phone-12mpx-grid.heic",
        "images/phone-48mpx-grid.heic",
        "images/phone-sideways-irot.heic",
    ] {
        let photo = fixture(name);
        let generated = generate(
            Media::Images(vec![&photo]),
            &detector(),
            &Settings::default(),
        )
        .expect(name);
        let subject = generated.subject.as_ref().expect("a subject");
        assert_eq!(subject.label, "cup", "{name}: {:?}", generated.detections);
    }
}

#[test]
fn a_person_is_the_subject_when_there_is_nothing_else() {
    let clip = fixture("videos/astronaut.mov");
    let generated = generate(Media::Video(&clip), &detector(), &Settings::default()).expect("ok");
    assert_eq!(
        generated.subject.as_ref().map(|s| s.label.as_str()),
        Some("person")
    );
}

#[test]
fn bad_media_gives_the_right_error_codes() {
    let detector = detector();
    let settings = Settings::default();
    let cases = [
        ("videos/black.mp4", "no_usable_frame"),
        ("videos/cup-av1.mp4", "unsupported_codec"),
        ("videos/cup-truncated.mp4", "corrupt_media"),
        ("images/README.md", "not_a_video"),
    ];
    for (path, code) in cases {
        let bytes = fixture(path);
        let error = generate(Media::Video(&bytes), &detector, &settings).expect_err(path);
        assert_eq!(error.code(), code, "{path}: {error}");
    }
    let text = b"not an image".to_vec();
    let error = generate(Media::Images(vec![&text]), &detector, &settings).expect_err("text");
    assert_eq!(error.code(), "unsupported_image");
}
