//! The SIMD registers the vectorized functions are written for once:
//! AVX2's 8 lanes of f32 and AVX-512's 16. Every method is
//! `#[inline(always)]`, so that it compiles into the `#[target_feature]`
//! function that calls it with that function's instructions.

use std::arch::x86_64::*;

/// A register of `LANES` f32 values.
///
/// # Safety
/// The methods use the instructions of their register's width: call them
/// only from code compiled for them (see `super::vector_module`).
pub(super) trait Lanes: Copy {
    /// Values per register.
    const LANES: usize;
    unsafe fn splat(v: f32) -> Self;
    unsafe fn load(src: *const f32) -> Self;
    unsafe fn store(self, dst: *mut f32);
    unsafe fn add(self, b: Self) -> Self;
    unsafe fn sub(self, b: Self) -> Self;
    unsafe fn mul(self, b: Self) -> Self;
    unsafe fn div(self, b: Self) -> Self;
    /// Lane-wise minimum; `b` where either is NaN.
    unsafe fn min(self, b: Self) -> Self;
    /// Lane-wise maximum; `b` where either is NaN.
    unsafe fn max(self, b: Self) -> Self;
    /// `self · b + c`, rounded once.
    unsafe fn mul_add(self, b: Self, c: Self) -> Self;
    /// `c − self · b`, rounded once.
    unsafe fn neg_mul_add(self, b: Self, c: Self) -> Self;
    /// `2ⁿ` from `n + 1.5 · 2²³` (whose low mantissa bits hold `n`).
    unsafe fn pow2_of_shifted(shifted: Self) -> Self;
}

impl Lanes for __m256 {
    const LANES: usize = 8;
    #[inline(always)]
    unsafe fn splat(v: f32) -> Self {
        _mm256_set1_ps(v)
    }
    #[inline(always)]
    unsafe fn load(src: *const f32) -> Self {
        _mm256_loadu_ps(src)
    }
    #[inline(always)]
    unsafe fn store(self, dst: *mut f32) {
        _mm256_storeu_ps(dst, self)
    }
    #[inline(always)]
    unsafe fn add(self, b: Self) -> Self {
        _mm256_add_ps(self, b)
    }
    #[inline(always)]
    unsafe fn sub(self, b: Self) -> Self {
        _mm256_sub_ps(self, b)
    }
    #[inline(always)]
    unsafe fn mul(self, b: Self) -> Self {
        _mm256_mul_ps(self, b)
    }
    #[inline(always)]
    unsafe fn div(self, b: Self) -> Self {
        _mm256_div_ps(self, b)
    }
    #[inline(always)]
    unsafe fn min(self, b: Self) -> Self {
        _mm256_min_ps(self, b)
    }
    #[inline(always)]
    unsafe fn max(self, b: Self) -> Self {
        _mm256_max_ps(self, b)
    }
    #[inline(always)]
    unsafe fn mul_add(self, b: Self, c: Self) -> Self {
        _mm256_fmadd_ps(self, b, c)
    }
    #[inline(always)]
    unsafe fn neg_mul_add(self, b: Self, c: Self) -> Self {
        _mm256_fnmadd_ps(self, b, c)
    }
    #[inline(always)]
    unsafe fn pow2_of_shifted(shifted: Self) -> Self {
        let bits = _mm256_sub_epi32(
            _mm256_castps_si256(shifted),
            _mm256_set1_epi32(0x4B40_0000 - 127),
        );
        _mm256_castsi256_ps(_mm256_slli_epi32(bits, 23))
    }
}

impl Lanes for __m512 {
    const LANES: usize = 16;
    #[inline(always)]
    unsafe fn splat(v: f32) -> Self {
        _mm512_set1_ps(v)
    }
    #[inline(always)]
    unsafe fn load(src: *const f32) -> Self {
        _mm512_loadu_ps(src)
    }
    #[inline(always)]
    unsafe fn store(self, dst: *mut f32) {
        _mm512_storeu_ps(dst, self)
    }
    #[inline(always)]
    unsafe fn add(self, b: Self) -> Self {
        _mm512_add_ps(self, b)
    }
    #[inline(always)]
    unsafe fn sub(self, b: Self) -> Self {
        _mm512_sub_ps(self, b)
    }
    #[inline(always)]
    unsafe fn mul(self, b: Self) -> Self {
        _mm512_mul_ps(self, b)
    }
    #[inline(always)]
    unsafe fn div(self, b: Self) -> Self {
        _mm512_div_ps(self, b)
    }
    #[inline(always)]
    unsafe fn min(self, b: Self) -> Self {
        _mm512_min_ps(self, b)
    }
    #[inline(always)]
    unsafe fn max(self, b: Self) -> Self {
        _mm512_max_ps(self, b)
    }
    #[inline(always)]
    unsafe fn mul_add(self, b: Self, c: Self) -> Self {
        _mm512_fmadd_ps(self, b, c)
    }
    #[inline(always)]
    unsafe fn neg_mul_add(self, b: Self, c: Self) -> Self {
        _mm512_fnmadd_ps(self, b, c)
    }
    #[inline(always)]
    unsafe fn pow2_of_shifted(shifted: Self) -> Self {
        let bits = _mm512_sub_epi32(
            _mm512_castps_si512(shifted),
            _mm512_set1_epi32(0x4B40_0000 - 127),
        );
        _mm512_castsi512_ps(_mm512_slli_epi32(bits, 23))
    }
}
