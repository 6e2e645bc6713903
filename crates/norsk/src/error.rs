use std::path::PathBuf;

/// A cause of any kind: another library's error, or a sentence saying what
/// is wrong.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Everything that can go wrong in a norsk pipeline.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NorskError {
    #[error(transparent)]
    Model(#[from] norsk_model::ModelError),
    /// A batch or its logits did not fit together.
    #[error(transparent)]
    Batch(#[from] norsk_batch::BatchError),
    #[error(transparent)]
    Tokenizer(#[from] norsk_tokens::TokenizerError),
    #[error(transparent)]
    Spans(#[from] norsk_spans::SpanError),
    /// A classifier's lexical channel could not be loaded.
    #[error(transparent)]
    Lexical(#[from] norsk_lexical::LexicalError),
    /// The model folder does not exist.
    #[error("model folder {0} does not exist")]
    NoModelDir(PathBuf),
    /// A hub id could not be resolved to local files.
    #[error("cannot get {repo} from the Hugging Face Hub")]
    Hub {
        /// `owner/name@revision`.
        repo: String,
        /// What went wrong: the hub client's error, or what the repo lacks.
        #[source]
        source: BoxError,
    },
    /// No model was given and the shipped default is not there.
    #[error("no model given and the shipped model {name} is in none of {}: pass --model DIR or --model owner/name, or set NORSK_MODELS to the folder holding {name}", searched.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))]
    NoDefaultModel {
        /// The shipped model's name.
        name: String,
        /// The folders looked in.
        searched: Vec<PathBuf>,
    },
    /// A sentence-transformers pooling config that norsk cannot follow.
    #[error("{path}")]
    Pooling {
        /// The file at fault.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: BoxError,
    },
    /// A zero-shot calibration file that cannot be used.
    #[error("{path}")]
    Calibration {
        /// The file at fault.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: BoxError,
    },
    /// A classification head folder that cannot be used.
    #[error("{path}")]
    Head {
        /// The file at fault.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: BoxError,
    },
    /// A set of zero-shot topics that cannot be used.
    #[error("topics {source_name}")]
    Topics {
        /// The set's name or file.
        source_name: String,
        /// What is wrong with it.
        #[source]
        source: BoxError,
    },
    /// The model's labels do not suit the task.
    #[error("model labels unusable: {0}")]
    Labels(String),
}
