use std::path::PathBuf;

/// Why an input could not be turned into a text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// The file could not be read.
    #[error("cannot read {path}: {reason}")]
    Io { path: PathBuf, reason: String },
    /// The bytes are not UTF-8.
    #[error("{source_name}: invalid UTF-8 at byte {position}")]
    InvalidUtf8 {
        source_name: String,
        position: usize,
    },
    /// The bytes look like a binary file (they contain NUL bytes).
    #[error("{source_name}: binary data (NUL byte at byte {position}), not text")]
    Binary {
        source_name: String,
        position: usize,
    },
    /// A JSONL line is not a JSON object.
    #[error("line {line}: invalid JSON: {reason}")]
    InvalidJson { line: usize, reason: String },
    /// A JSONL record lacks the text field or it is not a string.
    #[error("line {line}: no string field {field:?}")]
    MissingField { line: usize, field: String },
    /// A line of a tagged corpus (`TOKEN<TAB>TAG` or CoNLL-U) that cannot
    /// be read.
    #[error("{path}:{line}: {reason}")]
    MalformedLine {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong with the line.
        reason: String,
    },
    /// A CSV/TSV row that cannot be read, or a header without the text column.
    #[error("row {row}: {reason}")]
    Row {
        /// 1-based row number, the header being row 1.
        row: usize,
        /// What is wrong with the row.
        reason: String,
    },
    /// A file in an input folder that is not a text.
    #[error("{name}: {reason}")]
    Folder {
        /// The file's name within the folder.
        name: String,
        /// Why it is not a text.
        reason: String,
    },
}
