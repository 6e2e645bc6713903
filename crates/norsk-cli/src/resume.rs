//! `--output` files that a later run can go on with (`--resume`).
//!
//! Output records are written whole and in input order, one per input
//! record, so the number of complete records already in the output is the
//! number of input records done. Ids are not used: they may repeat, be
//! missing or differ only in type (`7` and `"7"`).
//!
//! A run killed at any point (even SIGKILL) leaves a prefix of its output:
//! whole records and at most a half-written last one, which resuming cuts
//! off and does again.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, ErrorKind, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;

use anyhow::Context;

/// How the records of an output file are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One record per line (JSONL).
    Lines,
    /// CSV rows with the fields of `header`, after the header row itself
    /// when `with_header`.
    Csv {
        /// The header row, without its newline.
        header: &'static str,
        /// Whether the file begins with the header row.
        with_header: bool,
    },
}

/// How a run chunks its records: what a resumed output may keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunks {
    /// Records per chunk; chunks begin at multiples of it.
    pub size: u64,
    /// How many records the run has to do in all (`u64::MAX`: unknown).
    pub total: u64,
}

/// Where a batch command's records go: stdout, or `path` afresh, or with
/// `resume` after the whole `chunks` that `path` already holds (see
/// [`records_done`]). A CSV header is written where there is none yet.
/// Gives the sink and how many input records it already holds results for.
pub fn open(
    path: Option<&Path>,
    layout: Layout,
    resume: bool,
    chunks: Chunks,
) -> anyhow::Result<(Box<dyn Write>, u64)> {
    let (mut sink, done, fresh): (Box<dyn Write>, u64, bool) = match path {
        None => (Box::new(std::io::stdout()), 0, true),
        Some(path) => {
            let done = if resume {
                records_done(path, layout, chunks)?
            } else {
                0
            };
            let mut file = OpenOptions::new()
                .create(true)
                .write(true)
                .append(resume)
                .truncate(!resume)
                .open(path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            let fresh = file.seek(SeekFrom::End(0))? == 0;
            (Box::new(file), done, fresh)
        }
    };
    if let Layout::Csv {
        header,
        with_header: true,
    } = layout
    {
        if fresh {
            sink.write_all(format!("{header}\n").as_bytes())?;
            sink.flush()?;
        }
    }
    Ok((sink, done))
}

/// How many input records `path` already holds results for, in whole
/// `chunks` (or all the run has to do): the file is cut after the last
/// whole chunk, so that a half-written record (a crash mid-write) and the
/// records of a chunk left unfinished are done again, batched as in an
/// uninterrupted run, and the file ends with a whole record. A missing
/// file holds none.
fn records_done(path: &Path, layout: Layout, chunks: Chunks) -> anyhow::Result<u64> {
    let context = || format!("cannot resume from {}", path.display());
    let file = match OpenOptions::new().read(true).write(true).open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e).with_context(context),
    };
    let mut ends = Ends {
        chunks,
        preamble: 0,
        seen: 0,
        kept: Whole {
            records: 0,
            bytes: 0,
        },
    };
    match layout {
        Layout::Lines => whole_lines(BufReader::new(&file), &mut ends),
        Layout::Csv {
            header,
            with_header,
        } => {
            ends.preamble = u64::from(with_header);
            whole_rows(&file, header.split(',').count(), &mut ends)
        }
    }
    .with_context(context)?;
    file.set_len(ends.kept.bytes).with_context(context)?;
    Ok(ends.kept.records)
}

/// The complete records at the start of an output file that are kept.
struct Whole {
    /// How many input records they stand for.
    records: u64,
    /// Where the last of them ends.
    bytes: u64,
}

/// The ends of the whole rows of an output file, in order, and the last
/// one that closes a chunk.
struct Ends {
    /// How the run chunks its records.
    chunks: Chunks,
    /// Rows before the first record (a header).
    preamble: u64,
    /// Rows seen.
    seen: u64,
    /// What is kept: the rows up to the end of the last whole chunk.
    kept: Whole,
}

impl Ends {
    /// One more whole row, ending at byte `end`.
    #[allow(clippy::manual_is_multiple_of)] // is_multiple_of needs Rust 1.87, the workspace 1.85
    fn push(&mut self, end: u64) {
        self.seen += 1;
        if self.seen < self.preamble {
            return;
        }
        let records = self.seen - self.preamble;
        if records % self.chunks.size.max(1) == 0 || records == self.chunks.total {
            self.kept = Whole {
                records,
                bytes: end,
            };
        }
    }
}

/// JSONL: every line that ends in a newline is one record.
fn whole_lines(mut reader: impl BufRead, ends: &mut Ends) -> std::io::Result<()> {
    let (mut line, mut bytes) = (Vec::new(), 0u64);
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line)?;
        if n == 0 || !line.ends_with(b"\n") {
            return Ok(());
        }
        bytes += n as u64;
        ends.push(bytes);
    }
}

/// CSV: rows with all `columns` fields ended by a newline outside quotes
/// (a quoted field may hold newlines, so rows are parsed, not counted as
/// lines; a row cut inside a quoted field holds an odd number of quotes).
fn whole_rows(mut file: &File, columns: usize, ends: &mut Ends) -> std::io::Result<()> {
    let len = file.seek(SeekFrom::End(0))?;
    let mut last = [0u8];
    if len > 0 {
        file.seek(SeekFrom::End(-1))?;
        file.read_exact(&mut last)?;
    }
    file.seek(SeekFrom::Start(0))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(BufReader::new(file));
    let mut start = 0u64;
    let mut row = csv::ByteRecord::new();
    while reader
        .read_byte_record(&mut row)
        .map_err(std::io::Error::other)?
    {
        let end = reader.position().byte();
        let terminated = end < len || (last[0] == b'\n' && quotes_closed(file, start, end)?);
        if row.len() != columns || !terminated {
            break;
        }
        ends.push(end);
        start = end;
    }
    Ok(())
}

/// Whether the bytes `start..end` of `file` hold an even number of quotes,
/// as a whole row written by the `csv` crate does (each quoted field opens
/// and closes, a quote inside one is doubled).
fn quotes_closed(file: &File, start: u64, end: u64) -> std::io::Result<bool> {
    let mut row = vec![0; (end - start) as usize];
    file.read_exact_at(&mut row, start)?;
    Ok(row.iter().filter(|&&b| b == b'"').count() % 2 == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "id,label,score,labels,error";
    const CSV: Layout = Layout::Csv {
        header: HEADER,
        with_header: true,
    };

    /// Chunks of `size` records, the total unknown.
    fn chunks(size: u64) -> Chunks {
        Chunks {
            size,
            total: u64::MAX,
        }
    }

    fn done(layout: Layout, content: &str) -> (u64, String) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        std::fs::write(&path, content).unwrap();
        let n = records_done(&path, layout, chunks(1)).unwrap();
        (n, std::fs::read_to_string(&path).unwrap())
    }

    #[test]
    fn resume_counts_whole_records_and_cuts_a_half_written_one() {
        let jsonl = "{\"id\":\"a\"}\n{\"id\":\"a\"}\n{\"id\":\"b\",\"la";
        assert_eq!(
            done(Layout::Lines, jsonl),
            (2, "{\"id\":\"a\"}\n{\"id\":\"a\"}\n".to_string())
        );
        let rows = "a,x,0.5,x:0.5,\n\"line\nbreak\",x,0.5,x:0.5,\n";
        let csv = format!("{HEADER}\n{rows}\"cut");
        assert_eq!(done(CSV, &csv), (2, format!("{HEADER}\n{rows}")));
        assert_eq!(
            done(CSV, "id,lab"),
            (0, String::new()),
            "a half-written header is cut too"
        );
        let headless = Layout::Csv {
            header: HEADER,
            with_header: false,
        };
        assert_eq!(done(headless, &format!("{rows}b,")), (2, rows.to_string()));
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("none.jsonl");
        assert_eq!(records_done(&missing, Layout::Lines, chunks(1)).unwrap(), 0);
    }

    #[test]
    fn a_row_cut_inside_a_quoted_last_field_after_a_newline_is_cut() {
        let whole = format!("{HEADER}\na,x,0.5,x:0.5,\n");
        let cut = format!("{whole}b,,,,\"model error:\n");
        assert_eq!(done(CSV, &cut), (1, whole.clone()));
        let closed = format!("{whole}b,,,,\"model error:\nsecond \"\"line\"\"\"\n");
        assert_eq!(done(CSV, &closed), (2, closed.clone()));
    }

    #[test]
    fn open_writes_the_header_once_and_appends_after_whole_records() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        let (mut file, done) = open(Some(&path), CSV, true, chunks(1)).unwrap();
        assert_eq!(done, 0);
        file.write_all(b"a,x,0.5,x:0.5,\nb,x").unwrap();
        drop(file);
        let (mut file, done) = open(Some(&path), CSV, true, chunks(1)).unwrap();
        assert_eq!(done, 1);
        file.write_all(b"b,y,0.5,y:0.5,\n").unwrap();
        drop(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, format!("{HEADER}\na,x,0.5,x:0.5,\nb,y,0.5,y:0.5,\n"));
        let (_, done) = open(Some(&path), CSV, false, chunks(1)).unwrap();
        assert_eq!(done, 0, "without resume the file starts afresh");
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            format!("{HEADER}\n")
        );
    }

    #[test]
    fn resume_keeps_whole_chunks_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        let lines: String = (0..7).map(|i| format!("{{\"id\":{i}}}\n")).collect();
        std::fs::write(&path, format!("{lines}{{\"id\":7,")).unwrap();
        let whole = Chunks { size: 3, total: 7 };
        assert_eq!(records_done(&path, Layout::Lines, whole).unwrap(), 7);
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            lines,
            "all there is to do"
        );
        assert_eq!(records_done(&path, Layout::Lines, chunks(3)).unwrap(), 6);
        let kept: String = lines.lines().take(6).map(|l| format!("{l}\n")).collect();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), kept);

        let path = dir.path().join("out.csv");
        std::fs::write(&path, format!("{HEADER}\na,,,,\nb,,,,\nc,,")).unwrap();
        assert_eq!(records_done(&path, CSV, chunks(2)).unwrap(), 2);
        assert_eq!(records_done(&path, CSV, chunks(4)).unwrap(), 0);
        let header_only = std::fs::read_to_string(&path).unwrap();
        assert_eq!(header_only, format!("{HEADER}\n"), "the header is kept");
    }
}
