use std::io::{self, Write};

use norsk_spans::Prediction;

use super::{display_id, RecordOutput, RecordWriter};
use crate::Record;

/// The header row of [`CsvWriter`]'s output, without its newline.
pub const LABELS_CSV_HEADER: &str = "id,label,score,labels,error";

/// CSV, one row per record under [`LABELS_CSV_HEADER`]: the best label and
/// its score, every label as `label:score` joined by `;`, or the error.
/// The header row itself is the caller's to write (a resumed or sharded
/// output has it already).
pub struct CsvWriter<W: Write> {
    out: csv::Writer<W>,
}

impl<W: Write> CsvWriter<W> {
    /// Writes rows to `out`.
    pub fn new(out: W) -> Self {
        Self {
            out: csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(out),
        }
    }

    fn row(&mut self, fields: [&str; 5]) -> io::Result<()> {
        self.out.write_record(fields).map_err(io::Error::from)
    }
}

impl<W: Write> RecordOutput for CsvWriter<W> {
    fn error(&mut self, record: &Record, message: &str) -> io::Result<()> {
        self.row([&display_id(&record.id), "", "", "", message])
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

impl<W: Write> RecordWriter<[Prediction]> for CsvWriter<W> {
    fn result(&mut self, record: &Record, predictions: &[Prediction]) -> io::Result<()> {
        let labels: Vec<String> = predictions
            .iter()
            .map(|p| format!("{}:{:.6}", p.label, p.score))
            .collect();
        let best = predictions.first();
        self.row([
            &display_id(&record.id),
            best.map_or("", |p| &p.label),
            &best.map_or(String::new(), |p| format!("{:.6}", p.score)),
            &labels.join(";"),
            "",
        ])
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::writers::test_records::{record, unreadable};
    use crate::writers::write_chunk;

    #[test]
    fn rows_quote_what_needs_quoting_and_an_error_fills_the_last_field() {
        let mut out = Vec::new();
        let mut writer = CsvWriter::new(&mut out);
        let ranked = vec![
            Prediction {
                label: "sport, fotball".into(),
                score: 0.75,
            },
            Prediction {
                label: "kultur".into(),
                score: 0.25,
            },
        ];
        let records = [
            record(json!("a\"1"), "tekst", json!({})),
            unreadable(json!(2)),
        ];
        let failed = write_chunk(
            &mut writer,
            &records,
            [Ok(ranked.as_slice()), Err("no string field \"text\"")],
        )
        .unwrap();
        assert!(failed);
        drop(writer);
        let rows: Vec<csv::StringRecord> = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(out.as_slice())
            .records()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            rows[0].iter().collect::<Vec<_>>(),
            [
                "a\"1",
                "sport, fotball",
                "0.750000",
                "sport, fotball:0.750000;kultur:0.250000",
                ""
            ]
        );
        assert_eq!(
            rows[1].iter().collect::<Vec<_>>(),
            ["2", "", "", "", "no string field \"text\""]
        );
        assert_eq!(LABELS_CSV_HEADER.split(',').count(), rows[0].len());
    }
}
