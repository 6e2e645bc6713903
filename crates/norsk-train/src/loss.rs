//! The training loss: cross-entropy, optionally weighted per class so that
//! rare classes count for more.

use std::str::FromStr;

use candle_core::{Result, Tensor, D};
use serde::{Deserialize, Serialize};

/// How much each class's examples weigh in the loss.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClassWeights {
    /// Every example weighs the same: plain cross-entropy.
    #[default]
    None,
    /// Class `c` weighs `n / (k · n_c)` (scikit-learn's `"balanced"`): each
    /// of the `k` classes weighs as much in all, however few its examples.
    Balanced,
    /// The square root of `Balanced`: rare classes are lifted, less so.
    Sqrt,
}

impl ClassWeights {
    /// One weight per class from the number of training examples of each;
    /// a class with no example gets 0 (no example of it is ever weighed).
    /// `None` when every weight would be 1.
    pub fn weights(self, counts: &[usize]) -> Option<Vec<f32>> {
        let total: usize = counts.iter().sum();
        let present = counts.iter().filter(|&&n| n > 0).count();
        let balanced = |n: usize| total as f64 / (present as f64 * n as f64);
        let weigh = |f: fn(f64) -> f64| {
            counts
                .iter()
                .map(|&n| if n == 0 { 0.0 } else { f(balanced(n)) as f32 })
                .collect()
        };
        match self {
            ClassWeights::None => None,
            ClassWeights::Balanced => Some(weigh(|w| w)),
            ClassWeights::Sqrt => Some(weigh(f64::sqrt)),
        }
    }
}

impl FromStr for ClassWeights {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s {
            "none" => Ok(ClassWeights::None),
            "balanced" => Ok(ClassWeights::Balanced),
            "sqrt" => Ok(ClassWeights::Sqrt),
            other => Err(format!(
                "unknown class weighting {other:?}: expected none, balanced or sqrt"
            )),
        }
    }
}

/// Mean cross-entropy of `logits` (`[batch, classes]`) against `targets`
/// (`[batch]`, u32); with `weights` (`[classes]`), the weighted mean
/// `Σ w[y]·nll / Σ w[y]`, as PyTorch's `CrossEntropyLoss(weight=…)`.
pub fn cross_entropy(
    logits: &Tensor,
    targets: &Tensor,
    weights: Option<&Tensor>,
) -> Result<Tensor> {
    let Some(weights) = weights else {
        return candle_nn::loss::cross_entropy(logits, targets);
    };
    let log_probs = candle_nn::ops::log_softmax(logits, D::Minus1)?;
    let nll = log_probs
        .gather(&targets.unsqueeze(1)?, 1)?
        .squeeze(1)?
        .neg()?;
    let w = weights.index_select(targets, 0)?;
    (nll * &w)?.sum_all()?.broadcast_div(&w.sum_all()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    fn tensors() -> (Tensor, Tensor) {
        let logits = Tensor::new(
            &[[2.0f32, 0.5, -1.0], [0.1, 0.2, 0.3], [-1.0, 3.0, 0.0]],
            &Device::Cpu,
        )
        .unwrap();
        let targets = Tensor::new(&[0u32, 2, 2], &Device::Cpu).unwrap();
        (logits, targets)
    }

    fn nll(row: [f32; 3], target: usize) -> f32 {
        let lse = row.iter().map(|x| x.exp()).sum::<f32>().ln();
        lse - row[target]
    }

    #[test]
    fn equal_weights_give_plain_cross_entropy() {
        let (logits, targets) = tensors();
        let plain = cross_entropy(&logits, &targets, None)
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        let ones = Tensor::new(&[1f32, 1.0, 1.0], &Device::Cpu).unwrap();
        let weighted = cross_entropy(&logits, &targets, Some(&ones))
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!((plain - weighted).abs() < 1e-6, "{plain} vs {weighted}");
    }

    #[test]
    fn weights_make_a_weighted_mean_of_the_examples_losses() {
        let (logits, targets) = tensors();
        let w = Tensor::new(&[3f32, 1.0, 0.5], &Device::Cpu).unwrap();
        let got = cross_entropy(&logits, &targets, Some(&w))
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        let want = (3.0 * nll([2.0, 0.5, -1.0], 0)
            + 0.5 * nll([0.1, 0.2, 0.3], 2)
            + 0.5 * nll([-1.0, 3.0, 0.0], 2))
            / 4.0;
        assert!((got - want).abs() < 1e-5, "{got} vs {want}");
    }

    #[test]
    fn balanced_weights_give_every_class_the_same_total() {
        let counts = [30, 10, 0, 60];
        let w = ClassWeights::Balanced.weights(&counts).unwrap();
        for (n, w) in counts.iter().zip(&w).filter(|(n, _)| **n > 0) {
            assert!((*n as f32 * w - 100.0 / 3.0).abs() < 1e-3, "{n} × {w}");
        }
        assert_eq!(w[2], 0.0);
        let sqrt = ClassWeights::Sqrt.weights(&counts).unwrap();
        assert!((sqrt[1] - w[1].sqrt()).abs() < 1e-6);
        assert_eq!(ClassWeights::None.weights(&counts), None);
        assert_eq!("sqrt".parse::<ClassWeights>(), Ok(ClassWeights::Sqrt));
        assert!("inverse"
            .parse::<ClassWeights>()
            .unwrap_err()
            .contains("balanced"));
    }
}
