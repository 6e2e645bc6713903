use serde::{Deserialize, Serialize};

/// A labelled span of the source text: one token (with
/// [`crate::Aggregation::None`]) or one group of tokens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entity {
    /// The entity type (`PER`, transformers' `entity_group`), or the full
    /// label name (`B-PER`, transformers' `entity`) with aggregation `none`.
    pub label: String,
    /// The probability of the label: of the token or word, or the mean over
    /// the tokens or words of a group.
    pub score: f32,
    /// Byte offset of the start in the source text.
    pub start: usize,
    /// Byte offset of the end in the source text (exclusive).
    pub end: usize,
    /// The exact source substring `text[start..end]`.
    pub word: String,
    /// The token's position in its window; only with aggregation `none`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
}

impl Entity {
    /// The entity's span fitted to the words of `text`: whitespace at either
    /// end left out (a space piece grouped into it), combining marks right
    /// after it taken in (a mark belongs to the letter before it, even where
    /// the tokenizer's normalizer dropped it from every token); `None` when
    /// nothing but whitespace is left.
    pub fn fitted(mut self, text: &str) -> Option<Self> {
        use unicode_categories::UnicodeCategories;
        let span = text.get(self.start..self.end).unwrap_or_default();
        let trimmed = span.trim();
        if trimmed.is_empty() {
            return None;
        }
        self.start += span.len() - span.trim_start().len();
        self.end = self.start + trimmed.len();
        self.end += text[self.end..]
            .chars()
            .take_while(|c| c.is_mark())
            .map(char::len_utf8)
            .sum::<usize>();
        self.word = text[self.start..self.end].to_string();
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entity(text: &str, start: usize, end: usize) -> Entity {
        Entity {
            label: "ORG".into(),
            score: 0.5,
            start,
            end,
            word: text[start..end].to_string(),
            index: None,
        }
    }

    #[test]
    fn entities_that_are_or_begin_with_a_space_are_trimmed_or_dropped() {
        let text = "på FOX\u{a0} kl.";
        let e = entity(text, 3, 9).fitted(text).unwrap();
        assert_eq!((e.start, e.end, e.word.as_str()), (4, 7, "FOX"));
        assert_eq!(&text[e.start..e.end], e.word);
        assert_eq!(entity(text, 3, 4).fitted(text), None);
        assert_eq!(entity(text, 4, 4).fitted(text), None);
    }

    #[test]
    fn a_trailing_combining_mark_is_inside_the_entity() {
        let text = "til Tromso\u{308}\u{323} i fjor";
        let e = entity(text, 4, 10).fitted(text).unwrap();
        assert_eq!(e.word, "Tromso\u{308}\u{323}");
        assert_eq!(&text[e.start..e.end], e.word);
        assert_eq!(entity(text, 0, 3).fitted(text).unwrap().word, "til");
    }
}
