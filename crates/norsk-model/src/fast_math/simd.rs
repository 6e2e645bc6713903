//! [`super::exp`], [`super::erf`], GELU, the masked softmax and the
//! minimum/maximum over registers of any width ([`Lanes`]), with explicit
//! multiply-adds: a loop left to the compiler neither fuses the polynomials'
//! multiply-adds (Rust never contracts `a * b + c`) nor, inside a closure
//! too large to inline, uses vector instructions at all. Results may differ
//! from the scalar functions in the last bits (fused rounding).
//!
//! # Safety
//! Everything here is `#[inline(always)]` and must be called only from a
//! function compiled for `L`'s instructions (`super::vector_module`).

use super::lanes::Lanes;

/// The widest register's values, for spilling one register to memory.
const MAX_LANES: usize = 16;

/// `Σ cᵢ xⁱ` by Horner's rule, highest coefficient first.
#[inline(always)]
unsafe fn horner<L: Lanes>(x: L, coefficients: &[f32]) -> L {
    let mut p = L::splat(coefficients[0]);
    for &c in &coefficients[1..] {
        p = p.mul_add(x, L::splat(c));
    }
    p
}

/// [`super::exp`].
#[inline(always)]
unsafe fn exp<L: Lanes>(x: L) -> L {
    let x = x.max(L::splat(-87.3)).min(L::splat(88.3));
    let round = L::splat(12_582_912.0);
    let shifted = x.mul_add(L::splat(std::f32::consts::LOG2_E), round);
    let n = shifted.sub(round);
    let r = n.neg_mul_add(L::splat(0.693_359_4), x);
    let r = n.neg_mul_add(L::splat(-2.121_944_4e-4), r);
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
    let e = p.mul_add(r.mul(r), r).add(L::splat(1.0));
    e.mul(L::pow2_of_shifted(shifted))
}

/// [`super::erf`].
#[inline(always)]
unsafe fn erf<L: Lanes>(x: L) -> L {
    let x = x.max(L::splat(-4.0)).min(L::splat(4.0));
    let x2 = x.mul(x);
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
    x.mul(p).div(q)
}

/// [`super::gelu_erf`] on the register at `values`.
#[inline(always)]
unsafe fn gelu_erf<L: Lanes>(values: *mut f32) {
    let v = L::load(values);
    let phi = erf(v.mul(L::splat(std::f32::consts::FRAC_1_SQRT_2)));
    phi.add(L::splat(1.0))
        .mul(L::splat(0.5))
        .mul(v)
        .store(values);
}

/// [`super::gelu_erf`] on every value; the last few values go through the
/// same instructions (padded), so that a value's result never depends on
/// where it stands in the slice. (No closures here: a closure is compiled
/// on its own, without the caller's target features.)
#[inline(always)]
pub(super) unsafe fn gelu_erf_in_place<L: Lanes>(values: &mut [f32]) {
    let mut chunks = values.chunks_exact_mut(L::LANES);
    for chunk in &mut chunks {
        gelu_erf::<L>(chunk.as_mut_ptr());
    }
    let rest = chunks.into_remainder();
    if !rest.is_empty() {
        let mut padded = [0f32; MAX_LANES];
        padded[..rest.len()].copy_from_slice(rest);
        gelu_erf::<L>(padded.as_mut_ptr());
        rest.copy_from_slice(&padded[..rest.len()]);
    }
}

/// The lanes' values, in memory.
#[inline(always)]
unsafe fn spill<L: Lanes>(v: L) -> [f32; MAX_LANES] {
    let mut lanes = [0f32; MAX_LANES];
    v.store(lanes.as_mut_ptr());
    lanes
}

/// [`super::min_max`], before its NaN-only case: `(+∞, −∞)` where no value
/// was seen.
#[inline(always)]
pub(super) unsafe fn min_max<L: Lanes>(values: &[f32]) -> (f32, f32) {
    let (mut lo, mut hi) = (L::splat(f32::INFINITY), L::splat(f32::NEG_INFINITY));
    let chunks = values.chunks_exact(L::LANES);
    let rest = chunks.remainder();
    for chunk in chunks {
        let v = L::load(chunk.as_ptr());
        // `min`/`max` return their second operand, the running lane, for NaN.
        lo = v.min(lo);
        hi = v.max(hi);
    }
    let (los, his) = (spill(lo), spill(hi));
    let lanes = los[..L::LANES].iter().zip(&his[..L::LANES]);
    lanes
        .map(|(&l, &h)| (l, h))
        .chain(rest.iter().map(|&v| (v, v)))
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), (l, h)| {
            (lo.min(l), hi.max(h))
        })
}

/// [`super::softmax_masked`].
#[inline(always)]
pub(super) unsafe fn softmax_masked<L: Lanes>(scores: &mut [f32], mask: &[f32]) {
    let n = scores.len().min(mask.len());
    let whole = n / L::LANES * L::LANES;
    let (s, m) = (scores.as_mut_ptr(), mask.as_ptr());
    for i in (0..whole).step_by(L::LANES) {
        L::load(s.add(i)).add(L::load(m.add(i))).store(s.add(i));
    }
    for i in whole..n {
        *s.add(i) += *m.add(i);
    }
    let (_, max) = super::finish_min_max(min_max::<L>(&scores[..n]));
    let mut sums = L::splat(0.0);
    for i in (0..whole).step_by(L::LANES) {
        let e = exp(L::load(s.add(i)).sub(L::splat(max)));
        e.store(s.add(i));
        sums = sums.add(e);
    }
    let mut total: f32 = spill(sums)[..L::LANES].iter().sum();
    for i in whole..n {
        *s.add(i) = super::exp(*s.add(i) - max);
        total += *s.add(i);
    }
    let inv = L::splat(1.0 / total);
    for i in (0..whole).step_by(L::LANES) {
        L::load(s.add(i)).mul(inv).store(s.add(i));
    }
    for i in whole..n {
        *s.add(i) *= 1.0 / total;
    }
}
