//! Strided f32 matrix products on the `gemm` crate (the one candle's CPU
//! matmul runs on), with the operands named instead of 19 positional
//! arguments.

/// A matrix operand: where it starts and how far apart (in values) its
/// rows and its columns are.
#[derive(Clone, Copy)]
pub(crate) struct Strided<P> {
    pub ptr: P,
    pub row: isize,
    pub col: isize,
}

impl<P> Strided<P> {
    /// A row-major matrix whose rows are `row` values apart.
    pub fn rows(ptr: P, row: usize) -> Self {
        Self {
            ptr,
            row: row as isize,
            col: 1,
        }
    }
}

/// `dst = scale · lhs · rhs` for an `m × k` `lhs` and a `k × n` `rhs`; with
/// `accumulate` the product is added to what `dst` holds.
///
/// # Safety
/// The operands must describe valid matrices of those sizes, and `dst` must
/// be writable and touched by no one else meanwhile.
pub(crate) unsafe fn multiply(
    (m, n, k): (usize, usize, usize),
    dst: Strided<*mut f32>,
    accumulate: bool,
    lhs: Strided<*const f32>,
    rhs: Strided<*const f32>,
    scale: f32,
    parallelism: gemm::Parallelism,
) {
    gemm::gemm(
        m,
        n,
        k,
        dst.ptr,
        dst.col,
        dst.row,
        accumulate,
        lhs.ptr,
        lhs.col,
        lhs.row,
        rhs.ptr,
        rhs.col,
        rhs.row,
        1.0,
        scale,
        false,
        false,
        false,
        parallelism,
    );
}
