use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::SpanError;

/// The name of the outside label, which belongs to no entity.
pub const OUTSIDE: &str = "O";

/// How label names encode entity boundaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LabelScheme {
    /// `B-` begins every entity, `I-` continues it.
    Iob2,
    /// `I-` everywhere, `B-` only to split two adjacent entities of one type.
    /// Decoded exactly like [`LabelScheme::Iob2`]; it cannot be detected from
    /// the names, so callers set it with [`Labels::with_scheme`].
    Iob1,
    /// `B-` begin, `I-` inside, `E-` end, `S-` single-token entity.
    Bioes,
    /// `B-` begin, `I-` inside, `L-` last, `U-` unit (single-token) entity.
    Bilou,
    /// No prefixes: consecutive tokens with the same label form one entity.
    Plain,
}

impl LabelScheme {
    /// The lowercase name, as parsed by [`FromStr`] and used by serde.
    pub fn as_str(self) -> &'static str {
        match self {
            LabelScheme::Iob2 => "iob2",
            LabelScheme::Iob1 => "iob1",
            LabelScheme::Bioes => "bioes",
            LabelScheme::Bilou => "bilou",
            LabelScheme::Plain => "plain",
        }
    }

    /// Guesses the scheme from label names: any `S-`/`E-` → BIOES, any
    /// `U-`/`L-` → BILOU, any `B-`/`I-` → IOB2, otherwise plain.
    pub fn detect<S: AsRef<str>>(names: &[S]) -> LabelScheme {
        let has = |prefixes: &[&str]| {
            names
                .iter()
                .any(|n| prefixes.iter().any(|p| n.as_ref().starts_with(p)))
        };
        if has(&["S-", "E-"]) {
            LabelScheme::Bioes
        } else if has(&["U-", "L-"]) {
            LabelScheme::Bilou
        } else if has(&["B-", "I-"]) {
            LabelScheme::Iob2
        } else {
            LabelScheme::Plain
        }
    }
}

impl fmt::Display for LabelScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LabelScheme {
    type Err = SpanError;

    /// Parses a scheme name, ignoring ASCII case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            LabelScheme::Iob2,
            LabelScheme::Iob1,
            LabelScheme::Bioes,
            LabelScheme::Bilou,
            LabelScheme::Plain,
        ]
        .into_iter()
        .find(|scheme| scheme.as_str().eq_ignore_ascii_case(s))
        .ok_or_else(|| SpanError::UnknownScheme(s.to_string()))
    }
}

/// Whether a token's label starts a new entity or may continue the previous
/// one (transformers' `bi` from `get_tag`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Boundary {
    /// `B`: always starts a new entity.
    Begin,
    /// `I`: continues the previous entity when the tag is the same.
    Inside,
}

/// The label names of a model, in id order (`id2label`), with their scheme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Labels {
    names: Vec<String>,
    scheme: LabelScheme,
}

impl Labels {
    /// Takes the `id2label` names in id order and detects their scheme
    /// ([`LabelScheme::detect`]). Fails on an empty list or duplicate names.
    pub fn new(names: Vec<String>) -> Result<Labels, SpanError> {
        if names.is_empty() {
            return Err(SpanError::NoLabels);
        }
        let mut seen = HashSet::new();
        if let Some(dup) = names.iter().find(|n| !seen.insert(n.as_str())) {
            return Err(SpanError::DuplicateLabel(dup.clone()));
        }
        let scheme = LabelScheme::detect(&names);
        Ok(Labels { names, scheme })
    }

    /// The same labels read with another scheme (e.g. [`LabelScheme::Iob1`],
    /// which detection cannot tell from IOB2).
    pub fn with_scheme(self, scheme: LabelScheme) -> Labels {
        Labels { scheme, ..self }
    }

    /// The label names in id order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The number of labels (never zero).
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Always `false`: [`Labels::new`] rejects an empty list.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The name of label `id`, if there is one.
    pub fn name(&self, id: usize) -> Option<&str> {
        self.names.get(id).map(String::as_str)
    }

    /// The scheme the labels are read with.
    pub fn scheme(&self) -> LabelScheme {
        self.scheme
    }

    /// The distinct entity types (the names that aggregated entities carry),
    /// in first-seen order, without the outside type `O`.
    pub fn entity_types(&self) -> Vec<String> {
        let mut types: Vec<String> = Vec::new();
        for name in &self.names {
            let entity_type = group_name(name);
            if entity_type != OUTSIDE && !types.iter().any(|t| t == entity_type) {
                types.push(entity_type.to_string());
            }
        }
        types
    }

    /// transformers' `get_tag`, extended by the scheme: `B-` (and `S-` in
    /// BIOES, `U-` in BILOU) begins; `I-` (and `E-`/`L-`) continues; any other
    /// name continues, with the whole name as its tag.
    pub(crate) fn tag<'a>(&self, name: &'a str) -> (Boundary, &'a str) {
        let (begin, inside): (&[&str], &[&str]) = match self.scheme {
            LabelScheme::Bioes => (&["B-", "S-"], &["I-", "E-"]),
            LabelScheme::Bilou => (&["B-", "U-"], &["I-", "L-"]),
            LabelScheme::Iob2 | LabelScheme::Iob1 | LabelScheme::Plain => (&["B-"], &["I-"]),
        };
        let strip = |prefixes: &[&str]| prefixes.iter().find_map(|p| name.strip_prefix(p));
        if let Some(tag) = strip(begin) {
            (Boundary::Begin, tag)
        } else if let Some(tag) = strip(inside) {
            (Boundary::Inside, tag)
        } else {
            (Boundary::Inside, name)
        }
    }
}

/// The name an entity group gets from the label of its first token:
/// transformers' `entity.split("-", 1)[-1]` — everything after the first `-`,
/// or the whole name when it has none.
pub(crate) fn group_name(label: &str) -> &str {
    label.split_once('-').map_or(label, |(_, rest)| rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(names: &[&str]) -> Labels {
        Labels::new(names.iter().map(|s| s.to_string()).collect()).unwrap()
    }

    #[test]
    fn rejects_empty_and_duplicates() {
        assert_eq!(Labels::new(vec![]), Err(SpanError::NoLabels));
        let dup = Labels::new(vec!["O".into(), "B-PER".into(), "O".into()]);
        assert_eq!(dup, Err(SpanError::DuplicateLabel("O".into())));
    }

    #[test]
    fn detects_schemes() {
        assert_eq!(labels(&["O", "B-PER", "I-PER"]).scheme(), LabelScheme::Iob2);
        assert_eq!(labels(&["O", "I-PER"]).scheme(), LabelScheme::Iob2);
        assert_eq!(
            labels(&["O", "B-PER", "I-PER", "E-PER", "S-PER"]).scheme(),
            LabelScheme::Bioes
        );
        assert_eq!(
            labels(&["O", "B-PER", "I-PER", "L-PER", "U-PER"]).scheme(),
            LabelScheme::Bilou
        );
        assert_eq!(labels(&["O", "PER", "LOC"]).scheme(), LabelScheme::Plain);
        let iob1 = labels(&["O", "B-PER", "I-PER"]).with_scheme(LabelScheme::Iob1);
        assert_eq!(iob1.scheme(), LabelScheme::Iob1);
    }

    #[test]
    fn entity_types_in_first_seen_order() {
        let l = labels(&["O", "B-PER", "B-LOC", "I-PER", "I-LOC", "B-GPE_LOC"]);
        assert_eq!(l.entity_types(), ["PER", "LOC", "GPE_LOC"]);
        assert_eq!(labels(&["LOC", "O", "PER"]).entity_types(), ["LOC", "PER"]);
        assert_eq!(l.len(), 6);
        assert!(!l.is_empty());
        assert_eq!(l.name(1), Some("B-PER"));
        assert_eq!(l.name(6), None);
    }

    #[test]
    fn tags_follow_get_tag() {
        let iob = labels(&["O", "B-PER", "I-PER"]);
        assert_eq!(iob.tag("B-PER"), (Boundary::Begin, "PER"));
        assert_eq!(iob.tag("I-PER"), (Boundary::Inside, "PER"));
        assert_eq!(iob.tag("O"), (Boundary::Inside, "O"));
        assert_eq!(iob.tag("S-PER"), (Boundary::Inside, "S-PER"));
        let bioes = labels(&["O", "S-PER", "E-PER"]);
        assert_eq!(bioes.tag("S-PER"), (Boundary::Begin, "PER"));
        assert_eq!(bioes.tag("E-PER"), (Boundary::Inside, "PER"));
        let bilou = labels(&["O", "U-PER", "L-PER"]);
        assert_eq!(bilou.tag("U-PER"), (Boundary::Begin, "PER"));
        assert_eq!(bilou.tag("L-PER"), (Boundary::Inside, "PER"));
    }

    #[test]
    fn group_name_splits_at_the_first_dash() {
        assert_eq!(group_name("B-PER"), "PER");
        assert_eq!(group_name("PER"), "PER");
        assert_eq!(group_name("B-GPE-LOC"), "GPE-LOC");
        assert_eq!(group_name("GPE-LOC"), "LOC");
    }

    #[test]
    fn scheme_names_round_trip() {
        for s in ["iob2", "iob1", "bioes", "bilou", "plain"] {
            let scheme: LabelScheme = s.parse().unwrap();
            assert_eq!(scheme.to_string(), s);
        }
        assert_eq!("BIOES".parse::<LabelScheme>(), Ok(LabelScheme::Bioes));
        assert!("bio".parse::<LabelScheme>().is_err());
    }
}
