//! `classify --resume`: how far an earlier run got.
//!
//! Output records are written whole and in input order, one per input
//! record, so the number of complete records already in the output is the
//! number of input records done. Ids are not used: they may repeat, be
//! missing or differ only in type (`7` and `"7"`).

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, ErrorKind, Read, Seek, SeekFrom};
use std::path::Path;

use anyhow::Context;

use crate::classify::{OutputFormat, CSV_HEADER};

/// How many input records `path` already holds results for. A half-written
/// last record (a crash mid-write) is cut off first, so that it is done
/// again and the file ends with a whole record. A missing file holds none.
pub fn records_done(path: &Path, format: OutputFormat) -> anyhow::Result<u64> {
    let context = || format!("cannot resume from {}", path.display());
    let file = match OpenOptions::new().read(true).write(true).open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e).with_context(context),
    };
    let Whole { records, bytes } = match format {
        OutputFormat::Jsonl => whole_lines(BufReader::new(&file)),
        OutputFormat::Csv => whole_rows(&file),
    }
    .with_context(context)?;
    file.set_len(bytes).with_context(context)?;
    Ok(records)
}

/// The complete records at the start of an output file.
struct Whole {
    /// How many input records they stand for.
    records: u64,
    /// Where the last of them ends.
    bytes: u64,
}

/// JSONL: every line that ends in a newline is one record.
fn whole_lines(mut reader: impl BufRead) -> std::io::Result<Whole> {
    let mut whole = Whole {
        records: 0,
        bytes: 0,
    };
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line)?;
        if n == 0 || !line.ends_with(b"\n") {
            return Ok(whole);
        }
        whole.records += 1;
        whole.bytes += n as u64;
    }
}

/// CSV: the header, then rows with all the header's fields ended by a
/// newline (a quoted field may hold newlines, so rows are parsed, not
/// counted as lines).
fn whole_rows(mut file: &File) -> std::io::Result<Whole> {
    let len = file.seek(SeekFrom::End(0))?;
    let mut last = [0u8];
    if len > 0 {
        file.seek(SeekFrom::End(-1))?;
        file.read_exact(&mut last)?;
    }
    file.seek(SeekFrom::Start(0))?;
    let columns = CSV_HEADER.split(',').count();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(BufReader::new(file));
    let (mut rows, mut bytes) = (0u64, 0u64);
    let mut row = csv::ByteRecord::new();
    while reader
        .read_byte_record(&mut row)
        .map_err(std::io::Error::other)?
    {
        let end = reader.position().byte();
        let terminated = end < len || last[0] == b'\n';
        if row.len() != columns || !terminated {
            break;
        }
        rows += 1;
        bytes = end;
    }
    Ok(Whole {
        records: rows.saturating_sub(1),
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done(format: OutputFormat, content: &str) -> (u64, String) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        std::fs::write(&path, content).unwrap();
        let n = records_done(&path, format).unwrap();
        (n, std::fs::read_to_string(&path).unwrap())
    }

    #[test]
    fn resume_counts_whole_records_and_cuts_a_half_written_one() {
        let jsonl = "{\"id\":\"a\"}\n{\"id\":\"a\"}\n{\"id\":\"b\",\"la";
        assert_eq!(
            done(OutputFormat::Jsonl, jsonl),
            (2, "{\"id\":\"a\"}\n{\"id\":\"a\"}\n".to_string())
        );
        let header = format!("{CSV_HEADER}\n");
        let csv = format!("{header}a,x,0.5,x:0.5,\n\"line\nbreak\",x,0.5,x:0.5,\n\"cut");
        let kept = format!("{header}a,x,0.5,x:0.5,\n\"line\nbreak\",x,0.5,x:0.5,\n");
        assert_eq!(done(OutputFormat::Csv, &csv), (2, kept));
        assert_eq!(
            done(OutputFormat::Csv, "id,lab"),
            (0, String::new()),
            "a half-written header is cut too"
        );
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("none.jsonl");
        assert_eq!(records_done(&missing, OutputFormat::Jsonl).unwrap(), 0);
    }
}
