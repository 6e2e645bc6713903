use std::path::PathBuf;

/// Why a model could not be loaded or run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// `config.json` is missing, unreadable or not a BERT config we can run.
    #[error("invalid model config {path}: {reason}")]
    Config { path: PathBuf, reason: String },
    /// The folder has no weights in a format we read.
    #[error("no weights in {dir}: expected model.safetensors, model.safetensors.index.json or pytorch_model.bin")]
    MissingWeights { dir: PathBuf },
    /// A weights file exists but cannot be read.
    #[error("cannot read weights {path}: {reason}")]
    Weights { path: PathBuf, reason: String },
    /// The architecture is not one norsk runs.
    #[error("unsupported architecture {found:?}: norsk runs {expected}")]
    Unsupported { found: String, expected: String },
    /// The config's label map and the classifier weights disagree.
    #[error("label map has {config} labels but the classifier weights have {weights} outputs")]
    LabelMismatch { config: usize, weights: usize },
    /// A tensor is missing or has the wrong shape.
    #[error("weights do not fit the config: {0}")]
    Shape(String),
    /// A batch or logits whose parts do not fit together.
    #[error(transparent)]
    Batch(#[from] norsk_batch::BatchError),
    /// An error inside candle while running the model.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}
