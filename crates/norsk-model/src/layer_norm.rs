//! Layer normalisation as PyTorch computes it (mean first, then the variance
//! of the centred values, in f32), with the residual addition fused in.
//!
//! candle's own kernel takes the variance as `E[x²] − E[x]²`, which loses
//! digits when the mean is large against the spread; BERT's post-norm
//! residual stream is such a case, and the difference shows in the logits.

use candle_core::backend::BackendStorage;
use candle_core::{bail, CpuStorage, CustomOp1, CustomOp2, DType, Layout, Shape, Tensor, D};
use candle_nn::VarBuilder;
use half::bf16;
use rayon::prelude::*;

use crate::fast_math;
use crate::rows::zeros;

/// `LayerNorm(x)` or `LayerNorm(x + residual)` over the last dimension.
#[derive(Debug, Clone)]
pub struct LayerNorm {
    weight: Vec<f32>,
    bias: Vec<f32>,
    eps: f32,
}

impl LayerNorm {
    /// Loads `weight` and `bias` of width `size`.
    pub fn load(size: usize, eps: f64, vb: VarBuilder) -> candle_core::Result<Self> {
        let read = |name: &str| -> candle_core::Result<Vec<f32>> {
            vb.get_with_hints_dtype(size, name, Default::default(), candle_core::DType::F32)?
                .to_vec1()
        };
        Ok(Self {
            weight: read("weight")?,
            bias: read("bias")?,
            eps: eps as f32,
        })
    }

    /// `LayerNorm(x)`.
    pub fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        x.contiguous()?.apply_op1_no_bwd(self)
    }

    /// `LayerNorm(x + residual)`, in one pass over memory.
    pub fn forward_residual(&self, x: &Tensor, residual: &Tensor) -> candle_core::Result<Tensor> {
        x.contiguous()?
            .apply_op2_no_bwd(&residual.contiguous()?, self)
    }

    /// Normalises one row of `width` values in place (already summed).
    #[inline(always)]
    fn normalise(&self, row: &mut [f32]) {
        let n = row.len() as f32;
        let mean = fast_math::sum(row) / n;
        let var = fast_math::sum_of(row, |v| (v - mean) * (v - mean)) / n;
        let inv_std = (var + self.eps).sqrt().recip();
        for ((v, w), b) in row.iter_mut().zip(&self.weight).zip(&self.bias) {
            *v = (*v - mean) * inv_std * w + b;
        }
    }

    fn check(&self, layout: &Layout) -> candle_core::Result<(usize, usize)> {
        let width = layout.shape().dims().last().copied().unwrap_or(0);
        if width != self.weight.len() {
            bail!(
                "layer norm of width {} applied to shape {:?}",
                self.weight.len(),
                layout.shape()
            );
        }
        match layout.contiguous_offsets() {
            Some(range) => Ok(range),
            None => bail!("layer norm input must be contiguous"),
        }
    }

    /// Runs rows of `a` (plus `b`, if given) through the norm, in f32.
    fn run<T: Element>(&self, a: &[T], b: Option<&[T]>, width: usize) -> Vec<T> {
        let mut out = zeros(a.len());
        out.par_chunks_mut(width).enumerate().for_each_init(
            || vec![0f32; width],
            |row, (i, dst)| {
                fast_math::vectorized(|| {
                    let range = i * width..(i + 1) * width;
                    match b {
                        Some(b) => {
                            for ((r, x), y) in row.iter_mut().zip(&a[range.clone()]).zip(&b[range])
                            {
                                *r = x.to_f32() + y.to_f32();
                            }
                        }
                        None => {
                            for (r, x) in row.iter_mut().zip(&a[range]) {
                                *r = x.to_f32();
                            }
                        }
                    }
                    self.normalise(row);
                    for (d, r) in dst.iter_mut().zip(row.iter()) {
                        *d = T::from_f32(*r);
                    }
                })
            },
        );
        out
    }
}

/// The element types the kernel runs on.
trait Element: Copy + Default + Send + Sync {
    fn to_f32(self) -> f32;
    fn from_f32(v: f32) -> Self;
}

impl Element for f32 {
    fn to_f32(self) -> f32 {
        self
    }
    fn from_f32(v: f32) -> Self {
        v
    }
}

impl Element for bf16 {
    fn to_f32(self) -> f32 {
        bf16::to_f32(self)
    }
    fn from_f32(v: f32) -> Self {
        bf16::from_f32(v)
    }
}

impl CustomOp1 for LayerNorm {
    fn name(&self) -> &'static str {
        "norsk-layer-norm"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let (start, end) = self.check(l)?;
        let width = self.weight.len();
        let out = match s {
            CpuStorage::F32(a) => CpuStorage::F32(self.run(&a[start..end], None, width)),
            CpuStorage::BF16(a) => CpuStorage::BF16(self.run(&a[start..end], None, width)),
            other => bail!("layer norm on {:?} is not supported", other.dtype()),
        };
        Ok((out, l.shape().clone()))
    }
}

impl CustomOp2 for LayerNorm {
    fn name(&self) -> &'static str {
        "norsk-residual-layer-norm"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        if l1.shape() != l2.shape() {
            bail!(
                "residual of shape {:?} added to {:?}",
                l2.shape(),
                l1.shape()
            );
        }
        let (a0, a1) = self.check(l1)?;
        let (b0, b1) = self.check(l2)?;
        let width = self.weight.len();
        let out = match (s1, s2) {
            (CpuStorage::F32(a), CpuStorage::F32(b)) => {
                CpuStorage::F32(self.run(&a[a0..a1], Some(&b[b0..b1]), width))
            }
            (CpuStorage::BF16(a), CpuStorage::BF16(b)) => {
                CpuStorage::BF16(self.run(&a[a0..a1], Some(&b[b0..b1]), width))
            }
            (a, b) => bail!(
                "residual layer norm on {:?} and {:?} is not supported",
                a.dtype(),
                b.dtype()
            ),
        };
        Ok((out, l1.shape().clone()))
    }
}

/// The same layer norm built from tensor operations, so that gradients reach
/// its input, weight and bias (the fused kernel above has no backward pass
/// and keeps a copy of the weights). Same arithmetic: the mean first, then
/// the variance of the centred values, in f32.
#[derive(Debug, Clone)]
pub struct TensorLayerNorm {
    weight: Tensor,
    bias: Tensor,
    eps: f64,
}

impl TensorLayerNorm {
    /// Takes `weight` and `bias` of width `size` from the var builder as they
    /// are (variables stay variables).
    pub fn load(size: usize, eps: f64, vb: VarBuilder) -> candle_core::Result<Self> {
        Ok(Self {
            weight: vb.get(size, "weight")?,
            bias: vb.get(size, "bias")?,
            eps,
        })
    }

    /// `LayerNorm(x)`.
    pub fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let dtype = x.dtype();
        let x = x.to_dtype(DType::F32)?;
        let mean = x.mean_keepdim(D::Minus1)?;
        let centred = x.broadcast_sub(&mean)?;
        let var = centred.sqr()?.mean_keepdim(D::Minus1)?;
        let normed = centred.broadcast_div(&(var + self.eps)?.sqrt()?)?;
        let weight = self.weight.to_dtype(DType::F32)?;
        let bias = self.bias.to_dtype(DType::F32)?;
        normed
            .broadcast_mul(&weight)?
            .broadcast_add(&bias)?
            .to_dtype(dtype)
    }

    /// `LayerNorm(x + residual)`.
    pub fn forward_residual(&self, x: &Tensor, residual: &Tensor) -> candle_core::Result<Tensor> {
        self.forward(&(x + residual)?)
    }
}

/// The layer norm an encoder runs: the fused kernel for inference, tensor
/// operations for training.
#[derive(Debug, Clone)]
pub enum Norm {
    /// [`LayerNorm`]: one pass over memory, no gradients.
    Fused(LayerNorm),
    /// [`TensorLayerNorm`]: differentiable.
    Tensor(TensorLayerNorm),
}

impl Norm {
    /// Loads the fused kernel (`trainable == false`) or the differentiable one.
    pub fn load(
        size: usize,
        eps: f64,
        vb: VarBuilder,
        trainable: bool,
    ) -> candle_core::Result<Self> {
        Ok(if trainable {
            Self::Tensor(TensorLayerNorm::load(size, eps, vb)?)
        } else {
            Self::Fused(LayerNorm::load(size, eps, vb)?)
        })
    }

    /// `LayerNorm(x)`.
    pub fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        match self {
            Self::Fused(norm) => norm.forward(x),
            Self::Tensor(norm) => norm.forward(x),
        }
    }

    /// `LayerNorm(x + residual)`.
    pub fn forward_residual(&self, x: &Tensor, residual: &Tensor) -> candle_core::Result<Tensor> {
        match self {
            Self::Fused(norm) => norm.forward_residual(x, residual),
            Self::Tensor(norm) => norm.forward_residual(x, residual),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn matches_the_two_pass_formula_even_with_a_large_mean() {
        let ln = LayerNorm {
            weight: vec![1.0, 2.0, 0.5, 1.0],
            bias: vec![0.0, 0.1, 0.0, -0.1],
            eps: 1e-12,
        };
        let x = Tensor::new(&[[1000.0f32, 1000.5, 999.5, 1000.25]], &Device::Cpu).unwrap();
        let r = Tensor::zeros((1, 4), DType::F32, &Device::Cpu).unwrap();
        let got: Vec<f32> = ln
            .forward_residual(&x, &r)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let v = [1000.0f64, 1000.5, 999.5, 1000.25];
        let mean = v.iter().sum::<f64>() / 4.0;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 4.0;
        for i in 0..4 {
            let want = (v[i] - mean) / var.sqrt() * ln.weight[i] as f64 + ln.bias[i] as f64;
            assert!((got[i] as f64 - want).abs() < 1e-4, "{got:?}");
        }
    }

    #[test]
    fn the_tensor_norm_matches_the_fused_kernel_and_has_gradients() {
        let dev = Device::Cpu;
        let weight = vec![1.0f32, 2.0, 0.5, 1.0];
        let bias = vec![0.0f32, 0.1, 0.0, -0.1];
        let fused = LayerNorm {
            weight: weight.clone(),
            bias: bias.clone(),
            eps: 1e-12,
        };
        let w = candle_core::Var::new(weight.as_slice(), &dev).unwrap();
        let tensor = TensorLayerNorm {
            weight: w.as_tensor().clone(),
            bias: Tensor::new(bias.as_slice(), &dev).unwrap(),
            eps: 1e-12,
        };
        let x = Tensor::new(
            &[[1000.0f32, 1000.5, 999.5, 1000.25], [-1.0, 3.0, 0.5, 2.0]],
            &dev,
        )
        .unwrap();
        let r = Tensor::new(&[[0.5f32, 0.0, -0.5, 1.0], [1.0, 1.0, 1.0, 1.0]], &dev).unwrap();
        let a: Vec<Vec<f32>> = fused.forward_residual(&x, &r).unwrap().to_vec2().unwrap();
        let out = tensor.forward_residual(&x, &r).unwrap();
        let b: Vec<Vec<f32>> = out.to_vec2().unwrap();
        for (ra, rb) in a.iter().zip(&b) {
            for (va, vb) in ra.iter().zip(rb) {
                assert!((va - vb).abs() < 1e-5, "{a:?} vs {b:?}");
            }
        }
        let grads = out.sum_all().unwrap().backward().unwrap();
        assert!(grads.get(w.as_tensor()).is_some());
    }
}
