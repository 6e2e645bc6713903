//! `norsk embed` end to end: one vector per input record in order, JSONL
//! and `.npy`, error records and NaN rows for bad input, the shipped model
//! as default.

mod common;

use std::process::Output;

use common::{fixture, norsk_with_stdin as norsk, records};
use serde_json::Value;

/// `norsk embed` on the tiny fixture model (32 dimensions).
fn embed(args: &[&str], stdin: &[u8]) -> Output {
    let model = fixture("tiny-cls");
    let mut all = vec!["embed", "--model", model.to_str().unwrap()];
    all.extend_from_slice(args);
    norsk(&all, stdin)
}

fn vector(record: &Value) -> Vec<f32> {
    record["embedding"]
        .as_array()
        .expect("an embedding")
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect()
}

const INPUT: &str = "{\"id\":\"a\",\"text\":\"Rosenborg slo Molde.\",\"kilde\":\"NTB\"}\n\
                     {\"id\":\"b\",\"text\":\"\"}\n\
                     not json\n\
                     {\"id\":\"c\",\"text\":\"Stortinget vedtok budsjettet.\"}\n";

#[test]
fn jsonl_gives_one_unit_vector_or_error_per_record_in_order() {
    let out = embed(&["--input", "-"], INPUT.as_bytes());
    assert_eq!(out.status.code(), Some(1), "some records failed");
    let records = records(&out);
    assert_eq!(records.len(), 4);
    assert_eq!(records[0]["id"], "a");
    assert_eq!(records[0]["kilde"], "NTB", "other fields are carried");
    assert_eq!(records[1]["error"], "empty text");
    assert!(records[2]["error"].as_str().unwrap().contains("line 3"));
    assert_eq!(records[3]["id"], "c");
    for record in [&records[0], &records[3]] {
        let v = vector(record);
        assert_eq!(v.len(), 32);
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "{norm}");
    }
}

#[test]
fn npy_rows_follow_the_input_and_a_failed_record_is_a_nan_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.npy");
    let out = embed(
        &["--input", "-", "--output", path.to_str().unwrap()],
        INPUT.as_bytes(),
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("\"b\" (row 1): empty text; its row is NaN"),
        "{stderr}"
    );
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(&bytes[..6], b"\x93NUMPY");
    let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header = std::str::from_utf8(&bytes[10..10 + header_len]).unwrap();
    assert!(header.contains("'descr': '<f4'"), "{header}");
    assert!(header.contains("'shape': (4, 32)"), "{header}");
    let data: Vec<f32> = bytes[10 + header_len..]
        .chunks(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    assert_eq!(data.len(), 4 * 32);
    let rows: Vec<&[f32]> = data.chunks(32).collect();
    assert!(rows[1].iter().all(|v| v.is_nan()) && rows[2].iter().all(|v| v.is_nan()));
    let jsonl = records(&embed(&["--input", "-"], INPUT.as_bytes()));
    for (row, record) in [(0, &jsonl[0]), (3, &jsonl[3])] {
        assert_eq!(rows[row], vector(record).as_slice(), "row {row}");
    }
}

#[test]
fn npy_needs_an_output_file() {
    let out = embed(&["--format", "npy", "Hei"], b"");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--output"), "{stderr}");
}

#[test]
fn the_shipped_e5_model_is_the_default_and_queries_differ_from_passages() {
    let run = |kind: &str| {
        let out = norsk(&["embed", "--kind", kind, "Hvem vant kampen?"], b"");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        vector(&records(&out)[0])
    };
    let (query, passage) = (run("query"), run("passage"));
    assert_eq!(query.len(), 384);
    let cosine: f32 = query.iter().zip(&passage).map(|(a, b)| a * b).sum();
    assert!(cosine < 0.9999 && cosine > 0.5, "{cosine}");
}
