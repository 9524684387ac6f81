//! Matrix products on plain f32 slices through `gemm` (the crate candle's CPU backend runs
//! them with), for the models whose passes keep their own buffers: the product is written
//! into (or added to) a caller's buffer, so nothing is allocated or zeroed per product, and
//! strided views (one attention head's columns of a wider matrix) need no copy. Every
//! element either view can reach is checked against its slice before the one unsafe call.

use gemm::Parallelism;

/// A read-only matrix view: element `(r, c)` is `values[r * row_stride + c * column_stride]`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Strided<'a> {
    pub values: &'a [f32],
    pub rows: usize,
    pub columns: usize,
    pub row_stride: usize,
    pub column_stride: usize,
}

impl<'a> Strided<'a> {
    /// The first `rows` x `columns` values of `values`, row-major.
    pub(crate) fn row_major(values: &'a [f32], rows: usize, columns: usize) -> Self {
        Self {
            values,
            rows,
            columns,
            row_stride: columns,
            column_stride: 1,
        }
    }

    /// Columns `first..first + columns` of a row-major matrix of `rows` rows of `width`.
    pub(crate) fn column_band(
        values: &'a [f32],
        rows: usize,
        width: usize,
        first: usize,
        columns: usize,
    ) -> Self {
        Self {
            values: values.get(first..).unwrap_or_default(),
            rows,
            columns,
            row_stride: width,
            column_stride: 1,
        }
    }

    /// This view's transpose, the same values read the other way.
    pub(crate) fn t(self) -> Self {
        Self {
            values: self.values,
            rows: self.columns,
            columns: self.rows,
            row_stride: self.column_stride,
            column_stride: self.row_stride,
        }
    }

    /// Whether every element lies inside `values` (an empty view always does).
    fn fits(&self) -> bool {
        self.rows == 0
            || self.columns == 0
            || (self.rows - 1)
                .checked_mul(self.row_stride)
                .zip((self.columns - 1).checked_mul(self.column_stride))
                .and_then(|(a, b)| a.checked_add(b))
                .is_some_and(|last| last < self.values.len())
    }
}

/// `product = lhs * rhs`, or `product += lhs * rhs` when `accumulate`, where `product`
/// holds `lhs.rows` rows of `rhs.columns` values, each `product_row_stride` apart.
pub(crate) fn multiply(
    product: &mut [f32],
    product_row_stride: usize,
    lhs: Strided<'_>,
    rhs: Strided<'_>,
    accumulate: bool,
) {
    let (m, n, k) = (lhs.rows, rhs.columns, lhs.columns);
    assert_eq!(k, rhs.rows, "matmul inner dimensions");
    if m == 0 || n == 0 {
        return;
    }
    assert!(
        n <= product_row_stride
            && (m - 1)
                .checked_mul(product_row_stride)
                .and_then(|start| start.checked_add(n))
                .is_some_and(|end| end <= product.len()),
        "matmul product"
    );
    if k == 0 {
        if !accumulate {
            for row in product.chunks_mut(product_row_stride).take(m) {
                row[..n].fill(0.0);
            }
        }
        return;
    }
    assert!(lhs.fits(), "matmul left-hand side");
    assert!(rhs.fits(), "matmul right-hand side");
    // SAFETY: the asserts above keep every element read (lhs, rhs) or written (product)
    // inside its slice, with the dimensions and strides passed; the product does not alias
    // the inputs, which are shared borrows.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            product.as_mut_ptr(),
            1,
            product_row_stride as isize,
            accumulate,
            lhs.values.as_ptr(),
            lhs.column_stride as isize,
            lhs.row_stride as isize,
            rhs.values.as_ptr(),
            rhs.column_stride as isize,
            rhs.row_stride as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            Parallelism::None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn direct(lhs: Strided<'_>, rhs: Strided<'_>) -> Vec<f64> {
        let at = |v: &Strided<'_>, r: usize, c: usize| {
            f64::from(v.values[r * v.row_stride + c * v.column_stride])
        };
        let mut out = Vec::new();
        for r in 0..lhs.rows {
            for c in 0..rhs.columns {
                out.push(
                    (0..lhs.columns)
                        .map(|k| at(&lhs, r, k) * at(&rhs, k, c))
                        .sum(),
                );
            }
        }
        out
    }

    #[test]
    fn strided_views_multiply_and_accumulate_into_a_wider_product() {
        // lhs: columns 3..8 of a 7 x 12 matrix; rhs: the transpose of a 6 x 5 matrix; the
        // product written into columns 2..8 of rows 10 apart.
        let wide: Vec<f32> = (0..7 * 12).map(|i| (i as f32 * 0.37).sin()).collect();
        let lhs = Strided {
            values: &wide[3..],
            rows: 7,
            columns: 5,
            row_stride: 12,
            column_stride: 1,
        };
        let source: Vec<f32> = (0..6 * 5).map(|i| (i as f32 * 0.11).cos()).collect();
        let rhs = Strided::row_major(&source, 6, 5).t();
        let expected = direct(lhs, rhs);
        let mut product = vec![1.0f32; 7 * 10];
        multiply(&mut product[2..], 10, lhs, rhs, false);
        for r in 0..7 {
            for c in 0..10 {
                let value = f64::from(product[r * 10 + c]);
                if (2..8).contains(&c) {
                    assert!((value - expected[r * 6 + c - 2]).abs() < 1e-5, "{r} {c}");
                } else {
                    assert_eq!(value, 1.0, "outside the product at {r} {c}");
                }
            }
        }
        multiply(&mut product[2..], 10, lhs, rhs, true);
        for r in 0..7 {
            let value = f64::from(product[r * 10 + 2]);
            assert!((value - 2.0 * expected[r * 6]).abs() < 1e-5);
        }
    }

    #[test]
    #[should_panic(expected = "matmul left-hand side")]
    fn a_view_past_its_slice_is_refused() {
        let values = [0.0f32; 10];
        let lhs = Strided {
            values: &values,
            rows: 3,
            columns: 4,
            row_stride: 4,
            column_stride: 1,
        };
        let rhs_values = [0.0f32; 4];
        let mut product = [0.0f32; 3];
        multiply(
            &mut product,
            1,
            lhs,
            Strided::row_major(&rhs_values, 4, 1),
            false,
        );
    }
}
