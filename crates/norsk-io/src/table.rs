use std::collections::VecDeque;
use std::io::{self, BufRead, BufReader, Read};

use csv::ByteRecord;
use serde_json::{Map, Value};

use crate::{decode_text, InputError, Record};

/// The most bytes a row may hold once a quoted field has run past its first
/// line: more, and the quote is taken as never closed (so memory stays
/// bounded, whatever the input).
const MAX_QUOTED_ROW_BYTES: usize = 16 << 20;

/// Reads CSV (`delimiter` b',') or TSV (b'\t') with a header row: one record
/// per data row, in order, streaming (a row at a time). The `text_field`
/// column is the text, the `id_field` column (if there is one) the id, every
/// other column is carried through as a string. A row that cannot be read,
/// is too short for the text column or is not UTF-8 gives an error record in
/// its place; a header without the text column is an error for the whole
/// input.
///
/// A quote that is never closed would make the rest of the file one field;
/// such a row (one that runs to the end of the input inside quotes, runs
/// past [`MAX_QUOTED_ROW_BYTES`] inside quotes, or runs over several lines
/// with a field count other than the header's) gives an error record, and
/// the rows after its first line are read again.
pub fn read_table<R: Read>(
    reader: R,
    delimiter: u8,
    text_field: &str,
    id_field: &str,
) -> Result<impl Iterator<Item = Record>, InputError> {
    let header_error = |reason: String| InputError::Row { row: 1, reason };
    let mut lines = Lines {
        reader: BufReader::new(reader),
        again: VecDeque::new(),
        delimiter,
    };
    let header = match lines.next_row().map_err(|e| header_error(e.to_string()))? {
        Some(row) if row.open_quote.is_none() => parse(&row.lines, delimiter),
        Some(_) => Err("a quote in the header is never closed".to_string()),
        None => Err("the input is empty: no header".to_string()),
    }
    .map_err(header_error)?;
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
        lines,
        index: 0,
        done: false,
        columns: Columns {
            headers,
            text: text_column,
            id: id_column,
        },
    })
}

/// The physical lines of a table, read one at a time, and the lines given
/// back to be read again (those after a broken row's first line).
struct Lines<R> {
    reader: BufReader<R>,
    again: VecDeque<Vec<u8>>,
    delimiter: u8,
}

/// The lines of one row.
struct RawRow {
    lines: Vec<Vec<u8>>,
    /// Why a quote was still open where the row ended, if it was.
    open_quote: Option<OpenQuote>,
}

/// Where a row whose quote never closed was cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OpenQuote {
    /// At the end of the input, within [`MAX_QUOTED_ROW_BYTES`].
    AtEnd,
    /// Past [`MAX_QUOTED_ROW_BYTES`].
    TooLong,
}

impl<R: Read> Lines<R> {
    /// The next line, with its line break.
    fn next_line(&mut self) -> io::Result<Option<Vec<u8>>> {
        if let Some(line) = self.again.pop_front() {
            return Ok(Some(line));
        }
        let mut line = Vec::new();
        Ok((self.reader.read_until(b'\n', &mut line)? > 0).then_some(line))
    }

    /// The lines of the next row: a line, and the lines after it while a
    /// quoted field is open. Blank lines between rows are skipped.
    fn next_row(&mut self) -> io::Result<Option<RawRow>> {
        let mut lines: Vec<Vec<u8>> = Vec::new();
        let mut quotes = Quotes::default();
        let mut size = 0;
        while let Some(line) = self.next_line()? {
            if lines.is_empty() && line.iter().all(|b| matches!(b, b'\r' | b'\n')) {
                continue;
            }
            quotes.scan(&line, self.delimiter);
            size += line.len();
            lines.push(line);
            if !quotes.quoted {
                return Ok(Some(RawRow {
                    lines,
                    open_quote: None,
                }));
            }
            if size > MAX_QUOTED_ROW_BYTES && lines.len() > 1 {
                return Ok(Some(RawRow {
                    lines,
                    open_quote: Some(OpenQuote::TooLong),
                }));
            }
        }
        let cut = match size > MAX_QUOTED_ROW_BYTES {
            true => OpenQuote::TooLong,
            false => OpenQuote::AtEnd,
        };
        Ok((!lines.is_empty()).then_some(RawRow {
            lines,
            open_quote: Some(cut),
        }))
    }

    /// Gives back the lines after a broken row's first line.
    fn read_again(&mut self, lines: Vec<Vec<u8>>) {
        for line in lines.into_iter().skip(1).rev() {
            self.again.push_front(line);
        }
    }
}

/// Where a scan of CSV text stands: inside a quoted field or not, and at the
/// start of a field or not (quotes open a field, `""` inside one is a
/// quote, as the `csv` crate reads).
struct Quotes {
    quoted: bool,
    field_start: bool,
}

impl Default for Quotes {
    fn default() -> Self {
        Self {
            quoted: false,
            field_start: true,
        }
    }
}

impl Quotes {
    /// Scans `text` on from where the last scan stopped.
    fn scan(&mut self, text: &[u8], delimiter: u8) {
        let mut bytes = text.iter().peekable();
        while let Some(&b) = bytes.next() {
            if self.quoted {
                if b == b'"' && bytes.next_if_eq(&&b'"').is_none() {
                    self.quoted = false;
                }
            } else if self.field_start && b == b'"' {
                self.quoted = true;
                self.field_start = false;
            } else {
                self.field_start = b == delimiter || b == b'\n' || b == b'\r';
            }
        }
    }
}

/// One row's fields, as the `csv` crate reads its lines.
fn parse(lines: &[Vec<u8>], delimiter: u8) -> Result<ByteRecord, String> {
    let bytes = lines.concat();
    let mut record = ByteRecord::new();
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(false)
        .from_reader(bytes.as_slice())
        .read_byte_record(&mut record)
        .map_err(|e| e.to_string())?;
    Ok(record)
}

/// The data rows of a table, as records.
struct Rows<R> {
    lines: Lines<R>,
    /// 0-based number of the next row.
    index: usize,
    /// The input failed: no more rows.
    done: bool,
    columns: Columns,
}

impl<R: Read> Iterator for Rows<R> {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        if self.done {
            return None;
        }
        let index = self.index;
        let row = match self.lines.next_row() {
            Ok(Some(row)) => row,
            Ok(None) => return None,
            Err(e) => {
                self.done = true;
                self.index += 1;
                return Some(self.columns.error(index, format!("cannot read on: {e}")));
            }
        };
        self.index += 1;
        let rest = "the rows after its first line are read again";
        if let Some(open) = row.open_quote {
            let reason = match open {
                OpenQuote::TooLong => format!(
                    "a quoted field runs over more than {} MiB: a quote is probably not closed; {rest}",
                    MAX_QUOTED_ROW_BYTES >> 20
                ),
                OpenQuote::AtEnd => format!("a quote is never closed; {rest}"),
            };
            self.lines.read_again(row.lines);
            return Some(self.columns.error(index, reason));
        }
        let fields = match parse(&row.lines, self.lines.delimiter) {
            Ok(fields) => fields,
            Err(e) => return Some(self.columns.error(index, e)),
        };
        if row.lines.len() > 1 && fields.len() != self.columns.headers.len() {
            let reason = format!(
                "a quoted field runs over several lines and the row has {} fields, the header {}: a quote is probably not closed; {rest}",
                fields.len(),
                self.columns.headers.len()
            );
            self.lines.read_again(row.lines);
            return Some(self.columns.error(index, reason));
        }
        Some(self.columns.record(index, &fields))
    }
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

    /// Rows `r0,Sak 0`, `r1,Sak 1`, … without end, after a header.
    struct EndlessRows {
        next: usize,
        pending: Vec<u8>,
    }

    impl Read for EndlessRows {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.pending.is_empty() {
                self.pending = match self.next {
                    0 => b"id,text\n".to_vec(),
                    n => format!("r{},Sak {}\n", n - 1, n - 1).into_bytes(),
                };
                self.next += 1;
            }
            let n = buf.len().min(self.pending.len());
            buf[..n].copy_from_slice(&self.pending[..n]);
            self.pending.drain(..n);
            Ok(n)
        }
    }

    #[test]
    fn rows_stream_before_the_input_ends() {
        let endless = EndlessRows {
            next: 0,
            pending: Vec::new(),
        };
        let first: Vec<Record> = read_table(endless, b',', "text", "id")
            .unwrap()
            .take(3)
            .collect();
        assert_eq!(first[2].id, Value::from("r2"));
        assert_eq!(first[2].text.as_deref(), Ok("Sak 2"));
    }

    #[test]
    fn a_quote_open_past_the_row_limit_costs_one_row_and_memory_stays_bounded() {
        let mut input = "id,text\na,\"Uten slutt\n".to_string();
        let line = "x".repeat(1023) + "\n";
        while input.len() <= MAX_QUOTED_ROW_BYTES + 4096 {
            input.push_str(&line);
        }
        input.push_str("b,Bergen\n");
        let records = rows(&input);
        let err = records[0].text.as_ref().unwrap_err().to_string();
        assert!(err.contains("runs over more than 16 MiB"), "{err}");
        // The lines after the broken row's first line are rows again.
        assert_eq!(records.last().unwrap().id, Value::from("b"));
        assert_eq!(records.last().unwrap().text.as_deref(), Ok("Bergen"));
    }

    /// A header and one row, then a failing read.
    struct FailingAfterOneRow(usize);

    impl Read for FailingAfterOneRow {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let data = b"id,text\na,Oslo\n";
            if self.0 >= data.len() {
                return Err(io::Error::other("disk on fire"));
            }
            let n = buf.len().min(data.len() - self.0);
            buf[..n].copy_from_slice(&data[self.0..self.0 + n]);
            self.0 += n;
            Ok(n)
        }
    }

    #[test]
    fn a_read_error_gives_one_error_record_and_ends_the_rows() {
        let records: Vec<Record> = read_table(FailingAfterOneRow(0), b',', "text", "id")
            .unwrap()
            .collect();
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].text.as_deref(), Ok("Oslo"));
        let err = records[1].text.as_ref().unwrap_err().to_string();
        assert!(err.contains("disk on fire"), "{err}");
    }

    #[test]
    fn quoted_fields_over_several_lines_are_one_row() {
        let records = rows("id,text\na,\"Linje 1\nLinje \"\"2\"\"\"\n\nb,\"Oslo\"\n");
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].text.as_deref(), Ok("Linje 1\nLinje \"2\""));
        assert_eq!(records[1].text.as_deref(), Ok("Oslo"));
        let open = |text: &[u8]| {
            let mut quotes = Quotes::default();
            quotes.scan(text, b',');
            quotes.quoted
        };
        assert!(!open(b"a,\"x\"\"\""));
        assert!(open(b"a,\"x\"\""));
        assert!(!open(b"a,x\"y"), "a quote inside a field is a character");
    }
}
