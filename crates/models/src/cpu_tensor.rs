//! Our kernels read candle's CPU tensors in place.

use candle_core::{CpuStorage, Layout};

/// The values of a tensor's CPU storage under its layout, without a copy, or an error naming
/// `op`, the kernel that needs them as one contiguous f32 run.
pub(crate) fn contiguous_f32<'a>(
    op: &str,
    storage: &'a CpuStorage,
    layout: &Layout,
) -> candle_core::Result<&'a [f32]> {
    let CpuStorage::F32(values) = storage else {
        candle_core::bail!("{op}: f32 only");
    };
    match layout.contiguous_offsets() {
        Some((start, end)) => Ok(&values[start..end]),
        None => candle_core::bail!("{op}: the input must be contiguous"),
    }
}
