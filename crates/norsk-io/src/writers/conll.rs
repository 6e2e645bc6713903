use std::io::{self, Write};

use super::{display_id, note, Notes, RecordOutput, RecordWriter, Tagged};
use crate::{render_conll, Record};

/// CoNLL: `# id = <id>`, then one word per line with its IOB2 tag and a
/// blank line. A record without a result is `# id = …` and `# error = …`,
/// and is said in the notes too.
pub struct ConllWriter<W: Write> {
    out: W,
    notes: Notes,
}

impl<W: Write> ConllWriter<W> {
    /// Writes to `out`; errors are said in `notes` as well.
    pub fn new(out: W, notes: Notes) -> Self {
        Self { out, notes }
    }
}

impl<W: Write> RecordOutput for ConllWriter<W> {
    fn error(&mut self, record: &Record, message: &str) -> io::Result<()> {
        writeln!(self.out, "# id = {}", display_id(&record.id))?;
        writeln!(self.out, "# error = {message}\n")?;
        (self.notes)(&note(record, message, false));
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

impl<W: Write> RecordWriter<Tagged<'_>> for ConllWriter<W> {
    fn result(&mut self, record: &Record, tagged: &Tagged<'_>) -> io::Result<()> {
        writeln!(self.out, "# id = {}", display_id(&record.id))?;
        self.out
            .write_all(render_conll(tagged.text, tagged.entities).as_bytes())
    }
}
