//! The detector's convolutions over NHWC feature maps, on one core.
//!
//! Channels-last keeps every kernel's inner loop over contiguous channels: a 1x1 convolution
//! is one matrix product (pixels x c_in times c_in x c_out, by the `gemm` crate, the one candle
//! uses), a depthwise 3x3 multiplies whole 16-channel blocks, and a convolution can write
//! into a channel slice of a wider map (a CSP layer's halves, the head's three predictions)
//! instead of being copied there. Bias, activation and the residual add run on a few hundred
//! rows at a time while they are still in cache.
//!
//! The loops are plain Rust over fixed 16-lane blocks; `simd_dispatch!` (crate::simd)
//! compiles each for AVX-512 and AVX2 (with FMA) and picks one at run time; NEON is the
//! aarch64 baseline. Multiply-adds are `mul_add`, fused on all of these (and exact, if slow,
//! through libm on an x86 without FMA), so the element-wise kernels round the same on every
//! target.

#[cfg(target_arch = "x86_64")]
mod avx512;

use crate::matmul::{multiply, Strided};
#[cfg(test)]
use crate::simd::{assert_same_bits, for_each_isa};
use crate::simd::{exp_coarse, simd_dispatch};

/// Channels are processed in blocks of this many; every width in YOLOX-Nano is a multiple.
pub(super) const LANES: usize = 16;

/// A feature map of batch 1 in NHWC order: pixel `p`'s channels are
/// `data[p * channels..(p + 1) * channels]`. Its buffer goes back to a per-thread pool when
/// it is dropped.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct FeatureMap {
    pub height: usize,
    pub width: usize,
    pub channels: usize,
    pub data: MapValues,
}

/// A map's values: the first `len` of a pooled buffer. The buffer keeps every value it was
/// ever filled with, so a map served from the pool writes nothing before its kernel does.
/// (With the buffer as the map's own `Vec`, a buffer truncated for a small map had its
/// tail filled again for the next large one: 5 % of the pass.)
#[derive(Clone, Default)]
pub(super) struct MapValues {
    buffer: Vec<f32>,
    len: usize,
}

impl std::ops::Deref for MapValues {
    type Target = [f32];

    fn deref(&self) -> &[f32] {
        &self.buffer[..self.len]
    }
}

impl std::ops::DerefMut for MapValues {
    fn deref_mut(&mut self) -> &mut [f32] {
        &mut self.buffer[..self.len]
    }
}

impl PartialEq for MapValues {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl std::fmt::Debug for MapValues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (**self).fmt(f)
    }
}

thread_local! {
    /// Buffers of dropped maps. A forward pass makes about 150 maps of up to 2.8 MB; fresh
    /// allocations of that size are fresh pages from the kernel, whose faults and zeroing
    /// took a tenth of the pass.
    static SPARE_BUFFERS: std::cell::RefCell<Vec<Vec<f32>>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The pool's bound, in values: after a 416x416 pass it holds 4.3 M (17 MB, measured), and
/// buffers beyond the bound are freed (a thread that ran the detector keeps at most 64 MiB).
const SPARE_VALUES_KEPT: usize = 16 << 20;

impl FeatureMap {
    /// A map for a kernel to write every value of. Its buffer may come from the pool with
    /// what an earlier map left in it; debug builds fill it with NaN, so a value a kernel
    /// leaves unwritten shows up in the tests.
    pub fn for_output(height: usize, width: usize, channels: usize) -> Self {
        let len = height * width * channels;
        let spare = SPARE_BUFFERS.with_borrow_mut(|spare| {
            // The smallest buffer that fits, so large ones stay for large maps.
            let best = spare
                .iter()
                .enumerate()
                .filter(|(_, buffer)| buffer.len() >= len)
                .min_by_key(|(_, buffer)| buffer.len())
                .map(|(index, _)| index)?;
            Some(spare.swap_remove(best))
        });
        let mut buffer = spare.unwrap_or_else(|| vec![f32::NAN; len]);
        if cfg!(debug_assertions) {
            buffer[..len].fill(f32::NAN);
        }
        Self {
            height,
            width,
            channels,
            data: MapValues { buffer, len },
        }
    }

    pub fn pixels(&self) -> usize {
        self.height * self.width
    }

    /// All channels of every pixel.
    pub fn all(&self) -> Channels<'_> {
        self.slice(0, self.channels)
    }

    /// Channels `offset..offset + count` of every pixel.
    pub fn slice(&self, offset: usize, count: usize) -> Channels<'_> {
        assert!(
            offset + count <= self.channels,
            "channel slice out of range"
        );
        Channels {
            data: &self.data,
            offset,
            stride: self.channels,
            count,
        }
    }

    /// The maps side by side along channels (same height and width).
    pub fn concat(parts: &[&FeatureMap]) -> FeatureMap {
        let (height, width) = (parts[0].height, parts[0].width);
        let channels = parts.iter().map(|p| p.channels).sum();
        let mut out = FeatureMap::for_output(height, width, channels);
        let mut offset = 0;
        for part in parts {
            assert_eq!((part.height, part.width), (height, width), "concat sizes");
            for (target, source) in out
                .data
                .chunks_exact_mut(channels)
                .zip(part.data.chunks_exact(part.channels))
            {
                target[offset..offset + part.channels].copy_from_slice(source);
            }
            offset += part.channels;
        }
        out
    }

    /// Nearest-neighbour upsampling by 2, as `nn.Upsample(scale_factor=2)`.
    pub fn upsample2(&self) -> FeatureMap {
        let c = self.channels;
        let mut out = FeatureMap::for_output(self.height * 2, self.width * 2, c);
        for (y, row) in out.data.chunks_exact_mut(self.width * 2 * c).enumerate() {
            for (x, pixel) in row.chunks_exact_mut(c).enumerate() {
                let source = ((y / 2) * self.width + x / 2) * c;
                pixel.copy_from_slice(&self.data[source..source + c]);
            }
        }
        out
    }
}

impl Drop for FeatureMap {
    fn drop(&mut self) {
        let data = std::mem::take(&mut self.data).buffer;
        if data.is_empty() {
            return;
        }
        // `try_with`: a map dropped while the thread exits just frees its buffer.
        let _ = SPARE_BUFFERS.try_with(|spare| {
            let mut spare = spare.borrow_mut();
            let kept: usize = spare.iter().map(Vec::len).sum();
            if kept + data.len() <= SPARE_VALUES_KEPT {
                spare.push(data);
            }
        });
    }
}

/// The transpose of a row-major matrix of `columns` columns (weights, at load).
fn transpose(matrix: &[f32], columns: usize) -> Vec<f32> {
    let rows = matrix.len() / columns;
    let mut out = vec![0.0; matrix.len()];
    for (r, row) in matrix.chunks_exact(columns).enumerate() {
        for (c, &value) in row.iter().enumerate() {
            out[c * rows + r] = value;
        }
    }
    out
}

/// Some channels of every pixel of a map: pixel `p`'s are
/// `data[offset + p * stride..][..count]`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Channels<'a> {
    data: &'a [f32],
    offset: usize,
    stride: usize,
    count: usize,
}

/// What runs on a convolution's output after the bias.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Epilogue {
    Linear,
    Sigmoid,
    Silu,
    /// SiLU, then add what the destination already holds (a bottleneck's shortcut).
    SiluAddResidual,
}

/// Where a convolution writes: channels `offset..offset + c_out` of each pixel of `map`.
pub(super) struct Destination<'a> {
    pub map: &'a mut FeatureMap,
    pub offset: usize,
}

impl<'a> From<&'a mut FeatureMap> for Destination<'a> {
    fn from(map: &'a mut FeatureMap) -> Self {
        Self { map, offset: 0 }
    }
}

/// A 1x1 convolution, stride 1 (batch norm folded in).
#[derive(Debug, Clone)]
pub(super) struct Pointwise {
    c_in: usize,
    c_out: usize,
    /// `(c_in, c_out)`, row-major: the right-hand side of `pixels x c_in` times it.
    weight: Vec<f32>,
    bias: Vec<f32>,
}

/// Rows per matrix product: the product's output stays in L2 for the epilogue.
const ROWS_PER_CHUNK: usize = 256;

impl Pointwise {
    /// From PyTorch's `(c_out, c_in)` weight layout (any trailing 1x1 flattened).
    pub fn from_torch(weight: &[f32], bias: Vec<f32>, c_in: usize) -> Self {
        let c_out = bias.len();
        assert_eq!(weight.len(), c_out * c_in, "pointwise weight shape");
        Self {
            c_in,
            c_out,
            weight: transpose(weight, c_in),
            bias,
        }
    }

    /// One convolution computing `first`'s outputs then `second`'s, for two convolutions
    /// over the same input (a CSP layer's two branches).
    pub fn side_by_side(first: Pointwise, second: Pointwise) -> Self {
        assert_eq!(first.c_in, second.c_in, "side-by-side inputs");
        let c_out = first.c_out + second.c_out;
        let mut weight = Vec::with_capacity(first.c_in * c_out);
        for (a, b) in first
            .weight
            .chunks_exact(first.c_out)
            .zip(second.weight.chunks_exact(second.c_out))
        {
            weight.extend_from_slice(a);
            weight.extend_from_slice(b);
        }
        let mut bias = first.bias;
        bias.extend(second.bias);
        Self {
            c_in: first.c_in,
            c_out,
            weight,
            bias,
        }
    }

    /// Into a new map.
    pub fn forward(&self, input: &FeatureMap, epilogue: Epilogue) -> FeatureMap {
        let mut out = FeatureMap::for_output(input.height, input.width, self.c_out);
        self.forward_into(input.all(), (&mut out).into(), epilogue);
        out
    }

    /// `input` has `c_in` channels and as many pixels as `out.map`.
    pub fn forward_into(&self, input: Channels, out: Destination, epilogue: Epilogue) {
        let pixels = out.map.pixels();
        assert_eq!(input.count, self.c_in, "pointwise input channels");
        assert!(
            out.offset + self.c_out <= out.map.channels,
            "pointwise output"
        );
        #[cfg(target_arch = "x86_64")]
        if crate::simd::Isa::current() == crate::simd::Isa::Avx512
            && self.weight.len() <= avx512::MAX_WEIGHTS
            && self.c_out.is_multiple_of(LANES)
        {
            // SAFETY: `Isa::current` is one of `Isa::available`, which checked AVX-512F
            // and FMA.
            return unsafe { avx512::pointwise(input, &self.weight, &self.bias, out, epilogue) };
        }
        let (stride, c_out) = (out.map.channels, self.c_out);
        // Straight into the destination when it is the whole map; through a scratch block
        // when it is a channel slice or the result is added to what is there.
        let direct = out.offset == 0 && stride == c_out && epilogue != Epilogue::SiluAddResidual;
        let mut product = Vec::new();
        for start in (0..pixels).step_by(ROWS_PER_CHUNK) {
            let rows = ROWS_PER_CHUNK.min(pixels - start);
            let lhs = &input.data[input.offset + start * input.stride..];
            let target = &mut out.map.data[start * stride..(start + rows) * stride];
            if direct {
                self.activated_product(lhs, input.stride, rows, target, epilogue);
            } else {
                product.resize(rows * c_out, 0.0);
                self.activated_product(lhs, input.stride, rows, &mut product, epilogue);
                let add = epilogue == Epilogue::SiluAddResidual;
                let offset = out.offset;
                for (row, pixel) in product
                    .chunks_exact(c_out)
                    .zip(target.chunks_exact_mut(stride))
                {
                    let pixel = &mut pixel[offset..offset + c_out];
                    if add {
                        pixel.iter_mut().zip(row).for_each(|(p, &r)| *p += r);
                    } else {
                        pixel.copy_from_slice(row);
                    }
                }
            }
        }
    }

    /// `rows` output rows into `product` (contiguous), bias and activation applied.
    fn activated_product(
        &self,
        lhs: &[f32],
        lhs_stride: usize,
        rows: usize,
        product: &mut [f32],
        epilogue: Epilogue,
    ) {
        // Row `r` of the left-hand side is `lhs[r * lhs_stride..][..c_in]` (rows may overlap).
        let lhs = Strided {
            values: lhs,
            rows,
            columns: self.c_in,
            row_stride: lhs_stride,
            column_stride: 1,
        };
        let weights = Strided::row_major(&self.weight, self.c_in, self.c_out);
        multiply(product, self.c_out, lhs, weights, false);
        activate(&mut product[..rows * self.c_out], &self.bias, epilogue);
    }
}

/// Adds `bias` to each row of `values` (rows of `bias.len()`) and applies the activation.
/// AVX-512 takes the rows of whole 16-lane blocks with the sigmoid and SiLU on named
/// registers ([`avx512`]); everything else, and every other CPU, the portable loops.
fn activate(values: &mut [f32], bias: &[f32], epilogue: Epilogue) {
    #[cfg(target_arch = "x86_64")]
    if crate::simd::Isa::current() == crate::simd::Isa::Avx512
        && bias.len().is_multiple_of(LANES)
        && epilogue != Epilogue::Linear
    {
        // SAFETY: `Isa::current` is one of `Isa::available`, which checked AVX-512F.
        return unsafe { avx512::activate(values, bias, epilogue) };
    }
    activate_portable(values, bias, epilogue);
}

simd_dispatch! {
    fn activate_portable(values: &mut [f32], bias: &[f32], epilogue: Epilogue) => activate_body
}

/// Values activated per step: four vectors of 16 (or sixteen of 4) with no dependency
/// between them, meant to let the long per-element chain of the activation overlap (not
/// measured apart from the changes it came with).
const ACTIVATION_BLOCK: usize = 64;

#[inline(always)]
fn activate_body(values: &mut [f32], bias: &[f32], epilogue: Epilogue) {
    // Each arm names its function, so it is inlined with this body's target features (a
    // function pointer would call a copy compiled without them).
    match epilogue {
        Epilogue::Linear => add_bias(values, bias),
        Epilogue::Sigmoid => biased_in_blocks(values, bias, sigmoid),
        Epilogue::Silu | Epilogue::SiluAddResidual => biased_in_blocks(values, bias, silu),
    }
}

#[inline(always)]
fn add_bias(values: &mut [f32], bias: &[f32]) {
    for row in values.chunks_exact_mut(bias.len()) {
        for (v, &b) in row.iter_mut().zip(bias) {
            *v += b;
        }
    }
}

/// `function(v + b)` for every value and its channel's bias, in one pass of 64-value blocks
/// where the row width allows: rows of a multiple of 64 block by block, rows of 16 or 32
/// several to a block against the bias repeated. Other widths (the head's 4, 1 and 80)
/// take the bias pass, then the blocks. The sum is rounded before `function` either way,
/// so every path gives the same bits.
#[inline(always)]
fn biased_in_blocks(values: &mut [f32], bias: &[f32], function: impl Fn(f32) -> f32) {
    let width = bias.len();
    if width.is_multiple_of(ACTIVATION_BLOCK) {
        for row in values.chunks_exact_mut(width) {
            for (block, bias) in row
                .chunks_exact_mut(ACTIVATION_BLOCK)
                .zip(bias.chunks_exact(ACTIVATION_BLOCK))
            {
                for (v, &b) in block.iter_mut().zip(bias) {
                    *v = function(*v + b);
                }
            }
        }
    } else if ACTIVATION_BLOCK.is_multiple_of(width) {
        let mut repeated = [0f32; ACTIVATION_BLOCK];
        for (r, &b) in repeated.iter_mut().zip(bias.iter().cycle()) {
            *r = b;
        }
        let mut blocks = values.chunks_exact_mut(ACTIVATION_BLOCK);
        for block in &mut blocks {
            for (v, &b) in block.iter_mut().zip(&repeated) {
                *v = function(*v + b);
            }
        }
        // Whole rows are left, so the repeated bias still starts at a row's start.
        for (v, &b) in blocks.into_remainder().iter_mut().zip(&repeated) {
            *v = function(*v + b);
        }
    } else {
        add_bias(values, bias);
        apply_in_blocks(values, function);
    }
}

#[inline(always)]
fn apply_in_blocks(values: &mut [f32], function: impl Fn(f32) -> f32) {
    let mut blocks = values.chunks_exact_mut(ACTIVATION_BLOCK);
    for block in &mut blocks {
        for v in block.iter_mut() {
            *v = function(*v);
        }
    }
    for v in blocks.into_remainder() {
        *v = function(*v);
    }
}

/// A 3x3 convolution with one filter per channel, padding 1, then SiLU.
#[derive(Debug, Clone)]
pub(super) struct Depthwise {
    channels: usize,
    stride: usize,
    /// `(9, channels)`: tap `ky * 3 + kx` of every channel together.
    weight: Vec<f32>,
    bias: Vec<f32>,
}

impl Depthwise {
    /// From PyTorch's `(channels, 1, 3, 3)` layout.
    pub fn from_torch(weight: &[f32], bias: Vec<f32>, stride: usize) -> Self {
        let channels = bias.len();
        assert_eq!(weight.len(), channels * 9, "depthwise weight shape");
        assert_eq!(channels % LANES, 0, "depthwise channels in whole blocks");
        Self {
            channels,
            stride,
            weight: transpose(weight, 9),
            bias,
        }
    }

    pub fn forward(&self, input: &FeatureMap) -> FeatureMap {
        assert_eq!(input.channels, self.channels, "depthwise channels");
        let out_size = |n: usize| (n - 1) / self.stride + 1;
        let mut out =
            FeatureMap::for_output(out_size(input.height), out_size(input.width), self.channels);
        depthwise3x3_silu(input, &self.weight, &self.bias, self.stride, &mut out);
        out
    }
}

/// The depthwise kernel on this CPU. AVX-512 runs the interior on named registers, as the
/// stem does: left to the compiler, the portable interior kept its sums and taps on the
/// stack and took about 20 cycles a 16-channel output (perf, Intel VM, 2026-12-07). Both
/// compute the same multiply-adds in the same order.
fn depthwise3x3_silu(
    input: &FeatureMap,
    weight: &[f32],
    bias: &[f32],
    stride: usize,
    out: &mut FeatureMap,
) {
    #[cfg(target_arch = "x86_64")]
    if crate::simd::Isa::current() == crate::simd::Isa::Avx512 {
        // SAFETY: `Isa::current` is one of `Isa::available`, which checked AVX-512F.
        return unsafe { depthwise3x3_silu_avx512(input, weight, bias, stride, out) };
    }
    depthwise3x3_silu_portable(input, weight, bias, stride, out);
}

simd_dispatch! {
    fn depthwise3x3_silu_portable(
        input: &FeatureMap,
        weight: &[f32],
        bias: &[f32],
        stride: usize,
        out: &mut FeatureMap,
    ) => depthwise3x3_silu_body
}

#[inline(always)]
fn depthwise3x3_silu_body(
    input: &FeatureMap,
    weight: &[f32],
    bias: &[f32],
    stride: usize,
    out: &mut FeatureMap,
) {
    depthwise3x3_rows::<PortableDepthwise>(input, weight, bias, stride, out);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
unsafe fn depthwise3x3_silu_avx512(
    input: &FeatureMap,
    weight: &[f32],
    bias: &[f32],
    stride: usize,
    out: &mut FeatureMap,
) {
    depthwise3x3_rows::<Avx512Depthwise>(input, weight, bias, stride, out);
}

/// Output pixels computed together in the interior: independent accumulator chains that
/// share each tap's weights, held in registers with the nine taps.
const DEPTHWISE_PIXELS: usize = 4;

/// `DEPTHWISE_PIXELS` interior output pixels of one 16-channel block, stored with SiLU.
trait DepthwiseInterior {
    /// Pixels `ox..ox + DEPTHWISE_PIXELS` of one channel block, all of whose taps fall
    /// inside the block's three input rows. Taps are summed in the order
    /// `depthwise_one_pixel` sums them.
    fn run(block: &InteriorBlock, ox: usize, out_row: &mut [f32]);
}

/// One output row's channel block where all three input rows are present: what each run of
/// interior pixels reads.
struct InteriorBlock<'a> {
    rows: [&'a [f32]; 3],
    channels: usize,
    /// The block's first channel.
    first: usize,
    taps: &'a [[f32; LANES]; 9],
    initial: [f32; LANES],
    stride: usize,
}

impl InteriorBlock<'_> {
    /// The input pixels a run from `ox` reads in each row, from its first pixel's left tap
    /// to its last pixel's right tap: `(start, length)` within the row.
    #[inline(always)]
    fn span(&self, ox: usize) -> (usize, usize) {
        let (c, stride) = (self.channels, self.stride);
        (
            (ox * stride - 1) * c + self.first,
            ((DEPTHWISE_PIXELS - 1) * stride + 2) * c + LANES,
        )
    }

    /// Where pixel `q`'s tap `kx` starts within a row's span.
    #[inline(always)]
    fn tap_at(&self, q: usize, kx: usize) -> usize {
        (q * self.stride + kx) * self.channels
    }

    /// The block's values of output pixel `ox` within the output row.
    #[inline(always)]
    fn out_at(&self, ox: usize) -> usize {
        ox * self.channels + self.first
    }
}

struct PortableDepthwise;

impl DepthwiseInterior for PortableDepthwise {
    #[inline(always)]
    fn run(block: &InteriorBlock, ox: usize, out_row: &mut [f32]) {
        let mut acc = [block.initial; DEPTHWISE_PIXELS];
        let (first, len) = block.span(ox);
        for (row, row_taps) in block.rows.iter().zip(block.taps.chunks_exact(3)) {
            let span = &row[first..first + len];
            for (kx, tap) in row_taps.iter().enumerate() {
                for (q, acc) in acc.iter_mut().enumerate() {
                    let at = block.tap_at(q, kx);
                    // SAFETY: at + LANES <= ((DEPTHWISE_PIXELS - 1) * stride + 2) * c +
                    // LANES, the span's length, since q < DEPTHWISE_PIXELS and kx <= 2. One
                    // checked slice per row instead of a check per load: with the checks
                    // the loop was bound by their scalar work, not by its multiply-adds.
                    let pixel = unsafe { span.get_unchecked(at..at + LANES) };
                    for ((a, &x), &t) in acc.iter_mut().zip(pixel).zip(tap) {
                        *a = x.mul_add(t, *a);
                    }
                }
            }
        }
        for (q, acc) in acc.iter().enumerate() {
            store_silu(&mut out_row[block.out_at(ox + q)..][..LANES], acc);
        }
    }
}

/// Only instantiated inside `depthwise3x3_silu_avx512`, whose target features its
/// intrinsics need.
#[cfg(target_arch = "x86_64")]
struct Avx512Depthwise;

#[cfg(target_arch = "x86_64")]
impl DepthwiseInterior for Avx512Depthwise {
    #[inline(always)]
    fn run(block: &InteriorBlock, ox: usize, out_row: &mut [f32]) {
        use std::arch::x86_64::{_mm512_fmadd_ps, _mm512_loadu_ps};
        let (first, len) = block.span(ox);
        // SAFETY: reached only from `depthwise3x3_silu_avx512`, which requires AVX-512F.
        // Each load reads 16 values of a tap or of the row's span at
        // (q * stride + kx) * c, and that plus 16 is at most the span's length
        // ((DEPTHWISE_PIXELS - 1) * stride + 2) * c + LANES, as q < DEPTHWISE_PIXELS and
        // kx <= 2.
        let acc = unsafe {
            let mut acc = [_mm512_loadu_ps(block.initial.as_ptr()); DEPTHWISE_PIXELS];
            for (row, row_taps) in block.rows.iter().zip(block.taps.chunks_exact(3)) {
                let span = row[first..first + len].as_ptr();
                for (kx, tap) in row_taps.iter().enumerate() {
                    let tap = _mm512_loadu_ps(tap.as_ptr());
                    for (q, acc) in acc.iter_mut().enumerate() {
                        let x = _mm512_loadu_ps(span.add(block.tap_at(q, kx)));
                        *acc = _mm512_fmadd_ps(x, tap, *acc);
                    }
                }
            }
            acc
        };
        for (q, acc) in acc.into_iter().enumerate() {
            // SAFETY: as above.
            unsafe { avx512::store_silu(&mut out_row[block.out_at(ox + q)..][..LANES], acc) };
        }
    }
}

#[inline(always)]
fn depthwise3x3_rows<K: DepthwiseInterior>(
    input: &FeatureMap,
    weight: &[f32],
    bias: &[f32],
    stride: usize,
    out: &mut FeatureMap,
) {
    let (c, h, w) = (input.channels, input.height, input.width);
    let out_width = out.width;
    // Output columns whose three taps all fall inside the input: ox * stride - 1 >= 0 and
    // ox * stride + 1 <= w - 1.
    // Empty (end <= start) when the input is under three columns wide.
    let interior = 1..(w.saturating_sub(2) / stride + 1).min(out_width);
    let row_len = w * c;
    for (oy, out_row) in out.data.chunks_exact_mut(out_width * c).enumerate() {
        // Rows of the input under the filter, as (tap row, input row); padding rows are
        // skipped rather than read as zeros.
        let mut rows = [(0usize, 0usize); 3];
        let mut row_count = 0;
        for ky in 0..3 {
            if let Some(iy) = (oy * stride + ky).checked_sub(1).filter(|&iy| iy < h) {
                rows[row_count] = (ky, iy);
                row_count += 1;
            }
        }
        // With all three rows present, the interior runs with the rows as three slices
        // and a fixed loop nest; the border rows and columns take one pixel at a time.
        let full_rows = (row_count == 3)
            .then(|| rows.map(|(_, iy)| &input.data[iy * row_len..(iy + 1) * row_len]));
        let rows = &rows[..row_count];
        for block in (0..c).step_by(LANES) {
            let mut taps = [[0f32; LANES]; 9];
            for (tap, lanes) in taps.iter_mut().enumerate() {
                lanes.copy_from_slice(&weight[tap * c + block..][..LANES]);
            }
            let mut initial = [0f32; LANES];
            initial.copy_from_slice(&bias[block..block + LANES]);
            let interior_block = full_rows.map(|rows| InteriorBlock {
                rows,
                channels: c,
                first: block,
                taps: &taps,
                initial,
                stride,
            });
            let mut ox = 0;
            while ox < out_width {
                if let Some(interior_block) = interior_block
                    .as_ref()
                    .filter(|_| interior.contains(&ox) && ox + DEPTHWISE_PIXELS <= interior.end)
                {
                    K::run(interior_block, ox, out_row);
                    ox += DEPTHWISE_PIXELS;
                } else {
                    let acc = depthwise_one_pixel(input, block, rows, &taps, initial, ox, stride);
                    store_silu(&mut out_row[ox * c + block..][..LANES], &acc);
                    ox += 1;
                }
            }
        }
    }
}

/// SiLU of one block, stored.
#[inline(always)]
fn store_silu(target: &mut [f32], acc: &[f32; LANES]) {
    for (t, &a) in target.iter_mut().zip(acc) {
        *t = silu(a);
    }
}

// Helpers of the depthwise body are functions, not closures: a closure is compiled on its
// own, without the target features of the body it sits in.

/// One 16-channel block of pixel `(iy, ix)`.
#[inline(always)]
fn lanes_at(input: &FeatureMap, iy: usize, ix: usize, block: usize) -> &[f32] {
    let start = (iy * input.width + ix) * input.channels + block;
    &input.data[start..start + LANES]
}

/// One output pixel's block at any column, taps outside the input skipped.
#[inline(always)]
fn depthwise_one_pixel(
    input: &FeatureMap,
    block: usize,
    rows: &[(usize, usize)],
    taps: &[[f32; LANES]; 9],
    initial: [f32; LANES],
    ox: usize,
    stride: usize,
) -> [f32; LANES] {
    let mut acc = initial;
    for &(ky, iy) in rows {
        for (kx, tap) in taps[ky * 3..ky * 3 + 3].iter().enumerate() {
            let Some(ix) = (ox * stride + kx)
                .checked_sub(1)
                .filter(|&ix| ix < input.width)
            else {
                continue;
            };
            for ((a, &x), &t) in acc.iter_mut().zip(lanes_at(input, iy, ix, block)).zip(tap) {
                *a = x.mul_add(t, *a);
            }
        }
    }
    acc
}

/// Input channels of the dense 3x3 convolution: the Focus layer's space-to-depth channels
/// (4 x RGB). Fixed, so that one filter row's reads for a run of pixels have a length the
/// compiler knows and its loads need no bounds checks.
pub(super) const DENSE_INPUTS: usize = 12;

/// Values one filter row reads for one output pixel: three neighbouring pixels' channels,
/// contiguous in NHWC.
const DENSE_ROW_RUN: usize = 3 * DENSE_INPUTS;

/// Output pixels computed together: eight independent accumulator chains (one vector each
/// on AVX-512), enough to keep both multiply-add pipes busy, sharing each weight load.
const DENSE_PIXELS: usize = 8;

/// A dense 3x3 convolution, stride 1, padding 1, then SiLU: the network's first layer, on
/// the 12 focus channels. The input is copied once into a zero-bordered NHWC map; each
/// output pixel's 16-channel block then starts from the bias and takes 108 multiply-adds,
/// a broadcast input value times a 16-channel weight vector, in one fixed order on every
/// target, and SiLU is applied as the block is stored. It replaced three matrix products
/// per band of rows (gemm's 16-wide `x1x6` kernel over 36-long dot products, summed in a
/// product buffer, then bias and SiLU in passes of their own), which took about a sixth of
/// the pass.
#[derive(Debug, Clone)]
pub(super) struct Dense3x3 {
    c_out: usize,
    /// Per 16-output block, per filter row `ky`: `DENSE_ROW_RUN` weight vectors of 16, in
    /// `(kx, c_in)` order, the order the row's input run lies in.
    weight: Vec<f32>,
    bias: Vec<f32>,
}

impl Dense3x3 {
    /// From PyTorch's `(c_out, DENSE_INPUTS, 3, 3)` layout.
    pub fn from_torch(weight: &[f32], bias: Vec<f32>) -> Self {
        let c_out = bias.len();
        let c_in = DENSE_INPUTS;
        assert_eq!(weight.len(), c_out * c_in * 9, "dense weight shape");
        assert_eq!(c_out % LANES, 0, "dense outputs in whole blocks");
        let mut packed = Vec::with_capacity(weight.len());
        for block in (0..c_out).step_by(LANES) {
            for ky in 0..3 {
                for kx in 0..3 {
                    for i in 0..c_in {
                        packed.extend(
                            (block..block + LANES)
                                .map(|o| weight[((o * c_in + i) * 3 + ky) * 3 + kx]),
                        );
                    }
                }
            }
        }
        Self {
            c_out,
            weight: packed,
            bias,
        }
    }

    /// `planar` is `(DENSE_INPUTS, height, width)`.
    pub fn forward_planar(&self, planar: &[f32], height: usize, width: usize) -> FeatureMap {
        let c_in = DENSE_INPUTS;
        assert_eq!(planar.len(), c_in * height * width, "dense input shape");
        let padded_width = width + 2;
        // From the pool, so only the border is zeroed here. Filled a pixel row at a time
        // from the twelve planes' rows: a plane at a time wrote every twelfth value of a
        // 2 MB buffer twelve times over (5 % of the pass).
        let mut padded = FeatureMap::for_output(height + 2, padded_width, c_in);
        let row_len = padded_width * c_in;
        for (y, padded_row) in padded.data.chunks_exact_mut(row_len).enumerate() {
            if y == 0 || y == height + 1 {
                padded_row.fill(0.0);
                continue;
            }
            padded_row[..c_in].fill(0.0);
            padded_row[row_len - c_in..].fill(0.0);
            let interior = &mut padded_row[c_in..row_len - c_in];
            let mut rows = [&planar[..0]; DENSE_INPUTS];
            for (row, plane) in rows.iter_mut().zip(planar.chunks_exact(height * width)) {
                *row = &plane[(y - 1) * width..y * width];
            }
            for (x, pixel) in interior.chunks_exact_mut(DENSE_INPUTS).enumerate() {
                for (value, row) in pixel.iter_mut().zip(rows) {
                    *value = row[x];
                }
            }
        }
        let mut out = FeatureMap::for_output(height, width, self.c_out);
        dense3x3_silu(
            &padded.data,
            padded_width,
            &self.weight,
            &self.bias,
            &mut out,
        );
        out
    }
}

/// The stem's kernel on this CPU. AVX-512 names its registers: the compiler, left to
/// vectorise the portable loop, once turned it into gathers across pixels after an unrelated
/// change elsewhere in the crate, and the whole pass took 3.6 times as long (43 against 12 ms
/// a frame, Intel VM, 2026-12-07). Both compute the same multiply-adds in the same order.
fn dense3x3_silu(
    padded: &[f32],
    padded_width: usize,
    weight: &[f32],
    bias: &[f32],
    out: &mut FeatureMap,
) {
    #[cfg(target_arch = "x86_64")]
    if crate::simd::Isa::current() == crate::simd::Isa::Avx512 {
        // SAFETY: `Isa::current` is one of `Isa::available`, which checked AVX-512F.
        return unsafe { dense3x3_silu_avx512(padded, padded_width, weight, bias, out) };
    }
    dense3x3_silu_portable(padded, padded_width, weight, bias, out);
}

simd_dispatch! {
    fn dense3x3_silu_portable(
        padded: &[f32],
        padded_width: usize,
        weight: &[f32],
        bias: &[f32],
        out: &mut FeatureMap,
    ) => dense3x3_silu_body
}

#[inline(always)]
fn dense3x3_silu_body(
    padded: &[f32],
    padded_width: usize,
    weight: &[f32],
    bias: &[f32],
    out: &mut FeatureMap,
) {
    dense3x3_rows::<PortablePixels>(padded, padded_width, weight, bias, out);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
unsafe fn dense3x3_silu_avx512(
    padded: &[f32],
    padded_width: usize,
    weight: &[f32],
    bias: &[f32],
    out: &mut FeatureMap,
) {
    dense3x3_rows::<Avx512Pixels>(padded, padded_width, weight, bias, out);
}

/// A run of `P` output pixels of one 16-channel block ([`DenseBlock`]).
trait DensePixels {
    fn run<const P: usize>(
        at: &DenseBlock<'_>,
        ox: usize,
        initial: [f32; LANES],
        out_row: &mut [f32],
        c_out: usize,
    );
}

struct PortablePixels;

/// Output pixels `ox..ox + P`, stored with SiLU applied. Every pixel sums in the same order
/// whatever `P` is, so the bits do not depend on where a run of pixels starts.
impl DensePixels for PortablePixels {
    #[inline(always)]
    fn run<const P: usize>(
        at: &DenseBlock<'_>,
        ox: usize,
        initial: [f32; LANES],
        out_row: &mut [f32],
        c_out: usize,
    ) {
        let mut acc = [initial; P];
        for (inputs, row_weights) in at.rows::<P>(ox) {
            for (j, taps) in row_weights.chunks_exact(LANES).enumerate() {
                for (p, acc) in acc.iter_mut().enumerate() {
                    let x = inputs[p * DENSE_INPUTS + j];
                    for (a, &t) in acc.iter_mut().zip(taps) {
                        *a = x.mul_add(t, *a);
                    }
                }
            }
        }
        for (p, acc) in acc.iter().enumerate() {
            store_silu(at.target(ox + p, out_row, c_out), acc);
        }
    }
}

/// Only instantiated inside `dense3x3_silu_avx512`, whose target features its intrinsics
/// need.
#[cfg(target_arch = "x86_64")]
struct Avx512Pixels;

#[cfg(target_arch = "x86_64")]
impl DensePixels for Avx512Pixels {
    #[inline(always)]
    fn run<const P: usize>(
        at: &DenseBlock<'_>,
        ox: usize,
        initial: [f32; LANES],
        out_row: &mut [f32],
        c_out: usize,
    ) {
        use std::arch::x86_64::{_mm512_fmadd_ps, _mm512_loadu_ps, _mm512_set1_ps};
        let rows = at.rows::<P>(ox);
        // SAFETY: reached only from `dense3x3_silu_avx512`, which requires AVX-512F; every
        // load reads 16 values of a `[f32; LANES]` or of a 16-long weight chunk.
        let acc = unsafe {
            let mut acc = [_mm512_loadu_ps(initial.as_ptr()); P];
            for (inputs, row_weights) in rows {
                // An index loop, not `chunks_exact(..).enumerate()`: with `j` bounded in
                // sight, every index below is provably in range and the loop carries no
                // checks (with the iterator it ran a compare and branch per multiply-add).
                for j in 0..DENSE_ROW_RUN {
                    let taps = _mm512_loadu_ps(row_weights[j * LANES..][..LANES].as_ptr());
                    for (p, acc) in acc.iter_mut().enumerate() {
                        let x = _mm512_set1_ps(inputs[p * DENSE_INPUTS + j]);
                        *acc = _mm512_fmadd_ps(x, taps, *acc);
                    }
                }
            }
            acc
        };
        for (p, acc) in acc.into_iter().enumerate() {
            // SAFETY: as above.
            unsafe { avx512::store_silu(at.target(ox + p, out_row, c_out), acc) };
        }
    }
}

#[inline(always)]
fn dense3x3_rows<K: DensePixels>(
    padded: &[f32],
    padded_width: usize,
    weight: &[f32],
    bias: &[f32],
    out: &mut FeatureMap,
) {
    let (width, c_out) = (out.width, out.channels);
    let block_weights = weight.chunks_exact(3 * DENSE_ROW_RUN * LANES);
    for (oy, out_row) in out.data.chunks_exact_mut(width * c_out).enumerate() {
        for ((block, weights), bias) in block_weights
            .clone()
            .enumerate()
            .zip(bias.chunks_exact(LANES))
        {
            let at = DenseBlock {
                padded,
                padded_width,
                weights,
                oy,
                channel: block * LANES,
            };
            let mut initial = [0f32; LANES];
            initial.copy_from_slice(bias);
            let mut ox = 0;
            while ox + DENSE_PIXELS <= width {
                K::run::<DENSE_PIXELS>(&at, ox, initial, out_row, c_out);
                ox += DENSE_PIXELS;
            }
            while ox < width {
                K::run::<1>(&at, ox, initial, out_row, c_out);
                ox += 1;
            }
        }
    }
}

/// One 16-channel output block of one output row of the dense convolution.
struct DenseBlock<'a> {
    padded: &'a [f32],
    padded_width: usize,
    /// This block's weights, `(ky, DENSE_ROW_RUN, LANES)`.
    weights: &'a [f32],
    oy: usize,
    channel: usize,
}

impl DenseBlock<'_> {
    /// For each filter row `ky`: the `P + 2` padded input pixels under output pixels
    /// `ox..ox + P`, and that row's `DENSE_ROW_RUN` weight vectors. The padded input is one
    /// pixel wider on each side, so output `ox`'s first tap is padded pixel `ox`.
    #[inline(always)]
    fn rows<const P: usize>(&self, ox: usize) -> [(&[f32], &[f32]); 3] {
        let run = DENSE_ROW_RUN * LANES;
        std::array::from_fn(|ky| {
            let start = ((self.oy + ky) * self.padded_width + ox) * DENSE_INPUTS;
            (
                &self.padded[start..start + (P + 2) * DENSE_INPUTS],
                &self.weights[ky * run..(ky + 1) * run],
            )
        })
    }

    /// This block's 16 values of output pixel `x` in an output row of `c_out` channels.
    #[inline(always)]
    fn target<'o>(&self, x: usize, out_row: &'o mut [f32], c_out: usize) -> &'o mut [f32] {
        &mut out_row[x * c_out + self.channel..][..LANES]
    }
}

/// Stride-1 max pooling that keeps the size, as PyTorch's `MaxPool2d(k, 1, k // 2)`: padding
/// never wins. Max pooling is separable, so rows then columns.
pub(super) fn max_pool_same(input: &FeatureMap, kernel: usize) -> FeatureMap {
    let reach = kernel / 2;
    max_along(&max_along(input, reach, false), reach, true)
}

simd_dispatch! {
    /// Each pixel's channel-wise maximum over the pixels within `reach` of it along a row
    /// (or a column when `vertical`), clipped at the edges.
    fn max_along(input: &FeatureMap, reach: usize, vertical: bool) -> FeatureMap => max_along_body
}

#[inline(always)]
fn max_along_body(input: &FeatureMap, reach: usize, vertical: bool) -> FeatureMap {
    let (h, w, c) = (input.height, input.width, input.channels);
    let mut out = FeatureMap::for_output(h, w, c);
    for y in 0..h {
        for x in 0..w {
            let target = &mut out.data[(y * w + x) * c..][..c];
            target.fill(f32::NEG_INFINITY);
            let (centre, size) = if vertical { (y, h) } else { (x, w) };
            for i in centre.saturating_sub(reach)..(centre + reach + 1).min(size) {
                let pixel = if vertical { i * w + x } else { y * w + i };
                let source = &input.data[pixel * c..][..c];
                for (t, &s) in target.iter_mut().zip(source) {
                    *t = t.max(s);
                }
            }
        }
    }
    out
}

/// `1 / (1 + e^-x)`. One IEEE division, correctly rounded on every target, so x86-64 and
/// arm64 still give the same bits. It replaced a Newton reciprocal (an exponent-bit guess and
/// three steps, seven multiply-adds): the divider works beside the multiply-add pipes, and
/// on the AMD VM the whole pass took 19.5-20.0 ms instead of 20.6-21.0 (criterion A/B,
/// 2026-12-07), and on the Intel VM (Xeon family 6 model 207) 17.5-18.0 ms instead of
/// 18.4-18.9: its slower 16-lane divide still overlaps the activation's other operations.
#[inline(always)]
fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp_coarse(-x))
}

/// `x * sigmoid(x)`, as one division.
#[inline(always)]
fn silu(x: f32) -> f32 {
    x / (1.0 + exp_coarse(-x))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic values in -1..1 (xorshift).
    fn values(len: usize, seed: u32) -> Vec<f32> {
        let mut state = seed;
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                (state % 2001) as f32 / 1000.0 - 1.0
            })
            .collect()
    }

    fn map(height: usize, width: usize, channels: usize, seed: u32) -> FeatureMap {
        let mut map = FeatureMap::for_output(height, width, channels);
        let len = map.data.len();
        map.data.copy_from_slice(&values(len, seed));
        map
    }

    fn silu_exact(x: f32) -> f32 {
        x / (1.0 + (-x).exp())
    }

    fn assert_close(actual: &[f32], expected: &[f32]) {
        assert_eq!(actual.len(), expected.len());
        for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
            assert!((a - e).abs() <= 1e-4 * (1.0 + e.abs()), "{i}: {a} vs {e}");
        }
    }

    #[test]
    fn activations_match_the_standard_library() {
        for i in -2000..=2000 {
            let x = i as f32 * 0.011;
            let exact = 1.0 / (1.0 + (-x).exp());
            assert!((sigmoid(x) - exact).abs() <= 3e-6 * exact, "sigmoid({x})");
            let silu_exact = silu_exact(x);
            assert!(
                (silu(x) - silu_exact).abs() <= 3e-6 * silu_exact.abs() + 1e-30,
                "silu({x})"
            );
        }
        // Far outside the clamp the activations saturate instead of overflowing.
        assert!(sigmoid(-200.0) < 1e-37);
        assert!((sigmoid(200.0) - 1.0).abs() <= f32::EPSILON);
        assert!(silu(-200.0).abs() < 1e-35);
        assert!((silu(200.0) - 200.0).abs() <= 200.0 * f32::EPSILON);
    }

    #[test]
    fn activations_give_the_same_bits_on_every_extension() {
        let inputs: Vec<f32> = (-3000..3000).map(|i| i as f32 * 0.0131).collect();
        let bias = [0.25f32; 8];
        for epilogue in [Epilogue::Silu, Epilogue::Sigmoid] {
            let mut first: Option<Vec<f32>> = None;
            for_each_isa(|isa| {
                let mut values = inputs.clone();
                activate(&mut values, &bias, epilogue);
                for (&x, &y) in inputs.iter().zip(&values) {
                    let x = x + 0.25;
                    let exact = if epilogue == Epilogue::Silu {
                        silu_exact(x)
                    } else {
                        1.0 / (1.0 + (-x).exp())
                    };
                    assert!(
                        (y - exact).abs() <= 2e-6 * (1.0 + exact.abs()),
                        "{isa:?} {x}"
                    );
                }
                assert_same_bits(&mut first, &values, isa);
            });
        }
    }

    #[test]
    fn bias_and_activation_in_one_pass_round_as_two_passes_do() {
        // 16 and 32 several rows to a block, 64 and 128 block by block, 80 and 4 apart.
        for width in [16, 32, 64, 128, 80, 4] {
            let bias = values(width, 51);
            // 37 rows: the narrow widths leave a partial block of whole rows.
            let inputs = values(width * 37, 53);
            for epilogue in [Epilogue::Silu, Epilogue::Sigmoid, Epilogue::Linear] {
                let expected: Vec<f32> = inputs
                    .iter()
                    .zip(bias.iter().cycle())
                    .map(|(&x, &b)| match epilogue {
                        Epilogue::Linear => x + b,
                        Epilogue::Sigmoid => sigmoid(x + b),
                        _ => silu(x + b),
                    })
                    .collect();
                for_each_isa(|isa| {
                    let mut actual = inputs.clone();
                    activate(&mut actual, &bias, epilogue);
                    assert!(
                        actual
                            .iter()
                            .zip(&expected)
                            .all(|(a, e)| a.to_bits() == e.to_bits()),
                        "{isa:?} {epilogue:?} width {width}"
                    );
                });
            }
        }
    }

    #[test]
    fn pointwise_is_a_matrix_product_with_bias_and_silu() {
        let (c_in, c_out) = (48, 32);
        let input = map(17, 19, c_in, 7);
        let weight = values(c_out * c_in, 11);
        let bias = values(c_out, 13);
        let conv = Pointwise::from_torch(&weight, bias.clone(), c_in);
        let mut expected = Vec::new();
        for pixel in input.data.chunks_exact(c_in) {
            for o in 0..c_out {
                let dot: f32 = (0..c_in).map(|i| pixel[i] * weight[o * c_in + i]).sum();
                expected.push(silu_exact(dot + bias[o]));
            }
        }
        for_each_isa(|_| assert_close(&conv.forward(&input, Epilogue::Silu).data, &expected));
    }

    #[test]
    fn side_by_side_writes_into_channel_slices_and_adds_residuals() {
        for_each_isa(|_| {
            let c_in = 16;
            let input = map(5, 60, c_in, 3);
            let first = Pointwise::from_torch(&values(16 * c_in, 5), vec![0.5; 16], c_in);
            let second = Pointwise::from_torch(&values(32 * c_in, 9), vec![-0.5; 32], c_in);
            let both = Pointwise::side_by_side(first.clone(), second.clone())
                .forward(&input, Epilogue::Linear);
            let expected = FeatureMap::concat(&[
                &first.forward(&input, Epilogue::Linear),
                &second.forward(&input, Epilogue::Linear),
            ]);
            assert_close(&both.data, &expected.data);

            // Into channels 16..32 of `both`, on top of what is there.
            let mut target = both.clone();
            let residual = first.forward(&input, Epilogue::Silu);
            first.forward_into(
                input.all(),
                Destination {
                    map: &mut target,
                    offset: 16,
                },
                Epilogue::SiluAddResidual,
            );
            for ((t, b), r) in target
                .data
                .chunks_exact(48)
                .zip(both.data.chunks_exact(48))
                .zip(residual.data.chunks_exact(16))
            {
                assert_eq!(&t[..16], &b[..16]);
                let sum: Vec<f32> = b[16..32].iter().zip(r).map(|(b, r)| b + r).collect();
                assert_close(&t[16..32], &sum);
                assert_eq!(&t[32..], &b[32..]);
            }
        });
    }

    /// AVX-512 runs the convolutions of up to 128 inputs on its own kernel with the
    /// epilogue in registers, the other extensions through `gemm` and a separate pass; every
    /// shape and epilogue of the network must give the same bits either way, also into a
    /// channel slice of a wider map and over a pixel count no tile size divides.
    #[test]
    fn every_pointwise_shape_gives_the_same_bits_on_every_extension() {
        let epilogues = [
            Epilogue::Linear,
            Epilogue::Sigmoid,
            Epilogue::Silu,
            Epilogue::SiluAddResidual,
        ];
        for (c_in, c_out) in [
            (16, 16),
            (16, 32),
            (32, 32),
            (32, 64),
            (64, 64),
            (64, 80),
            (64, 128),
            (128, 64),
            (128, 128),
            (128, 256),
            (256, 128),
        ] {
            let input = map(7, 11, c_in, 41);
            let conv = Pointwise::from_torch(&values(c_in * c_out, 43), values(c_out, 47), c_in);
            for epilogue in epilogues {
                let mut first: Option<Vec<f32>> = None;
                for_each_isa(|isa| {
                    let mut target = map(7, 11, c_out + 32, 53);
                    conv.forward_into(
                        input.all(),
                        Destination {
                            map: &mut target,
                            offset: 16,
                        },
                        epilogue,
                    );
                    assert_same_bits(&mut first, &target.data, isa);
                });
            }
        }
    }

    fn depthwise_naive(
        input: &FeatureMap,
        weight: &[f32],
        bias: &[f32],
        stride: usize,
    ) -> Vec<f32> {
        let (h, w, c) = (input.height, input.width, input.channels);
        let (ho, wo) = ((h - 1) / stride + 1, (w - 1) / stride + 1);
        let mut out = Vec::new();
        for oy in 0..ho {
            for ox in 0..wo {
                for ch in 0..c {
                    let mut sum = bias[ch];
                    for ky in 0..3 {
                        for kx in 0..3 {
                            let (iy, ix) = (
                                (oy * stride + ky) as isize - 1,
                                (ox * stride + kx) as isize - 1,
                            );
                            if iy >= 0 && ix >= 0 && (iy as usize) < h && (ix as usize) < w {
                                let v = input.data[((iy as usize) * w + ix as usize) * c + ch];
                                sum += v * weight[ch * 9 + ky * 3 + kx];
                            }
                        }
                    }
                    out.push(silu_exact(sum));
                }
            }
        }
        out
    }

    #[test]
    fn depthwise_matches_a_direct_loop_at_both_strides_and_odd_sizes() {
        for (stride, h, w) in [
            (1, 7, 9),
            (2, 7, 9),
            (2, 8, 6),
            (1, 1, 1),
            (1, 3, 22),
            (2, 5, 23),
        ] {
            let input = map(h, w, 32, 21);
            let weight = values(32 * 9, 23);
            let bias = values(32, 29);
            let conv = Depthwise::from_torch(&weight, bias.clone(), stride);
            let expected = depthwise_naive(&input, &weight, &bias, stride);
            let mut first: Option<Vec<f32>> = None;
            for_each_isa(|isa| {
                let out = conv.forward(&input);
                assert_eq!(
                    (out.height, out.width),
                    ((h - 1) / stride + 1, (w - 1) / stride + 1)
                );
                assert_close(&out.data, &expected);
                // Fused multiply-adds in one order: the same bits on every extension.
                assert_same_bits(&mut first, &out.data, isa);
            });
        }
    }

    #[test]
    fn dense_3x3_matches_a_direct_loop_on_planar_input() {
        // 13 columns: one run of eight pixels, then five alone; two output blocks.
        let (c_in, c_out, h, w) = (DENSE_INPUTS, 32, 9, 13);
        let planar = values(c_in * h * w, 31);
        let weight = values(c_out * c_in * 9, 37);
        let bias = values(c_out, 41);
        let conv = Dense3x3::from_torch(&weight, bias.clone());
        let mut expected = Vec::new();
        for oy in 0..h as isize {
            for ox in 0..w as isize {
                for o in 0..c_out {
                    let mut sum = bias[o];
                    for i in 0..c_in {
                        for ky in 0..3 {
                            for kx in 0..3 {
                                let (iy, ix) = (oy + ky - 1, ox + kx - 1);
                                if iy >= 0 && ix >= 0 && iy < h as isize && ix < w as isize {
                                    let v = planar[(i * h + iy as usize) * w + ix as usize];
                                    sum += v * weight
                                        [((o * c_in + i) * 3 + ky as usize) * 3 + kx as usize];
                                }
                            }
                        }
                    }
                    expected.push(silu_exact(sum));
                }
            }
        }
        let mut first: Option<Vec<f32>> = None;
        for_each_isa(|isa| {
            let out = conv.forward_planar(&planar, h, w);
            assert_close(&out.data, &expected);
            assert_same_bits(&mut first, &out.data, isa);
        });
    }

    #[test]
    fn max_pool_ignores_padding_and_keeps_the_size() {
        let input = map(6, 5, 16, 43);
        let out = max_pool_same(&input, 5);
        for y in 0..6usize {
            for x in 0..5usize {
                for c in 0..16 {
                    let mut best = f32::NEG_INFINITY;
                    for iy in y.saturating_sub(2)..(y + 3).min(6) {
                        for ix in x.saturating_sub(2)..(x + 3).min(5) {
                            best = best.max(input.data[(iy * 5 + ix) * 16 + c]);
                        }
                    }
                    assert_eq!(out.data[(y * 5 + x) * 16 + c], best);
                }
            }
        }
    }

    #[test]
    fn wide_max_pools_are_the_five_wide_one_repeated() {
        // The SPP layer's 9- and 13-wide pools are computed as the 5-wide one twice and
        // three times; 11 x 9 so the windows reach past both edges.
        let input = map(11, 9, 32, 59);
        let five = max_pool_same(&input, 5);
        let nine = max_pool_same(&five, 5);
        assert_eq!(nine.data, max_pool_same(&input, 9).data);
        assert_eq!(max_pool_same(&nine, 5).data, max_pool_same(&input, 13).data);
    }

    #[test]
    fn dropped_maps_come_back_from_the_pool_up_to_its_bound() {
        let first = FeatureMap::for_output(10, 10, 16);
        let address = first.data.as_ptr();
        drop(first);
        let again = FeatureMap::for_output(5, 10, 16);
        assert_eq!(
            again.data.as_ptr(),
            address,
            "the smallest spare that fits is reused"
        );
        assert_eq!(again.data.len(), 5 * 10 * 16);
        drop(again);
        let kept_len = SPARE_BUFFERS.with_borrow(|spare| {
            spare
                .iter()
                .find(|buffer| buffer.as_ptr() == address)
                .map(Vec::len)
        });
        assert_eq!(
            kept_len,
            Some(10 * 10 * 16),
            "a buffer goes back with every value it was filled with"
        );
        let huge = FeatureMap::for_output(1, 1, SPARE_VALUES_KEPT + 1);
        drop(huge);
        let kept: usize = SPARE_BUFFERS.with_borrow(|spare| spare.iter().map(Vec::len).sum());
        assert!(kept <= SPARE_VALUES_KEPT);
    }

    #[test]
    fn upsampling_moves_whole_pixels() {
        let input = map(2, 3, 16, 47);
        let up = input.upsample2();
        assert_eq!((up.height, up.width), (4, 6));
        assert_eq!(
            &up.data[(3 * 6 + 5) * 16..][..16],
            &input.data[(3 + 2) * 16..][..16]
        );
    }
}
