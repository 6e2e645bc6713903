use std::io::{self, Write};

use super::{display_id, note, Notes, RecordOutput, RecordWriter, Tagged};
use crate::{render_human, Palette, Record};

/// For people: each text with its entities marked (in colour with
/// [`Palette::Ansi`]), then one line per entity. Several texts are each
/// headed `# <id>` and followed by a blank line; a record without a result
/// is said in the notes.
pub struct HumanWriter<W: Write> {
    out: W,
    palette: Palette,
    single: bool,
    notes: Notes,
}

impl<W: Write> HumanWriter<W> {
    /// Writes to `out`; `single` when the run has one text only (no
    /// headings); errors go to `notes`.
    pub fn new(out: W, palette: Palette, single: bool, notes: Notes) -> Self {
        Self {
            out,
            palette,
            single,
            notes,
        }
    }
}

impl<W: Write> RecordOutput for HumanWriter<W> {
    fn error(&mut self, record: &Record, message: &str) -> io::Result<()> {
        (self.notes)(&note(record, message, self.single));
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

impl<W: Write> RecordWriter<Tagged<'_>> for HumanWriter<W> {
    fn result(&mut self, record: &Record, tagged: &Tagged<'_>) -> io::Result<()> {
        if !self.single {
            writeln!(self.out, "# {}", display_id(&record.id))?;
        }
        let rendered = render_human(tagged.text, tagged.entities, self.palette);
        self.out.write_all(rendered.as_bytes())?;
        if !self.single {
            writeln!(self.out)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::writers::test_records::{entity, notes, record, tagged_then_failed, unreadable};
    use crate::writers::write_chunk;

    #[test]
    fn several_texts_get_headings_and_an_error_becomes_a_note() {
        let text = "Erna bor i Bergen";
        let entities = [entity(text, "Erna", "PER")];
        let records = [record(json!("a"), text, json!({})), unreadable(json!(7))];
        let (sink, seen) = notes();
        let mut out = Vec::new();
        let mut writer = HumanWriter::new(&mut out, Palette::Plain, false, sink);
        let results = tagged_then_failed(text, &entities);
        assert!(write_chunk(&mut writer, &records, results.iter().map(Result::as_ref)).unwrap());
        drop(writer);
        let out = String::from_utf8(out).unwrap();
        assert!(out.starts_with("# a\n[Erna](PER) bor i Bergen\n"), "{out}");
        assert!(out.ends_with("Erna\n\n"), "{out}");
        assert_eq!(*seen.borrow(), ["7: no text"]);
    }
}
