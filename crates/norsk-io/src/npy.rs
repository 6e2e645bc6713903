//! NumPy `.npy` output: a little-endian float32 matrix `(rows, dim)`,
//! written row by row.
//!
//! The format (NPY 1.0): the magic `\x93NUMPY`, the version bytes `1 0`, a
//! little-endian `u16` header length, then a Python dict literal
//! (`{'descr': '<f4', 'fortran_order': False, 'shape': (rows, dim), }`)
//! padded with spaces and ended by `\n` so that the data starts at a
//! multiple of 64 bytes; then the values in C order. Here the header always
//! takes [`HEADER_LEN`] bytes, so that it can be rewritten in place with the
//! final row count: after every [`NpyWriter::flush`] the file is a complete
//! `.npy` of the rows written so far.

use std::io::{self, Seek, SeekFrom, Write};

/// Bytes before the data: room for any `u64` row count and dimension.
pub const HEADER_LEN: usize = 128;

const MAGIC: &[u8] = b"\x93NUMPY\x01\x00";

/// Writes float32 rows of one length into a `.npy` file.
pub struct NpyWriter<W: Write + Seek> {
    sink: W,
    dim: usize,
    rows: u64,
}

impl<W: Write + Seek> NpyWriter<W> {
    /// Starts a `(0, dim)` array at the beginning of `sink`.
    pub fn new(mut sink: W, dim: usize) -> io::Result<Self> {
        sink.seek(SeekFrom::Start(0))?;
        sink.write_all(&header(0, dim))?;
        Ok(Self { sink, dim, rows: 0 })
    }

    /// Appends one row; its length must be the array's `dim`.
    pub fn write_row(&mut self, row: &[f32]) -> io::Result<()> {
        if row.len() != self.dim {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("a row of {} values in an array of {}", row.len(), self.dim),
            ));
        }
        let bytes: Vec<u8> = row.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.sink.write_all(&bytes)?;
        self.rows += 1;
        Ok(())
    }

    /// The length of every row.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Puts the row count in the header and flushes: the file is now a whole
    /// `.npy` array of every row written.
    pub fn flush(&mut self) -> io::Result<()> {
        self.sink.seek(SeekFrom::Start(0))?;
        self.sink.write_all(&header(self.rows, self.dim))?;
        self.sink.seek(SeekFrom::End(0))?;
        self.sink.flush()
    }
}

/// The [`HEADER_LEN`] bytes before the data of a `(rows, dim)` float32 array.
fn header(rows: u64, dim: usize) -> Vec<u8> {
    let dict = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {dim}), }}");
    let room = HEADER_LEN - MAGIC.len() - 2;
    let mut text = format!("{dict:<width$}", width = room - 1);
    text.push('\n');
    let mut out = MAGIC.to_vec();
    // `room` is under 128, so it fits in a u16.
    out.extend_from_slice(&(room as u16).to_le_bytes());
    out.extend_from_slice(text.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn the_header_is_npy_1_0_and_aligned() {
        let h = header(u64::MAX, usize::MAX);
        assert_eq!(h.len(), HEADER_LEN);
        assert_eq!(&h[..8], MAGIC);
        assert_eq!(u16::from_le_bytes([h[8], h[9]]) as usize, HEADER_LEN - 10);
        assert_eq!(*h.last().unwrap(), b'\n');
        let text = std::str::from_utf8(&h[10..]).unwrap();
        assert!(text.starts_with("{'descr': '<f4', 'fortran_order': False, 'shape': ("));
        assert!(text.contains(&format!("({}, {}), }}", u64::MAX, usize::MAX)));
    }

    #[test]
    fn rows_follow_the_header_and_the_count_is_rewritten() {
        let mut npy = NpyWriter::new(Cursor::new(Vec::new()), 2).unwrap();
        npy.write_row(&[1.0, -2.5]).unwrap();
        npy.write_row(&[f32::NAN, 0.0]).unwrap();
        assert!(npy.write_row(&[1.0]).is_err());
        npy.flush().unwrap();
        assert_eq!(npy.rows(), 2);
        let bytes = npy.sink.into_inner();
        assert_eq!(bytes.len(), HEADER_LEN + 2 * 2 * 4);
        assert!(std::str::from_utf8(&bytes[10..HEADER_LEN])
            .unwrap()
            .contains("'shape': (2, 2), }"));
        let value = |i: usize| {
            let at = HEADER_LEN + 4 * i;
            f32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
        };
        assert_eq!((value(0), value(1)), (1.0, -2.5));
        assert!(value(2).is_nan());
    }
}
