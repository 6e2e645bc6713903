use std::path::Path;

use serde_json::{Map, Value};

use crate::{read_jsonl, read_table, read_text_file, InputError, Record};

/// One labelled example: its text, its label and the record's other fields
/// (a title, a split, …), strings for CSV and TSV, JSON values for JSONL.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    /// The text field's value.
    pub text: String,
    /// The label field's value.
    pub label: String,
    /// The other fields of the record, the label's included.
    pub fields: Map<String, Value>,
}

/// Labelled examples `(text, label)` of a JSONL, CSV or TSV file, as
/// [`read_examples`] reads them.
pub fn read_labelled(
    path: &Path,
    text_field: &str,
    label_field: &str,
    filters: &[(String, String)],
) -> Result<Vec<(String, String)>, InputError> {
    Ok(read_examples(path, text_field, label_field, filters)?
        .into_iter()
        .map(|e| (e.text, e.label))
        .collect())
}

/// Labelled examples of a JSONL, CSV or TSV file (by extension; `.gz`/`.xz`
/// decompressed), keeping the records whose fields equal every
/// `(field, value)` filter (e.g. `("split", "dev")`). A kept record without
/// a text or a label is an error naming it.
pub fn read_examples(
    path: &Path,
    text_field: &str,
    label_field: &str,
    filters: &[(String, String)],
) -> Result<Vec<Example>, InputError> {
    let content = read_text_file(path)?;
    let name = path.to_string_lossy().to_lowercase();
    let name = name.trim_end_matches(".gz").trim_end_matches(".xz");
    let delimiter = match () {
        _ if name.ends_with(".csv") => Some(b','),
        _ if name.ends_with(".tsv") => Some(b'\t'),
        _ => None,
    };
    let records: Box<dyn Iterator<Item = Record>> = match delimiter {
        Some(d) => Box::new(read_table(content.as_bytes(), d, text_field, "id")?),
        None => Box::new(read_jsonl(content.as_bytes(), text_field, "id").filter_map(Result::ok)),
    };
    let mut examples = Vec::new();
    for record in records {
        let field = |name: &str| match record.extra.get(name) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) if !other.is_null() => Some(other.to_string()),
            _ => None,
        };
        if !filters.iter().all(|(f, v)| field(f).as_deref() == Some(v)) {
            continue;
        }
        let missing = |what: &str| InputError::Incomplete {
            record: format!("{}: record {}", path.display(), record.id),
            what: what.to_string(),
        };
        let text = record.text.clone()?;
        let label = field(label_field).ok_or_else(|| missing(&format!("{label_field:?}")))?;
        examples.push(Example {
            text,
            label,
            fields: record.extra,
        });
    }
    Ok(examples)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_and_reads_jsonl_and_csv() {
        let dir = tempfile::tempdir().unwrap();
        let jsonl = dir.path().join("d.jsonl");
        std::fs::write(
            &jsonl,
            "{\"text\":\"a\",\"label\":\"x\",\"split\":\"train\"}\n{\"text\":\"b\",\"label\":\"y\",\"split\":\"dev\"}\n",
        )
        .unwrap();
        let dev =
            read_labelled(&jsonl, "text", "label", &[("split".into(), "dev".into())]).unwrap();
        assert_eq!(dev, [("b".to_string(), "y".to_string())]);
        let csv = dir.path().join("d.csv");
        std::fs::write(&csv, "tekst,emne\nhei,x\nhallo\n").unwrap();
        assert!(
            read_labelled(&csv, "tekst", "emne", &[]).is_err(),
            "a short row is an error"
        );
        std::fs::write(&csv, "tekst,emne,tittel\nhei,x,Hilsen\n").unwrap();
        assert_eq!(read_labelled(&csv, "tekst", "emne", &[]).unwrap().len(), 1);
        let examples = read_examples(&csv, "tekst", "emne", &[]).unwrap();
        assert_eq!(examples[0].fields["tittel"], "Hilsen", "other fields kept");
    }
}
