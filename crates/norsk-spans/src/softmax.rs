use crate::numeric::nan_max;

/// Numerically stable softmax of one token's logits, as transformers computes
/// it with numpy: `exp(x - max) / sum(exp(x - max))`, all in `f32`.
///
/// An empty slice gives an empty vector. A NaN logit makes every probability
/// NaN, as in numpy (whose `max` propagates NaN).
pub fn softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().copied().reduce(nan_max).unwrap_or(0.0);
    let exps: Vec<f32> = logits.iter().map(|&x| (x - max).exp()).collect();
    let sum: f32 = exps.iter().sum();
    exps.into_iter().map(|e| e / sum).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_to_one_and_keeps_order() {
        let p = softmax(&[1.0, 2.0, 3.0]);
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(p[0] < p[1] && p[1] < p[2]);
        assert!((p[2] - 0.665_240_94).abs() < 1e-6);
    }

    #[test]
    fn stable_for_large_logits() {
        let p = softmax(&[1000.0, 1000.0]);
        assert_eq!(p, vec![0.5, 0.5]);
    }

    #[test]
    fn empty_and_nan() {
        assert!(softmax(&[]).is_empty());
        assert!(softmax(&[0.0, f32::NAN]).iter().all(|p| p.is_nan()));
    }
}
