//! f32 linear layers for inference, with the bias and the activation applied
//! in the same op; the products run on the kernels chosen for this CPU
//! ([`crate::kernels`]), in f32 or, where the CPU has bf16 hardware, in bf16
//! with f32 accumulation.
//!
//! candle's `Linear` multiplies into a zeroed buffer, then adds the bias into
//! a second buffer, and an activation makes a third. Here the weights are
//! transposed once at load (`[in, out]`, so the product reads them row by
//! row), the output buffer starts as the bias rows and the product is added
//! into it, and the activation is applied in place: one buffer, no extra
//! passes over it. For a kernel library the transposed weights are cut once
//! into contiguous panels of output columns ([`Panels`]), one library call
//! per panel, and each panel's task sets its columns to the bias, adds its
//! product and applies the activation while they are in its cache.

use candle_core::{bail, CpuStorage, CustomOp1, DType, Layout, Shape, Tensor};
use candle_nn::Linear;
use rayon::prelude::*;

use crate::fast_math;
use crate::kernels::{self, Bf16Product, F32Kernel, F32Product, ProductLibrary, SharedMut};
use crate::product::{multiply, Strided};
use crate::rows::{map_rows, zeros};
use crate::HiddenAct;

/// Values per unit of work when an activation runs on the worker threads.
const ACTIVATION_CHUNK: usize = 16 * 1024;

/// Output columns per panel of a library's weights at most. oneDNN's `sgemm`
/// on 128 rows read `768 × 3072` weights at 65 GFLOP/s with their whole row
/// as the stride and at 90 from contiguous panels 384 columns wide (AMD EPYC
/// Zen 3, one thread); 1,024 rows ran at 94–95 either way.
const PANEL_COLUMNS: usize = 384;

/// A linear layer `y = act(x Wᵀ + b)` for f32 inference.
pub struct FloatLinear {
    /// `Wᵀ`: `[in, out]`, row-major, in the precision of the products.
    weight: Weight,
    bias: Option<Vec<f32>>,
    activation: Option<HiddenAct>,
    in_features: usize,
    out_features: usize,
}

/// The weights as the products read them.
enum Weight {
    /// f32 `[in, out]`, for the `gemm` crate.
    Whole(Vec<f32>),
    /// f32 panels, for a library's f32 product.
    F32(Panels<f32>, &'static dyn ProductLibrary),
    /// bf16 bits in panels, converted once at load, for a library's bf16
    /// product.
    Bf16(Panels<u16>, &'static dyn ProductLibrary),
}

/// `Wᵀ` (`[in, out]`) cut into panels of output columns, each `[in, width]`
/// row-major and contiguous: a library reads a panel with a short stride
/// and one library call computes one panel. The panels are as many as the
/// threads or a multiple of them, so that every thread gets the same work,
/// and at most [`PANEL_COLUMNS`] wide (multiples of 16; the last one may be
/// narrower).
struct Panels<T> {
    data: Vec<T>,
    in_features: usize,
    out_features: usize,
    width: usize,
}

impl<T: Copy + Send + Sync> Panels<T> {
    /// Cuts row-major `[in, out]` values into panels for this process's
    /// threads.
    fn new(transposed: &[T], in_features: usize, out_features: usize) -> Self {
        let threads = candle_core::utils::get_num_threads().max(1);
        let panels = out_features.div_ceil(PANEL_COLUMNS).div_ceil(threads) * threads;
        let width = out_features.div_ceil(panels).div_ceil(16) * 16;
        let mut data = Vec::with_capacity(transposed.len());
        for start in (0..out_features).step_by(width) {
            let end = (start + width).min(out_features);
            for row in transposed.chunks_exact(out_features) {
                data.extend_from_slice(&row[start..end]);
            }
        }
        Self {
            data,
            in_features,
            out_features,
            width,
        }
    }

    /// The same panels with each value converted.
    fn map<U>(&self, convert: impl Fn(T) -> U) -> Panels<U> {
        Panels {
            data: self.data.iter().map(|&v| convert(v)).collect(),
            in_features: self.in_features,
            out_features: self.out_features,
            width: self.width,
        }
    }

    /// Runs `panel(first column, width, values)` for every panel on rayon's
    /// threads.
    fn par_for_each(&self, panel: impl Fn(usize, usize, &[T]) + Sync) {
        let (k, n) = (self.in_features, self.out_features);
        (0..n.div_ceil(self.width)).into_par_iter().for_each(|p| {
            let start = p * self.width;
            let width = self.width.min(n - start);
            panel(start, width, &self.data[start * k..(start + width) * k]);
        });
    }
}

impl FloatLinear {
    /// Lays out an f32 linear layer's weights (`[out, in]`) for the product;
    /// `activation` is applied to its output.
    pub fn from_linear(
        linear: &Linear,
        activation: Option<HiddenAct>,
    ) -> candle_core::Result<Self> {
        Self::with_kernel(linear, activation, kernels::selected().f32)
    }

    /// As [`FloatLinear::from_linear`], with the products in bf16 where this
    /// CPU has bf16 products ([`kernels::Kernels::bf16`]), else in f32.
    pub fn bf16_from_linear(
        linear: &Linear,
        activation: Option<HiddenAct>,
    ) -> candle_core::Result<Self> {
        let mut layer = Self::from_linear(linear, activation)?;
        if let Some(library) = kernels::selected().bf16 {
            layer.use_bf16(library);
        }
        Ok(layer)
    }

    /// As [`FloatLinear::from_linear`], on the given f32 kernel.
    pub(crate) fn with_kernel(
        linear: &Linear,
        activation: Option<HiddenAct>,
        kernel: F32Kernel,
    ) -> candle_core::Result<Self> {
        let weight = linear.weight();
        if weight.dtype() != DType::F32 {
            bail!("FloatLinear takes f32 weights, got {:?}", weight.dtype());
        }
        let (out_features, in_features) = weight.dims2()?;
        let weight = weight.t()?.contiguous()?.flatten_all()?.to_vec1::<f32>()?;
        let bias = match linear.bias() {
            Some(b) => Some(b.to_dtype(DType::F32)?.to_vec1::<f32>()?),
            None => None,
        };
        let weight = match kernel {
            F32Kernel::GemmCrate => Weight::Whole(weight),
            F32Kernel::Library(library) => {
                Weight::F32(Panels::new(&weight, in_features, out_features), library)
            }
        };
        Ok(Self {
            weight,
            bias,
            activation,
            in_features,
            out_features,
        })
    }

    /// `act(x Wᵀ + b)` for f32 `x` of shape `[..., in]`.
    pub fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        x.contiguous()?.apply_op1_no_bwd(self)
    }

    /// The product over contiguous rows `x` (`[m, in]`), as `[m, out]`.
    fn product(&self, x: &[f32]) -> Vec<f32> {
        let (k, n) = (self.in_features, self.out_features);
        let m = x.len() / k;
        let mut out = zeros::<f32>(m * n);
        let dst = SharedMut(out.as_mut_ptr());
        match &self.weight {
            Weight::Whole(weight) => {
                out.par_chunks_mut(n)
                    .for_each(|row| self.start_columns(row, 0));
                let threads = candle_core::utils::get_num_threads();
                let parallelism = if threads > 1 {
                    gemm::Parallelism::Rayon(threads)
                } else {
                    gemm::Parallelism::None
                };
                // Safety: `out` is m × n, `x` is m × k and `weight` is k × n,
                // all row-major.
                unsafe {
                    multiply(
                        (m, n, k),
                        Strided::rows(out.as_mut_ptr(), n),
                        self.bias.is_some(),
                        Strided::rows(x.as_ptr(), k),
                        Strided::rows(weight.as_ptr(), n),
                        1.0,
                        parallelism,
                    );
                }
                if let Some(act) = self.activation {
                    out.par_chunks_mut(ACTIVATION_CHUNK)
                        .for_each(|chunk| fast_math::activate(chunk, act));
                }
            }
            Weight::F32(panels, library) => panels.par_for_each(|start, width, panel| {
                // Safety: as above, the panel being `[k, width]`; each panel
                // starts, multiplies and finishes its own columns.
                unsafe {
                    self.in_columns(dst, m, start, width, |c| {
                        library.sgemm(F32Product {
                            m,
                            n: width,
                            k,
                            alpha: 1.0,
                            a: x.as_ptr(),
                            lda: k,
                            b: panel.as_ptr(),
                            ldb: width,
                            b_transposed: false,
                            c,
                            ldc: n,
                            accumulate: true,
                        })
                    })
                }
            }),
            Weight::Bf16(panels, library) => {
                let x: Vec<u16> = x
                    .par_iter()
                    .map(|&v| half::bf16::from_f32(v).to_bits())
                    .collect();
                panels.par_for_each(|start, width, panel| {
                    // Safety: as above, in bf16.
                    unsafe {
                        self.in_columns(dst, m, start, width, |c| {
                            library.bf16gemm(Bf16Product {
                                m,
                                n: width,
                                k,
                                a: x.as_ptr(),
                                lda: k,
                                b: panel.as_ptr(),
                                ldb: width,
                                c,
                                ldc: n,
                            })
                        })
                    }
                });
            }
        }
        out
    }

    /// Sets `row`, the output columns from `first` on, to the bias, if
    /// there is one, for the product to be added to (the output starts as
    /// zeros).
    fn start_columns(&self, row: &mut [f32], first: usize) {
        if let Some(bias) = &self.bias {
            row.copy_from_slice(&bias[first..first + row.len()]);
        }
    }

    /// Columns `start..start + width` of the `m × n` output at `dst`, on one
    /// task while they are in its cache: starts them
    /// ([`FloatLinear::start_columns`]), lets `add_product` add the product
    /// at the block's first value (row stride `n`), then applies the
    /// activation.
    ///
    /// # Safety
    /// `dst` holds `m × out_features` values, of which no other task touches
    /// these columns while this runs.
    unsafe fn in_columns(
        &self,
        dst: SharedMut<f32>,
        m: usize,
        start: usize,
        width: usize,
        add_product: impl FnOnce(*mut f32),
    ) {
        let n = self.out_features;
        // Safety: row r's block lies within `dst` and belongs to this task.
        let row = |r: usize| unsafe {
            std::slice::from_raw_parts_mut(dst.get().add(r * n + start), width)
        };
        for r in 0..m {
            self.start_columns(row(r), start);
        }
        // Safety: the caller's product covers exactly this block.
        add_product(unsafe { dst.get().add(start) });
        if let Some(act) = self.activation {
            for r in 0..m {
                fast_math::activate(row(r), act);
            }
        }
    }
}

impl FloatLinear {
    /// Converts the weights once to bf16 for `library`'s bf16 product.
    fn use_bf16(&mut self, library: &'static dyn ProductLibrary) {
        let to_bf16 = |v: f32| half::bf16::from_f32(v).to_bits();
        let panels = match &self.weight {
            Weight::Whole(w) => Panels::new(w, self.in_features, self.out_features).map(to_bf16),
            Weight::F32(panels, _) => panels.map(to_bf16),
            Weight::Bf16(..) => return,
        };
        self.weight = Weight::Bf16(panels, library);
    }
}

impl CustomOp1 for FloatLinear {
    fn name(&self) -> &'static str {
        "norsk-f32-linear"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let shape = (self.in_features, self.out_features);
        map_rows("f32 linear", s, l, shape, |x| self.product(x))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util;
    use candle_core::{Device, Module};

    fn candle_act(x: &Tensor, act: Option<HiddenAct>) -> Tensor {
        match act {
            None => x.clone(),
            Some(HiddenAct::Gelu) => x.gelu_erf().unwrap(),
            Some(HiddenAct::GeluNew) => x.gelu().unwrap(),
            Some(HiddenAct::Relu) => x.relu().unwrap(),
        }
    }

    /// The `gemm` crate and every kernel library this machine can open.
    fn every_f32_kernel() -> Vec<F32Kernel> {
        let mut all = vec![F32Kernel::GemmCrate];
        all.extend(
            kernels::test_libraries()
                .into_iter()
                .map(F32Kernel::Library),
        );
        all
    }

    #[test]
    fn matches_candle_linear_and_activation() {
        let acts = [
            None,
            Some(HiddenAct::Gelu),
            Some(HiddenAct::GeluNew),
            Some(HiddenAct::Relu),
        ];
        // The last shape has several panels, one of them narrower.
        for ((m, k, n), act) in [(1, 5, 3), (7, 33, 17), (300, 64, 80), (5, 24, 785)]
            .into_iter()
            .zip(acts)
        {
            for with_bias in [true, false] {
                let w = Tensor::from_vec(test_util::random(n * k, 1, 2.0), (n, k), &Device::Cpu)
                    .unwrap();
                let b = Tensor::from_vec(test_util::random(n, 2, 2.0), n, &Device::Cpu).unwrap();
                let layer = Linear::new(w, with_bias.then_some(b));
                let x = Tensor::from_vec(test_util::random(m * k, 3, 2.0), (1, m, k), &Device::Cpu)
                    .unwrap();
                let want = candle_act(&layer.forward(&x).unwrap(), act);
                for kernel in every_f32_kernel() {
                    let got = FloatLinear::with_kernel(&layer, act, kernel)
                        .unwrap()
                        .forward(&x)
                        .unwrap();
                    let err = test_util::max_abs_diff(&got, &want);
                    assert!(
                        err < 1e-4,
                        "{} m={m} k={k} n={n} {act:?} bias={with_bias}: {err}",
                        kernel.name()
                    );
                }
                for library in kernels::test_libraries()
                    .into_iter()
                    .filter(|l| l.has_bf16())
                {
                    let mut bf16 = FloatLinear::from_linear(&layer, act).unwrap();
                    bf16.use_bf16(library);
                    let got = bf16.forward(&x).unwrap();
                    // bf16 keeps 8 bits of each input: relative error about
                    // 2⁻⁸ per term, for k terms of size up to 4.
                    let err = test_util::max_abs_diff(&got, &want);
                    let bound = 0.02 * (k as f32).sqrt() * 4.0;
                    assert!(
                        err < bound,
                        "{} bf16 m={m} k={k} n={n}: {err}",
                        library.name()
                    );
                }
            }
        }
    }

    #[test]
    fn rejects_other_dtypes_and_shapes() {
        let w = Tensor::zeros((3, 4), DType::BF16, &Device::Cpu).unwrap();
        assert!(FloatLinear::from_linear(&Linear::new(w, None), None).is_err());
        let w = Tensor::zeros((3, 4), DType::F32, &Device::Cpu).unwrap();
        let layer = FloatLinear::from_linear(&Linear::new(w, None), None).unwrap();
        let x = Tensor::zeros((2, 5), DType::F32, &Device::Cpu).unwrap();
        assert!(layer.forward(&x).is_err());
    }
}
