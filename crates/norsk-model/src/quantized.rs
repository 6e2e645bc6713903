//! Dynamic int8 quantization of linear layers, as ONNX Runtime's
//! `quantize_dynamic` does it: weights quantized once at load, per output
//! channel, and activations quantized per row on the fly before each product.
//!
//! * **Weights**: symmetric, one scale per output column, values in
//!   `[-127, 127]`.
//! * **Activations**: asymmetric per row (scale and zero point from the
//!   row's range, which always includes 0), levels in `[0, 255]` where the
//!   product adds `u8 × i8` quads straight into `i32` (AVX512-VNNI, AMX),
//!   else in `[0, 63]`, so that the sums of two of AVX2's `vpmaddubsw` pairs
//!   stay inside `i16` ([`Int8Ranges`]). Either way the integer result is
//!   exact.
//! * **Product**: `i32` sums of `u8 × i8`, then
//!   `y = s_row · s_col · (Σ q_a q_w − z_row · Σ q_w) + bias` in f32.
//!
//! The weights are packed once into panels of [`NR`] output columns × 4
//! inputs, the layout the AVX2 kernel reads with one load per 8 columns and
//! the AVX512-VNNI kernel with one load per 16; a portable kernel over the
//! same layout gives the same integers where neither runs.

use candle_core::{CpuStorage, CustomOp1, Layout, Shape, Tensor};
use candle_nn::Linear;
use rayon::prelude::*;

use crate::fast_math;
use crate::kernels::{
    self, Int8Kernel, Int8Product, Int8Ranges, PackedInt8, ProductLibrary, SharedMut,
};
use crate::rows::{map_rows, zeros};
use crate::HiddenAct;

/// The largest int8 weight magnitude (weights are symmetric).
const WEIGHT_MAX: f32 = 127.0;
/// Output columns per packed panel.
const NR: usize = 16;
/// Rows per kernel call.
const MR: usize = 4;
/// Inputs per packed group (one `i32` broadcast of activations).
const KG: usize = 4;
/// Groups the AVX2 kernel adds in `i16` before widening them to `i32`.
const SUMMED_GROUPS: usize = 2;
/// Inputs are padded with zeros to a multiple of this.
const K_ALIGN: usize = KG * SUMMED_GROUPS;

/// `in_features` padded with zeros to a multiple of [`K_ALIGN`], as the
/// packed weights and the quantized rows both hold them.
fn padded_inputs(in_features: usize) -> usize {
    in_features.div_ceil(K_ALIGN) * K_ALIGN
}
/// Rows handed to one worker at a time.
const ROWS_PER_TASK: usize = 16 * MR;
/// Rows of one tile on a library's packed weights: its `i32` products for
/// the widest layer (64 × 3072 × 4 bytes) stay in a core's L2 cache until
/// they are dequantized.
const LIBRARY_TILE_ROWS: usize = 64;

/// A linear layer `y = act(x Wᵀ + b)` with int8 weights and dynamically
/// quantized activations; the activation is applied by each task to its own
/// rows while they are in cache.
pub struct QuantizedLinear {
    weights: Weights,
    /// One scale per output column.
    scales: Vec<f32>,
    /// `Σ_k q_w` per output column, for the activations' zero point.
    col_sums: Vec<i32>,
    /// The bias, zeros where the layer has none.
    bias: Vec<f32>,
    activation: Option<HiddenAct>,
    /// How the operands share their bits.
    ranges: Int8Ranges,
    in_features: usize,
    out_features: usize,
}

/// The quantized weights, laid out for the kernel that reads them.
enum Weights {
    /// `[panels][k / KG][NR][KG]`, zero beyond the real columns and inputs,
    /// for norsk's own kernels.
    Packed(Vec<i8>, Kernel),
    /// `[out, in]` rows, for a kernel library.
    Rows(Vec<i8>, &'static dyn ProductLibrary),
    /// Laid out once by a kernel library for tiles of
    /// [`LIBRARY_TILE_ROWS`] rows.
    Library(PackedInt8),
}

impl QuantizedLinear {
    /// Quantizes a linear layer's weights (`[out, in]`) and keeps its bias;
    /// `activation` is applied to its output. The products run on the int8
    /// kernel chosen for this CPU ([`crate::kernels`]), with weights as wide
    /// as it multiplies exactly.
    pub fn from_linear(
        linear: &Linear,
        activation: Option<HiddenAct>,
    ) -> candle_core::Result<Self> {
        let chosen = kernels::selected();
        Self::with_kernel(linear, activation, chosen.int8, chosen.int8_ranges)
    }

    /// As [`QuantizedLinear::from_linear`], on the given kernel with the
    /// given operand ranges.
    pub(crate) fn with_kernel(
        linear: &Linear,
        activation: Option<HiddenAct>,
        kernel: Int8Kernel,
        ranges: Int8Ranges,
    ) -> candle_core::Result<Self> {
        Self::build(linear, activation, kernel, ranges, LibraryLayout::Packed)
    }

    /// As [`QuantizedLinear::with_kernel`]; a library's weights are packed
    /// for it where it can, or kept as rows.
    fn build(
        linear: &Linear,
        activation: Option<HiddenAct>,
        kernel: Int8Kernel,
        ranges: Int8Ranges,
        layout: LibraryLayout,
    ) -> candle_core::Result<Self> {
        let weight = linear.weight().to_dtype(candle_core::DType::F32)?;
        let (out_features, in_features) = weight.dims2()?;
        let rows = weight.to_vec2::<f32>()?;
        let bias = match linear.bias() {
            Some(b) => b.to_dtype(candle_core::DType::F32)?.to_vec1::<f32>()?,
            None => vec![0.0; out_features],
        };
        let mut quantized = vec![0i8; out_features * in_features];
        let mut scales = Vec::with_capacity(out_features);
        let mut col_sums = Vec::with_capacity(out_features);
        for (row, dst) in rows.iter().zip(quantized.chunks_exact_mut(in_features)) {
            let max = row.iter().fold(0f32, |m, v| m.max(v.abs()));
            let scale = if max > 0.0 { max / WEIGHT_MAX } else { 1.0 };
            for (d, &w) in dst.iter_mut().zip(row) {
                *d = (w / scale).round().clamp(-WEIGHT_MAX, WEIGHT_MAX) as i8;
            }
            scales.push(scale);
            col_sums.push(dst.iter().map(|&q| q as i32).sum());
        }
        let weights = match kernel {
            Int8Kernel::Library(library) => {
                let packed = (layout == LibraryLayout::Packed)
                    .then(|| {
                        library.pack_int8(
                            &quantized,
                            [out_features, in_features],
                            LIBRARY_TILE_ROWS,
                        )
                    })
                    .flatten();
                match packed {
                    Some(packed) => Weights::Library(packed),
                    None => Weights::Rows(quantized, library),
                }
            }
            own => Weights::Packed(pack(&quantized, in_features), Kernel::of(own, ranges)),
        };
        Ok(Self {
            weights,
            scales,
            col_sums,
            bias,
            activation,
            ranges,
            in_features,
            out_features,
        })
    }

    /// `act(x Wᵀ + b)` for f32 `x` of shape `[..., in]`.
    pub fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        x.contiguous()?.apply_op1_no_bwd(self)
    }

    /// The product over contiguous rows of `x`, written into `out`.
    fn matmul(&self, x: &[f32], out: &mut [f32]) {
        let k = self.in_features;
        let n = self.out_features;
        match &self.weights {
            Weights::Packed(packed, kernel) => out
                .par_chunks_mut(ROWS_PER_TASK * n)
                .zip(x.par_chunks(ROWS_PER_TASK * k))
                .for_each(|(out, x)| {
                    self.packed_rows(packed, *kernel, x, out);
                    if let Some(act) = self.activation {
                        fast_math::activate(out, act);
                    }
                }),
            Weights::Rows(rows, library) => self.library_rows(rows, *library, x, out),
            Weights::Library(packed) => out
                .par_chunks_mut(LIBRARY_TILE_ROWS * n)
                .zip(x.par_chunks(LIBRARY_TILE_ROWS * k))
                .for_each_init(TileBuffers::default, |buffers, (out, x)| {
                    self.library_tile(packed, buffers, x, out)
                }),
        }
    }

    /// Quantizes up to [`LIBRARY_TILE_ROWS`] rows, lets the library multiply
    /// the tile and dequantizes it while in cache. Rows below the tile's
    /// last hold what an earlier tile left; their products are not read.
    fn library_tile(
        &self,
        packed: &PackedInt8,
        buffers: &mut TileBuffers,
        x: &[f32],
        out: &mut [f32],
    ) {
        let k = self.in_features;
        let n = self.out_features;
        let TileBuffers { quantized, acc } = buffers;
        // Sized once per worker and layer: no zeroing per tile.
        quantized.resize(LIBRARY_TILE_ROWS * k, 0);
        acc.resize(LIBRARY_TILE_ROWS * n, 0);
        let row_params: Vec<(f32, i32)> = x
            .chunks_exact(k)
            .zip(quantized.chunks_exact_mut(k))
            .map(|(row, dst)| quantize_row(row, dst, self.ranges))
            .collect();
        // Safety: `quantized` holds the tile's rows × k, `acc` rows × n.
        unsafe { packed.multiply(quantized.as_ptr(), acc.as_mut_ptr()) };
        for ((acc_row, out_row), params) in acc
            .chunks_exact(n)
            .zip(out.chunks_exact_mut(n))
            .zip(row_params)
        {
            self.dequantize(acc_row, params, 0, out_row);
            if let Some(act) = self.activation {
                fast_math::activate(out_row, act);
            }
        }
    }

    /// Quantizes a block of rows and multiplies it panel by panel.
    fn packed_rows(&self, packed: &[i8], kernel: Kernel, x: &[f32], out: &mut [f32]) {
        let k = self.in_features;
        let n = self.out_features;
        let m = x.len() / k;
        let kp = padded_inputs(k);
        let blocks = m.div_ceil(MR);
        let mut quantized = vec![0u8; blocks * MR * kp];
        let mut row_scale = vec![0f32; blocks * MR];
        let mut row_zero = vec![0i32; blocks * MR];
        for (r, row) in x.chunks_exact(k).enumerate() {
            let (scale, zero) = quantize_row(row, &mut quantized[r * kp..r * kp + k], self.ranges);
            row_scale[r] = scale;
            row_zero[r] = zero;
        }
        let groups = kp / KG;
        for (panel, weights) in packed.chunks_exact(groups * NR * KG).enumerate() {
            let cols = panel * NR..((panel + 1) * NR).min(n);
            for block in 0..blocks {
                let acc = kernel.run(
                    &quantized[block * MR * kp..(block + 1) * MR * kp],
                    weights,
                    groups,
                );
                for (i, acc_row) in acc.iter().enumerate() {
                    let r = block * MR + i;
                    if r >= m {
                        break;
                    }
                    self.dequantize(
                        &acc_row[..cols.len()],
                        (row_scale[r], row_zero[r]),
                        cols.start,
                        &mut out[r * n + cols.start..r * n + cols.end],
                    );
                }
            }
        }
    }

    /// Quantizes all rows, then lets the library multiply one block of
    /// output columns per thread, each block dequantized while in cache.
    fn library_rows(&self, rows: &[i8], library: &dyn ProductLibrary, x: &[f32], out: &mut [f32]) {
        let k = self.in_features;
        let n = self.out_features;
        let m = x.len() / k;
        let mut quantized = vec![0u8; m * k];
        let row_params: Vec<(f32, i32)> = x
            .par_chunks(k)
            .zip(quantized.par_chunks_mut(k))
            .map(|(row, dst)| quantize_row(row, dst, self.ranges))
            .collect();
        let dst = SharedMut(out.as_mut_ptr());
        kernels::column_blocks(n, |start, end| {
            let width = end - start;
            let mut acc = vec![0i32; m * width];
            // Safety: `quantized` is m × k, `rows` n × k, `acc` m × width.
            unsafe {
                library.igemm(Int8Product {
                    m,
                    n: width,
                    k,
                    a: quantized.as_ptr(),
                    lda: k,
                    b: rows.as_ptr().add(start * k),
                    ldb: k,
                    c: acc.as_mut_ptr(),
                    ldc: width,
                });
            }
            for (r, acc_row) in acc.chunks_exact(width).enumerate() {
                // Safety: this block alone writes columns start..end of row r.
                let out_row =
                    unsafe { std::slice::from_raw_parts_mut(dst.get().add(r * n + start), width) };
                self.dequantize(acc_row, row_params[r], start, out_row);
                if let Some(act) = self.activation {
                    fast_math::activate(out_row, act);
                }
            }
        });
    }

    /// `y = s_row · s_col · (Σ q_a q_w − z_row · Σ q_w) + bias` for the
    /// columns from `first_col` on.
    fn dequantize(
        &self,
        acc: &[i32],
        (row_scale, row_zero): (f32, i32),
        first_col: usize,
        dst: &mut [f32],
    ) {
        let cols = first_col..first_col + dst.len();
        let (sums, scales, bias) = (
            &self.col_sums[cols.clone()],
            &self.scales[cols.clone()],
            &self.bias[cols],
        );
        // Plain zipped slices, so the loop vectorizes.
        fast_math::vectorized(|| {
            for ((((d, &sum), &col_sum), &scale), &b) in
                dst.iter_mut().zip(acc).zip(sums).zip(scales).zip(bias)
            {
                *d = (sum - row_zero * col_sum) as f32 * (row_scale * scale) + b;
            }
        })
    }
}

/// A worker's quantized tile and its integer products, kept from tile to
/// tile.
#[derive(Default)]
struct TileBuffers {
    quantized: Vec<u8>,
    acc: Vec<i32>,
}

/// How a kernel library's weights are kept.
#[derive(Clone, Copy, PartialEq, Eq)]
enum LibraryLayout {
    /// In the library's own layout where it has one.
    Packed,
    /// As `[out, in]` rows (the tests' way to reach the row product).
    #[cfg_attr(not(test), allow(dead_code))]
    Rows,
}

/// Packs `[out, in]` int8 rows into panels of [`NR`] columns × [`KG`] inputs.
fn pack(rows: &[i8], in_features: usize) -> Vec<i8> {
    let out_features = rows.len() / in_features;
    let groups = padded_inputs(in_features) / KG;
    let panels = out_features.div_ceil(NR);
    let mut packed = vec![0i8; panels * groups * NR * KG];
    for (col, row) in rows.chunks_exact(in_features).enumerate() {
        let (panel, c) = (col / NR, col % NR);
        for (k, &q) in row.iter().enumerate() {
            packed[((panel * groups + k / KG) * NR + c) * KG + k % KG] = q;
        }
    }
    packed
}

impl CustomOp1 for QuantizedLinear {
    fn name(&self) -> &'static str {
        "norsk-int8-linear"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let shape = (self.in_features, self.out_features);
        map_rows("int8 linear", s, l, shape, |x| {
            let mut out = zeros(x.len() / self.in_features * self.out_features);
            self.matmul(x, &mut out);
            out
        })
    }
}

/// Quantizes one row to levels `0..=ranges.activation_max()` with the row's
/// own scale and zero point.
fn quantize_row(row: &[f32], dst: &mut [u8], ranges: Int8Ranges) -> (f32, i32) {
    let top = ranges.activation_max();
    let (lo, hi) = fast_math::min_max(row);
    let (lo, hi) = (lo.min(0.0), hi.max(0.0));
    let range = hi - lo;
    let scale = if range > 0.0 && range.is_finite() {
        range / top
    } else {
        1.0
    };
    let zero = (-lo / scale).round().clamp(0.0, top);
    let levels = Levels {
        inv: 1.0 / scale,
        zero,
        top,
    };
    quantize_values_on_this_cpu(row, dst, levels);
    (scale, zero as i32)
}

/// How [`quantize_values`] maps a value to a level.
#[derive(Clone, Copy)]
struct Levels {
    /// One over the scale.
    inv: f32,
    /// The level of 0.
    zero: f32,
    /// The highest level.
    top: f32,
}

/// [`quantize_values`], 32 values at a time where the kernels may use AVX2.
fn quantize_values_on_this_cpu(row: &[f32], dst: &mut [u8], levels: Levels) {
    #[cfg(target_arch = "x86_64")]
    if fast_math::has_avx2() {
        // Safety: the CPU has AVX2.
        return unsafe { quantize_values_avx2(row, dst, levels) };
    }
    quantize_values(row, dst, levels);
}

/// `q = round(v / scale) + zero`, clamped to `[0, top]` (NaN gives 0).
fn quantize_values(row: &[f32], dst: &mut [u8], Levels { inv, zero, top }: Levels) {
    for (d, &v) in dst.iter_mut().zip(row) {
        // Rounds half up like `round` does for these non-negative values
        // (the value is in [0.5, top + 0.5]).
        *d = ((v * inv + zero).clamp(0.0, top) + 0.5) as i32 as u8;
    }
}

/// [`quantize_values`] on 32 values at a time, to the same bytes: the
/// compiler's own loop converts each value alone (Rust's saturating float →
/// int conversion), which made quantizing 10 % of the int8 pass.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn quantize_values_avx2(row: &[f32], dst: &mut [u8], levels: Levels) {
    use std::arch::x86_64::*;
    let n = row.len().min(dst.len());
    let (inv_v, zero_v) = (_mm256_set1_ps(levels.inv), _mm256_set1_ps(levels.zero));
    let (low, high, half) = (
        _mm256_setzero_ps(),
        _mm256_set1_ps(levels.top),
        _mm256_set1_ps(0.5),
    );
    // `packus` interleaves the 128-bit lanes; this puts the 4-byte groups
    // back in row order.
    let order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    let whole = n / 32 * 32;
    for i in (0..whole).step_by(32) {
        let q = |j: usize| {
            let v = _mm256_loadu_ps(row.as_ptr().add(i + j));
            // `max` first: it returns its second operand, 0, for NaN.
            let v = _mm256_max_ps(_mm256_add_ps(_mm256_mul_ps(v, inv_v), zero_v), low);
            _mm256_cvttps_epi32(_mm256_add_ps(_mm256_min_ps(v, high), half))
        };
        let words = _mm256_packus_epi16(
            _mm256_packus_epi32(q(0), q(8)),
            _mm256_packus_epi32(q(16), q(24)),
        );
        let bytes = _mm256_permutevar8x32_epi32(words, order);
        _mm256_storeu_si256(dst.as_mut_ptr().add(i) as *mut __m256i, bytes);
    }
    quantize_values(&row[whole..n], &mut dst[whole..n], levels);
}

/// norsk's own integer kernels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kernel {
    Portable,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    #[cfg(target_arch = "x86_64")]
    Avx512Vnni,
}

impl Kernel {
    /// The kernel that runs `own` with operands in `ranges` on this CPU:
    /// the portable one where the CPU lacks its instructions, and for full
    /// ranges in place of the AVX2 one (they would saturate `vpmaddubsw`'s
    /// pair sums).
    fn of(own: Int8Kernel, ranges: Int8Ranges) -> Self {
        match own {
            #[cfg(target_arch = "x86_64")]
            Int8Kernel::Avx2
                if is_x86_feature_detected!("avx2") && ranges == Int8Ranges::SixBitActivations =>
            {
                Kernel::Avx2
            }
            #[cfg(target_arch = "x86_64")]
            Int8Kernel::Avx512Vnni if is_x86_feature_detected!("avx512vnni") => Kernel::Avx512Vnni,
            _ => Kernel::Portable,
        }
    }

    /// `Σ_k a[r][k] · w[c][k]` for the [`MR`] rows of `a` (stride
    /// `groups · KG`, a multiple of [`K_ALIGN`]) and the [`NR`] columns of
    /// one packed panel.
    fn run(self, a: &[u8], panel: &[i8], groups: usize) -> [[i32; NR]; MR] {
        assert!(a.len() >= MR * groups * KG && panel.len() >= groups * NR * KG);
        assert_eq!(groups % SUMMED_GROUPS, 0, "inputs not padded to {K_ALIGN}");
        match self {
            Kernel::Portable => portable(a, panel, groups),
            // Safety: AVX2 was detected and the slices are long enough.
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => unsafe { avx2(a, panel, groups) },
            // Safety: AVX512-VNNI was detected and the slices are long enough.
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512Vnni => unsafe { avx512_vnni(a, panel, groups) },
        }
    }
}

fn portable(a: &[u8], panel: &[i8], groups: usize) -> [[i32; NR]; MR] {
    let kp = groups * KG;
    let mut acc = [[0i32; NR]; MR];
    for g in 0..groups {
        let w = &panel[g * NR * KG..(g + 1) * NR * KG];
        for (r, acc_row) in acc.iter_mut().enumerate() {
            let a = &a[r * kp + g * KG..r * kp + (g + 1) * KG];
            for (c, sum) in acc_row.iter_mut().enumerate() {
                let w = &w[c * KG..(c + 1) * KG];
                *sum += a
                    .iter()
                    .zip(w)
                    .map(|(&x, &y)| x as i32 * y as i32)
                    .sum::<i32>();
            }
        }
    }
    acc
}

/// `vpmaddubsw` multiplies the row's 4 inputs of a group, broadcast, with
/// 8 columns × 4 inputs of weights and adds them in pairs into `i16`; with
/// 6-bit activations the pair sums of [`SUMMED_GROUPS`] groups still fit in
/// `i16` (`2 · 2 · 63 · 127 < 2¹⁵`), so one `vpmaddwd` widens the sum of two
/// groups into `i32`: three multiplying instructions per 64 products where
/// widening each group takes four. (Four groups with 5-bit activations ran
/// no faster on an AMD EPYC Zen 3.)
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn avx2(a: &[u8], panel: &[i8], groups: usize) -> [[i32; NR]; MR] {
    use std::arch::x86_64::*;
    let kp = groups * KG;
    let ones = _mm256_set1_epi16(1);
    let mut acc = [[_mm256_setzero_si256(); 2]; MR];
    let a = a.as_ptr();
    let w = panel.as_ptr();
    for g in (0..groups).step_by(SUMMED_GROUPS) {
        for (r, acc_row) in acc.iter_mut().enumerate() {
            let mut sums = [_mm256_setzero_si256(); 2];
            for j in 0..SUMMED_GROUPS {
                let x = (a.add(r * kp + (g + j) * KG) as *const i32).read_unaligned();
                let x = _mm256_set1_epi32(x);
                let w = w.add((g + j) * NR * KG);
                let w0 = _mm256_loadu_si256(w as *const __m256i);
                let w1 = _mm256_loadu_si256(w.add(32) as *const __m256i);
                sums[0] = _mm256_add_epi16(sums[0], _mm256_maddubs_epi16(x, w0));
                sums[1] = _mm256_add_epi16(sums[1], _mm256_maddubs_epi16(x, w1));
            }
            acc_row[0] = _mm256_add_epi32(acc_row[0], _mm256_madd_epi16(sums[0], ones));
            acc_row[1] = _mm256_add_epi32(acc_row[1], _mm256_madd_epi16(sums[1], ones));
        }
    }
    let mut out = [[0i32; NR]; MR];
    for (dst, src) in out.iter_mut().zip(&acc) {
        _mm256_storeu_si256(dst.as_mut_ptr() as *mut __m256i, src[0]);
        _mm256_storeu_si256(dst.as_mut_ptr().add(8) as *mut __m256i, src[1]);
    }
    out
}

/// One `vpdpbusd` per row and group: the 16 columns × 4 inputs of a group
/// are one 64-byte register, multiplied with the row's 4 inputs broadcast
/// and added as quads straight into `i32` (no `i16` step that could
/// saturate, so weights may have 8 bits).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vnni")]
unsafe fn avx512_vnni(a: &[u8], panel: &[i8], groups: usize) -> [[i32; NR]; MR] {
    use std::arch::x86_64::*;
    let kp = groups * KG;
    let mut acc = [_mm512_setzero_si512(); MR];
    let a = a.as_ptr();
    let w = panel.as_ptr();
    for g in 0..groups {
        let weights = _mm512_loadu_si512(w.add(g * NR * KG) as *const _);
        for (r, acc_row) in acc.iter_mut().enumerate() {
            let x = (a.add(r * kp + g * KG) as *const i32).read_unaligned();
            *acc_row = _mm512_dpbusd_epi32(*acc_row, _mm512_set1_epi32(x), weights);
        }
    }
    let mut out = [[0i32; NR]; MR];
    for (dst, src) in out.iter_mut().zip(&acc) {
        _mm512_storeu_si512(dst.as_mut_ptr() as *mut _, *src);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util;
    use candle_core::Device;

    fn linear(out: usize, inp: usize) -> Linear {
        let w = Tensor::from_vec(
            test_util::random(out * inp, 1, 1.0),
            (out, inp),
            &Device::Cpu,
        )
        .unwrap();
        let b = Tensor::from_vec(test_util::random(out, 2, 1.0), out, &Device::Cpu).unwrap();
        Linear::new(w, Some(b))
    }

    /// norsk's kernels this CPU runs and every kernel library this machine
    /// can open, each with the operand ranges it would be given here.
    fn every_int8_kernel() -> Vec<(Int8Kernel, Int8Ranges)> {
        let mut all = vec![Int8Kernel::Portable];
        #[cfg(target_arch = "x86_64")]
        if is_x86_feature_detected!("avx2") {
            all.push(Int8Kernel::Avx2);
        }
        #[cfg(target_arch = "x86_64")]
        if is_x86_feature_detected!("avx512vnni") {
            all.push(Int8Kernel::Avx512Vnni);
        }
        let isa = kernels::CpuFeatures::detect().isa;
        all.extend(
            kernels::test_libraries()
                .into_iter()
                .filter(|lib| lib.exact_int8(isa))
                .map(Int8Kernel::Library),
        );
        all.into_iter()
            .map(|kernel| (kernel, Int8Ranges::for_kernel(kernel, isa)))
            .collect()
    }

    #[test]
    fn close_to_the_f32_product_for_odd_shapes() {
        use candle_core::Module;
        // The last shape runs three library tiles on two threads at once, long
        // enough to overlap (one oneDNN primitive on two threads must not
        // share a scratchpad).
        for (m, k, n) in [
            (1, 5, 3),
            (7, 33, 17),
            (2 * ROWS_PER_TASK + 3, 96, 40),
            (150, 384, 1152),
        ] {
            let layer = linear(n, k);
            let x = Tensor::from_vec(test_util::random(m * k, 3, 1.0), (1, m, k), &Device::Cpu)
                .unwrap();
            let want = layer.forward(&x).unwrap();
            let portable = |act, ranges| {
                QuantizedLinear::with_kernel(&layer, act, Int8Kernel::Portable, ranges)
                    .unwrap()
                    .forward(&x)
                    .unwrap()
            };
            // Every kernel gives the integers the portable kernel gives at
            // the same operand ranges, hence the same outputs to the last bit.
            for (kernel, ranges) in every_int8_kernel() {
                // A library's packed weights (where it has a layout of its
                // own) and its product on plain rows.
                for layout in [LibraryLayout::Packed, LibraryLayout::Rows] {
                    let act = Some(HiddenAct::Gelu);
                    let other = QuantizedLinear::build(&layer, act, kernel, ranges, layout)
                        .unwrap()
                        .forward(&x)
                        .unwrap();
                    let diff = test_util::max_abs_diff(&other, &portable(act, ranges));
                    assert_eq!(diff, 0.0, "{} {ranges:?} m={m} k={k} n={n}", kernel.name());
                }
            }
            let error = |ranges| test_util::max_abs_diff(&portable(None, ranges), &want);
            let full = error(Int8Ranges::Full);
            let six = error(Int8Ranges::SixBitActivations);
            // Inputs in [-1, 1]: each of k terms is off by at most about
            // 1/63 + 1/254 with 6-bit activations, and the errors mostly
            // cancel; 8-bit activations are closer.
            let bound = 0.02 * k as f32;
            assert!(six < bound, "m={m} k={k} n={n}: max error {six} ≥ {bound}");
            assert!(six > 0.0, "quantization should not be exact");
            assert!(
                full < six,
                "m={m} k={k} n={n}: 8-bit activations ({full}) no closer than 6-bit ({six})"
            );
            let chosen = kernels::selected().int8_ranges;
            let activated = QuantizedLinear::from_linear(&layer, Some(HiddenAct::Relu))
                .unwrap()
                .forward(&x)
                .unwrap();
            assert_eq!(
                test_util::max_abs_diff(&activated, &portable(None, chosen).relu().unwrap()),
                0.0
            );
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn full_ranges_never_run_on_the_saturating_avx2_kernel() {
        if !is_x86_feature_detected!("avx2") {
            return;
        }
        let layer = linear(16, 8);
        let q =
            QuantizedLinear::with_kernel(&layer, None, Int8Kernel::Avx2, Int8Ranges::Full).unwrap();
        assert!(matches!(q.weights, Weights::Packed(_, Kernel::Portable)));
    }

    /// Asserts that `kernel` gives the portable kernel's integers for
    /// operands anywhere in `ranges`, extreme ones included.
    #[cfg(target_arch = "x86_64")]
    fn gives_the_portable_integers(kernel: Kernel, ranges: Int8Ranges) {
        let groups = 5 * SUMMED_GROUPS;
        let (a_top, w_max) = (ranges.activation_max() as usize, WEIGHT_MAX as i32);
        let a: Vec<u8> = (0..MR * groups * KG)
            .map(|i| (i * 37 % (a_top + 1)) as u8)
            .collect();
        let w: Vec<i8> = (0..groups * NR * KG)
            .map(|i| ((i * 53) as i32 % (2 * w_max + 1) - w_max) as i8)
            .collect();
        let extreme_a = vec![a_top as u8; a.len()];
        for extreme_w in [-w_max, w_max] {
            let extreme_w = vec![extreme_w as i8; w.len()];
            for (a, w) in [(&a, &w), (&extreme_a, &extreme_w)] {
                assert_eq!(
                    kernel.run(a, w, groups),
                    Kernel::Portable.run(a, w, groups),
                    "{kernel:?} {ranges:?}"
                );
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn vnni_kernel_gives_the_portable_integers_with_full_ranges() {
        if is_x86_feature_detected!("avx512vnni") {
            gives_the_portable_integers(Kernel::Avx512Vnni, Int8Ranges::Full);
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_kernel_gives_the_portable_integers_with_6_bit_activations() {
        if is_x86_feature_detected!("avx2") {
            gives_the_portable_integers(Kernel::Avx2, Int8Ranges::SixBitActivations);
        }
    }

    #[test]
    fn vectorized_quantizing_gives_the_scalar_bytes() {
        let mut row: Vec<f32> = (0..203)
            .map(|i| ((i * 37 % 101) as f32 - 40.0) * 0.37)
            .collect();
        row[5] = f32::NAN;
        row[40] = f32::INFINITY;
        row[77] = f32::NEG_INFINITY;
        row[100] = 0.5;
        for (inv, zero, top) in [
            (1.0, 0.0, 255.0),
            (2.3, 100.0, 255.0),
            (0.01, 255.0, 255.0),
            (7.5, 17.0, 255.0),
            (2.3, 100.0, 127.0),
            (7.5, 17.0, 127.0),
        ] {
            let levels = Levels { inv, zero, top };
            for len in [0, 1, 31, 32, 33, 64, 203] {
                let mut want = vec![0u8; len];
                quantize_values(&row[..len], &mut want, levels);
                assert!(want.iter().all(|&q| q as f32 <= top));
                let mut got = vec![0u8; len];
                quantize_values_on_this_cpu(&row[..len], &mut got, levels);
                assert_eq!(got, want, "inv {inv} zero {zero} top {top} len {len}");
            }
        }
    }

    #[test]
    fn rows_with_zeros_or_one_value_are_exact_at_zero() {
        for ranges in [Int8Ranges::Full, Int8Ranges::SixBitActivations] {
            let mut q = vec![0u8; 4];
            let (scale, zero) = quantize_row(&[0.0; 4], &mut q, ranges);
            assert!(scale > 0.0);
            assert!(q.iter().all(|&v| v as i32 == zero));
            let (scale, zero) = quantize_row(&[-2.0, 0.0, 1.0, 3.0], &mut q, ranges);
            assert_eq!(q[1] as i32, zero);
            assert_eq!(q[3] as f32, ranges.activation_max());
            assert!(((q[3] as i32 - zero) as f32 * scale - 3.0).abs() < scale);
        }
    }
}
