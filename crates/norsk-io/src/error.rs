use std::path::PathBuf;
use std::sync::Arc;

/// Why an input could not be turned into a text.
///
/// The causes (the file system's, the JSON reader's) are kept as
/// [`std::error::Error::source`]s, shared so that a record's error can be
/// cloned; [`crate::error_message`] writes an error with its causes.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// The file could not be read.
    #[error("cannot read {path}")]
    Io {
        /// The file, folder or stream.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: Arc<std::io::Error>,
    },
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
    /// A JSONL line is not JSON.
    #[error("line {line}: invalid JSON")]
    InvalidJson {
        /// 1-based line number.
        line: usize,
        /// What the JSON reader said.
        #[source]
        source: Arc<serde_json::Error>,
    },
    /// A JSONL line is JSON but not an object.
    #[error("line {line}: invalid JSON: expected an object, found {found}")]
    NotAnObject {
        /// 1-based line number.
        line: usize,
        /// What the line holds instead (`an array`, `a string`, …).
        found: &'static str,
    },
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
    #[error("{name}")]
    Folder {
        /// The file's name within the folder.
        name: String,
        /// Why it is not a text.
        #[source]
        source: Box<InputError>,
    },
    /// A labelled record without its text or label.
    #[error("{record}: no {what}")]
    Incomplete {
        /// The file and the record's id.
        record: String,
        /// What it lacks.
        what: String,
    },
}

impl InputError {
    /// An error reading `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        InputError::Io {
            path: path.into(),
            source: Arc::new(source),
        }
    }
}

/// Equal when of the same kind about the same input: the same variant and
/// fields, causes compared by what they are (an I/O error's kind, a JSON
/// error's category and place), not by their message.
impl PartialEq for InputError {
    fn eq(&self, other: &Self) -> bool {
        use InputError::*;
        match (self, other) {
            (Io { path: a, source: x }, Io { path: b, source: y }) => {
                a == b && x.kind() == y.kind()
            }
            (
                InvalidUtf8 {
                    source_name: a,
                    position: x,
                },
                InvalidUtf8 {
                    source_name: b,
                    position: y,
                },
            )
            | (
                Binary {
                    source_name: a,
                    position: x,
                },
                Binary {
                    source_name: b,
                    position: y,
                },
            ) => a == b && x == y,
            (InvalidJson { line: a, source: x }, InvalidJson { line: b, source: y }) => {
                a == b
                    && x.classify() == y.classify()
                    && (x.line(), x.column()) == (y.line(), y.column())
            }
            (NotAnObject { line: a, found: x }, NotAnObject { line: b, found: y }) => {
                a == b && x == y
            }
            (MissingField { line: a, field: x }, MissingField { line: b, field: y }) => {
                a == b && x == y
            }
            (
                MalformedLine {
                    path: a,
                    line: l,
                    reason: x,
                },
                MalformedLine {
                    path: b,
                    line: m,
                    reason: y,
                },
            ) => a == b && l == m && x == y,
            (Row { row: a, reason: x }, Row { row: b, reason: y }) => a == b && x == y,
            (Folder { name: a, source: x }, Folder { name: b, source: y }) => a == b && x == y,
            (Incomplete { record: a, what: x }, Incomplete { record: b, what: y }) => {
                a == b && x == y
            }
            _ => false,
        }
    }
}

/// An error and its causes on one line, `"what: why: why"`, as a user
/// reads it (in an error record, a message); only the first line of each,
/// leaving out the backtrace some libraries (candle) put after theirs.
pub fn error_message(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = Vec::new();
    let mut next = Some(error);
    while let Some(e) = next {
        let text = e.to_string();
        parts.push(text.lines().next().unwrap_or_default().to_string());
        next = e.source();
    }
    parts.join(": ")
}
