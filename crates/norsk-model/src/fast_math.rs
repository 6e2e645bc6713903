//! Branch-free `exp` and `erf` for f32, and a loop that applies a per-value
//! function with AVX2 and FMA where the CPU has them: the per-value work of
//! the activations fused into the inference linears and of the attention
//! softmax.
//!
//! libm's `expf` and candle's `erf` are scalar calls with branches, so loops
//! over them run one value at a time; these polynomials vectorize. `exp` is
//! Cephes' `expf` (range reduction by ln 2, degree-5 polynomial), `erf` is
//! the rational approximation of Eigen and XLA (`x·P(x²)/Q(x²)` on
//! `[-4, 4]`); both are within a few ulp of the exact values.

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

/// Applies `act` to every value in place, on this thread (callers split
/// large buffers across threads). GELU uses [`erf`] (within 1e-6 of candle's);
/// the tanh form and ReLU are candle's formulas.
pub(crate) fn activate(values: &mut [f32], act: HiddenAct) {
    match act {
        #[cfg(target_arch = "x86_64")]
        HiddenAct::Gelu if has_avx2() => {
            // Safety: the CPU has AVX2 and FMA.
            unsafe { avx2::gelu_erf_in_place(values) }
        }
        HiddenAct::Gelu => map_in_place(values, gelu_erf),
        HiddenAct::GeluNew => map_in_place(values, |v| {
            const SQRT_TWO_OVER_PI: f32 = 0.797_884_6;
            0.5 * v * (1.0 + f32::tanh(SQRT_TWO_OVER_PI * v * (1.0 + 0.044715 * v * v)))
        }),
        HiddenAct::Relu => map_in_place(values, |v| v.max(0.0)),
    }
}

/// Whether the kernels may use AVX2 and FMA ([`crate::kernels::Kernels::isa`]:
/// the CPU's level or the cap).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(crate) fn has_avx2() -> bool {
    crate::kernels::selected().isa >= crate::kernels::Isa::Avx2
}

/// `softmax(scores + mask)` in place (`mask` as long as `scores`).
pub(crate) fn softmax_masked(scores: &mut [f32], mask: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // Safety: the CPU has AVX2 and FMA.
        return unsafe { avx2::softmax_masked(scores, mask) };
    }
    for (s, m) in scores.iter_mut().zip(mask) {
        *s += m;
    }
    let (_, max) = min_max(scores);
    scores.iter_mut().for_each(|s| *s = exp(*s - max));
    let inv = 1.0 / sum(scores);
    scores.iter_mut().for_each(|s| *s *= inv);
}

/// `*v = f(*v)` for every value, compiled for AVX2 and FMA when the kernels
/// may use them ([`crate::kernels::Kernels::isa`]: the CPU's level or the
/// cap); then `f`, inlined, runs on 8 values at a time.
#[inline(always)]
pub(crate) fn map_in_place(values: &mut [f32], f: impl Fn(f32) -> f32) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // Safety: the CPU has the features the function is compiled for.
        return unsafe { map_avx2(values, f) };
    }
    values.iter_mut().for_each(|v| *v = f(*v));
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn map_avx2(values: &mut [f32], f: impl Fn(f32) -> f32) {
    values.iter_mut().for_each(|v| *v = f(*v));
}

/// Runs `f` compiled for AVX2 and FMA when the kernels may use them, as
/// [`map_in_place`] does; what `f` calls must be `#[inline(always)]` to be
/// compiled so too.
#[inline(always)]
pub(crate) fn vectorized<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // Safety: the CPU has the features the function is compiled for.
        return unsafe { run_avx2(f) };
    }
    f()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn run_avx2<R>(f: impl FnOnce() -> R) -> R {
    f()
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
/// no other value), 8 lanes at a time with AVX2 where the kernels may use it:
/// the compiler's own loop over `min`/`max` vectorizes badly (shuffles and
/// blends per 8 values).
pub(crate) fn min_max(values: &[f32]) -> (f32, f32) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // Safety: the CPU has AVX2.
        return unsafe { min_max_avx2(values) };
    }
    finish_min_max(
        values
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            }),
    )
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn min_max_avx2(values: &[f32]) -> (f32, f32) {
    use std::arch::x86_64::*;
    let (mut lo, mut hi) = (
        _mm256_set1_ps(f32::INFINITY),
        _mm256_set1_ps(f32::NEG_INFINITY),
    );
    let chunks = values.chunks_exact(8);
    let rest = chunks.remainder();
    for chunk in chunks {
        let v = _mm256_loadu_ps(chunk.as_ptr());
        // `min`/`max` return their second operand, the running lane, for NaN.
        lo = _mm256_min_ps(v, lo);
        hi = _mm256_max_ps(v, hi);
    }
    let (mut los, mut his) = ([0f32; 8], [0f32; 8]);
    _mm256_storeu_ps(los.as_mut_ptr(), lo);
    _mm256_storeu_ps(his.as_mut_ptr(), hi);
    let lanes = los.iter().zip(&his).map(|(&l, &h)| (l, h));
    let rest = rest.iter().map(|&v| (v, v));
    finish_min_max(
        lanes
            .chain(rest)
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), (l, h)| {
                (lo.min(l), hi.max(h))
            }),
    )
}

/// `(0, 0)` where no value was seen.
fn finish_min_max((lo, hi): (f32, f32)) -> (f32, f32) {
    if lo > hi {
        (0.0, 0.0)
    } else {
        (lo, hi)
    }
}

/// [`exp`], [`erf`], GELU and the softmax on 8 values at a time with
/// explicit AVX2 and FMA instructions: a loop left to the compiler neither
/// fuses the polynomials' multiply-adds (Rust never contracts `a * b + c`)
/// nor, inside a closure too large to inline, uses AVX at all. Results may
/// differ from the scalar functions in the last bits (fused rounding).
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    #[inline(always)]
    unsafe fn splat(v: f32) -> __m256 {
        _mm256_set1_ps(v)
    }

    /// `Σ cᵢ xⁱ` by Horner's rule, highest coefficient first.
    #[inline(always)]
    unsafe fn horner(x: __m256, coefficients: &[f32]) -> __m256 {
        let mut p = splat(coefficients[0]);
        for &c in &coefficients[1..] {
            p = _mm256_fmadd_ps(p, x, splat(c));
        }
        p
    }

    /// [`super::exp`].
    #[inline(always)]
    unsafe fn exp(x: __m256) -> __m256 {
        let x = _mm256_min_ps(_mm256_max_ps(x, splat(-87.3)), splat(88.3));
        let shifted = _mm256_fmadd_ps(x, splat(std::f32::consts::LOG2_E), splat(12_582_912.0));
        let n = _mm256_sub_ps(shifted, splat(12_582_912.0));
        let r = _mm256_fnmadd_ps(n, splat(0.693_359_4), x);
        let r = _mm256_fnmadd_ps(n, splat(-2.121_944_4e-4), r);
        let p = horner(
            r,
            &[
                1.987_569_2e-4,
                1.398_199_9e-3,
                8.333_452e-3,
                4.166_579_6e-2,
                0.166_666_65,
                0.5,
            ],
        );
        let e = _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), splat(1.0));
        let bits = _mm256_sub_epi32(
            _mm256_castps_si256(shifted),
            _mm256_set1_epi32(0x4B40_0000 - 127),
        );
        _mm256_mul_ps(e, _mm256_castsi256_ps(_mm256_slli_epi32(bits, 23)))
    }

    /// [`super::erf`].
    #[inline(always)]
    unsafe fn erf(x: __m256) -> __m256 {
        let x = _mm256_min_ps(_mm256_max_ps(x, splat(-4.0)), splat(4.0));
        let x2 = _mm256_mul_ps(x, x);
        let p = horner(
            x2,
            &[
                -2.726_142_3e-10,
                2.770_681_4e-8,
                -2.101_024e-6,
                -5.692_506_4e-5,
                -7.349_906_3e-4,
                -2.954_6e-3,
                -1.609_603_3e-2,
            ],
        );
        let q = horner(
            x2,
            &[
                -1.456_607_2e-5,
                -2.133_740_6e-4,
                -1.682_827e-3,
                -7.373_329e-3,
                -1.426_474e-2,
            ],
        );
        _mm256_div_ps(_mm256_mul_ps(x, p), q)
    }

    /// [`super::gelu_erf`] on every value; the last few values go through
    /// the same instructions (padded), so that a value's result never
    /// depends on where it stands in the slice.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn gelu_erf_in_place(values: &mut [f32]) {
        let gelu = |chunk: &mut [f32]| {
            let v = _mm256_loadu_ps(chunk.as_ptr());
            let phi = erf(_mm256_mul_ps(v, splat(std::f32::consts::FRAC_1_SQRT_2)));
            let g = _mm256_mul_ps(_mm256_mul_ps(_mm256_add_ps(phi, splat(1.0)), splat(0.5)), v);
            _mm256_storeu_ps(chunk.as_mut_ptr(), g);
        };
        let mut chunks = values.chunks_exact_mut(8);
        for chunk in &mut chunks {
            gelu(chunk);
        }
        let rest = chunks.into_remainder();
        if !rest.is_empty() {
            let mut padded = [0f32; 8];
            padded[..rest.len()].copy_from_slice(rest);
            gelu(&mut padded);
            rest.copy_from_slice(&padded[..rest.len()]);
        }
    }

    /// [`super::softmax_masked`].
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn softmax_masked(scores: &mut [f32], mask: &[f32]) {
        let n = scores.len().min(mask.len());
        let whole = n / 8 * 8;
        let (s, m) = (scores.as_mut_ptr(), mask.as_ptr());
        for i in (0..whole).step_by(8) {
            _mm256_storeu_ps(
                s.add(i),
                _mm256_add_ps(_mm256_loadu_ps(s.add(i)), _mm256_loadu_ps(m.add(i))),
            );
        }
        for i in whole..n {
            *s.add(i) += *m.add(i);
        }
        let (_, max) = super::min_max(&scores[..n]);
        let mut sums = _mm256_setzero_ps();
        for i in (0..whole).step_by(8) {
            let e = exp(_mm256_sub_ps(_mm256_loadu_ps(s.add(i)), splat(max)));
            _mm256_storeu_ps(s.add(i), e);
            sums = _mm256_add_ps(sums, e);
        }
        let mut lanes = [0f32; 8];
        _mm256_storeu_ps(lanes.as_mut_ptr(), sums);
        let mut total: f32 = lanes.iter().sum();
        for i in whole..n {
            *s.add(i) = super::exp(*s.add(i) - max);
            total += *s.add(i);
        }
        let inv = splat(1.0 / total);
        for i in (0..whole).step_by(8) {
            _mm256_storeu_ps(s.add(i), _mm256_mul_ps(_mm256_loadu_ps(s.add(i)), inv));
        }
        for i in whole..n {
            *s.add(i) *= 1.0 / total;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn gelu_on_this_cpu_matches_the_scalar_function() {
        let values: Vec<f32> = grid(-12.0, 12.0, 100_003).collect();
        let mut got = values.clone();
        activate(&mut got, HiddenAct::Gelu);
        for (g, v) in got.iter().zip(&values) {
            let want = gelu_erf(*v);
            // erf's absolute error (about 1e-7) times |v| in the tails.
            let bound = 1e-6 * v.abs().max(1.0);
            assert!((g - want).abs() <= bound, "gelu({v}) = {g}, scalar {want}");
        }
    }

    #[test]
    fn softmax_on_this_cpu_matches_f64() {
        for n in [1, 7, 8, 13, 128] {
            let scores: Vec<f32> = grid(-30.0, 25.0, n)
                .take(n)
                .map(|v| (v * 7.3).sin() * 20.0)
                .collect();
            let mask: Vec<f32> = (0..n)
                .map(|i| if i % 5 == 4 { -3.4e38 } else { 0.0 })
                .collect();
            let mut got = scores.clone();
            softmax_masked(&mut got, &mask);
            let shifted: Vec<f64> = scores
                .iter()
                .zip(&mask)
                .map(|(&s, &m)| s as f64 + m as f64)
                .collect();
            let max = shifted.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let total: f64 = shifted.iter().map(|s| (s - max).exp()).sum();
            for (g, s) in got.iter().zip(&shifted) {
                let want = (s - max).exp() / total;
                assert!((*g as f64 - want).abs() < 1e-6, "n={n}: {g} vs {want}");
            }
        }
    }

    #[test]
    fn map_and_sum_match_the_scalar_loop() {
        let values: Vec<f32> = grid(-10.0, 10.0, 1_001).collect();
        let mut mapped = values.clone();
        map_in_place(&mut mapped, gelu_erf);
        for (m, v) in mapped.iter().zip(&values) {
            assert_eq!(*m, gelu_erf(*v));
        }
        let want: f64 = values.iter().map(|&v| v as f64).sum();
        assert!((sum(&values) as f64 - want).abs() < 1e-3);
        for n in [0, 1, 7, 8, 9, 1_001] {
            let mut part: Vec<f32> = values[..n].iter().map(|v| v * 3.0 - 1.0).collect();
            part.reverse();
            let want = part.iter().fold(None, |acc: Option<(f32, f32)>, &v| {
                Some(acc.map_or((v, v), |(l, h)| (l.min(v), h.max(v))))
            });
            assert_eq!(min_max(&part), want.unwrap_or((0.0, 0.0)), "n={n}");
            part.insert(0, f32::NAN);
            part.push(f32::NAN);
            assert_eq!(min_max(&part), want.unwrap_or((0.0, 0.0)), "n={n} with NaN");
        }
        assert_eq!(min_max(&[f32::NAN; 11]), (0.0, 0.0));
    }
}
