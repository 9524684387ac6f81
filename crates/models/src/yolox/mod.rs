//! YOLOX-Nano (Megvii, Apache-2.0): COCO object detection at 416x416, from the layer list
//! of YOLOX's `yolox_nano`, run natively on NHWC feature maps (see `kernels`).
//!
//! `letterbox` makes the input, `network` is the model, `nms` keeps the best boxes.

mod kernels;
mod labels;
mod letterbox;
mod network;
mod nms;

use std::path::Path;

use candle_core::{DType, Device, Storage, Tensor};
use candle_nn::VarBuilder;

pub use labels::COCO_LABELS;
pub use letterbox::focus_input;

use crate::cpu_tensor::contiguous_f32;
use crate::{require, ModelError};
use kernels::FeatureMap;
use network::{ConvWeights, Network, OUTPUTS_PER_CELL};
use nms::non_max_suppression;

/// Side of the square network input.
pub const INPUT_SIZE: usize = 416;
const STRIDES: [usize; 3] = [8, 16, 32];
/// YOLOX pads the letterboxed image with this grey.
const PAD_VALUE: f32 = 114.0;

/// An RGB image borrowed from the caller: `pixels` is `width * height * 3` bytes, row-major.
#[derive(Debug, Clone, Copy)]
pub struct RgbView<'a> {
    /// Pixels per row.
    pub width: usize,
    /// Rows.
    pub height: usize,
    /// RGB bytes, `width * height * 3`.
    pub pixels: &'a [u8],
}

/// One detected object, its box in the source image's pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// Index into [`COCO_LABELS`].
    pub class_id: usize,
    /// The COCO class name.
    pub label: &'static str,
    /// Objectness times class probability, in 0..1.
    pub score: f32,
    /// `[x0, y0, x1, y1]`, clamped to the image.
    pub bbox: [f32; 4],
}

/// What counts as a detection.
#[derive(Debug, Clone, Copy)]
pub struct DetectorSettings {
    /// Minimum objectness x class probability.
    pub min_score: f32,
    /// Boxes of one class overlapping more than this are suppressed.
    pub nms_iou: f32,
    /// At most this many boxes, best first.
    pub max_detections: usize,
}

impl Default for DetectorSettings {
    /// YOLOX's demo defaults (score 0.25 is its `--conf`, 0.45 its `--nms`).
    fn default() -> Self {
        Self {
            min_score: 0.25,
            nms_iou: 0.45,
            max_detections: 20,
        }
    }
}

/// YOLOX-Nano (Megvii, Apache-2.0): depthwise CSP-Darknet backbone, PAFPN neck and decoupled
/// head, at 416x416, from the ONNX release converted to safetensors by `make models`.
pub struct YoloxNano {
    network: Network,
}

impl YoloxNano {
    /// Loads `model.safetensors` (converted by `make models`) from `dir`.
    pub fn load(dir: &Path) -> Result<Self, ModelError> {
        crate::init_kernel_threads();
        let weights = require(&dir.join("model.safetensors"))?.to_owned();
        let load_error = |e: candle_core::Error| ModelError::Load {
            path: weights.clone(),
            message: e.to_string(),
        };
        // SAFETY: the weights file is only read and nothing in this process writes it.
        let vb =
            unsafe { VarBuilder::from_mmaped_safetensors(&[&weights], DType::F32, &Device::Cpu) }
                .map_err(load_error)?;
        let network = Network::new(&mut ConvWeights::new(vb)).map_err(load_error)?;
        Ok(Self { network })
    }

    /// The raw head outputs for a `(1, 12, 208, 208)` space-to-depth input, as the ONNX
    /// graph's `output`: `(1, cells, 85)`, the cells of strides 8, 16 and 32 in turn, each
    /// row-major, with its [`OUTPUTS_PER_CELL`] values together. That is the order the
    /// network's channels-last maps already hold, so the levels are only put end to end
    /// (a channel-major copy per level was 2 % of the pass).
    pub fn forward(&self, focus_input: &Tensor) -> candle_core::Result<Tensor> {
        let levels = self.forward_levels(focus_input)?;
        let cells = levels.iter().map(FeatureMap::pixels).sum::<usize>();
        let mut values = Vec::with_capacity(cells * OUTPUTS_PER_CELL);
        for level in &levels {
            values.extend_from_slice(&level.data);
        }
        Tensor::from_vec(values, (1, cells, OUTPUTS_PER_CELL), &Device::Cpu)
    }

    fn forward_levels(&self, focus_input: &Tensor) -> candle_core::Result<[FeatureMap; 3]> {
        let side = INPUT_SIZE / 2;
        let dims = focus_input.dims4()?;
        if dims != (1, 12, side, side) {
            return Err(candle_core::Error::Msg(format!(
                "YOLOX-Nano reads a (1, 12, {side}, {side}) focus input, got {dims:?}"
            )));
        }
        let input = focus_input.to_dtype(DType::F32)?;
        // Read in place when the tensor is a contiguous f32 buffer on the CPU (the
        // letterbox's always is): a copy of its 2 MB was over 1 % of the pass.
        let (storage, layout) = input.storage_and_layout();
        if let Storage::Cpu(cpu) = &*storage {
            if let Ok(values) = contiguous_f32("yolox", cpu, layout) {
                return Ok(self.network.forward(values, side));
            }
        }
        drop(storage);
        let planar = input.flatten_all()?.to_vec1::<f32>()?;
        Ok(self.network.forward(&planar, side))
    }

    /// Objects in `image`, best first.
    pub fn detect(
        &self,
        image: RgbView,
        settings: &DetectorSettings,
    ) -> Result<Vec<Detection>, ModelError> {
        let (input, scale) = focus_input(image)?;
        let levels = self.forward_levels(&input)?;
        let mut candidates = Vec::new();
        for (level, stride) in levels.iter().zip(STRIDES) {
            let (channels, cols) = (level.channels, level.width);
            let at = |channel: usize, cell: usize| level.data[cell * channels + channel];
            for cell in 0..level.pixels() {
                let objectness = at(4, cell);
                if objectness < settings.min_score {
                    continue;
                }
                let (class_id, class_probability) =
                    (5..channels).map(|c| (c - 5, at(c, cell))).fold(
                        (0, f32::MIN),
                        |best, next| if next.1 > best.1 { next } else { best },
                    );
                let score = objectness * class_probability;
                if score < settings.min_score {
                    continue;
                }
                let (row, col) = ((cell / cols) as f32, (cell % cols) as f32);
                let s = stride as f32;
                let cx = (at(0, cell) + col) * s;
                let cy = (at(1, cell) + row) * s;
                let w = at(2, cell).exp() * s;
                let h = at(3, cell).exp() * s;
                let clamp_x = |v: f32| (v / scale).clamp(0.0, image.width as f32);
                let clamp_y = |v: f32| (v / scale).clamp(0.0, image.height as f32);
                candidates.push(Detection {
                    class_id,
                    label: COCO_LABELS[class_id],
                    score,
                    bbox: [
                        clamp_x(cx - w / 2.0),
                        clamp_y(cy - h / 2.0),
                        clamp_x(cx + w / 2.0),
                        clamp_y(cy + h / 2.0),
                    ],
                });
            }
        }
        Ok(non_max_suppression(candidates, settings))
    }
}
