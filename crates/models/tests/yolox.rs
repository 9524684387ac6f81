//! YOLOX-Nano in candle against the original ONNX graph run by onnxruntime
//! (fixtures/models/yolox-reference.json, from scripts/yolox_reference.py), and on real
//! photographs with known objects.

use std::path::PathBuf;

use postlens_models::yolox::{RgbView, COCO_LABELS, INPUT_SIZE};
use postlens_models::{model_dir, DetectorSettings, YoloxNano};
use serde_json::Value;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

fn reference() -> Value {
    let text = std::fs::read_to_string(fixtures().join("models/yolox-reference.json"))
        .expect("reference file");
    serde_json::from_str(&text).expect("json")
}

fn detector() -> YoloxNano {
    let dir = model_dir()
        .expect("models/ (run `make models`)")
        .join("yolox-nano");
    YoloxNano::load(&dir).expect("YOLOX-Nano loads")
}

fn photo(name: &str) -> image::RgbImage {
    image::open(fixtures().join("images").join(name))
        .expect("fixture photo")
        .to_rgb8()
}

fn iou(a: &[f32; 4], b: &[f64]) -> f64 {
    let (a0, a1, a2, a3) = (a[0] as f64, a[1] as f64, a[2] as f64, a[3] as f64);
    let w = (a2.min(b[2]) - a0.max(b[0])).max(0.0);
    let h = (a3.min(b[3]) - a1.max(b[1])).max(0.0);
    let inter = w * h;
    inter / ((a2 - a0) * (a3 - a1) + (b[2] - b[0]) * (b[3] - b[1]) - inter)
}

#[test]
fn raw_outputs_match_onnxruntime_on_a_test_card() {
    let reference = reference();
    let (width, height) = (640usize, 480usize);
    let mut pixels = Vec::with_capacity(width * height * 3);
    for y in 0..height {
        for x in 0..width {
            for c in 0..3 {
                pixels.push(((x * 7 + y * 13 + c * 29) % 256) as u8);
            }
        }
    }
    let model = detector();
    let input = postlens_models::yolox::focus_input(RgbView {
        width,
        height,
        pixels: &pixels,
    })
    .expect("input")
    .0;
    let output = model.forward(&input).expect("forward");
    // The ONNX graph's layout: every cell's 85 values together, stride 8's cells first.
    let (_, cells, channels) = output.dims3().expect("3d");
    assert_eq!(channels, 85);
    let values = output
        .flatten_all()
        .and_then(|t| t.to_vec1::<f32>())
        .expect("f32");
    let mut first = 0;
    for expected in reference["pattern"]["levels"].as_array().expect("levels") {
        let stride = expected["stride"].as_u64().expect("stride") as usize;
        let level_cells = (INPUT_SIZE / stride).pow(2);
        let level = &values[first * channels..(first + level_cells) * channels];
        first += level_cells;
        let sum = |range: std::ops::Range<usize>| -> f64 {
            level
                .chunks_exact(channels)
                .map(|cell| cell[range.clone()].iter().map(|&v| v as f64).sum::<f64>())
                .sum()
        };
        let close = |name: &str, actual: f64| {
            let want = expected[name].as_f64().expect("number");
            assert!(
                (actual - want).abs() <= 1e-3 * want.abs().max(1.0),
                "stride {stride}: {name} {actual} vs onnxruntime {want}"
            );
        };
        close("box_sum", sum(0..4));
        close("objectness_sum", sum(4..5));
        close("class_sum", sum(5..channels));
        for (c, want) in expected["first_cell"]
            .as_array()
            .expect("cell")
            .iter()
            .enumerate()
        {
            let want = want.as_f64().expect("number");
            let actual = level[c] as f64;
            assert!(
                (actual - want).abs() < 1e-3,
                "first cell channel {c}: {actual} vs {want}"
            );
        }
    }
    assert_eq!(first, cells, "the three levels fill the output");
}

#[test]
fn finds_the_cup_the_person_and_the_cat_where_onnxruntime_does() {
    let reference = reference();
    let model = detector();
    for (name, label) in [
        ("coffee.jpg", "cup"),
        ("astronaut.jpg", "person"),
        ("chelsea.jpg", "cat"),
    ] {
        let image = photo(name);
        let view = RgbView {
            width: image.width() as usize,
            height: image.height() as usize,
            pixels: image.as_raw(),
        };
        let found = model
            .detect(view, &DetectorSettings::default())
            .expect("detects");
        let best = found
            .first()
            .unwrap_or_else(|| panic!("{name}: nothing detected"));
        assert_eq!(best.label, label, "{name}: {found:?}");
        let expected = &reference["photos"][name][0];
        assert_eq!(
            COCO_LABELS[expected["class_id"].as_u64().expect("id") as usize],
            label
        );
        let want_score = expected["score"].as_f64().expect("score");
        assert!(
            (best.score as f64 - want_score).abs() < 0.05,
            "{name}: score {} vs {want_score}",
            best.score
        );
        let want_box: Vec<f64> = expected["bbox"]
            .as_array()
            .expect("box")
            .iter()
            .filter_map(Value::as_f64)
            .collect();
        assert!(
            iou(&best.bbox, &want_box) > 0.9,
            "{name}: box {:?} vs {want_box:?}",
            best.bbox
        );
    }
}

#[test]
fn an_empty_grey_frame_has_no_objects() {
    let pixels = vec![114u8; INPUT_SIZE * INPUT_SIZE * 3];
    let view = RgbView {
        width: INPUT_SIZE,
        height: INPUT_SIZE,
        pixels: &pixels,
    };
    let found = detector()
        .detect(view, &DetectorSettings::default())
        .expect("detects");
    assert!(found.is_empty(), "{found:?}");
}

/// The letterbox's contiguous f32 tensor is read in place; any other tensor (another dtype,
/// a strided view) goes through a copy and must give the same outputs.
#[test]
fn an_input_in_another_dtype_or_layout_gives_the_same_outputs() {
    let image = photo("coffee.jpg");
    let view = RgbView {
        width: image.width() as usize,
        height: image.height() as usize,
        pixels: image.as_raw(),
    };
    let model = detector();
    let input = postlens_models::yolox::focus_input(view).expect("input").0;
    let values = |output: candle_core::Tensor| -> Vec<f32> {
        output.flatten_all().and_then(|t| t.to_vec1()).expect("f32")
    };
    let direct = values(model.forward(&input).expect("forward"));
    let as_f64 = input.to_dtype(candle_core::DType::F64).expect("f64");
    assert_eq!(values(model.forward(&as_f64).expect("forward")), direct);
    // Twice transposed: the same values behind a non-contiguous layout.
    let strided = input
        .transpose(2, 3)
        .and_then(|t| t.contiguous())
        .and_then(|t| t.transpose(2, 3))
        .expect("strided view");
    assert!(!strided.is_contiguous());
    assert_eq!(values(model.forward(&strided).expect("forward")), direct);
}
