use crate::aggregate::{label_all, score_token, score_words, Scored, WordRule};
use crate::group::group_entities;
use crate::{Aggregation, Entity, LabelDecoding, Labels, PreEntity, SpanError, OUTSIDE};

/// transformers' default `ignore_labels`: `["O"]`.
pub fn default_ignore_labels() -> Vec<String> {
    vec![OUTSIDE.to_string()]
}

/// Everything for one window: label the tokens, aggregate them into entities
/// by `aggregation` (each token's or word's label chosen by `decoding`), then drop the entities whose label is in
/// `ignore_labels` (as transformers' `postprocess` does per window, comparing
/// the full label with `none` and the entity type otherwise).
///
/// The tokens must be in text order, each with one score per label and byte
/// offsets that are a char-aligned range of `text`; otherwise a
/// [`SpanError`] says which token is wrong.
pub fn decode_window(
    text: &str,
    pre: Vec<PreEntity>,
    labels: &Labels,
    aggregation: Aggregation,
    decoding: LabelDecoding,
    ignore_labels: &[String],
) -> Result<Vec<Entity>, SpanError> {
    check(text, &pre, labels)?;
    let label = |items: &[Scored]| label_all(items, labels, decoding);
    let tokens = || -> Vec<Scored> { pre.iter().map(score_token).collect() };
    let words = |rule| group_entities(text, labels, &label(&score_words(&pre, rule)));
    let entities = match aggregation {
        Aggregation::None => pre
            .iter()
            .zip(label(&tokens()))
            .map(|(token, labelled)| Entity {
                label: labels.name(labelled.label).unwrap_or_default().to_string(),
                score: labelled.score,
                start: token.start,
                end: token.end,
                word: text
                    .get(token.start..token.end)
                    .unwrap_or_default()
                    .to_string(),
                index: Some(token.index),
            })
            .collect(),
        Aggregation::Simple => group_entities(text, labels, &label(&tokens())),
        Aggregation::First => words(WordRule::First),
        Aggregation::Average => words(WordRule::Average),
        Aggregation::Max => words(WordRule::Max),
    };
    Ok(entities
        .into_iter()
        .filter(|entity| !ignore_labels.contains(&entity.label))
        .collect())
}

/// Checks score lengths, offsets and token order.
fn check(text: &str, pre: &[PreEntity], labels: &Labels) -> Result<(), SpanError> {
    let mut previous = 0;
    for (position, token) in pre.iter().enumerate() {
        if token.scores.len() != labels.len() {
            return Err(SpanError::ScoreCount {
                position,
                expected: labels.len(),
                got: token.scores.len(),
            });
        }
        if token.start > token.end || text.get(token.start..token.end).is_none() {
            return Err(SpanError::InvalidOffsets {
                position,
                start: token.start,
                end: token.end,
                len: text.len(),
            });
        }
        if token.start < previous {
            return Err(SpanError::Unsorted {
                position,
                start: token.start,
                previous,
            });
        }
        previous = token.start;
    }
    Ok(())
}
