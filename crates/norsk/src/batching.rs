//! Running many inputs through a model in batches of similar length, so
//! that little compute goes to padding.

use candle_core::Device;
use norsk_model::EncoderInput;
use norsk_tokens::Window;

use crate::NorskError;

/// Runs `windows` through `forward` in batches of at most `batch_size`,
/// formed by sorting on length, and returns `forward`'s per-row outputs in
/// the order of `windows`.
pub(crate) fn by_length<T>(
    windows: &[&Window],
    batch_size: usize,
    pad_id: u32,
    mut forward: impl FnMut(&EncoderInput) -> Result<Vec<T>, NorskError>,
) -> Result<Vec<T>, NorskError> {
    let mut order: Vec<usize> = (0..windows.len()).collect();
    order.sort_by_key(|&i| windows[i].len());
    let mut out: Vec<Option<T>> = (0..windows.len()).map(|_| None).collect();
    for chunk in order.chunks(batch_size.max(1)) {
        let ids: Vec<&[u32]> = chunk.iter().map(|&i| windows[i].ids.as_slice()).collect();
        let types: Vec<&[u32]> = chunk
            .iter()
            .map(|&i| windows[i].type_ids.as_slice())
            .collect();
        let input = EncoderInput::from_rows(&ids, &types, pad_id, &Device::Cpu)?;
        for (&i, row) in chunk.iter().zip(forward(&input)?) {
            out[i] = Some(row);
        }
    }
    Ok(out.into_iter().flatten().collect())
}
