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

/// The piece SentencePiece makes of a space on its own (`▁`), when the
/// word after it is not one vocabulary piece with its space (`▁` + `FOX`).
const LONE_SPACE: &str = "\u{2581}";

impl PreEntity {
    /// Re-decides `is_subword` for tokenizers that do not mark continuations
    /// (SentencePiece, as in XLM-R): a token continues a word only when it
    /// touches the token before with a letter or digit on both sides, or
    /// begins with a combining mark (`o` + U+0308); a hyphen between two
    /// letters or digits counts as one (`Nato-bidrag` is one word, as in
    /// NorNE). This is transformers' fallback (no space before or at the
    /// token) made stricter, so that punctuation glued to a word (`Oslo,`,
    /// `(Jon`) is not part of it. The
    /// space such a token carries (`▁Oslo` spans ` Oslo`) is then left out of
    /// its offsets, so entities start at their first letter.
    ///
    /// What one token cannot tell alone, [`join_unmarked_pieces`] adds.
    pub fn with_space_heuristic(mut self, text: &str) -> Self {
        use unicode_categories::UnicodeCategories;
        let before = text.get(..self.start).and_then(|t| t.chars().next_back());
        let first = text.get(self.start..).and_then(|t| t.chars().next());
        let glued = before.is_some_and(|c| in_word(text, self.start - c.len_utf8()))
            && first.is_some_and(|_| in_word(text, self.start));
        let mark = before.is_some() && first.is_some_and(|c| c.is_mark());
        self.is_subword = glued || mark;
        if let Some(span) = text.get(self.start..self.end) {
            let trimmed = span.trim_start();
            if !trimmed.is_empty() {
                self.start = self.end - trimmed.len();
            }
        }
        self
    }

    /// Whether this token is a space on its own: the piece `▁`, or a span
    /// of whitespace only.
    fn is_lone_space(&self, text: &str) -> bool {
        self.word == LONE_SPACE
            || text
                .get(self.start..self.end)
                .is_some_and(|span| span.trim().is_empty())
    }
}

/// Whether the character at byte `at` of `text` belongs to a word: a
/// letter or digit, or a hyphen with one on each side.
fn in_word(text: &str, at: usize) -> bool {
    let mut after = text[at..].chars();
    match after.next() {
        Some(c) if c.is_alphanumeric() => true,
        Some('-' | '\u{2010}') => {
            let before = text[..at].chars().next_back();
            before.is_some_and(char::is_alphanumeric)
                && after.next().is_some_and(char::is_alphanumeric)
        }
        _ => false,
    }
}

/// Word boundaries of one window's tokens for tokenizers that do not mark
/// continuations: [`PreEntity::with_space_heuristic`] on each token, then
/// what it cannot see alone, as the model was trained (a word's label on
/// its first piece, `▁` included):
///
/// * a lone space piece (`▁` before `FOX`) opens a word, and the next token,
///   touching it, continues that word; the piece's offsets become an empty
///   span where the word begins, so the word's span holds no space;
/// * a token whose offsets overlap the token before (one source character
///   split into pieces by the normalizer) continues its word.
pub fn join_unmarked_pieces(text: &str, tokens: Vec<PreEntity>) -> Vec<PreEntity> {
    let mut previous: Option<(usize, bool)> = None;
    tokens
        .into_iter()
        .map(|token| {
            let (start, end) = (token.start, token.end);
            let lone = token.is_lone_space(text);
            let mut token = token.with_space_heuristic(text);
            if lone {
                let span = text.get(start..end).unwrap_or_default();
                token.start = start + span.len() - span.trim_start().len();
                token.end = token.start;
                token.is_subword = false;
            } else if let Some((previous_end, previous_lone)) = previous {
                if start < previous_end || (previous_lone && start == previous_end) {
                    token.is_subword = true;
                }
            }
            previous = Some((end, lone));
            token
        })
        .collect()
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

    /// The words `join_unmarked_pieces` makes of `(piece, start, end)`s.
    fn words<'a>(text: &'a str, pieces: &[(&str, usize, usize)]) -> Vec<&'a str> {
        let tokens = pieces
            .iter()
            .map(|&(word, start, end)| {
                PreEntity::new(text, word.into(), vec![], start, end, 0, false)
            })
            .collect();
        let tokens = join_unmarked_pieces(text, tokens);
        let mut words: Vec<(usize, usize)> = Vec::new();
        for token in tokens {
            match words.last_mut() {
                Some(word) if token.is_subword => word.1 = token.end,
                _ => words.push((token.start, token.end)),
            }
        }
        words.iter().map(|&(s, e)| &text[s..e]).collect()
    }

    #[test]
    fn a_lone_space_piece_opens_the_word_after_it_without_its_space() {
        let pieces = [("▁på", 0, 3), ("▁", 3, 4), ("FOX", 4, 7), ("▁kl", 7, 10)];
        assert_eq!(words("på FOX kl", &pieces), ["på", "FOX", "kl"]);
        let pieces = [("▁Oslo", 0, 4), ("▁", 4, 5)];
        assert_eq!(
            words("Oslo ", &pieces),
            ["Oslo", ""],
            "a lone space is an empty word"
        );
    }

    #[test]
    fn overlapping_pieces_and_combining_marks_continue_the_word() {
        // A prepended `▁` takes the first character's offsets.
        let pieces = [
            ("▁", 0, 2),
            ("É", 0, 2),
            ("douard", 2, 8),
            ("▁Louis", 8, 14),
        ];
        assert_eq!(words("Édouard Louis", &pieces), ["Édouard", "Louis"]);
        let pieces = [("▁Tromso", 0, 6), ("\u{308}", 6, 8), ("▁i", 8, 10)];
        assert_eq!(words("Tromso\u{308} i", &pieces), ["Tromso\u{308}", "i"]);
    }

    #[test]
    fn hyphenated_words_stay_one_word() {
        let pieces = [
            ("▁Nato", 0, 4),
            ("-", 4, 5),
            ("bidrag", 5, 11),
            ("▁fra", 11, 15),
            ("▁-", 15, 17),
            ("▁Oslo", 17, 22),
            ("-", 22, 23),
        ];
        assert_eq!(
            words("Nato-bidrag fra - Oslo-", &pieces),
            ["Nato-bidrag", "fra", "-", "Oslo", "-"],
            "a hyphen joins only between letters"
        );
    }

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
