//! Labelling of single tokens and of words (transformers' `aggregate`,
//! `aggregate_word` and `aggregate_words`).

use crate::numeric::{argmax, max, nanmean};
use crate::PreEntity;

/// A token or word with its chosen label, before grouping.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Labelled {
    /// The label id.
    pub label: usize,
    /// The score of that label.
    pub score: f32,
    /// Byte offset of the start.
    pub start: usize,
    /// Byte offset of the end.
    pub end: usize,
}

/// How the tokens of one word decide the word's label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WordRule {
    /// The first token decides.
    First,
    /// The argmax of the mean scores (`np.nanmean` over the tokens).
    Average,
    /// The token with the highest single score decides (the first one on ties).
    Max,
}

/// A token labelled by the argmax of its own scores (`none` and `simple`).
pub(crate) fn label_token(token: &PreEntity) -> Labelled {
    labelled_by(&token.scores, token.start, token.end)
}

/// Splits the tokens into words and labels each word by `rule`. A word is a
/// token that is not a subword plus the subwords after it; the first token
/// always opens a word, even when it is a subword.
pub(crate) fn label_words(tokens: &[PreEntity], rule: WordRule) -> Vec<Labelled> {
    let mut words: Vec<&[PreEntity]> = Vec::new();
    let mut open = 0;
    for (i, token) in tokens.iter().enumerate().skip(1) {
        if !token.is_subword {
            words.push(&tokens[open..i]);
            open = i;
        }
    }
    if open < tokens.len() {
        words.push(&tokens[open..]);
    }
    words
        .into_iter()
        .filter_map(|word| label_word(word, rule))
        .collect()
}

/// transformers' `aggregate_word`; `None` only for an empty word.
fn label_word(word: &[PreEntity], rule: WordRule) -> Option<Labelled> {
    let first = word.first()?;
    let last = word.last()?;
    let (start, end) = (first.start, last.end);
    Some(match rule {
        WordRule::First => labelled_by(&first.scores, start, end),
        WordRule::Max => {
            // Python's `max(..., key=...)` keeps the first of equal keys and
            // never replaces with a NaN key (comparisons with NaN are false).
            let mut best = first;
            let mut best_key = max(&first.scores);
            for token in &word[1..] {
                let key = max(&token.scores);
                if key > best_key {
                    best = token;
                    best_key = key;
                }
            }
            labelled_by(&best.scores, start, end)
        }
        WordRule::Average => {
            let width = first.scores.len();
            let mean: Vec<f32> = (0..width)
                .map(|j| {
                    nanmean(
                        word.iter()
                            .map(|t| t.scores.get(j).copied().unwrap_or(f32::NAN)),
                    )
                })
                .collect();
            labelled_by(&mean, start, end)
        }
    })
}

/// The argmax label of `scores` with its score.
fn labelled_by(scores: &[f32], start: usize, end: usize) -> Labelled {
    let label = argmax(scores);
    Labelled {
        label,
        score: scores.get(label).copied().unwrap_or(f32::NAN),
        start,
        end,
    }
}
