/// Why labels, token scores or names could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SpanError {
    /// A label list must name at least one label.
    #[error("the label list is empty")]
    NoLabels,
    /// Two labels have the same name, so a name no longer identifies one id.
    #[error("duplicate label name {0:?}")]
    DuplicateLabel(String),
    /// A token's score vector does not have one score per label.
    #[error(
        "token {position} has scores of the wrong length: expected {expected} labels, got {got}"
    )]
    ScoreCount {
        /// Position of the token in the list given to [`crate::decode_window`].
        position: usize,
        /// Number of labels.
        expected: usize,
        /// Number of scores the token has.
        got: usize,
    },
    /// A token's offsets are not a range of the text on char boundaries.
    #[error(
        "token {position} has byte offsets {start}..{end}, which are not a char-aligned range of the {len}-byte text"
    )]
    InvalidOffsets {
        /// Position of the token in the list given to [`crate::decode_window`].
        position: usize,
        /// Start byte offset of the token.
        start: usize,
        /// End byte offset of the token.
        end: usize,
        /// Length of the text in bytes.
        len: usize,
    },
    /// Tokens must come in text order (non-decreasing start offsets).
    #[error(
        "token {position} starts at byte {start}, before the previous token (byte {previous})"
    )]
    Unsorted {
        /// Position of the token in the list given to [`crate::decode_window`].
        position: usize,
        /// Start byte offset of the token.
        start: usize,
        /// Start byte offset of the token before it.
        previous: usize,
    },
    /// A name that is not an aggregation strategy.
    #[error("unknown aggregation strategy {0:?}: expected none, simple, first, average or max")]
    UnknownAggregation(String),
    /// A name that is not a label scheme.
    #[error("unknown label scheme {0:?}: expected iob2, iob1, bioes, bilou or plain")]
    UnknownScheme(String),
    /// A name that is not a label decoding.
    #[error("unknown label decoding {0:?}: expected argmax or constrained")]
    UnknownDecoding(String),
}
