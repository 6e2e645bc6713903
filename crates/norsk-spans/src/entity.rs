use serde::{Deserialize, Serialize};

/// A labelled span of the source text: one token (with
/// [`crate::Aggregation::None`]) or one group of tokens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entity {
    /// The entity type (`PER`, transformers' `entity_group`), or the full
    /// label name (`B-PER`, transformers' `entity`) with aggregation `none`.
    pub label: String,
    /// The probability of the label: of the token or word, or the mean over
    /// the tokens or words of a group.
    pub score: f32,
    /// Byte offset of the start in the source text.
    pub start: usize,
    /// Byte offset of the end in the source text (exclusive).
    pub end: usize,
    /// The exact source substring `text[start..end]`.
    pub word: String,
    /// The token's position in its window; only with aggregation `none`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
}
