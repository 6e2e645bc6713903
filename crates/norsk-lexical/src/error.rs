use std::path::PathBuf;

/// Why a lexical channel could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LexicalError {
    /// A file of the channel could not be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What the file system said.
        #[source]
        source: std::io::Error,
    },
    /// The channel's config is not valid JSON of the expected shape.
    #[error("{path} is not a lexical channel config")]
    Config {
        /// The config file.
        path: PathBuf,
        /// What the JSON reader said.
        #[source]
        source: serde_json::Error,
    },
    /// The weights file is not a safetensors file.
    #[error("{path} is not a safetensors file")]
    Weights {
        /// The weights file.
        path: PathBuf,
        /// What the safetensors reader said.
        #[source]
        source: safetensors::SafeTensorError,
    },
    /// The files are readable but do not fit together.
    #[error("{path}: {reason}")]
    Invalid {
        /// The file at fault.
        path: PathBuf,
        /// What does not fit.
        reason: String,
    },
}
