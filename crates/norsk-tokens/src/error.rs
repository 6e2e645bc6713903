use std::path::PathBuf;

/// Why a tokenizer could not be loaded or could not encode a text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenizerError {
    /// The folder has neither `tokenizer.json` nor `vocab.txt`.
    #[error(
        "no tokenizer in {dir}: expected tokenizer.json, or vocab.txt (with tokenizer_config.json)"
    )]
    Missing { dir: PathBuf },
    /// A tokenizer file exists but cannot be read or parsed.
    #[error("cannot load tokenizer from {path}")]
    Load {
        /// The file.
        path: PathBuf,
        /// What went wrong: the reader's error, or what is missing.
        #[source]
        source: tokenizers::Error,
    },
    /// The tokenizer failed on an input.
    #[error("tokenization failed")]
    Encode(#[source] tokenizers::Error),
    /// The requested window cannot hold any text token.
    #[error("invalid window: max length {max_len} with stride {stride} leaves no room for text")]
    Window { max_len: usize, stride: usize },
}
