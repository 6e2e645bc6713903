//! Counting the records of a JSONL file without holding it.

use std::io::Write;
use std::path::Path;

use crate::input::is_content;
use crate::{open_stream, InputError};

/// How many records [`read_jsonl`](crate::read_jsonl) gives for the file at
/// `path`: its lines that are not blank. `.gz` and `.xz` files are
/// decompressed as they are read; the bytes stream by and are never held,
/// so memory stays the same whatever the file's size.
pub fn count_jsonl(path: &Path) -> Result<u64, InputError> {
    let mut lines = LineCount::default();
    std::io::copy(&mut open_stream(path)?, &mut lines).map_err(|e| InputError::io(path, e))?;
    Ok(lines.finish())
}

/// Counts the lines written to it that hold more than whitespace.
#[derive(Default)]
struct LineCount {
    lines: u64,
    /// Whether the line being written so far holds more than whitespace.
    content: bool,
}

impl LineCount {
    /// The count, a last line without a newline included.
    fn finish(self) -> u64 {
        self.lines + u64::from(self.content)
    }
}

impl Write for LineCount {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        for byte in buf {
            if *byte == b'\n' {
                self.lines += u64::from(self.content);
                self.content = false;
            } else if is_content(byte) {
                self.content = true;
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::fs::File;

    use super::*;
    use crate::read_jsonl;

    #[test]
    fn counts_what_read_jsonl_gives_plain_and_compressed() {
        let text = "{\"text\":\"a\"}\n\n  \t\r\nnot json\r\n{\"x\":1}\n \n{\"text\":\"b\"}";
        let want = read_jsonl(text.as_bytes(), "text", "id").count() as u64;
        assert_eq!(want, 4);
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("a.jsonl");
        std::fs::write(&plain, text).unwrap();
        assert_eq!(count_jsonl(&plain).unwrap(), want);

        let gz = dir.path().join("a.jsonl.gz");
        let mut encoder =
            flate2::write::GzEncoder::new(File::create(&gz).unwrap(), Default::default());
        encoder.write_all(text.as_bytes()).unwrap();
        encoder.finish().unwrap();
        assert_eq!(count_jsonl(&gz).unwrap(), want);

        let xz = dir.path().join("a.jsonl.xz");
        let mut packed = Vec::new();
        lzma_rs::xz_compress(&mut text.as_bytes(), &mut packed).unwrap();
        std::fs::write(&xz, packed).unwrap();
        assert_eq!(count_jsonl(&xz).unwrap(), want);

        let err = count_jsonl(&dir.path().join("none.jsonl")).unwrap_err();
        assert!(err.to_string().contains("none.jsonl"), "{err}");
    }
}
