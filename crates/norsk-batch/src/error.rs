/// A batch or logits whose parts do not fit together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BatchError {
    /// A row is longer than the batch's padded length.
    #[error("a row of {len} tokens does not fit a batch of {seq}")]
    RowTooLong { len: usize, seq: usize },
    /// A row's type ids are not as many as its ids.
    #[error("row {row} has {ids} ids but {type_ids} type ids")]
    TypeIds {
        row: usize,
        ids: usize,
        type_ids: usize,
    },
    /// Logits whose values do not fill their shape.
    #[error("{values} logits do not fill the shape {shape:?}")]
    Shape { values: usize, shape: Vec<usize> },
    /// A scheduled run gave another count of outputs than its batch has rows.
    #[error("a batch of {rows} rows gave {outputs} outputs")]
    Outputs { rows: usize, outputs: usize },
    /// Logits read with a rank they do not have.
    #[error("logits of shape {shape:?} read as rank {wanted}")]
    Rank { shape: Vec<usize>, wanted: usize },
}
