use std::path::PathBuf;

/// Why training could not start or finish.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrainError {
    /// The base model folder cannot be loaded, or the model failed to run.
    #[error(transparent)]
    Model(#[from] norsk_model::ModelError),
    /// The base folder's tokenizer cannot be loaded or failed on a text.
    #[error(transparent)]
    Tokenizer(#[from] norsk_tokens::TokenizerError),
    /// An input file cannot be read.
    #[error(transparent)]
    Input(#[from] norsk_io::InputError),
    /// A batch did not fit together.
    #[error(transparent)]
    Batch(#[from] norsk_batch::BatchError),
    /// A tensor operation failed inside candle.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
    /// A file of the base folder or the output folder cannot be read or written.
    #[error("cannot {action} {path}")]
    Io {
        /// What was being done (`read`, `write`, `copy`, `create`).
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The operating system's (or the JSON reader's) error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A line of a JSONL data file is not a usable example.
    #[error("{path}:{line}: {reason}")]
    Data {
        /// The data file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong with the line.
        reason: String,
    },
    /// The embedding model cannot be loaded or failed on the texts, or a
    /// head cannot be written.
    #[error(transparent)]
    Pipeline(#[from] norsk::NorskError),
    /// There is nothing to train on.
    #[error("no training examples")]
    NoTrainingData,
    /// There is no dev set to select the best epoch on.
    #[error("no dev examples: hold out some labelled examples to choose the best epoch on")]
    NoDevData,
    /// Classification needs two labels at least.
    #[error("training needs at least two distinct labels, found {0:?}")]
    TooFewLabels(Vec<String>),
    /// A setting of [`crate::TrainConfig`] is out of range.
    #[error("invalid training config: {0}")]
    Config(String),
    /// The base model's weights lack tensors the encoder needs.
    #[error("the base model lacks encoder weights: {}", .0.join(", "))]
    MissingWeights(Vec<String>),
    /// The loss stopped being a finite number.
    #[error(
        "training diverged: loss {loss} at epoch {epoch}, step {step} (try a lower learning rate)"
    )]
    Diverged {
        /// 1-based epoch.
        epoch: usize,
        /// 1-based step within the epoch.
        step: usize,
        /// The loss value.
        loss: f32,
    },
}

impl TrainError {
    pub(crate) fn io(
        action: &'static str,
        path: &std::path::Path,
        e: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::Io {
            action,
            path: path.to_path_buf(),
            source: Box::new(e),
        }
    }
}
