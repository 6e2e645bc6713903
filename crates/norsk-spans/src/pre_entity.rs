/// One non-special token of one model window, ready for aggregation
/// (transformers' "pre_entity").
#[derive(Debug, Clone, PartialEq)]
pub struct PreEntity {
    /// The token as the vocabulary spells it (e.g. `##sen`); for the unknown
    /// token, the source substring.
    pub word: String,
    /// Softmax probabilities over the labels, in label id order.
    pub scores: Vec<f32>,
    /// Byte offset of the token's start in the source text.
    pub start: usize,
    /// Byte offset of the token's end in the source text (exclusive).
    pub end: usize,
    /// Position of the token in its window, special tokens included.
    pub index: usize,
    /// Whether the token continues the word of the token before it.
    pub is_subword: bool,
}

impl PreEntity {
    /// Builds a pre-entity with transformers' rules for word-aware
    /// (continuing-prefix) tokenizers: `is_subword` is whether `word` and the
    /// source substring `text[start..end]` differ in their number of chars
    /// (so `##sen` for `sen` is a subword). For the unknown token the word
    /// becomes the source substring and `is_subword` is `false`.
    ///
    /// Offsets that are not a char-aligned range of `text` count as an empty
    /// source substring here; [`crate::decode_window`] rejects them.
    pub fn new(
        text: &str,
        word: String,
        scores: Vec<f32>,
        start: usize,
        end: usize,
        index: usize,
        is_unknown: bool,
    ) -> Self {
        let source = text.get(start..end).unwrap_or_default();
        let (word, is_subword) = if is_unknown {
            (source.to_string(), false)
        } else {
            let is_subword = word.chars().count() != source.chars().count();
            (word, is_subword)
        };
        PreEntity {
            word,
            scores,
            start,
            end,
            index,
            is_subword,
        }
    }
}

impl PreEntity {
    /// Re-decides `is_subword` for tokenizers that do not mark continuations
    /// (SentencePiece, as in XLM-R): a token continues a word only when it
    /// touches the token before with a letter or digit on both sides. This
    /// is transformers' fallback (no space before or at the token) made
    /// stricter, so that punctuation glued to a word (`Oslo,`, `(Jon`) is not
    /// part of it. The space such a token carries (`▁Oslo` spans ` Oslo`) is
    /// then left out of its offsets, so entities start at their first letter.
    pub fn with_space_heuristic(mut self, text: &str) -> Self {
        let before = text.get(..self.start).and_then(|t| t.chars().next_back());
        let first = text.get(self.start..).and_then(|t| t.chars().next());
        self.is_subword =
            before.is_some_and(char::is_alphanumeric) && first.is_some_and(char::is_alphanumeric);
        if let Some(span) = text.get(self.start..self.end) {
            let trimmed = span.trim_start();
            if !trimmed.is_empty() {
                self.start = self.end - trimmed.len();
            }
        }
        self
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn space_heuristic_joins_pieces_without_spaces() {
        let text = "Equinor ASA";
        let head = PreEntity::new(text, "▁Equi".into(), vec![], 0, 4, 1, false);
        assert!(!head.with_space_heuristic(text).is_subword);
        let tail = PreEntity::new(text, "nor".into(), vec![], 4, 7, 2, false);
        assert!(tail.with_space_heuristic(text).is_subword);
        let next = PreEntity::new(text, "▁ASA".into(), vec![], 7, 11, 3, false);
        let next = next.with_space_heuristic(text);
        assert!(!next.is_subword);
        assert_eq!(&text[next.start..next.end], "ASA", "the space is left out");
        let text = "Oslo, (Jon";
        let comma = PreEntity::new(text, ",".into(), vec![], 4, 5, 2, false);
        assert!(
            !comma.with_space_heuristic(text).is_subword,
            "punctuation starts a word"
        );
        let jon = PreEntity::new(text, "Jon".into(), vec![], 7, 10, 4, false);
        assert!(!jon.with_space_heuristic(text).is_subword);
    }

    use super::*;

    #[test]
    fn subword_by_char_count() {
        let text = "Tromsø er fin";
        let first = PreEntity::new(text, "Troms".into(), vec![], 0, 5, 1, false);
        assert!(!first.is_subword);
        let rest = PreEntity::new(text, "##ø".into(), vec![], 5, 7, 2, false);
        assert!(rest.is_subword);
        let whole = PreEntity::new(text, "tromsø".into(), vec![], 0, 7, 1, false);
        assert!(!whole.is_subword, "chars, not bytes, are counted");
    }

    #[test]
    fn unknown_takes_the_source() {
        let text = "ab☃";
        let unk = PreEntity::new(text, "[UNK]".into(), vec![], 2, 5, 3, true);
        assert_eq!(unk.word, "☃");
        assert!(!unk.is_subword);
    }

    #[test]
    fn bad_offsets_do_not_panic() {
        let p = PreEntity::new("ø", "x".into(), vec![], 1, 9, 1, false);
        assert!(p.is_subword);
        let p = PreEntity::new("ø", "[UNK]".into(), vec![], 5, 1, 1, true);
        assert_eq!(p.word, "");
    }
}
