use serde::Serialize;

/// One label of a classified text and its probability.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prediction {
    /// The label name (`id2label`, or the candidate label in zero-shot).
    pub label: String,
    /// Softmax probability (single-label) or sigmoid / entailment
    /// probability (multi-label).
    pub score: f32,
}
