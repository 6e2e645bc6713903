//! The seam between the text side and the model side of norsk.
//!
//! The text side turns windows of token ids into a [`Batch`] (flat, padded
//! ids and type ids with each row's length); a [`Model`] turns a batch into
//! [`Logits`] (flat f32 values with a shape). Neither type holds a tensor,
//! so the crates on either side of the seam agree on plain data only: the
//! pipeline crate never sees candle, and `norsk-model` never sees text.
//! [`by_length`] is the one scheduler that groups rows of similar length
//! into batches, for every task.

mod batch;
mod error;
mod logits;
mod schedule;

pub use batch::{Batch, Row};
pub use error::BatchError;
pub use logits::Logits;
pub use schedule::by_length;

/// A model that scores a [`Batch`]: one forward pass, plain logits out.
///
/// What the logits are depends on the model: `[rows, seq, labels]` for a
/// token classifier, `[rows, labels]` for a sequence classifier,
/// `[rows, dim]` for a pooled encoder.
pub trait Model {
    /// Why a forward pass failed.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Runs the model over every row of `batch`.
    fn logits(&self, batch: &Batch) -> Result<Logits, Self::Error>;
}
