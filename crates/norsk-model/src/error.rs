use std::path::PathBuf;

/// A cause of any kind: another library's error, or a sentence saying what
/// is wrong.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a model could not be loaded or run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// `config.json` is missing, unreadable or not a BERT config we can run.
    #[error("invalid model config {path}")]
    Config {
        /// The config file.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: BoxError,
    },
    /// The folder has no weights in a format we read.
    #[error("no weights in {dir}: expected model.safetensors, model.safetensors.index.json or pytorch_model.bin")]
    MissingWeights { dir: PathBuf },
    /// A weights file exists but cannot be read.
    #[error("cannot read weights {path}")]
    Weights {
        /// The weights file (or shard index).
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: BoxError,
    },
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
