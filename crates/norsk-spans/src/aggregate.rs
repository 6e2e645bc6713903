//! The scores of single tokens and of words (transformers' `aggregate`,
//! `aggregate_word` and `aggregate_words`), and their labels as a
//! [`LabelDecoding`] chooses them.

use std::borrow::Cow;

use crate::decoding::choose_labels;
use crate::numeric::{max, nanmean};
use crate::{LabelDecoding, Labels, PreEntity};

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

/// A token or word with the scores its label is chosen from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Scored<'a> {
    /// One score per label.
    pub scores: Cow<'a, [f32]>,
    /// Byte offset of the start.
    pub start: usize,
    /// Byte offset of the end.
    pub end: usize,
}

impl Scored<'_> {
    /// The item with the label chosen for it.
    pub fn labelled(&self, label: usize) -> Labelled {
        Labelled {
            label,
            score: self.scores.get(label).copied().unwrap_or(f32::NAN),
            start: self.start,
            end: self.end,
        }
    }
}

/// A token with its own scores (`none` and `simple`).
pub(crate) fn score_token(token: &PreEntity) -> Scored<'_> {
    Scored {
        scores: Cow::Borrowed(&token.scores),
        start: token.start,
        end: token.end,
    }
}

/// Splits the tokens into words and scores each word by `rule`. A word is a
/// token that is not a subword plus the subwords after it; the first token
/// always opens a word, even when it is a subword.
pub(crate) fn score_words(tokens: &[PreEntity], rule: WordRule) -> Vec<Scored<'_>> {
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
        .filter_map(|word| score_word(word, rule))
        .collect()
}

/// The scores transformers' `aggregate_word` takes a word's label from;
/// `None` only for an empty word.
fn score_word(word: &[PreEntity], rule: WordRule) -> Option<Scored<'_>> {
    let first = word.first()?;
    let last = word.last()?;
    let scores = match rule {
        WordRule::First => Cow::Borrowed(first.scores.as_slice()),
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
            Cow::Borrowed(best.scores.as_slice())
        }
        WordRule::Average => {
            let width = first.scores.len();
            Cow::Owned(
                (0..width)
                    .map(|j| {
                        nanmean(
                            word.iter()
                                .map(|t| t.scores.get(j).copied().unwrap_or(f32::NAN)),
                        )
                    })
                    .collect(),
            )
        }
    };
    Some(Scored {
        scores,
        start: first.start,
        end: last.end,
    })
}

/// Each item labelled as `decoding` chooses (transformers' argmax, or the
/// best sequence the label scheme allows).
pub(crate) fn label_all(
    items: &[Scored],
    labels: &Labels,
    decoding: LabelDecoding,
) -> Vec<Labelled> {
    let rows: Vec<&[f32]> = items.iter().map(|item| item.scores.as_ref()).collect();
    choose_labels(&rows, labels, decoding)
        .into_iter()
        .zip(items)
        .map(|(label, item)| item.labelled(label))
        .collect()
}
