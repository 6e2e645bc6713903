use std::io::Read;

use serde_json::{Map, Value};

use crate::{decode_text, InputError, Record};

/// Reads CSV (`delimiter` b',') or TSV (b'\t') with a header row: one record
/// per data row, in order. The `text_field` column is the text, the
/// `id_field` column (if there is one) the id, every other column is carried
/// through as a string. A row that cannot be read, is too short for the text
/// column or is not UTF-8 gives an error record in its place; a header
/// without the text column is an error for the whole input.
pub fn read_table<R: Read>(
    reader: R,
    delimiter: u8,
    text_field: &str,
    id_field: &str,
) -> Result<impl Iterator<Item = Record>, InputError> {
    let mut csv = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(true)
        .from_reader(reader);
    let header_error = |reason: String| InputError::Row { row: 1, reason };
    let headers: Vec<String> = csv
        .byte_headers()
        .map_err(|e| header_error(e.to_string()))?
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
    Ok(csv
        .into_byte_records()
        .enumerate()
        .map(move |(index, row)| {
            let number = index + 2;
            let error = |reason: String| Record {
                id: Value::from(index),
                text: Err(InputError::Row {
                    row: number,
                    reason,
                }),
                extra: Map::new(),
            };
            let row = match row {
                Ok(row) => row,
                Err(e) => return error(e.to_string()),
            };
            let mut fields = Vec::with_capacity(row.len());
            for field in row.iter() {
                match decode_text(field.to_vec(), &format!("row {number}")) {
                    Ok(s) => fields.push(s),
                    Err(e) => return error(e.to_string()),
                }
            }
            if fields.len() != headers.len() {
                let reason = format!("{} fields, the header has {}", fields.len(), headers.len());
                if fields.len() <= text_column {
                    return error(reason);
                }
            }
            let id = id_column
                .and_then(|c| fields.get(c))
                .map_or(Value::from(index), |s| Value::from(s.clone()));
            let mut extra = Map::new();
            for (c, (name, value)) in headers.iter().zip(&fields).enumerate() {
                if c != text_column && Some(c) != id_column {
                    extra.insert(name.clone(), Value::from(value.clone()));
                }
            }
            Record {
                id,
                text: Ok(fields[text_column].clone()),
                extra,
            }
        }))
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
}
