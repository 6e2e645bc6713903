use std::io::{self, Write};

use norsk_spans::Prediction;
use serde_json::{json, Value};

use super::{record_fields, RecordOutput, RecordWriter, Tagged};
use crate::{EntityRecord, OffsetUnit, Record};

/// JSON Lines: one object per record, `{"id": …, <input fields>, <result>}`
/// or `{"id": …, <input fields>, "error": "…"}`. The result is
/// `"entities": […]` ([`Tagged`]), `"label"`, `"score"` and `"labels"` (a
/// ranked [`Prediction`] list), or `"embedding": […]`.
pub struct JsonlWriter<W: Write> {
    out: W,
    offsets: OffsetUnit,
}

impl<W: Write> JsonlWriter<W> {
    /// Writes to `out`; entity offsets in characters.
    pub fn new(out: W) -> Self {
        Self {
            out,
            offsets: OffsetUnit::Chars,
        }
    }

    /// Entity offsets in `unit` instead.
    pub fn offsets(mut self, unit: OffsetUnit) -> Self {
        self.offsets = unit;
        self
    }

    fn line(
        &mut self,
        record: &Record,
        fields: impl IntoIterator<Item = (&'static str, Value)>,
    ) -> io::Result<()> {
        let mut object = record_fields(record);
        object.extend(
            fields
                .into_iter()
                .map(|(key, value)| (key.to_string(), value)),
        );
        serde_json::to_writer(&mut self.out, &Value::Object(object))?;
        self.out.write_all(b"\n")
    }
}

impl<W: Write> RecordOutput for JsonlWriter<W> {
    fn error(&mut self, record: &Record, message: &str) -> io::Result<()> {
        self.line(record, [("error", Value::from(message))])
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

impl<W: Write> RecordWriter<Tagged<'_>> for JsonlWriter<W> {
    fn result(&mut self, record: &Record, tagged: &Tagged<'_>) -> io::Result<()> {
        let entities = EntityRecord::to_json(tagged.text, tagged.entities, self.offsets);
        self.line(record, [("entities", entities)])
    }
}

impl<W: Write> RecordWriter<[Prediction]> for JsonlWriter<W> {
    fn result(&mut self, record: &Record, predictions: &[Prediction]) -> io::Result<()> {
        let best = predictions.first();
        self.line(
            record,
            [
                ("label", json!(best.map(|p| &p.label))),
                ("score", json!(best.map(|p| p.score))),
                ("labels", serde_json::to_value(predictions)?),
            ],
        )
    }
}

impl<W: Write> RecordWriter<[f32]> for JsonlWriter<W> {
    fn result(&mut self, record: &Record, vector: &[f32]) -> io::Result<()> {
        self.line(record, [("embedding", Value::from(vector))])
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::writers::test_records::{entity, record, tagged_then_failed, unreadable};
    use crate::writers::write_chunk;

    fn lines(out: Vec<u8>) -> Vec<Value> {
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    #[test]
    fn each_record_is_one_line_with_its_fields_and_its_result_or_error() {
        let text = "Møte i Tromsø";
        let entities = [entity(text, "Tromsø", "GPE_LOC")];
        let records = [
            record(json!(1), text, json!({"kilde": "NRK"})),
            unreadable(json!("b")),
        ];
        let mut out = Vec::new();
        let mut writer = JsonlWriter::new(&mut out).offsets(OffsetUnit::Bytes);
        let results = tagged_then_failed(text, &entities);
        assert!(write_chunk(&mut writer, &records, results.iter().map(Result::as_ref)).unwrap());
        let got = lines(out);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0]["id"], 1);
        assert_eq!(got[0]["kilde"], "NRK");
        assert_eq!(got[0]["entities"][0]["start"], 8);
        assert_eq!(got[1], json!({"id": "b", "error": "no text"}));
    }

    #[test]
    fn predictions_give_the_best_label_first_and_vectors_their_values() {
        let records = [
            record(json!("a"), "x", json!({})),
            record(json!("b"), "y", json!({})),
        ];
        let mut out = Vec::new();
        let ranked = vec![
            Prediction {
                label: "sport".into(),
                score: 0.5,
            },
            Prediction {
                label: "kultur".into(),
                score: 0.25,
            },
        ];
        let mut writer = JsonlWriter::new(&mut out);
        let results: [Result<Vec<Prediction>, &str>; 2] = [Ok(ranked), Ok(Vec::new())];
        assert!(!write_chunk(&mut writer, &records, results.iter().map(|r| r.as_deref())).unwrap());
        let got = lines(out);
        assert_eq!(got[0]["label"], "sport");
        assert_eq!(got[0]["score"], 0.5);
        assert_eq!(
            got[0]["labels"][1],
            json!({"label": "kultur", "score": 0.25})
        );
        assert_eq!(got[1]["label"], Value::Null);

        let mut out = Vec::new();
        let mut writer = JsonlWriter::new(&mut out);
        let vectors: [Result<Vec<f32>, &str>; 1] = [Ok(vec![0.5, -1.0])];
        write_chunk(
            &mut writer,
            &records[..1],
            vectors.iter().map(|r| r.as_deref()),
        )
        .unwrap();
        assert_eq!(lines(out)[0]["embedding"], json!([0.5, -1.0]));
    }
}
