use std::io::BufRead;
use std::path::Path;

use serde_json::{Map, Value};

use crate::{open_stream, InputError};

/// Checks that bytes are text: no NUL byte (binary files), valid UTF-8.
/// `source_name` names the input in the error (a path, `stdin`, `line 3`).
pub fn decode_text(bytes: Vec<u8>, source_name: &str) -> Result<String, InputError> {
    if let Some(position) = bytes.iter().position(|&b| b == 0) {
        return Err(InputError::Binary {
            source_name: source_name.to_string(),
            position,
        });
    }
    String::from_utf8(bytes).map_err(|e| InputError::InvalidUtf8 {
        source_name: source_name.to_string(),
        position: e.utf8_error().valid_up_to(),
    })
}

/// Reads a whole file as one text; `.gz` and `.xz` files are decompressed.
pub fn read_text_file(path: &Path) -> Result<String, InputError> {
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut open_stream(path)?, &mut bytes)
        .map_err(|e| InputError::io(path, e))?;
    decode_text(bytes, &path.display().to_string())
}

/// One input record: its id, its text (or why there is none), and the
/// other fields of a JSONL object, carried through to the output.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The record's id field, or its 0-based position.
    pub id: Value,
    /// The text, or the reason this record has no usable text.
    pub text: Result<String, InputError>,
    /// Fields other than the text and the id.
    pub extra: Map<String, Value>,
}

/// Reads JSONL: one record per line, blank lines skipped. Every other line
/// gives exactly one record, in order: a text, or an error record (invalid
/// JSON, invalid UTF-8, missing field), so nothing is dropped silently.
pub fn read_jsonl<R: BufRead>(
    reader: R,
    text_field: &str,
    id_field: &str,
) -> impl Iterator<Item = Result<Record, InputError>> {
    let text_field = text_field.to_string();
    let id_field = id_field.to_string();
    let mut position = 0usize;
    reader
        .split(b'\n')
        .enumerate()
        .filter_map(move |(n, line)| {
            let line_no = n + 1;
            let bytes = match line {
                Ok(bytes) => bytes,
                Err(e) => return Some(Err(InputError::io("stdin", e))),
            };
            if !bytes.iter().any(is_content) {
                return None;
            }
            let index = position;
            position += 1;
            Some(Ok(parse_line(
                bytes,
                line_no,
                index,
                &text_field,
                &id_field,
            )))
        })
}

/// Whether a byte makes a JSONL line more than blank.
pub(crate) fn is_content(byte: &u8) -> bool {
    !byte.is_ascii_whitespace()
}

fn parse_line(
    bytes: Vec<u8>,
    line: usize,
    index: usize,
    text_field: &str,
    id_field: &str,
) -> Record {
    let error = |text| Record {
        id: Value::from(index),
        text: Err(text),
        extra: Map::new(),
    };
    let line_text = match decode_text(bytes, &format!("line {line}")) {
        Ok(s) => s,
        Err(e) => return error(e),
    };
    let mut object = match serde_json::from_str::<Value>(&line_text) {
        Ok(Value::Object(map)) => map,
        Ok(other) => {
            return error(InputError::NotAnObject {
                line,
                found: kind(&other),
            })
        }
        Err(e) => {
            return error(InputError::InvalidJson {
                line,
                source: e.into(),
            })
        }
    };
    let id = object
        .remove(id_field)
        .unwrap_or_else(|| Value::from(index));
    let text = match object.remove(text_field) {
        Some(Value::String(s)) => Ok(s),
        _ => Err(InputError::MissingField {
            line,
            field: text_field.to_string(),
        }),
    };
    Record {
        id,
        text,
        extra: object,
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(input: &str) -> Vec<Record> {
        read_jsonl(input.as_bytes(), "text", "id")
            .map(Result::unwrap)
            .collect()
    }

    #[test]
    fn every_line_gives_one_record_in_order() {
        let input = "{\"id\":\"a\",\"text\":\"Oslo\",\"kilde\":\"NTB\"}\nnot json\n\n[1]\n{\"tekst\":\"x\"}\n{\"text\":\"Bergen\"}\n";
        let out = records(input);
        assert_eq!(out.len(), 5);
        assert_eq!(out[0].id, Value::from("a"));
        assert_eq!(out[0].text.as_deref(), Ok("Oslo"));
        assert_eq!(out[0].extra["kilde"], Value::from("NTB"));
        assert!(matches!(
            out[1].text,
            Err(InputError::InvalidJson { line: 2, .. })
        ));
        assert!(matches!(
            out[2].text,
            Err(InputError::NotAnObject {
                line: 4,
                found: "an array"
            })
        ));
        assert!(matches!(
            out[3].text,
            Err(InputError::MissingField { line: 5, .. })
        ));
        assert_eq!(out[4].id, Value::from(4));
        assert_eq!(out[4].text.as_deref(), Ok("Bergen"));
    }

    #[test]
    fn xz_files_are_decompressed_and_corrupt_ones_named() {
        let text = "{\"text\":\"Lov om barnehager\",\"label\":\"kunnskap\"}\nÆ Ø Å\n".repeat(50);
        let mut packed = Vec::new();
        lzma_rs::xz_compress(&mut text.as_bytes(), &mut packed).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lover.jsonl.xz");
        std::fs::write(&path, &packed).unwrap();
        assert_eq!(read_text_file(&path).unwrap(), text);

        let bad = dir.path().join("kaputt.xz");
        std::fs::write(&bad, &packed[..packed.len() / 2]).unwrap();
        let err = read_text_file(&bad).unwrap_err();
        assert!(matches!(err, InputError::Io { .. }), "{err}");
        assert!(err.to_string().contains("kaputt.xz"), "{err}");
    }

    #[test]
    fn invalid_utf8_and_binary_name_the_byte() {
        let err = decode_text(b"Troms\xF8".to_vec(), "a.txt").unwrap_err();
        assert_eq!(err.to_string(), "a.txt: invalid UTF-8 at byte 5");
        let err = decode_text(b"PK\x03\x04\x00\x01".to_vec(), "b.zip").unwrap_err();
        assert!(err.to_string().contains("binary"), "{err}");
        let bad_line = b"{\"text\":\"\xFF\"}\n".to_vec();
        let out: Vec<_> = read_jsonl(bad_line.as_slice(), "text", "id").collect();
        assert!(matches!(
            out[0].as_ref().unwrap().text,
            Err(InputError::InvalidUtf8 { .. })
        ));
    }
}
