use std::io::{self, Write};

use serde_json::{json, Value};

use super::{note, Notes, RecordOutput, RecordWriter, Tagged};
use crate::{EntityRecord, OffsetUnit, Record};

/// One JSON document: for one text, the array of its entities (as
/// transformers' pipeline returns it); for several, one array holding each
/// text's entity array, or `{"id": …, "error": …}` for a text without
/// result, written when the output is finished. Errors are said in the
/// notes too.
pub struct JsonWriter<W: Write> {
    out: W,
    offsets: OffsetUnit,
    single: bool,
    notes: Notes,
    /// With several texts: everything goes out as one array at the end.
    collected: Vec<Value>,
}

impl<W: Write> JsonWriter<W> {
    /// Writes to `out`, offsets in `offsets`; `single` when the run has one
    /// text only; errors are said in `notes`.
    pub fn new(out: W, offsets: OffsetUnit, single: bool, notes: Notes) -> Self {
        Self {
            out,
            offsets,
            single,
            notes,
            collected: Vec::new(),
        }
    }
}

impl<W: Write> RecordOutput for JsonWriter<W> {
    fn error(&mut self, record: &Record, message: &str) -> io::Result<()> {
        if !self.single {
            let error = json!({"id": record.id, "error": message});
            self.collected.push(error);
        }
        (self.notes)(&note(record, message, self.single));
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn finish(&mut self) -> io::Result<()> {
        if !self.single {
            serde_json::to_writer_pretty(&mut self.out, &self.collected)?;
            writeln!(self.out)?;
        }
        self.flush()
    }
}

impl<W: Write> RecordWriter<Tagged<'_>> for JsonWriter<W> {
    fn result(&mut self, _: &Record, tagged: &Tagged<'_>) -> io::Result<()> {
        let entities = EntityRecord::to_json(tagged.text, tagged.entities, self.offsets);
        if self.single {
            serde_json::to_writer_pretty(&mut self.out, &entities)?;
            writeln!(self.out)
        } else {
            self.collected.push(entities);
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::writers::test_records::{notes, record, tagged_then_failed, unreadable};
    use crate::writers::write_chunk;

    #[test]
    fn several_texts_make_one_array_written_at_the_end() {
        let records = [record(json!("a"), "Oslo", json!({})), unreadable(json!(2))];
        let (sink, seen) = notes();
        let mut out = Vec::new();
        let mut writer = JsonWriter::new(&mut out, OffsetUnit::Chars, false, sink);
        let results = tagged_then_failed("Oslo", &[]);
        assert!(write_chunk(&mut writer, &records, results.iter().map(Result::as_ref)).unwrap());
        writer.finish().unwrap();
        drop(writer);
        let got: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(got, json!([[], {"id": 2, "error": "no text"}]));
        assert_eq!(*seen.borrow(), ["2: no text"]);
    }

    #[test]
    fn one_text_is_its_array_alone() {
        let (sink, _) = notes();
        let mut out = Vec::new();
        let mut writer = JsonWriter::new(&mut out, OffsetUnit::Chars, true, sink);
        let tagged = Tagged {
            text: "Oslo",
            entities: &[],
        };
        writer
            .result(&record(json!(0), "Oslo", json!({})), &tagged)
            .unwrap();
        writer.finish().unwrap();
        drop(writer);
        assert_eq!(String::from_utf8(out).unwrap(), "[]\n");
    }
}
