use std::io::{Cursor, Read};
use std::rc::Rc;

use csv::ByteRecord;
use serde_json::{Map, Value};

use crate::{decode_text, InputError, Record};

/// Reads CSV (`delimiter` b',') or TSV (b'\t') with a header row: one record
/// per data row, in order. The `text_field` column is the text, the
/// `id_field` column (if there is one) the id, every other column is carried
/// through as a string. A row that cannot be read, is too short for the text
/// column or is not UTF-8 gives an error record in its place; a header
/// without the text column is an error for the whole input.
///
/// A quote that is never closed would make the rest of the file one field;
/// such a row (one that runs to the end of the input inside quotes, or runs
/// over several lines with a field count other than the header's) gives an
/// error record, and the rows after its first line are read again.
pub fn read_table<R: Read>(
    mut reader: R,
    delimiter: u8,
    text_field: &str,
    id_field: &str,
) -> Result<impl Iterator<Item = Record>, InputError> {
    let header_error = |reason: String| InputError::Row { row: 1, reason };
    let mut bytes = Vec::new();
    reader
        .read_to_end(&mut bytes)
        .map_err(|e| header_error(e.to_string()))?;
    let bytes: Rc<[u8]> = bytes.into();
    let mut csv = reader_at(&bytes, 0, delimiter);
    let mut header = ByteRecord::new();
    csv.read_byte_record(&mut header)
        .map_err(|e| header_error(e.to_string()))?;
    let headers: Vec<String> = header
        .iter()
        .map(|h| {
            String::from_utf8_lossy(h)
                .trim_start_matches('\u{feff}')
                .to_string()
        })
        .collect();
    let text_column = headers
        .iter()
        .position(|h| h == text_field)
        .ok_or_else(|| {
            header_error(format!(
                "no column {text_field:?} in the header (columns: {})",
                headers.join(", ")
            ))
        })?;
    let id_column = headers.iter().position(|h| h == id_field);
    Ok(Rows {
        bytes,
        delimiter,
        csv,
        base: 0,
        index: 0,
        columns: Columns {
            headers,
            text: text_column,
            id: id_column,
        },
    })
}

/// A CSV reader over `bytes` from byte `from` on, headers not split off.
fn reader_at(bytes: &Rc<[u8]>, from: usize, delimiter: u8) -> csv::Reader<Cursor<Rc<[u8]>>> {
    let mut cursor = Cursor::new(Rc::clone(bytes));
    cursor.set_position(from as u64);
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(false)
        .from_reader(cursor)
}

/// The data rows of a table, as records.
struct Rows {
    bytes: Rc<[u8]>,
    delimiter: u8,
    csv: csv::Reader<Cursor<Rc<[u8]>>>,
    /// Where `csv` began reading in `bytes`.
    base: usize,
    /// 0-based number of the next row.
    index: usize,
    columns: Columns,
}

impl Iterator for Rows {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        let start = self.base + self.csv.position().byte() as usize;
        let mut row = ByteRecord::new();
        let read = self.csv.read_byte_record(&mut row);
        let index = self.index;
        match read {
            Ok(false) => return None,
            Ok(true) => self.index += 1,
            Err(e) => {
                self.index += 1;
                return Some(self.columns.error(index, e.to_string()));
            }
        }
        let end = self.base + self.csv.position().byte() as usize;
        match self.broken_quote(start, end, row.len()) {
            Some((reason, next_line)) => {
                self.csv = reader_at(&self.bytes, next_line, self.delimiter);
                self.base = next_line;
                Some(self.columns.error(index, reason))
            }
            None => Some(self.columns.record(index, &row)),
        }
    }
}

impl Rows {
    /// Whether the row read from `bytes[start..end]` holds a quote that is
    /// never closed: why, and where the line after the row's first line
    /// begins.
    fn broken_quote(&self, start: usize, end: usize, fields: usize) -> Option<(String, usize)> {
        let raw = &self.bytes[start..end];
        let first = start + raw.iter().position(|b| !matches!(b, b'\r' | b'\n'))?;
        let line_end = self.bytes[first..end]
            .iter()
            .position(|&b| b == b'\n')
            .map(|i| first + i + 1);
        let rest = "the rows after its first line are read again";
        let reason = if end == self.bytes.len() && ends_inside_quotes(raw, self.delimiter) {
            format!("a quote is never closed; {rest}")
        } else if fields != self.columns.headers.len()
            && line_end.is_some_and(|next| {
                self.bytes[next..end]
                    .iter()
                    .any(|b| !matches!(b, b'\r' | b'\n'))
            })
        {
            format!(
                "a quoted field runs over several lines and the row has {fields} fields, the header {}: a quote is probably not closed; {rest}",
                self.columns.headers.len()
            )
        } else {
            return None;
        };
        Some((reason, line_end.unwrap_or(end)))
    }
}

/// Whether CSV text starting at a row's start ends inside a quoted field
/// (quotes open a field, `""` inside one is a quote, as the `csv` crate reads).
fn ends_inside_quotes(raw: &[u8], delimiter: u8) -> bool {
    let (mut quoted, mut field_start) = (false, true);
    let mut bytes = raw.iter().peekable();
    while let Some(&b) = bytes.next() {
        if quoted {
            if b == b'"' && bytes.next_if_eq(&&b'"').is_none() {
                quoted = false;
            }
        } else if field_start && b == b'"' {
            quoted = true;
            field_start = false;
        } else {
            field_start = b == delimiter || b == b'\n' || b == b'\r';
        }
    }
    quoted
}

/// The header's columns: their names, and which hold the text and the id.
struct Columns {
    headers: Vec<String>,
    text: usize,
    id: Option<usize>,
}

impl Columns {
    /// An error record in place of row `index` (0-based, after the header).
    fn error(&self, index: usize, reason: String) -> Record {
        Record {
            id: Value::from(index),
            text: Err(InputError::Row {
                row: index + 2,
                reason,
            }),
            extra: Map::new(),
        }
    }

    /// Row `index` as a record, or an error record when it has no text.
    fn record(&self, index: usize, row: &ByteRecord) -> Record {
        let number = index + 2;
        let mut fields = Vec::with_capacity(row.len());
        for field in row.iter() {
            match decode_text(field.to_vec(), &format!("row {number}")) {
                Ok(s) => fields.push(s),
                Err(e) => return self.error(index, e.to_string()),
            }
        }
        if fields.len() != self.headers.len() && fields.len() <= self.text {
            let reason = format!(
                "{} fields, the header has {}",
                fields.len(),
                self.headers.len()
            );
            return self.error(index, reason);
        }
        let id = self
            .id
            .and_then(|c| fields.get(c))
            .map_or(Value::from(index), |s| Value::from(s.clone()));
        let mut extra = Map::new();
        for (c, (name, value)) in self.headers.iter().zip(&fields).enumerate() {
            if c != self.text && Some(c) != self.id {
                extra.insert(name.clone(), Value::from(value.clone()));
            }
        }
        Record {
            id,
            text: Ok(fields[self.text].clone()),
            extra,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_become_records_and_bad_rows_error_records() {
        let input = b"id,kilde,text\na,NTB,Oslo er fin\nb,VG\nc,NRK,\"Bergen, by\",ekstra\nd,NTB,Troms\xf8\n".to_vec();
        let records: Vec<Record> = read_table(input.as_slice(), b',', "text", "id")
            .unwrap()
            .collect();
        assert_eq!(records.len(), 4);
        assert_eq!(records[0].id, Value::from("a"));
        assert_eq!(records[0].text.as_deref(), Ok("Oslo er fin"));
        assert_eq!(records[0].extra["kilde"], Value::from("NTB"));
        assert!(matches!(
            records[1].text,
            Err(InputError::Row { row: 3, .. })
        ));
        assert_eq!(
            records[2].text.as_deref(),
            Ok("Bergen, by"),
            "a long row keeps its text"
        );
        assert!(records[3]
            .text
            .as_ref()
            .unwrap_err()
            .to_string()
            .contains("UTF-8"));
    }

    #[test]
    fn a_header_without_the_text_column_is_an_error() {
        let err = read_table("id\ttittel\n1\tx\n".as_bytes(), b'\t', "text", "id")
            .err()
            .unwrap();
        assert!(err.to_string().contains("tittel"), "{err}");
    }

    fn rows(input: &str) -> Vec<Record> {
        read_table(input.as_bytes(), b',', "text", "id")
            .unwrap()
            .collect()
    }

    #[test]
    fn an_unterminated_quote_gives_an_error_record_and_the_rest_is_read() {
        let mut input = "id,text,kilde\n".to_string();
        for i in 1..=200 {
            let open = if i == 3 { "\"" } else { "" };
            input.push_str(&format!("r{i},{open}Sak nummer {i},NTB\n"));
        }
        let records = rows(&input);
        assert_eq!(records.len(), 200, "one record per row");
        let err = records[2].text.as_ref().unwrap_err().to_string();
        assert!(err.starts_with("row 4: a quote is never closed"), "{err}");
        assert_eq!(records[3].id, Value::from("r4"));
        assert_eq!(records[3].text.as_deref(), Ok("Sak nummer 4"));
        assert_eq!(records[199].id, Value::from("r200"));
        assert!(records.iter().filter(|r| r.text.is_err()).count() == 1);

        let closed_later = "id,text,kilde\na,\"Uten slutt,NTB\nb,\"Bergen, by\",NRK\nc,Oslo,VG\n";
        let records = rows(closed_later);
        let err = records[0].text.as_ref().unwrap_err().to_string();
        assert!(err.contains("runs over several lines"), "{err}");
        assert_eq!(records[1].text.as_deref(), Ok("Bergen, by"));
        assert_eq!(records[2].id, Value::from("c"));
        assert_eq!(records.len(), 3);
    }

    #[test]
    fn quoted_fields_over_several_lines_are_one_row() {
        let records = rows("id,text\na,\"Linje 1\nLinje \"\"2\"\"\"\n\nb,\"Oslo\"\n");
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].text.as_deref(), Ok("Linje 1\nLinje \"2\""));
        assert_eq!(records[1].text.as_deref(), Ok("Oslo"));
        assert!(!ends_inside_quotes(b"a,\"x\"\"\"", b','));
        assert!(ends_inside_quotes(b"a,\"x\"\"", b','));
        assert!(
            !ends_inside_quotes(b"a,x\"y", b','),
            "a quote inside a field is a character"
        );
    }
}
