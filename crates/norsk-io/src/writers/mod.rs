//! Output records: one writer per format, each writing one output record
//! for every input record (its result, or why it has none), in input order.
//!
//! A command picks a writer for its format and hands it each chunk of
//! records with [`write_chunk`]; the writers know nothing of the command
//! line, and write to any [`std::io::Write`].

mod conll;
mod csv;
mod human;
mod json;
mod jsonl;
mod npy;

use std::io;

use norsk_spans::Entity;
use serde_json::{Map, Value};

use crate::Record;

pub use self::conll::ConllWriter;
pub use self::csv::{CsvWriter, LABELS_CSV_HEADER};
pub use self::human::HumanWriter;
pub use self::json::JsonWriter;
pub use self::jsonl::JsonlWriter;
pub use self::npy::NpyRecordWriter;

/// What every output format does, whatever its records' results are:
/// write that a record has none, flush, finish.
pub trait RecordOutput {
    /// Writes that `record` has no result, and why.
    fn error(&mut self, record: &Record, message: &str) -> io::Result<()>;

    /// Passes everything written so far on to the underlying writer and
    /// flushes it; called after every chunk of records.
    fn flush(&mut self) -> io::Result<()>;

    /// Ends the output once every record is written (a format that needs to
    /// see them all, such as one JSON array, writes it now), then flushes.
    fn finish(&mut self) -> io::Result<()> {
        self.flush()
    }
}

/// Writes the output record of each input record, in one format. `T` is
/// what a record's result is: [`Tagged`] entities, a ranked list of
/// [`Prediction`](norsk_spans::Prediction)s, an embedding `[f32]`.
pub trait RecordWriter<T: ?Sized>: RecordOutput {
    /// Writes the result of `record`.
    fn result(&mut self, record: &Record, result: &T) -> io::Result<()>;
}

/// A text and the entities found in it: the result of tagging one record.
#[derive(Debug, Clone, Copy)]
pub struct Tagged<'a> {
    /// The text tagged; every entity's offsets index it.
    pub text: &'a str,
    /// Its entities, in text order.
    pub entities: &'a [Entity],
}

/// Where a format with no room for an error in its output (highlighted
/// text, `.npy` rows) says that a record has none: one line per record,
/// without a newline.
pub type Notes = Box<dyn FnMut(&str)>;

/// Writes one chunk: each record's result or error, in order, then flushes.
/// Says whether any record failed.
pub fn write_chunk<'r, T, E>(
    writer: &mut (impl RecordWriter<T> + ?Sized),
    records: &[Record],
    results: impl IntoIterator<Item = Result<&'r T, E>>,
) -> io::Result<bool>
where
    T: ?Sized + 'r,
    E: AsRef<str>,
{
    let mut failed = false;
    for (record, result) in records.iter().zip(results) {
        match result {
            Ok(result) => writer.result(record, result)?,
            Err(message) => {
                failed = true;
                writer.error(record, message.as_ref())?;
            }
        }
    }
    writer.flush()?;
    Ok(failed)
}

/// An id as people read it: strings as they are, other values as JSON.
fn display_id(id: &Value) -> String {
    match id {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A record's error as a note: `error: …` when the run has one text, else
/// `<id>: …`.
fn note(record: &Record, message: &str, single: bool) -> String {
    if single {
        format!("error: {message}")
    } else {
        format!("{}: {message}", display_id(&record.id))
    }
}

/// The fields every JSON output record begins with: the record's id and
/// the input fields carried through.
fn record_fields(record: &Record) -> Map<String, Value> {
    let mut object = Map::new();
    object.insert("id".into(), record.id.clone());
    object.extend(record.extra.clone());
    object
}

#[cfg(test)]
pub(crate) mod test_records {
    use serde_json::{Map, Value};

    use super::Tagged;
    use crate::{InputError, Record};
    use norsk_spans::Entity;

    /// A record with `id`, `text` and the extra fields of `extra` (an object).
    pub fn record(id: Value, text: &str, extra: Value) -> Record {
        let extra: Map<String, Value> = match extra {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        Record {
            id,
            text: Ok(text.to_string()),
            extra,
        }
    }

    /// A record whose text could not be read.
    pub fn unreadable(id: Value) -> Record {
        Record {
            id,
            text: Err(InputError::MissingField {
                line: 1,
                field: "text".into(),
            }),
            extra: Map::new(),
        }
    }

    /// An entity over the first `word` of `text`.
    pub fn entity(text: &str, word: &str, label: &str) -> Entity {
        let start = text.find(word).unwrap();
        Entity {
            label: label.into(),
            score: 0.5,
            start,
            end: start + word.len(),
            word: word.into(),
            index: None,
        }
    }

    /// The results of a chunk of two records: `text` tagged with
    /// `entities`, then one that failed with "no text".
    pub fn tagged_then_failed<'a>(
        text: &'a str,
        entities: &'a [Entity],
    ) -> [Result<Tagged<'a>, &'static str>; 2] {
        [Ok(Tagged { text, entities }), Err("no text")]
    }

    /// Collected notes, shared with the writer that writes them.
    pub fn notes() -> (super::Notes, std::rc::Rc<std::cell::RefCell<Vec<String>>>) {
        let seen = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let sink = seen.clone();
        (
            Box::new(move |note: &str| sink.borrow_mut().push(note.to_string())),
            seen,
        )
    }
}
