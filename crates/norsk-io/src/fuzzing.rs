//! The invariants of the record readers, checked on arbitrary bytes: by the
//! `records` fuzz target (`crates/norsk-io/fuzz`) and by the regression
//! tests that replay its seeds (`tests/fuzz_seeds.rs`). Not part of the API.
//!
//! The first byte picks what the rest is read as; [`check_records`] panics
//! when an invariant does not hold:
//!
//! * nothing panics, whatever the bytes;
//! * JSONL gives one record per line that is not blank, in order, the same
//!   count [`count_jsonl`] gives for the file, plain, `.gz` and `.xz`;
//!   records written as JSONL are read back as they were;
//! * CSV/TSV gives a record or an error record per row, numbered in order;
//!   rows written by a CSV writer are read back as they were;
//! * a folder gives one record per `.txt`/`.txt.gz` file, in name order.

use std::io::Write;
use std::path::PathBuf;

use serde_json::Value;

use crate::input::is_content;
use crate::{
    count_jsonl, decode_text, folder_texts, read_folder, read_jsonl, read_table, read_text_file,
    InputError, Record,
};

/// Checks the readers' invariants on `data`; panics when one fails.
pub fn check_records(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let scratch = Scratch::new();
    match mode % 7 {
        0 => jsonl_bytes(rest, &scratch),
        1 => jsonl_round_trip(rest),
        2 => table_bytes(rest, b','),
        3 => table_bytes(rest, b'\t'),
        4 => table_round_trip(rest),
        5 => compressed_bytes(rest, &scratch),
        _ => folder(rest, &scratch),
    }
}

/// A scratch folder that is removed on drop.
struct Scratch(tempfile::TempDir);

impl Scratch {
    fn new() -> Self {
        Self(tempfile::tempdir().expect("a scratch folder"))
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.path().join(name);
        std::fs::write(&path, bytes).expect("a scratch file");
        path
    }
}

/// The pieces of `bytes` between `0xFF` bytes, as text (lossy, NUL-free).
fn strings(bytes: &[u8]) -> Vec<String> {
    bytes
        .split(|&b| b == 0xFF)
        .map(|piece| String::from_utf8_lossy(piece).replace('\0', ""))
        .collect()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).expect("gzip into memory");
    encoder.finish().expect("gzip into memory")
}

fn xz(bytes: &[u8]) -> Vec<u8> {
    let mut packed = Vec::new();
    lzma_rs::xz_compress(&mut &bytes[..], &mut packed).expect("xz into memory");
    packed
}

/// Lines of JSONL that are not blank, counted independently of the reader.
fn content_lines(bytes: &[u8]) -> u64 {
    bytes
        .split(|&b| b == b'\n')
        .filter(|line| line.iter().any(is_content))
        .count() as u64
}

/// Arbitrary bytes as JSONL, plain and compressed.
fn jsonl_bytes(bytes: &[u8], scratch: &Scratch) {
    let records: Vec<Record> = read_jsonl(bytes, "text", "id")
        .map(|r| r.expect("reading from memory cannot fail"))
        .collect();
    let want = content_lines(bytes);
    assert_eq!(records.len() as u64, want, "one record per non-blank line");
    for (i, record) in records.iter().enumerate() {
        if let Err(InputError::InvalidJson { .. } | InputError::InvalidUtf8 { .. }) = record.text {
            assert_eq!(
                record.id,
                Value::from(i),
                "an unreadable line keeps its place"
            );
        }
    }
    let plain = scratch.write("a.jsonl", bytes);
    assert_eq!(count_jsonl(&plain).expect("count plain"), want);
    let as_text = decode_text(bytes.to_vec(), "a");
    for (name, packed) in [("a.jsonl.gz", gzip(bytes)), ("a.jsonl.xz", xz(bytes))] {
        let path = scratch.write(name, &packed);
        assert_eq!(
            count_jsonl(&path).expect("count compressed"),
            want,
            "{name}"
        );
        match (read_text_file(&path), &as_text) {
            (Ok(text), Ok(want)) => assert_eq!(&text, want, "{name}"),
            (Err(_), Err(_)) => {}
            (got, want) => panic!("{name}: {got:?}, plain {want:?}"),
        }
    }
}

/// Records written as JSONL, with blank lines between, are read back.
fn jsonl_round_trip(bytes: &[u8]) {
    let texts = strings(bytes);
    let mut jsonl = String::new();
    for (i, text) in texts.iter().enumerate() {
        let line = serde_json::json!({ "id": format!("r{i}"), "text": text, "n": i });
        jsonl.push_str(&line.to_string());
        jsonl.push_str(if i % 3 == 1 { "\r\n \n" } else { "\n" });
    }
    let records: Vec<Record> = read_jsonl(jsonl.as_bytes(), "text", "id")
        .map(|r| r.expect("reading from memory cannot fail"))
        .collect();
    assert_eq!(records.len(), texts.len(), "one record per object");
    for (i, (record, text)) in records.iter().zip(&texts).enumerate() {
        assert_eq!(record.id, Value::from(format!("r{i}")));
        assert_eq!(record.text.as_deref(), Ok(text.as_str()));
        assert_eq!(record.extra["n"], Value::from(i));
    }
}

/// Arbitrary bytes as CSV or TSV: no panic, records numbered in order.
fn table_bytes(bytes: &[u8], delimiter: u8) {
    let Ok(rows) = read_table(bytes, delimiter, "text", "id") else {
        return;
    };
    for (i, record) in rows.enumerate() {
        if let Err(e) = &record.text {
            assert_eq!(record.id, Value::from(i), "an error record keeps its place");
            assert!(
                e.to_string().starts_with(&format!("row {}: ", i + 2)),
                "{e}"
            );
        }
    }
}

/// Rows written by a CSV writer (quotes, delimiters, newlines in fields)
/// are read back as they were, one record per row.
fn table_round_trip(bytes: &[u8]) {
    let Some((&shape, rest)) = bytes.split_first() else {
        return;
    };
    let delimiter = if shape & 1 == 0 { b',' } else { b'\t' };
    let width = 2 + usize::from(shape >> 1) % 3;
    let cells = strings(rest);
    let mut writer = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .from_writer(Vec::new());
    let mut header = vec!["id".to_string(), "text".to_string()];
    header.extend((2..width).map(|c| format!("c{c}")));
    writer.write_record(&header).expect("csv into memory");
    let rows: Vec<&[String]> = cells.chunks(width - 1).collect();
    for (i, row) in rows.iter().enumerate() {
        let mut record = vec![format!("r{i}")];
        record.extend(row.iter().cloned());
        record.resize(width, String::new());
        writer.write_record(&record).expect("csv into memory");
    }
    let table = writer.into_inner().expect("csv into memory");
    let records: Vec<Record> = read_table(table.as_slice(), delimiter, "text", "id")
        .expect("the header has the text column")
        .collect();
    assert_eq!(records.len(), rows.len(), "one record per row");
    for (i, (record, row)) in records.iter().zip(&rows).enumerate() {
        assert_eq!(record.id, Value::from(format!("r{i}")));
        assert_eq!(record.text.as_deref(), Ok(row[0].as_str()), "row {i}");
    }
}

/// Arbitrary bytes as a `.gz` or `.xz` file: read and counted without a
/// panic, and counted as read.
fn compressed_bytes(bytes: &[u8], scratch: &Scratch) {
    let Some((&kind, rest)) = bytes.split_first() else {
        return;
    };
    let name = if kind & 1 == 0 {
        "a.jsonl.gz"
    } else {
        "a.jsonl.xz"
    };
    let path = scratch.write(name, rest);
    let text = read_text_file(&path);
    let count = count_jsonl(&path);
    if let (Ok(text), Ok(count)) = (text, count) {
        assert_eq!(
            count,
            read_jsonl(text.as_bytes(), "text", "id").count() as u64
        );
    }
}

/// A folder of files named and filled from the bytes: one record per
/// `.txt`/`.txt.gz` file, in name order.
fn folder(bytes: &[u8], scratch: &Scratch) {
    const ENDINGS: [&str; 5] = [".txt", ".txt.gz", ".md", ".TXT", ""];
    let mut names = Vec::new();
    for piece in bytes.split(|&b| b == 0xFF).take(16) {
        let (&tag, content) = piece.split_first().unwrap_or((&0, &[]));
        let ending = ENDINGS[usize::from(tag) % ENDINGS.len()];
        let name = format!("{}{ending}", (b'a' + (tag >> 3) % 4) as char);
        let content = if ending == ".txt.gz" && tag & 4 == 0 {
            gzip(content)
        } else {
            content.to_vec()
        };
        scratch.write(&name, &content);
        names.push(name);
    }
    names.retain(|n| n.ends_with(".txt") || n.ends_with(".txt.gz"));
    names.sort();
    names.dedup();
    let dir = scratch.0.path();
    assert_eq!(folder_texts(dir).expect("list the folder"), names);
    let records = read_folder(dir).expect("read the folder");
    let ids: Vec<Value> = records.into_iter().map(|r| r.id).collect();
    let want: Vec<Value> = names.iter().map(|n| Value::from(n.as_str())).collect();
    assert_eq!(ids, want, "one record per text file, in name order");
}
