use std::io::{self, Seek, Write};

use super::{Notes, RecordOutput, RecordWriter};
use crate::{NpyWriter, Record};

/// A `.npy` float32 array, row i the vector of input record i; a record
/// without one is a row of NaN, said in the notes. After every flush the
/// file is a whole array of the rows so far.
pub struct NpyRecordWriter<W: Write + Seek> {
    npy: NpyWriter<W>,
    notes: Notes,
}

impl<W: Write + Seek> NpyRecordWriter<W> {
    /// Starts a `(0, dim)` array in `out`; errors are said in `notes`.
    pub fn new(out: W, dim: usize, notes: Notes) -> io::Result<Self> {
        Ok(Self {
            npy: NpyWriter::new(out, dim)?,
            notes,
        })
    }
}

impl<W: Write + Seek> RecordOutput for NpyRecordWriter<W> {
    fn error(&mut self, record: &Record, message: &str) -> io::Result<()> {
        let row = self.npy.rows();
        (self.notes)(&format!(
            "record {} (row {row}): {message}; its row is NaN",
            record.id
        ));
        self.npy.write_row(&vec![f32::NAN; self.npy.dim()])
    }

    fn flush(&mut self) -> io::Result<()> {
        self.npy.flush()
    }
}

impl<W: Write + Seek> RecordWriter<[f32]> for NpyRecordWriter<W> {
    fn result(&mut self, _: &Record, vector: &[f32]) -> io::Result<()> {
        self.npy.write_row(vector)
    }
}
