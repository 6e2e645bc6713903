//! The records of `norsk eval`: what was scored, how fast, and the scores,
//! as one JSON object or as tables for people.

use std::io::{self, Write};

use norsk_spans::{ClassReport, Report};
use serde::Serialize;

/// The entity scores of a NER model on tagged data, in both of seqeval's
/// modes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NerEvalRecord {
    /// The model folder.
    pub model: String,
    /// The tagged data file.
    pub data: String,
    /// `f32`, `bf16` or `int8`.
    pub precision: String,
    /// How tokens were grouped into words.
    pub aggregation: String,
    /// How labels were chosen.
    pub decoding: String,
    /// Whether sentences were tagged with their neighbours or alone.
    pub context: String,
    /// Sentences scored.
    pub sentences: usize,
    /// Words in them.
    pub words: usize,
    /// Seconds the tagging took.
    pub seconds: f64,
    /// Words tagged per second.
    pub words_per_s: f64,
    /// seqeval's default mode (as `classification_report` without `mode`).
    pub default: Report,
    /// seqeval's strict IOB2 mode.
    pub strict: Report,
}

impl NerEvalRecord {
    /// The run in two lines, then precision, recall and F1 in both modes,
    /// then each entity type's scores (default mode).
    pub fn write_table<W: Write>(&self, out: &mut W) -> io::Result<()> {
        writeln!(
            out,
            "{}: {} sentences, {} words, {:.1} s ({:.0} words/s)",
            self.data, self.sentences, self.words, self.seconds, self.words_per_s
        )?;
        writeln!(
            out,
            "model {} ({}, aggregation {}, decoding {}, sentences {})\n",
            self.model, self.precision, self.aggregation, self.decoding, self.context
        )?;
        let (default, strict) = (&self.default, &self.strict);
        writeln!(
            out,
            "{:<12} {:>16} {:>12}",
            "", "seqeval default", "strict IOB2"
        )?;
        for (name, a, b) in [
            ("precision", default.precision, strict.precision),
            ("recall", default.recall, strict.recall),
            ("F1", default.f1, strict.f1),
        ] {
            writeln!(out, "{name:<12} {a:>16.4} {b:>12.4}")?;
        }
        writeln!(
            out,
            "{:<12} {:>16} {:>12}\n",
            "entities",
            format!("{}/{}", default.correct, default.support),
            format!("{}/{}", strict.correct, strict.support)
        )?;
        scores_header(out, "type", 12)?;
        for (kind, s) in &default.per_type {
            scores_row(out, kind, 12, [s.precision, s.recall, s.f1], s.support)?;
        }
        Ok(())
    }
}

/// The label scores of a classifier on labelled data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassEvalRecord {
    /// The model folder.
    pub model: String,
    /// The labelled data file.
    pub data: String,
    /// Seconds the classifying took.
    pub seconds: f64,
    /// Texts classified per second.
    pub texts_per_s: f64,
    /// Accuracy, macro-F1, each label's scores and the confusion matrix.
    pub report: ClassReport,
}

impl ClassEvalRecord {
    /// The run, accuracy and macro-F1, each label's scores, then the
    /// confusion matrix.
    pub fn write_table<W: Write>(&self, out: &mut W) -> io::Result<()> {
        let report = &self.report;
        writeln!(
            out,
            "{}: {} records, {:.1} s ({:.1} texts/s)\nmodel {}\n",
            self.data, report.examples, self.seconds, self.texts_per_s, self.model
        )?;
        writeln!(
            out,
            "accuracy  {:.4}\nmacro-F1  {:.4}\n",
            report.accuracy, report.macro_f1
        )?;
        scores_header(out, "label", 16)?;
        for (label, s) in &report.per_label {
            scores_row(out, label, 16, [s.precision, s.recall, s.f1], s.support)?;
        }
        writeln!(
            out,
            "\nconfusion (rows gold, columns predicted, in the order above)"
        )?;
        for (label, row) in report.labels.iter().zip(&report.confusion) {
            let cells: String = row.iter().map(|n| format!("{n:>5}")).collect();
            writeln!(out, "{label:<16} {cells}")?;
        }
        Ok(())
    }
}

/// The heading of a scores table whose first column is `first`, `width` wide.
fn scores_header<W: Write>(out: &mut W, first: &str, width: usize) -> io::Result<()> {
    writeln!(
        out,
        "{first:<width$} {:>9} {:>9} {:>9} {:>9}",
        "precision", "recall", "F1", "support"
    )
}

/// One row of a scores table: precision, recall and F1, then support.
fn scores_row<W: Write>(
    out: &mut W,
    name: &str,
    width: usize,
    [precision, recall, f1]: [f64; 3],
    support: usize,
) -> io::Result<()> {
    writeln!(
        out,
        "{name:<width$} {precision:>9.4} {recall:>9.4} {f1:>9.4} {support:>9}"
    )
}

#[cfg(test)]
mod tests {
    use norsk_spans::classification_report;

    use super::*;

    #[test]
    fn the_class_table_has_every_label_and_the_confusion_matrix() {
        let record = ClassEvalRecord {
            model: "m".into(),
            data: "d.jsonl".into(),
            seconds: 2.0,
            texts_per_s: 1.5,
            report: classification_report(
                &["sport", "kultur", "sport"],
                &["sport", "sport", "sport"],
            ),
        };
        let mut out = Vec::new();
        record.write_table(&mut out).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(
            out.starts_with("d.jsonl: 3 records, 2.0 s (1.5 texts/s)\nmodel m\n"),
            "{out}"
        );
        assert!(out.contains("accuracy  0.6667"), "{out}");
        assert!(
            out.contains("\nkultur               0    1\nsport                0    2\n"),
            "{out}"
        );
        let json = serde_json::to_value(&record).unwrap();
        assert_eq!(json["report"]["examples"], 3);
    }
}
