//! numpy's reductions over `f32`, with numpy's NaN and tie behaviour.

/// `np.maximum`-style maximum of two values: NaN if either is NaN.
pub(crate) fn nan_max(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() {
        f32::NAN
    } else {
        a.max(b)
    }
}

/// `ndarray.max()`: the largest value, NaN if any value is NaN, NaN if empty.
pub(crate) fn max(values: &[f32]) -> f32 {
    values.iter().copied().reduce(nan_max).unwrap_or(f32::NAN)
}

/// `ndarray.argmax()`: the index of the first maximum, or of the first NaN if
/// there is one (numpy treats NaN as the maximum). `0` for an empty slice.
pub(crate) fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate().skip(1) {
        let current = values[best];
        if current.is_nan() {
            break;
        }
        if v.is_nan() || v > current {
            best = i;
        }
    }
    best
}

/// `np.nanmean` of a sequence: the mean of the values that are not NaN,
/// accumulated in `f32`; NaN when every value is NaN (or there is none).
pub(crate) fn nanmean(values: impl IntoIterator<Item = f32>) -> f32 {
    let (sum, count) = values
        .into_iter()
        .filter(|v| !v.is_nan())
        .fold((0.0f32, 0usize), |(s, n), v| (s + v, n + 1));
    if count == 0 {
        f32::NAN
    } else {
        sum / count as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argmax_takes_the_first_maximum() {
        assert_eq!(argmax(&[0.1, 0.4, 0.4, 0.1]), 1);
        assert_eq!(argmax(&[0.5]), 0);
        assert_eq!(argmax(&[]), 0);
    }

    #[test]
    fn argmax_takes_the_first_nan() {
        assert_eq!(argmax(&[0.1, f32::NAN, 0.9, f32::NAN]), 1);
        assert_eq!(argmax(&[f32::NAN, 0.9]), 0);
    }

    #[test]
    fn max_propagates_nan() {
        assert_eq!(max(&[0.1, 0.7, 0.2]), 0.7);
        assert!(max(&[0.1, f32::NAN]).is_nan());
        assert!(max(&[]).is_nan());
    }

    #[test]
    fn nanmean_skips_nan() {
        assert_eq!(nanmean([1.0, f32::NAN, 3.0]), 2.0);
        assert!(nanmean([f32::NAN]).is_nan());
        assert!(nanmean([]).is_nan());
    }
}
