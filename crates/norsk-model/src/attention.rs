//! Scaled dot-product attention for f32 inference, fused into one op.
//!
//! The composed version copies query, key and value out of the projection
//! into `[batch, heads, seq, head_dim]` tensors, multiplies them with one
//! multi-threaded product per (sequence, head) — tiny products for which
//! threads cost more than they bring —, scales, adds the mask and takes the
//! softmax in three more buffers, and transposes the context back. Here each
//! (sequence, head) is one task on rayon's threads, where the linear layers
//! and layer norms run too: it reads its query, key and value in place from
//! the `[batch, seq, 3 × hidden]` projection (strided products on the f32
//! kernel chosen for this CPU, [`crate::kernels`]), scales inside the
//! product, adds the mask and takes the softmax in one scratch buffer, and
//! writes its context straight into its columns of the `[batch, seq,
//! hidden]` output.

use candle_core::backend::BackendStorage;
use candle_core::{bail, CpuStorage, CustomOp2, Layout, Shape, Tensor};
use rayon::prelude::*;

use crate::fast_math;
use crate::kernels::{self, F32Kernel, F32Product, SharedMut};
use crate::rows::zeros;

/// Self-attention over a fused query/key/value projection.
pub struct FusedAttention {
    heads: usize,
    head_dim: usize,
    kernel: F32Kernel,
}

impl FusedAttention {
    /// Attention with `heads` heads of `head_dim` values each, its products
    /// on the f32 kernel chosen for this CPU.
    pub fn new(heads: usize, head_dim: usize) -> Self {
        Self::with_kernel(heads, head_dim, kernels::selected().f32)
    }

    /// As [`FusedAttention::new`], on the given kernel.
    pub(crate) fn with_kernel(heads: usize, head_dim: usize, kernel: F32Kernel) -> Self {
        Self {
            heads,
            head_dim,
            kernel,
        }
    }

    /// `softmax(Q Kᵀ / √d + mask) V` per head, for `qkv` of shape `[batch,
    /// seq, 3 × hidden]` (queries, then keys, then values, each head by
    /// head) and an additive `mask` of `batch × seq` values (`[batch, 1, 1,
    /// seq]`); gives `[batch, seq, hidden]`.
    pub fn forward(&self, qkv: &Tensor, mask: &Tensor) -> candle_core::Result<Tensor> {
        qkv.contiguous()?
            .apply_op2_no_bwd(&mask.contiguous()?, self)
    }

    /// One (sequence, head): `scores` is scratch of `seq × seq` values,
    /// `out` points at the sequence's first output row.
    fn head(&self, qkv: &[f32], mask: &[f32], head: usize, scores: &mut [f32], out: *mut f32) {
        let (d, t) = (self.head_dim, mask.len());
        let hidden = self.heads * d;
        let row = 3 * hidden;
        let q = qkv[head * d..].as_ptr();
        let k = qkv[hidden + head * d..].as_ptr();
        let v = qkv[2 * hidden + head * d..].as_ptr();
        // Safety: q, k and v rows are `row` apart within `qkv` (t rows);
        // `scores` holds t × t values; `out` has t rows of `hidden` values,
        // of which this head owns columns head·d .. (head+1)·d.
        unsafe {
            // scores = Q Kᵀ / √d, Kᵀ read from K's rows.
            self.kernel.multiply(F32Product {
                m: t,
                n: t,
                k: d,
                alpha: 1.0 / (d as f32).sqrt(),
                a: q,
                lda: row,
                b: k,
                ldb: row,
                b_transposed: true,
                c: scores.as_mut_ptr(),
                ldc: t,
                accumulate: false,
            });
        }
        for probs in scores.chunks_exact_mut(t) {
            fast_math::softmax_masked(probs, mask);
        }
        unsafe {
            self.kernel.multiply(F32Product {
                m: t,
                n: d,
                k: t,
                alpha: 1.0,
                a: scores.as_ptr(),
                lda: t,
                b: v,
                ldb: row,
                b_transposed: false,
                c: out.add(head * d),
                ldc: hidden,
                accumulate: false,
            });
        }
    }
}

impl CustomOp2 for FusedAttention {
    fn name(&self) -> &'static str {
        "norsk-fused-attention"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let hidden = self.heads * self.head_dim;
        let (b, t, three_h) = l1.shape().dims3()?;
        if three_h != 3 * hidden || l2.shape().elem_count() != b * t {
            bail!(
                "fused attention expects qkv [b, t, {}] and a mask of b × t, got {:?} and {:?}",
                3 * hidden,
                l1.shape(),
                l2.shape()
            );
        }
        let (Some((q0, q1)), Some((m0, m1))) = (l1.contiguous_offsets(), l2.contiguous_offsets())
        else {
            bail!("fused attention inputs must be contiguous");
        };
        let (qkv, mask) = match (s1, s2) {
            (CpuStorage::F32(a), CpuStorage::F32(m)) => (&a[q0..q1], &m[m0..m1]),
            _ => bail!(
                "fused attention takes f32, got {:?} and {:?}",
                s1.dtype(),
                s2.dtype()
            ),
        };
        let mut out = zeros::<f32>(b * t * hidden);
        let out_ptr = SharedMut(out.as_mut_ptr());
        (0..b * self.heads).into_par_iter().for_each_init(
            || vec![0f32; t * t],
            |scores, task| {
                let (seq, head) = (task / self.heads, task % self.heads);
                // Safety: tasks write disjoint (sequence, head) blocks.
                let out = unsafe { out_ptr.get().add(seq * t * hidden) };
                self.head(
                    &qkv[seq * t * three_h..(seq + 1) * t * three_h],
                    &mask[seq * t..(seq + 1) * t],
                    head,
                    scores,
                    out,
                );
            },
        );
        Ok((CpuStorage::F32(out), Shape::from((b, t, hidden))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util;
    use candle_core::{DType, Device, D};

    /// The composed attention the encoder used before, in candle ops.
    fn composed(qkv: &Tensor, mask: &Tensor, heads: usize, d: usize) -> Tensor {
        let (b, t, _) = qkv.dims3().unwrap();
        let qkv = qkv
            .reshape((b, t, 3, heads, d))
            .unwrap()
            .permute((2, 0, 3, 1, 4))
            .unwrap();
        let part = |i| qkv.get(i).unwrap().contiguous().unwrap();
        let (q, k, v) = (part(0), part(1), part(2));
        let scores = (q.matmul(&k.t().unwrap()).unwrap() * (1.0 / (d as f64).sqrt()))
            .unwrap()
            .broadcast_add(mask)
            .unwrap();
        let probs = candle_nn::ops::softmax(&scores, D::Minus1).unwrap();
        probs
            .matmul(&v)
            .unwrap()
            .transpose(1, 2)
            .unwrap()
            .reshape((b, t, heads * d))
            .unwrap()
    }

    #[test]
    fn matches_the_composed_attention_with_padding() {
        let (b, t, heads, d) = (3, 13, 4, 8);
        let qkv = Tensor::from_vec(
            test_util::random(b * t * 3 * heads * d, 7, 2.0),
            (b, t, 3 * heads * d),
            &Device::Cpu,
        )
        .unwrap();
        // Sequence 0 is whole, 1 has 5 padding positions, 2 has 12.
        let keep: Vec<f32> = (0..b * t)
            .map(|i| {
                let (s, j) = (i / t, i % t);
                if j < [t, t - 5, 1][s] {
                    0.0
                } else {
                    f32::MIN
                }
            })
            .collect();
        let mask = Tensor::from_vec(keep, (b, 1, 1, t), &Device::Cpu).unwrap();
        let want = composed(&qkv, &mask, heads, d);
        let every_kernel = std::iter::once(F32Kernel::GemmCrate).chain(
            kernels::test_libraries()
                .into_iter()
                .map(F32Kernel::Library),
        );
        for kernel in every_kernel {
            let got = FusedAttention::with_kernel(heads, d, kernel)
                .forward(&qkv, &mask)
                .unwrap();
            let err = test_util::max_abs_diff(&got, &want);
            assert!(err < 1e-5, "{}: max difference {err}", kernel.name());
        }
    }

    #[test]
    fn refuses_mismatched_shapes_and_dtypes() {
        let attention = FusedAttention::new(2, 4);
        let mask = Tensor::zeros((1, 1, 1, 3), DType::F32, &Device::Cpu).unwrap();
        let wrong = Tensor::zeros((1, 3, 20), DType::F32, &Device::Cpu).unwrap();
        assert!(attention.forward(&wrong, &mask).is_err());
        let bf16 = Tensor::zeros((1, 3, 24), DType::BF16, &Device::Cpu).unwrap();
        assert!(attention
            .forward(&bf16, &mask.to_dtype(DType::BF16).unwrap())
            .is_err());
    }
}
