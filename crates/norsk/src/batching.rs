//! Running many windows through a model in batches of similar length, so
//! that little compute goes to padding: the pipeline's side of the
//! tensor-free seam.

use norsk_batch::{BatchError, Logits, Model, Row};
use norsk_tokens::Window;

use crate::NorskError;

/// Runs `windows` through `model` in batches of at most `batch_size` (see
/// [`norsk_batch::by_length`]); `split` turns a batch's logits into one
/// output per row (e.g. [`Logits::into_vec2`]). The outputs come back in
/// the order of `windows`.
pub(crate) fn by_length<M, T>(
    model: &M,
    windows: &[&Window],
    batch_size: usize,
    pad_id: u32,
    split: impl Fn(Logits) -> Result<Vec<T>, BatchError>,
) -> Result<Vec<T>, NorskError>
where
    M: Model,
    NorskError: From<M::Error>,
{
    let rows: Vec<Row> = windows
        .iter()
        .map(|w| Row::new(&w.ids, &w.type_ids))
        .collect();
    norsk_batch::by_length(&rows, batch_size, pad_id, |_, batch| {
        Ok(split(model.logits(batch)?)?)
    })
}
