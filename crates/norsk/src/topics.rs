//! Topics named at run time for zero-shot classification: each a label and
//! the text an article is matched against (a one-line description, or the
//! label itself).

use std::collections::HashSet;
use std::path::Path;

use crate::error::BoxError;
use crate::NorskError;

/// The built-in topic sets, by the name `@name` selects them with, and their
/// `label<TAB>description` lines.
const BUILTIN: &[(&str, &str)] = &[
    ("nyheter", include_str!("topic_sets/nyheter.tsv")),
    (
        "departementer",
        include_str!("topic_sets/departementer.tsv"),
    ),
];

/// One candidate topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic {
    /// The name written to the output.
    pub label: String,
    /// What the topic is about, in a line; `None` matches by the label.
    pub description: Option<String>,
}

impl Topic {
    /// The text an article is compared with: the description, else the label.
    pub fn text(&self) -> &str {
        self.description.as_deref().unwrap_or(&self.label)
    }
}

/// The candidate topics of a zero-shot run, in the order given: at least
/// one, no label twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicSet {
    topics: Vec<Topic>,
}

impl TopicSet {
    /// Topics named by their labels alone (blank names are skipped).
    pub fn from_labels<S: AsRef<str>>(labels: &[S]) -> Result<Self, NorskError> {
        let topics = labels
            .iter()
            .map(|l| l.as_ref().trim())
            .filter(|l| !l.is_empty())
            .map(|label| Topic {
                label: label.to_string(),
                description: None,
            })
            .collect();
        Self::new(topics, "--labels")
    }

    /// Topics from `label<TAB>description` lines; a line without a tab is a
    /// label alone; blank lines and lines starting with `#` are skipped.
    /// `source` names the text in errors.
    pub fn from_tsv(text: &str, source: &str) -> Result<Self, NorskError> {
        let mut topics = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let (label, description) = match line.split_once('\t') {
                Some((label, description)) => (label.trim(), Some(description.trim())),
                None => (line.trim(), None),
            };
            if label.is_empty() {
                return Err(topics_error(
                    source,
                    format!("line {}: no label", n + 1).into(),
                ));
            }
            topics.push(Topic {
                label: label.to_string(),
                description: description.filter(|d| !d.is_empty()).map(str::to_string),
            });
        }
        Self::new(topics, source)
    }

    /// Topics from a `label<TAB>description` file ([`TopicSet::from_tsv`]).
    pub fn read_tsv(path: &Path) -> Result<Self, NorskError> {
        let source = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| topics_error(&source, e.into()))?;
        Self::from_tsv(&text, &source)
    }

    /// A built-in set by name (`nyheter`: a Norwegian news desk's sections;
    /// `departementer`: the ministries' fields, for laws and public
    /// documents).
    pub fn builtin(name: &str) -> Result<Self, NorskError> {
        let (_, text) = BUILTIN.iter().find(|(n, _)| *n == name).ok_or_else(|| {
            topics_error(
                &format!("@{name}"),
                format!("no such built-in topic set; there are {}", builtin_list()).into(),
            )
        })?;
        Self::from_tsv(text, &format!("@{name}"))
    }

    /// The names of the built-in sets.
    pub fn builtin_names() -> impl Iterator<Item = &'static str> {
        BUILTIN.iter().map(|(name, _)| *name)
    }

    /// The topics in order.
    pub fn topics(&self) -> &[Topic] {
        &self.topics
    }

    /// The labels in order.
    pub fn labels(&self) -> Vec<String> {
        self.topics.iter().map(|t| t.label.clone()).collect()
    }

    fn new(topics: Vec<Topic>, source: &str) -> Result<Self, NorskError> {
        if topics.is_empty() {
            return Err(topics_error(source, "no topic given".into()));
        }
        let mut seen = HashSet::new();
        if let Some(twice) = topics.iter().find(|t| !seen.insert(t.label.as_str())) {
            return Err(topics_error(
                source,
                format!("label {:?} is given twice", twice.label).into(),
            ));
        }
        Ok(Self { topics })
    }
}

fn builtin_list() -> String {
    TopicSet::builtin_names()
        .map(|n| format!("@{n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn topics_error(source_name: &str, source: BoxError) -> NorskError {
    NorskError::Topics {
        source_name: source_name.to_string(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_trimmed_and_blanks_skipped() {
        let set = TopicSet::from_labels(&[" sport", "", "kultur "]).unwrap();
        assert_eq!(set.labels(), ["sport", "kultur"]);
        assert_eq!(set.topics()[0].text(), "sport");
    }

    #[test]
    fn tsv_gives_descriptions_and_skips_comments() {
        let set =
            TopicSet::from_tsv("# emner\r\nsport\tFotball og ski\r\n\nkultur\n", "t.tsv").unwrap();
        assert_eq!(set.labels(), ["sport", "kultur"]);
        assert_eq!(set.topics()[0].text(), "Fotball og ski");
        assert_eq!(set.topics()[1].description, None);
    }

    #[test]
    fn empty_duplicate_and_unlabelled_sets_are_refused() {
        for (text, needle) in [
            ("# nothing\n", "no topic"),
            ("sport\tA\nsport\tB\n", "twice"),
            ("\tno label\n", "line 1: no label"),
        ] {
            let error = norsk_io::error_message(&TopicSet::from_tsv(text, "t.tsv").unwrap_err());
            assert!(error.contains(needle) && error.contains("t.tsv"), "{error}");
        }
        assert!(TopicSet::from_labels(&[" ", ""]).is_err());
    }

    #[test]
    fn every_builtin_set_loads_with_descriptions() {
        for name in TopicSet::builtin_names() {
            let set = TopicSet::builtin(name).unwrap();
            assert!(set.topics().len() >= 10, "@{name}");
            assert!(
                set.topics().iter().all(|t| t.description.is_some()),
                "@{name}"
            );
        }
        let error = norsk_io::error_message(&TopicSet::builtin("sportsdesk").unwrap_err());
        assert!(error.contains("@nyheter"), "{error}");
    }
}
