//! GGUF tensors dequantized to f32 straight from a memory-mapped file.
//!
//! The text scorer's cold start is the SmolLM2 load: 135 M weights become about 540 MB of
//! f32. Through candle's `Content::tensor` + `dequantize` each tensor is read into a fresh
//! buffer, copied into typed blocks and dequantized into a third, zero-filled one; `perf`
//! showed the kernel zeroing fresh pages as 38 % of the load and the dequantization itself
//! as 5 %. Here the file is mapped (its pages come from the page cache, nothing is
//! copied), each tensor is written once into its final buffer, and that buffer is advised
//! for transparent huge pages, so half a gigabyte costs a few hundred page faults instead
//! of 130,000. The arithmetic is candle's own (`(q as f32) * d + m` in the same order), so
//! the weights are bit for bit those of the old path; a test checks that. Matrices the
//! language model multiplies by are dequantized 64 rows at a time and transposed from cache
//! into their final buffer ([`crate::transpose`]), never through a whole dequantized copy.

use std::mem::MaybeUninit;
use std::path::{Path, PathBuf};

use candle_core::quantized::gguf_file::{Content, TensorInfo};
use candle_core::quantized::GgmlDType;
use half::f16;

use crate::transpose::{transpose_into, transposed};
use crate::ModelError;

/// A row-major f32 matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct F32Matrix {
    /// `rows * columns` values, row after row.
    pub values: Vec<f32>,
    pub rows: usize,
    pub columns: usize,
}

impl F32Matrix {
    /// Row `row`, if there is one.
    pub fn row(&self, row: usize) -> Option<&[f32]> {
        if row < self.rows {
            self.values
                .get(row * self.columns..(row + 1) * self.columns)
        } else {
            None
        }
    }
}

/// Values per Q4_1 / Q8_0 block.
const BLOCK: usize = 32;

/// A GGUF file mapped into memory with its parsed header.
pub struct MappedGguf {
    path: PathBuf,
    map: memmap2::Mmap,
    content: Content,
}

impl MappedGguf {
    /// Memory-maps the GGUF file and reads its header and tensor index.
    pub fn open(path: &Path) -> Result<Self, ModelError> {
        let load_error = |message: String| ModelError::Load {
            path: path.to_owned(),
            message,
        };
        let file =
            std::fs::File::open(crate::require(path)?).map_err(|e| load_error(e.to_string()))?;
        // SAFETY: the model directory is read-only for the process (a Lambda layer, or
        // `make models` output); a file truncated under us would fault, as any mapped
        // read-only asset would.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| load_error(e.to_string()))?;
        let content = Content::read(&mut std::io::Cursor::new(&map[..]))
            .map_err(|e| load_error(e.to_string()))?;
        Ok(Self {
            path: path.to_owned(),
            map,
            content,
        })
    }

    /// The header: metadata and tensor directory.
    pub fn content(&self) -> &Content {
        &self.content
    }

    /// Whether the file has a tensor of this name.
    pub fn has(&self, name: &str) -> bool {
        self.content.tensor_infos.contains_key(name)
    }

    /// Vector `name` as f32.
    pub fn f32_vector(&self, name: &str) -> Result<Vec<f32>, ModelError> {
        let (info, values) = self.f32_values(name)?;
        match info.shape.dims() {
            [_] => Ok(values),
            dims => Err(self.error(format!("{name}: {dims:?} is not a vector"))),
        }
    }

    /// Matrix `name` as f32, (rows, columns) in candle's dimension order.
    pub fn f32_matrix(&self, name: &str) -> Result<F32Matrix, ModelError> {
        let (info, values) = self.f32_values(name)?;
        let &[rows, columns] = info.shape.dims() else {
            return Err(self.error(format!("{name}: {:?} is not a matrix", info.shape)));
        };
        Ok(F32Matrix {
            values,
            rows,
            columns,
        })
    }

    /// Matrix `name` as f32, transposed: (columns, rows) of candle's (rows, columns), for
    /// weights a product reads column by column. Quantized matrices are dequantized 64 rows
    /// at a time and each stripe transposed from cache: transposing a whole dequantized copy
    /// with scalar code took SmolLM2's load from about 245 to 420 ms (AMD VM).
    pub fn f32_matrix_transposed(&self, name: &str) -> Result<F32Matrix, ModelError> {
        let info = self.info(name)?;
        let &[rows, columns] = info.shape.dims() else {
            return Err(self.error(format!("{name}: {:?} is not a matrix", info.shape)));
        };
        let values = self
            .dequantize_transposed(info, rows, columns)
            .map_err(|message| self.error(format!("{name}: {message}")))?;
        Ok(F32Matrix {
            values,
            rows: columns,
            columns: rows,
        })
    }

    /// Tensor `name`'s directory entry and its values as f32, in file order.
    fn f32_values(&self, name: &str) -> Result<(&TensorInfo, Vec<f32>), ModelError> {
        let info = self.info(name)?;
        let values = self
            .dequantize(info)
            .map_err(|message| self.error(format!("{name}: {message}")))?;
        Ok((info, values))
    }

    fn info(&self, name: &str) -> Result<&TensorInfo, ModelError> {
        self.content
            .tensor_infos
            .get(name)
            .ok_or_else(|| self.error(format!("no tensor {name}")))
    }

    /// The bytes of tensor `info` in the mapped file, checked against its length.
    fn tensor_bytes(&self, info: &TensorInfo, length: usize) -> Result<&[u8], String> {
        let start = usize::try_from(self.content.tensor_data_offset + info.offset)
            .map_err(|e| e.to_string())?;
        start
            .checked_add(length)
            .and_then(|end| self.map.get(start..end))
            .ok_or_else(|| format!("{length} bytes at {start} run past the file"))
    }

    /// A quantized (rows, columns) matrix dequantized into (columns, rows) order.
    fn dequantize_transposed(
        &self,
        info: &TensorInfo,
        rows: usize,
        columns: usize,
    ) -> Result<Vec<f32>, String> {
        let block_bytes = match info.ggml_dtype {
            GgmlDType::Q4_1 => Q4_1::BYTES,
            GgmlDType::Q8_0 => Q8_0::BYTES,
            _ => return Ok(transpose(&self.dequantize(info)?, rows, columns)),
        };
        if !columns.is_multiple_of(BLOCK) {
            return Err(format!("rows of {columns} values do not fill whole blocks"));
        }
        let bytes = self.tensor_bytes(info, rows * columns / BLOCK * block_bytes)?;
        Ok(match info.ggml_dtype {
            GgmlDType::Q4_1 => blocks_transposed::<Q4_1>(bytes, rows, columns),
            _ => blocks_transposed::<Q8_0>(bytes, rows, columns),
        })
    }

    fn dequantize(&self, info: &TensorInfo) -> Result<Vec<f32>, String> {
        let count = info.shape.elem_count();
        let bytes_per_block = match info.ggml_dtype {
            GgmlDType::F32 => 4,
            GgmlDType::Q4_1 => Q4_1::BYTES,
            GgmlDType::Q8_0 => Q8_0::BYTES,
            other => return Err(format!("{other:?} is not a type this loader reads")),
        };
        let values_per_block = if info.ggml_dtype == GgmlDType::F32 {
            1
        } else {
            BLOCK
        };
        if !count.is_multiple_of(values_per_block) {
            return Err(format!("{count} values do not fill whole blocks"));
        }
        let bytes = self.tensor_bytes(info, count / values_per_block * bytes_per_block)?;
        let mut values = huge_page_buffer(count);
        let out = &mut values.spare_capacity_mut()[..count];
        match info.ggml_dtype {
            GgmlDType::Q4_1 => blocks::<Q4_1>(bytes, out),
            GgmlDType::Q8_0 => blocks::<Q8_0>(bytes, out),
            _ => {
                for (value, le) in out.iter_mut().zip(bytes.chunks_exact(4)) {
                    value.write(f32::from_le_bytes([le[0], le[1], le[2], le[3]]));
                }
            }
        }
        // SAFETY: every dequantizer above writes all `count` values: `bytes` holds exactly
        // count / values_per_block blocks and each block writes values_per_block values.
        unsafe { values.set_len(count) };
        Ok(values)
    }

    fn error(&self, message: String) -> ModelError {
        ModelError::Load {
            path: self.path.clone(),
            message,
        }
    }
}

/// A ggml block format: BYTES bytes of file hold BLOCK values.
trait QuantizedBlock {
    const BYTES: usize;
    /// Writes the block's BLOCK values to `out`, in order.
    fn dequantize(block: &[u8], out: &mut [MaybeUninit<f32>]);
}

/// ggml's Q4_1: per 32 values an f16 scale d, an f16 minimum m and 16 bytes of nibbles;
/// value j is the low nibble of byte j, value j + 16 its high nibble; x = q * d + m.
#[allow(non_camel_case_types)]
struct Q4_1;

impl QuantizedBlock for Q4_1 {
    const BYTES: usize = 20;

    #[inline(always)]
    fn dequantize(block: &[u8], out: &mut [MaybeUninit<f32>]) {
        let d = f16::from_le_bytes([block[0], block[1]]).to_f32();
        let m = f16::from_le_bytes([block[2], block[3]]).to_f32();
        let (low, high) = out.split_at_mut(BLOCK / 2);
        for ((byte, low), high) in block[4..].iter().zip(low).zip(high) {
            low.write((byte & 0x0F) as f32 * d + m);
            high.write((byte >> 4) as f32 * d + m);
        }
    }
}

/// ggml's Q8_0: per 32 values an f16 scale d and 32 signed bytes; x = q * d.
#[allow(non_camel_case_types)]
struct Q8_0;

impl QuantizedBlock for Q8_0 {
    const BYTES: usize = 34;

    #[inline(always)]
    fn dequantize(block: &[u8], out: &mut [MaybeUninit<f32>]) {
        let d = f16::from_le_bytes([block[0], block[1]]).to_f32();
        for (q, value) in block[2..].iter().zip(out) {
            value.write(*q as i8 as f32 * d);
        }
    }
}

/// Blocks of format F dequantized in file order.
fn blocks<F: QuantizedBlock>(bytes: &[u8], out: &mut [MaybeUninit<f32>]) {
    for (block, values) in bytes
        .chunks_exact(F::BYTES)
        .zip(out.chunks_exact_mut(BLOCK))
    {
        F::dequantize(block, values);
    }
}

/// Blocks of a (rows, columns) matrix, row-major, dequantized into (columns, rows) order,
/// 64 rows at a time: the stripe is dequantized as the file lies (the compiler vectorises
/// that loop) into a buffer that stays in cache, then transposed into its band of columns.
fn blocks_transposed<F: QuantizedBlock>(bytes: &[u8], rows: usize, columns: usize) -> Vec<f32> {
    const STRIPE: usize = 64;
    let row_bytes = columns / BLOCK * F::BYTES;
    let mut stripe = vec![0f32; STRIPE * columns];
    let count = rows * columns;
    let mut transposed = huge_page_buffer(count);
    let out = &mut transposed.spare_capacity_mut()[..count];
    for row_start in (0..rows).step_by(STRIPE) {
        let height = (rows - row_start).min(STRIPE);
        let source = &bytes[row_start * row_bytes..(row_start + height) * row_bytes];
        let stripe_values = &mut stripe[..height * columns];
        // SAFETY: the dequantizers only ever write initialised f32s through this view, so
        // the f32 slice behind it stays initialised.
        let stripe_out = unsafe { &mut *(stripe_values as *mut [f32] as *mut [MaybeUninit<f32>]) };
        blocks::<F>(source, stripe_out);
        transpose_into(
            &stripe[..height * columns],
            height,
            columns,
            out,
            rows,
            row_start,
        );
    }
    // SAFETY: the stripes cover every row, and each stripe's transposition writes all of
    // its values, so all `count` values are initialised.
    unsafe { transposed.set_len(count) };
    transposed
}

/// An empty vector with room for `count` f32s whose pages the kernel may back with 2 MiB
/// huge pages (Linux `MADV_HUGEPAGE`; a hint, ignored where transparent huge pages are
/// off). Buffers this large come from their own `mmap` in glibc's malloc, so the advice
/// touches no other allocation.
fn huge_page_buffer(count: usize) -> Vec<f32> {
    let values: Vec<f32> = Vec::with_capacity(count);
    #[cfg(target_os = "linux")]
    {
        const HUGE_PAGE: usize = 2 << 20;
        const PAGE: usize = 4096;
        let bytes = count * std::mem::size_of::<f32>();
        if bytes >= HUGE_PAGE {
            let start = values.as_ptr() as usize;
            let first_page = start.next_multiple_of(PAGE);
            let end = (start + bytes) / PAGE * PAGE;
            if end > first_page {
                // SAFETY: the range lies inside the allocation just made, page aligned;
                // MADV_HUGEPAGE changes no contents and no permissions.
                unsafe {
                    libc::madvise(
                        first_page as *mut libc::c_void,
                        end - first_page,
                        libc::MADV_HUGEPAGE,
                    );
                }
            }
        }
    }
    values
}

/// `values` (rows x columns, row-major) transposed into a huge-page buffer as the
/// dequantizers write theirs.
fn transpose(values: &[f32], rows: usize, columns: usize) -> Vec<f32> {
    transposed(values, rows, columns, huge_page_buffer(rows * columns))
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::quantized::{gguf_file, QTensor};
    use candle_core::{Device, Tensor};

    /// A GGUF file written by candle with the given tensors, read back through both paths.
    fn round_trip(dtype: GgmlDType) {
        let device = Device::Cpu;
        // 70 rows: more than one 64-row stripe, and not a whole number of 8 x 8 blocks.
        let source: Vec<f32> = (0..70 * 96)
            .map(|i| ((i as f32) * 0.37).sin() * 3.0)
            .collect();
        let tensor = Tensor::from_vec(source, (70, 96), &device).expect("tensor");
        let quantized = QTensor::quantize(&tensor, dtype).expect("quantize");
        let path = std::env::temp_dir().join(format!(
            "postlens-gguf-f32-{dtype:?}-{}.gguf",
            std::process::id()
        ));
        let mut file = std::fs::File::create(&path).expect("create");
        gguf_file::write(&mut file, &[], &[("w", &quantized)]).expect("write");
        drop(file);

        let mapped = MappedGguf::open(&path).expect("open");
        let ours = mapped.f32_matrix("w").expect("ours");
        let candle = |transposed: bool| -> F32Matrix {
            let t = quantized.dequantize(&device).expect("candle");
            let t = if transposed { t.t().expect("t") } else { t };
            let (rows, columns) = t.dims2().expect("matrix");
            let values = t.flatten_all().and_then(|t| t.to_vec1()).expect("values");
            F32Matrix {
                values,
                rows,
                columns,
            }
        };
        let ours_transposed = mapped.f32_matrix_transposed("w").expect("ours transposed");
        std::fs::remove_file(&path).ok();
        assert_eq!(
            ours,
            candle(false),
            "{dtype:?}: the weights must be bit for bit candle's"
        );
        assert_eq!(
            ours_transposed,
            candle(true),
            "{dtype:?}: transposed while dequantized, still bit for bit candle's"
        );
        assert!(!mapped.has("missing"));
        assert!(matches!(
            mapped.f32_matrix("missing"),
            Err(ModelError::Load { .. })
        ));
    }

    #[test]
    fn q4_1_equals_candles_dequantization() {
        round_trip(GgmlDType::Q4_1);
    }

    #[test]
    fn q8_0_equals_candles_dequantization() {
        round_trip(GgmlDType::Q8_0);
    }

    #[test]
    fn f32_reads_back_exactly() {
        round_trip(GgmlDType::F32);
    }

    #[test]
    fn a_tensor_running_past_the_file_is_an_error() {
        let device = Device::Cpu;
        let tensor = Tensor::zeros((2, 32), candle_core::DType::F32, &device).expect("zeros");
        let quantized = QTensor::quantize(&tensor, GgmlDType::F32).expect("quantize");
        let path =
            std::env::temp_dir().join(format!("postlens-gguf-short-{}.gguf", std::process::id()));
        let mut file = std::fs::File::create(&path).expect("create");
        gguf_file::write(&mut file, &[], &[("w", &quantized)]).expect("write");
        drop(file);
        let length = std::fs::metadata(&path).expect("metadata").len();
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .expect("open");
        file.set_len(length - 8).expect("truncate");
        drop(file);
        let result = MappedGguf::open(&path).and_then(|m| m.f32_matrix("w"));
        std::fs::remove_file(&path).ok();
        assert!(matches!(result, Err(ModelError::Load { .. })), "{result:?}");
    }

    #[test]
    fn transposed_matrices_are_candles_transpose() {
        let values: Vec<f32> = (0..70 * 45).map(|i| i as f32).collect();
        let device = Device::Cpu;
        let expected: Vec<Vec<f32>> = Tensor::from_vec(values.clone(), (70, 45), &device)
            .and_then(|t| t.t()?.to_vec2())
            .expect("candle");
        let ours: Vec<Vec<f32>> = Tensor::from_vec(transpose(&values, 70, 45), (45, 70), &device)
            .and_then(|t| t.to_vec2())
            .expect("ours");
        assert_eq!(ours, expected);
    }
}
