//! The storage side shared by this crate's linear-layer ops.

use candle_core::backend::BackendStorage;
use candle_core::{bail, CpuStorage, Layout, Shape};
use rayon::prelude::*;

/// Maps the contiguous f32 rows of a `[..., inputs]` tensor to `[...,
/// outputs]` with `product`, which gets all rows at once and returns the
/// output rows; `what` names the op in errors.
pub(crate) fn map_rows(
    what: &str,
    s: &CpuStorage,
    l: &Layout,
    (inputs, outputs): (usize, usize),
    product: impl FnOnce(&[f32]) -> Vec<f32>,
) -> candle_core::Result<(CpuStorage, Shape)> {
    let dims = l.shape().dims();
    if dims.last() != Some(&inputs) {
        bail!("{what} expects [..., {inputs}], got {dims:?}");
    }
    let Some((start, end)) = l.contiguous_offsets() else {
        bail!("{what} input must be contiguous");
    };
    let x = match s {
        CpuStorage::F32(a) => &a[start..end],
        other => bail!("{what} takes f32 activations, got {:?}", other.dtype()),
    };
    let out = product(x);
    let mut shape = dims.to_vec();
    *shape.last_mut().expect("checked above") = outputs;
    Ok((CpuStorage::F32(out), Shape::from(shape)))
}

/// `len` zeros for an op's output, written on rayon's threads: rayon's
/// indexed collect fills each part of the buffer on the worker that takes
/// it. `vec![0.0; len]` zeroes on the calling thread alone (or faults in
/// fresh pages there) while the workers wait: up to 12.6 MB per product at
/// 8 × 128 tokens, about 340 MB per BERT-base pass.
pub(crate) fn zeros<T: Copy + Default + Send + Sync>(len: usize) -> Vec<T> {
    let mut out = Vec::with_capacity(len);
    out.par_extend(rayon::iter::repeat_n(T::default(), len));
    out
}
