use serde::{Deserialize, Serialize};

use crate::{ClassWeights, TrainError};

/// Settings of one fine-tuning run.
///
/// The defaults suit a small BERT encoder (4–12 layers) and a few thousand
/// examples: 3 epochs, batches of 16, learning rate 1e-4 for the encoder and
/// 1e-3 for the fresh head, weight decay 0.01, 10 % linear warm-up then
/// linear decay to 0, texts cut to 256 tokens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainConfig {
    /// Passes over the training set.
    pub epochs: usize,
    /// Examples per optimiser step.
    pub batch_size: usize,
    /// Peak learning rate of the encoder (pre-trained weights).
    pub learning_rate: f64,
    /// Peak learning rate of the fresh head (`classifier`, and the pooler
    /// when the base model has none).
    pub head_learning_rate: f64,
    /// AdamW's decoupled weight decay, applied to weight matrices and
    /// embeddings but not to biases and layer-norm parameters.
    pub weight_decay: f64,
    /// Share of all steps spent warming the learning rate up from 0.
    pub warmup_ratio: f64,
    /// Longest input in tokens, special tokens included; longer texts are
    /// truncated (their first `max_len` tokens are kept).
    pub max_len: usize,
    /// Seeds the shuffling, the fresh head and dropout.
    pub seed: u64,
    /// Wall-clock budget for the whole run. Training stops, mid-epoch if
    /// need be, early enough to evaluate and save; the best model so far is
    /// what `out/` holds.
    pub max_minutes: Option<f64>,
    /// Gradients are rescaled so that their global L2 norm is at most this
    /// (`transformers`' default 1.0); 0 turns clipping off.
    pub max_grad_norm: f64,
    /// Dropout of hidden states and attention probabilities; `None` takes
    /// `hidden_dropout_prob` and `attention_probs_dropout_prob` from the base
    /// config (0.1 each when absent).
    pub dropout: Option<(f32, f32)>,
    /// Store the output weights as f16 (half the size; what a shipped model
    /// wants) instead of f32.
    pub save_f16: bool,
    /// Keep the embeddings and the first `freeze_layers` encoder layers as
    /// the base has them (0: train everything). Frozen layers run once per
    /// example, without dropout, and their output is kept in memory (4 bytes
    /// × hidden size per token), so an epoch costs only the layers above.
    pub freeze_layers: usize,
    /// With frozen layers and a sharded base folder beside the output folder
    /// (`models/norsk-bert-ner` → `models/norsk-topic`): refer to the base's
    /// shards that hold only frozen tensors (`../BASE/SHARD` in
    /// `model.safetensors.index.json`) instead of copying them, so that both
    /// models share those bytes on disk.
    pub share_base_shards: bool,
    /// How much each class's examples weigh in the loss (plain
    /// cross-entropy by default); weighting lifts rare classes, which is
    /// what macro-F1 rewards.
    pub class_weights: ClassWeights,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            epochs: 3,
            batch_size: 16,
            learning_rate: 1e-4,
            head_learning_rate: 1e-3,
            weight_decay: 0.01,
            warmup_ratio: 0.1,
            max_len: 256,
            seed: 42,
            max_minutes: None,
            max_grad_norm: 1.0,
            dropout: None,
            save_f16: false,
            freeze_layers: 0,
            share_base_shards: false,
            class_weights: ClassWeights::None,
        }
    }
}

impl TrainConfig {
    /// Checks that every setting is in range.
    pub fn check(&self) -> Result<(), TrainError> {
        let fail = |m: String| Err(TrainError::Config(m));
        if self.epochs == 0 {
            return fail("epochs must be at least 1".into());
        }
        if self.batch_size == 0 {
            return fail("batch_size must be at least 1".into());
        }
        for (name, v) in [
            ("learning_rate", self.learning_rate),
            ("head_learning_rate", self.head_learning_rate),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return fail(format!("{name} must be positive, got {v}"));
            }
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return fail(format!(
                "weight_decay must be >= 0, got {}",
                self.weight_decay
            ));
        }
        if !(0.0..1.0).contains(&self.warmup_ratio) {
            return fail(format!(
                "warmup_ratio must be in [0, 1), got {}",
                self.warmup_ratio
            ));
        }
        if self.max_len < 3 {
            return fail(format!("max_len must be at least 3, got {}", self.max_len));
        }
        if let Some(m) = self.max_minutes {
            if !(m.is_finite() && m > 0.0) {
                return fail(format!("max_minutes must be positive, got {m}"));
            }
        }
        if !(self.max_grad_norm.is_finite() && self.max_grad_norm >= 0.0) {
            return fail(format!(
                "max_grad_norm must be >= 0, got {}",
                self.max_grad_norm
            ));
        }
        if let Some((h, a)) = self.dropout {
            if !((0.0..1.0).contains(&h) && (0.0..1.0).contains(&a)) {
                return fail(format!("dropout must be in [0, 1), got ({h}, {a})"));
            }
        }
        if self.share_base_shards && self.freeze_layers == 0 {
            return fail(
                "share_base_shards needs freeze_layers > 0: only frozen tensors can be shared"
                    .into(),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_values_named() {
        TrainConfig::default().check().unwrap();
        let bad = TrainConfig {
            warmup_ratio: 1.5,
            ..TrainConfig::default()
        };
        assert!(bad
            .check()
            .unwrap_err()
            .to_string()
            .contains("warmup_ratio"));
        let partial: TrainConfig = serde_json::from_str(r#"{"epochs": 5}"#).unwrap();
        assert_eq!(partial.epochs, 5);
        assert_eq!(partial.batch_size, 16);
    }
}
