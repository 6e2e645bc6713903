//! The models behind the tensor-free seam: each takes a plain
//! [`Batch`] and gives plain [`Logits`], so that the pipeline crate runs them
//! without building a tensor.

use candle_core::{DType, Device, Tensor};
use norsk_batch::{Batch, Logits, Model};

use crate::{BertEncoder, EncoderInput, ModelError, SequenceClassifier, TokenClassifier};

impl Model for TokenClassifier {
    type Error = ModelError;

    /// `[rows, seq, labels]`.
    fn logits(&self, batch: &Batch) -> Result<Logits, ModelError> {
        let input = EncoderInput::from_batch(batch, &Device::Cpu)?;
        logits(TokenClassifier::forward(self, &input)?)
    }
}

impl Model for SequenceClassifier {
    type Error = ModelError;

    /// `[rows, labels]`.
    fn logits(&self, batch: &Batch) -> Result<Logits, ModelError> {
        let input = EncoderInput::from_batch(batch, &Device::Cpu)?;
        logits(SequenceClassifier::forward(self, &input)?)
    }
}

/// An encoder whose output is each row's mean hidden state over its real
/// tokens, `[rows, hidden]` in f32: sentence-transformers' mean pooling.
pub struct MeanPooled(pub BertEncoder);

impl Model for MeanPooled {
    type Error = ModelError;

    fn logits(&self, batch: &Batch) -> Result<Logits, ModelError> {
        let input = EncoderInput::from_batch(batch, &Device::Cpu)?;
        let hidden = self.0.forward(&input)?;
        logits(masked_mean(&hidden, &input.attention_mask)?)
    }
}

/// The mean of `hidden` (`[batch, seq, dim]`) over the positions where
/// `mask` (`[batch, seq]`) is 1, in f32: `[batch, dim]`.
fn masked_mean(hidden: &Tensor, mask: &Tensor) -> candle_core::Result<Tensor> {
    let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
    let sum = hidden.to_dtype(DType::F32)?.broadcast_mul(&mask)?.sum(1)?;
    let count = mask.sum(1)?.clamp(1e-9, f64::MAX)?;
    sum.broadcast_div(&count)
}

/// A tensor's values as f32 logits of the same shape.
fn logits(tensor: Tensor) -> Result<Logits, ModelError> {
    let shape = tensor.dims().to_vec();
    let values = tensor
        .to_dtype(DType::F32)?
        .flatten_all()?
        .to_vec1::<f32>()?;
    Ok(Logits::new(values, shape)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{load_encoder, Precision};
    use norsk_batch::Row;
    use std::path::Path;

    #[test]
    fn mean_pooling_leaves_out_the_padding() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/tiny-cls");
        let encoder = MeanPooled(load_encoder(&dir, Precision::F32).unwrap().1);
        let long = [2u32, 11, 12, 3];
        let short = [2u32, 11, 3];
        let both = Batch::new(&[Row::new(&long, &[0; 4]), Row::new(&short, &[0; 3])], 0).unwrap();
        let alone = Batch::new(&[Row::new(&short, &[0; 3])], 0).unwrap();
        let both = encoder.logits(&both).unwrap();
        let alone = encoder.logits(&alone).unwrap();
        assert_eq!(both.shape()[0], 2);
        let padded = &both.into_vec2().unwrap()[1];
        for (a, b) in padded.iter().zip(&alone.into_vec2().unwrap()[0]) {
            assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        }
    }
}
