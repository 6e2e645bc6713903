//! The candle side of norsk: BERT configuration, encoder, task heads, weight
//! loading and numeric precision.
//!
//! Everything here works on tensors. The pipeline reaches these models
//! through `norsk-batch`'s [`norsk_batch::Model`] trait (plain batches in,
//! plain logits out, see `seam.rs`); turning text into token ids and logits
//! into entities lives in `norsk-tokens` and `norsk-spans`.

mod attention;
mod bert;
mod config;
mod error;
mod fast_math;
mod float_linear;
#[doc(hidden)]
pub mod fuzzing;
mod heads;
pub mod kernels;
mod layer_norm;
mod precision;
mod product;
mod quantized;
mod rows;
mod seam;
#[cfg(test)]
mod test_util;
mod weights;

pub use bert::{BertEncoder, Dropout, EncoderInput, Mode};
pub use config::{Architecture, BertConfig, HiddenAct};
pub use error::ModelError;
pub use float_linear::FloatLinear;

pub use heads::{load_encoder, SequenceClassifier, TokenClassifier};
pub use precision::Precision;
pub use quantized::QuantizedLinear;
pub use seam::MeanPooled;
pub use weights::{
    is_sibling_shard, load_weights, shard_names, WeightFiles, WeightStore, WEIGHT_FILE_NAMES,
};

/// The CPU device every model runs on.
pub fn cpu() -> candle_core::Device {
    candle_core::Device::Cpu
}
