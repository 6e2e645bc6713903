//! Helpers shared by this crate's unit tests.

/// `n` deterministic pseudo-random values in `[-amplitude, amplitude)`.
pub(crate) fn random(n: usize, seed: u64, amplitude: f32) -> Vec<f32> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * amplitude
        })
        .collect()
}

/// The largest absolute difference between two tensors of the same shape.
pub(crate) fn max_abs_diff(a: &candle_core::Tensor, b: &candle_core::Tensor) -> f32 {
    assert_eq!(a.dims(), b.dims());
    (a - b)
        .and_then(|d| d.abs()?.max_all()?.to_scalar::<f32>())
        .unwrap()
}
