//! Branch-free `exp` and `erf` for f32, and loops that apply per-value work
//! with the widest vectors the kernels may use ([`Width`]: AVX-512, AVX2 and
//! FMA, or none): the activations fused into the inference linears, the
//! attention softmax, the row minimum/maximum of int8 quantization and the
//! layer norm's loops.
//!
//! libm's `expf` and candle's `erf` are scalar calls with branches, so loops
//! over them run one value at a time; these polynomials vectorize. `exp` is
//! Cephes' `expf` (range reduction by ln 2, degree-5 polynomial), `erf` is
//! the rational approximation of Eigen and XLA (`x·P(x²)/Q(x²)` on
//! `[-4, 4]`); both are within a few ulp of the exact values.

#[cfg(target_arch = "x86_64")]
mod lanes;
#[cfg(target_arch = "x86_64")]
mod simd;

use crate::kernels::Isa;
use crate::HiddenAct;

/// `eˣ`, with the input clamped to `[-87.3, 88.3]`: below, the result is
/// about 1.2·10⁻³⁸ instead of 0 (softmax rows and masks never notice);
/// above, about 2·10³⁸ instead of infinity (softmax inputs are ≤ 0).
#[inline(always)]
pub(crate) fn exp(x: f32) -> f32 {
    const LOG2_E: f32 = std::f32::consts::LOG2_E;
    // ln 2 split in two so that `n · LN2_HI` is exact.
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // 1.5 · 2²³: adding it rounds to an integer kept in the low mantissa bits.
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.3, 88.3);
    let shifted = x * LOG2_E + ROUND;
    let n = shifted - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let p = ((((1.987_569_2e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 0.166_666_65)
        * r
        + 0.5;
    let e = p * r * r + r + 1.0;
    // 2ⁿ from n's bits in `shifted`: its bit pattern is 0x4B40_0000 + n.
    let two_n = f32::from_bits(shifted.to_bits().wrapping_sub(0x4B40_0000 - 127) << 23);
    e * two_n
}

/// The error function.
#[inline(always)]
pub(crate) fn erf(x: f32) -> f32 {
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let p = -2.726_142_3e-10;
    let p = p * x2 + 2.770_681_4e-8;
    let p = p * x2 - 2.101_024e-6;
    let p = p * x2 - 5.692_506_4e-5;
    let p = p * x2 - 7.349_906_3e-4;
    let p = p * x2 - 2.954_6e-3;
    let p = p * x2 - 1.609_603_3e-2;
    let q = -1.456_607_2e-5;
    let q = q * x2 - 2.133_740_6e-4;
    let q = q * x2 - 1.682_827e-3;
    let q = q * x2 - 7.373_329e-3;
    let q = q * x2 - 1.426_474e-2;
    x * p / q
}

/// GELU with the exact (erf) form, as `transformers`' `"gelu"`.
#[inline(always)]
pub(crate) fn gelu_erf(v: f32) -> f32 {
    (erf(v * std::f32::consts::FRAC_1_SQRT_2) + 1.0) * 0.5 * v
}

/// The vectors the loops here use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Width {
    /// Scalar code (the compiler's baseline).
    Scalar,
    /// AVX2 and FMA: 8 values.
    Avx2,
    /// AVX-512 (F, BW, DQ, VL): 16 values.
    Avx512,
}

impl std::fmt::Display for Width {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Width::Scalar => "scalar",
            Width::Avx2 => "avx2 + fma, 8 lanes",
            Width::Avx512 => "avx-512, 16 lanes",
        })
    }
}

impl Width {
    /// The widest the kernels may use ([`crate::kernels::Kernels::isa`]:
    /// the CPU's level or the cap).
    #[inline(always)]
    pub(crate) fn selected() -> Width {
        Width::of(crate::kernels::selected().isa)
    }

    /// The widest a level has.
    pub(crate) fn of(isa: Isa) -> Width {
        if !cfg!(target_arch = "x86_64") {
            Width::Scalar
        } else if isa >= Isa::Avx512 {
            Width::Avx512
        } else if isa >= Isa::Avx2 {
            Width::Avx2
        } else {
            Width::Scalar
        }
    }
}

/// One module of target-feature entry points per [`Width`], all compiled
/// from the same generic code in `simd` for that width's register.
macro_rules! vector_module {
    ($module:ident, $features:literal, $lanes:ty) => {
        #[cfg(target_arch = "x86_64")]
        mod $module {
            use std::arch::x86_64::*;

            #[target_feature(enable = $features)]
            pub(super) unsafe fn gelu_erf_in_place(values: &mut [f32]) {
                super::simd::gelu_erf_in_place::<$lanes>(values)
            }

            #[target_feature(enable = $features)]
            pub(super) unsafe fn softmax_masked(scores: &mut [f32], mask: &[f32]) {
                super::simd::softmax_masked::<$lanes>(scores, mask)
            }

            #[target_feature(enable = $features)]
            pub(super) unsafe fn min_max(values: &[f32]) -> (f32, f32) {
                super::simd::min_max::<$lanes>(values)
            }

            /// Runs `f` compiled for these features (what it calls must be
            /// `#[inline(always)]` to be compiled so too).
            #[target_feature(enable = $features)]
            pub(super) unsafe fn run<R>(f: impl FnOnce() -> R) -> R {
                f()
            }
        }
    };
}

vector_module!(avx2, "avx2,fma", __m256);
vector_module!(
    avx512,
    "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma",
    __m512
);

/// Applies `act` to every value in place, on this thread (callers split
/// large buffers across threads). GELU uses [`erf`] (within 1e-6 of candle's);
/// the tanh form and ReLU are candle's formulas.
pub(crate) fn activate(values: &mut [f32], act: HiddenAct) {
    activate_at(Width::selected(), values, act)
}

/// [`activate`] with vectors of `width`, which the CPU must have.
fn activate_at(width: Width, values: &mut [f32], act: HiddenAct) {
    match (act, width) {
        // Safety: the CPU has the width's features.
        #[cfg(target_arch = "x86_64")]
        (HiddenAct::Gelu, Width::Avx512) => unsafe { avx512::gelu_erf_in_place(values) },
        #[cfg(target_arch = "x86_64")]
        (HiddenAct::Gelu, Width::Avx2) => unsafe { avx2::gelu_erf_in_place(values) },
        (HiddenAct::Gelu, _) => map_in_place_at(width, values, gelu_erf),
        (HiddenAct::GeluNew, _) => map_in_place_at(width, values, |v| {
            const SQRT_TWO_OVER_PI: f32 = 0.797_884_6;
            0.5 * v * (1.0 + f32::tanh(SQRT_TWO_OVER_PI * v * (1.0 + 0.044715 * v * v)))
        }),
        (HiddenAct::Relu, _) => map_in_place_at(width, values, |v| v.max(0.0)),
    }
}

/// Whether the kernels may use AVX2 and FMA ([`crate::kernels::Kernels::isa`]:
/// the CPU's level or the cap).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(crate) fn has_avx2() -> bool {
    Width::selected() >= Width::Avx2
}

/// `softmax(scores + mask)` in place (`mask` as long as `scores`).
pub(crate) fn softmax_masked(scores: &mut [f32], mask: &[f32]) {
    softmax_masked_at(Width::selected(), scores, mask)
}

/// [`softmax_masked`] with vectors of `width`, which the CPU must have.
fn softmax_masked_at(width: Width, scores: &mut [f32], mask: &[f32]) {
    match width {
        // Safety: the CPU has the width's features.
        #[cfg(target_arch = "x86_64")]
        Width::Avx512 => unsafe { avx512::softmax_masked(scores, mask) },
        #[cfg(target_arch = "x86_64")]
        Width::Avx2 => unsafe { avx2::softmax_masked(scores, mask) },
        _ => {
            for (s, m) in scores.iter_mut().zip(mask) {
                *s += m;
            }
            let (_, max) = min_max_at(Width::Scalar, scores);
            scores.iter_mut().for_each(|s| *s = exp(*s - max));
            let inv = 1.0 / sum(scores);
            scores.iter_mut().for_each(|s| *s *= inv);
        }
    }
}

/// `*v = f(*v)` for every value, compiled for vectors of `width`, which the
/// CPU must have; then `f`, inlined, runs on as many values at a time.
#[inline(always)]
fn map_in_place_at(width: Width, values: &mut [f32], f: impl Fn(f32) -> f32) {
    run_at(width, || values.iter_mut().for_each(|v| *v = f(*v)))
}

/// Runs `f` compiled for the widest vectors the kernels may use
/// ([`Width::selected`]); what `f` calls must be `#[inline(always)]` to be
/// compiled so too.
#[inline(always)]
pub(crate) fn vectorized<R>(f: impl FnOnce() -> R) -> R {
    run_at(Width::selected(), f)
}

/// [`vectorized`] with vectors of `width`, which the CPU must have.
#[inline(always)]
fn run_at<R>(width: Width, f: impl FnOnce() -> R) -> R {
    match width {
        // Safety: the CPU has the width's features.
        #[cfg(target_arch = "x86_64")]
        Width::Avx512 => unsafe { avx512::run(f) },
        #[cfg(target_arch = "x86_64")]
        Width::Avx2 => unsafe { avx2::run(f) },
        _ => f(),
    }
}

/// The sum, in 8 running partial sums (so that it vectorizes).
#[inline(always)]
pub(crate) fn sum(values: &[f32]) -> f32 {
    sum_of(values, |v| v)
}

/// `Σ f(v)`, in 8 running partial sums: a plain running sum waits for each
/// addition before the next (a sum over a 768-wide row took 3,000 cycles
/// that way), and the compiler may not reorder float additions itself.
#[inline(always)]
pub(crate) fn sum_of(values: &[f32], f: impl Fn(f32) -> f32) -> f32 {
    let mut lanes = [0f32; 8];
    let chunks = values.chunks_exact(8);
    let rest: f32 = chunks.remainder().iter().map(|&v| f(v)).sum();
    for chunk in chunks {
        for (lane, &v) in lanes.iter_mut().zip(chunk) {
            *lane += f(v);
        }
    }
    lanes.iter().sum::<f32>() + rest
}

/// The smallest and the largest value (NaN ignored; `(0, 0)` when there is
/// no other value), a register at a time where the kernels may use vectors:
/// the compiler's own loop over `min`/`max` vectorizes badly (shuffles and
/// blends per 8 values).
pub(crate) fn min_max(values: &[f32]) -> (f32, f32) {
    min_max_at(Width::selected(), values)
}

/// [`min_max`] with vectors of `width`, which the CPU must have.
fn min_max_at(width: Width, values: &[f32]) -> (f32, f32) {
    finish_min_max(match width {
        // Safety: the CPU has the width's features.
        #[cfg(target_arch = "x86_64")]
        Width::Avx512 => unsafe { avx512::min_max(values) },
        #[cfg(target_arch = "x86_64")]
        Width::Avx2 => unsafe { avx2::min_max(values) },
        _ => values
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            }),
    })
}

/// `(0, 0)` where no value was seen.
fn finish_min_max((lo, hi): (f32, f32)) -> (f32, f32) {
    if lo > hi {
        (0.0, 0.0)
    } else {
        (lo, hi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every width this CPU can run, whatever the cap.
    fn widths_on_this_cpu() -> Vec<Width> {
        let top = Width::of(crate::kernels::CpuFeatures::detect().isa);
        [Width::Scalar, Width::Avx2, Width::Avx512]
            .into_iter()
            .filter(|&w| w <= top)
            .collect()
    }

    fn grid(from: f32, to: f32, n: usize) -> impl Iterator<Item = f32> {
        (0..=n).map(move |i| from + (to - from) * i as f32 / n as f32)
    }

    #[test]
    fn exp_is_within_a_few_ulp_of_libm() {
        for x in grid(-87.0, 88.0, 200_000) {
            let (got, want) = (exp(x), x.exp());
            assert!(
                ((got - want) / want).abs() < 4.0 * f32::EPSILON,
                "exp({x}) = {got}, libm {want}"
            );
        }
        assert_eq!(exp(0.0), 1.0);
    }

    #[test]
    fn exp_of_masked_scores_is_tiny_and_finite() {
        for x in [-88.0, -1e4, -3.4e38, f32::NEG_INFINITY] {
            let e = exp(x);
            assert!((0.0..1e-37).contains(&e), "exp({x}) = {e}");
        }
    }

    #[test]
    fn erf_matches_candles_erf() {
        for x in grid(-6.0, 6.0, 200_000) {
            let (got, want) = (erf(x), candle_core::cpu::erf::erf_f32(x));
            assert!((got - want).abs() < 1e-6, "erf({x}) = {got}, candle {want}");
        }
    }

    #[test]
    fn gelu_at_every_width_matches_the_scalar_function() {
        let values: Vec<f32> = grid(-12.0, 12.0, 100_003).collect();
        for width in widths_on_this_cpu() {
            let mut got = values.clone();
            activate_at(width, &mut got, HiddenAct::Gelu);
            for (g, v) in got.iter().zip(&values) {
                let want = gelu_erf(*v);
                // erf's absolute error (about 1e-7) times |v| in the tails.
                let bound = 1e-6 * v.abs().max(1.0);
                assert!(
                    (g - want).abs() <= bound,
                    "{width:?}: gelu({v}) = {g}, scalar {want}"
                );
            }
        }
    }

    #[test]
    fn softmax_at_every_width_matches_f64() {
        for (width, n) in widths_on_this_cpu()
            .into_iter()
            .flat_map(|w| [1, 7, 8, 13, 16, 31, 128].map(|n| (w, n)))
        {
            let scores: Vec<f32> = grid(-30.0, 25.0, n)
                .take(n)
                .map(|v| (v * 7.3).sin() * 20.0)
                .collect();
            let mask: Vec<f32> = (0..n)
                .map(|i| if i % 5 == 4 { -3.4e38 } else { 0.0 })
                .collect();
            let mut got = scores.clone();
            softmax_masked_at(width, &mut got, &mask);
            let shifted: Vec<f64> = scores
                .iter()
                .zip(&mask)
                .map(|(&s, &m)| s as f64 + m as f64)
                .collect();
            let max = shifted.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let total: f64 = shifted.iter().map(|s| (s - max).exp()).sum();
            for (g, s) in got.iter().zip(&shifted) {
                let want = (s - max).exp() / total;
                assert!(
                    (*g as f64 - want).abs() < 1e-6,
                    "{width:?}, n={n}: {g} vs {want}"
                );
            }
        }
    }

    #[test]
    fn map_and_min_max_at_every_width_match_the_scalar_loop() {
        let values: Vec<f32> = grid(-10.0, 10.0, 1_001).collect();
        for width in widths_on_this_cpu() {
            let mut mapped = values.clone();
            map_in_place_at(width, &mut mapped, gelu_erf);
            for (m, v) in mapped.iter().zip(&values) {
                assert_eq!(*m, gelu_erf(*v), "{width:?}");
            }
            for n in [0, 1, 7, 8, 9, 16, 17, 1_001] {
                let mut part: Vec<f32> = values[..n].iter().map(|v| v * 3.0 - 1.0).collect();
                part.reverse();
                let want = part.iter().fold(None, |acc: Option<(f32, f32)>, &v| {
                    Some(acc.map_or((v, v), |(l, h)| (l.min(v), h.max(v))))
                });
                let want = want.unwrap_or((0.0, 0.0));
                assert_eq!(min_max_at(width, &part), want, "{width:?}, n={n}");
                part.insert(0, f32::NAN);
                part.push(f32::NAN);
                assert_eq!(min_max_at(width, &part), want, "{width:?}, n={n} with NaN");
            }
            assert_eq!(min_max_at(width, &[f32::NAN; 11]), (0.0, 0.0));
            assert_eq!(min_max_at(width, &[f32::NAN; 33]), (0.0, 0.0));
        }
        let want: f64 = values.iter().map(|&v| v as f64).sum();
        assert!((sum(&values) as f64 - want).abs() < 1e-3);
    }
}
