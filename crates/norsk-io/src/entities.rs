use std::fmt;
use std::str::FromStr;

use norsk_spans::Entity;
use norsk_tokens::CharIndex;
use serde_json::{Map, Value};

/// What `start` and `end` count in the output.
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OffsetUnit {
    /// Unicode scalar values, as Python's `str` indexes (and `transformers` reports).
    #[default]
    Chars,
    /// UTF-8 bytes, as Rust's `str` indexes.
    Bytes,
}

impl FromStr for OffsetUnit {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "chars" | "char" => Ok(Self::Chars),
            "bytes" | "byte" => Ok(Self::Bytes),
            other => Err(format!(
                "unknown offset unit {other:?} (expected chars or bytes)"
            )),
        }
    }
}

impl fmt::Display for OffsetUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Chars => "chars",
            Self::Bytes => "bytes",
        })
    }
}

/// Entities of one text, ready to be written with `transformers`' keys:
/// `entity_group` (or `entity` without aggregation), `score`, `word` (the
/// exact source substring), `start`, `end` and, without aggregation, `index`.
pub struct EntityRecord;

impl EntityRecord {
    /// The entities of `text` as a JSON array, offsets in `unit`.
    pub fn to_json(text: &str, entities: &[Entity], unit: OffsetUnit) -> Value {
        let index = (unit == OffsetUnit::Chars).then(|| CharIndex::new(text));
        let offset = |byte: usize| index.as_ref().map_or(byte, |i| i.char_of_byte(byte));
        Value::Array(
            entities
                .iter()
                .map(|e| {
                    let mut object = Map::new();
                    let key = if e.index.is_some() {
                        "entity"
                    } else {
                        "entity_group"
                    };
                    object.insert(key.into(), Value::from(e.label.clone()));
                    object.insert("score".into(), Value::from(e.score));
                    object.insert("word".into(), Value::from(e.word.clone()));
                    object.insert("start".into(), Value::from(offset(e.start)));
                    object.insert("end".into(), Value::from(offset(e.end)));
                    if let Some(i) = e.index {
                        object.insert("index".into(), Value::from(i));
                    }
                    Value::Object(object)
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn char_offsets_index_python_strings() {
        let text = "Møte i Tromsø";
        let start = text.find("Tromsø").unwrap();
        let entity = Entity {
            label: "GPE_LOC".into(),
            score: 0.5,
            start,
            end: text.len(),
            word: "Tromsø".into(),
            index: None,
        };
        let chars = EntityRecord::to_json(text, std::slice::from_ref(&entity), OffsetUnit::Chars);
        assert_eq!(chars[0]["start"], 7);
        assert_eq!(chars[0]["end"], 13);
        assert_eq!(chars[0]["entity_group"], "GPE_LOC");
        let bytes = EntityRecord::to_json(text, &[entity], OffsetUnit::Bytes);
        assert_eq!(bytes[0]["start"], 8);
        assert_eq!(bytes[0]["end"], 15);
    }
}
