//! Invariants over random Unicode texts and random tokens.

use norsk_spans::{
    decode_window, merge_windows, softmax, Aggregation, Entity, LabelDecoding, Labels, PreEntity,
};
use proptest::collection::vec;
use proptest::prelude::*;

const ALL: [Aggregation; 5] = [
    Aggregation::None,
    Aggregation::Simple,
    Aggregation::First,
    Aggregation::Average,
    Aggregation::Max,
];

const LABEL_SETS: [&[&str]; 4] = [
    &["O", "B-PER", "I-PER", "B-LOC", "I-LOC"],
    &["O", "B-PER", "I-PER", "E-PER", "S-PER", "S-LOC"],
    &["O", "B-ORG", "L-ORG", "U-ORG"],
    &["O", "PER", "LOC"],
];

/// Per char: (a token starts here, the token is kept, word kind, logits).
type Mark = (bool, bool, u8, Vec<f32>);

#[derive(Debug, Clone)]
struct Input {
    text: String,
    labels: Labels,
    tokens: Vec<PreEntity>,
}

fn build(text: String, set: usize, marks: Vec<Mark>) -> Input {
    let labels = Labels::new(LABEL_SETS[set].iter().map(|s| s.to_string()).collect()).unwrap();
    let mut bounds: Vec<usize> = text.char_indices().map(|(b, _)| b).collect();
    bounds.push(text.len());
    let starts: Vec<usize> = (0..marks.len()).filter(|&i| i == 0 || marks[i].0).collect();
    let mut tokens = Vec::new();
    for (k, &first) in starts.iter().enumerate() {
        let last = starts.get(k + 1).copied().unwrap_or(marks.len());
        let (_, keep, kind, logits) = &marks[first];
        if !keep {
            continue;
        }
        let (start, end) = (bounds[first], bounds[last]);
        let source = &text[start..end];
        let word = match kind {
            0 => source.to_string(),
            1 => format!("##{source}"),
            _ => "[UNK]".to_string(),
        };
        let index = tokens.len() + 1;
        tokens.push(PreEntity::new(
            &text,
            word,
            softmax(logits),
            start,
            end,
            index,
            *kind == 2,
        ));
    }
    Input {
        text,
        labels,
        tokens,
    }
}

fn input() -> impl Strategy<Value = Input> {
    (vec(any::<char>(), 0..24), 0..LABEL_SETS.len())
        .prop_flat_map(|(chars, set)| {
            let width = LABEL_SETS[set].len();
            let mark = (
                any::<bool>(),
                prop::bool::weighted(0.8),
                0u8..3,
                vec(-8.0f32..8.0, width),
            );
            let n = chars.len();
            (
                Just(chars.into_iter().collect::<String>()),
                Just(set),
                vec(mark, n),
            )
        })
        .prop_map(|(text, set, marks)| build(text, set, marks))
}

/// Sorted by start and free of overlaps.
fn assert_disjoint(entities: &[Entity]) -> Result<(), TestCaseError> {
    for pair in entities.windows(2) {
        prop_assert!(pair[0].end <= pair[1].start, "overlap: {:?}", pair);
    }
    Ok(())
}

fn assert_valid(text: &str, entities: &[Entity]) -> Result<(), TestCaseError> {
    assert_disjoint(entities)?;
    for e in entities {
        prop_assert!(e.start < e.end, "{e:?}");
        prop_assert!(text.is_char_boundary(e.start) && text.is_char_boundary(e.end));
        prop_assert_eq!(&e.word, &text[e.start..e.end]);
        prop_assert!((0.0..=1.0).contains(&e.score), "{e:?}");
    }
    Ok(())
}

proptest! {
    #[test]
    fn every_strategy_gives_valid_spans(
        input in input(),
        ignore_outside in any::<bool>(),
        decoding in prop_oneof![Just(LabelDecoding::Argmax), Just(LabelDecoding::Constrained)],
    ) {
        let ignore: Vec<String> = if ignore_outside { vec!["O".into()] } else { vec![] };
        for a in ALL {
            let entities =
                decode_window(&input.text, input.tokens.clone(), &input.labels, a, decoding, &ignore)
                    .unwrap();
            assert_valid(&input.text, &entities)?;
            for e in &entities {
                prop_assert_eq!(e.index.is_some(), a == Aggregation::None);
                prop_assert!(!ignore.contains(&e.label));
            }
            if a == Aggregation::None && ignore.is_empty() {
                prop_assert_eq!(entities.len(), input.tokens.len());
            }
        }
    }

    #[test]
    fn merged_windows_give_valid_spans(input in input(), cut in 0.0f64..1.0, overlap in 0.0f64..1.0) {
        let n = input.tokens.len();
        let end = (n as f64 * cut).round() as usize;
        let start = end - (end as f64 * overlap).round() as usize;
        for a in ALL {
            let mut all = Vec::new();
            for window in [&input.tokens[..end], &input.tokens[start..]] {
                let pre = window.to_vec();
                all.extend(decode_window(&input.text, pre, &input.labels, a, LabelDecoding::Constrained, &["O".into()]).unwrap());
            }
            let merged = merge_windows(all.clone());
            assert_valid(&input.text, &merged)?;
            for e in &merged {
                prop_assert!(all.contains(e));
            }
        }
    }

    #[test]
    fn merge_of_arbitrary_entities(spans in vec((0usize..60, 1usize..12, 0.0f32..=1.0), 0..20)) {
        let entities: Vec<Entity> = spans
            .iter()
            .map(|&(start, len, score)| Entity {
                label: "X".into(),
                score,
                start,
                end: start + len,
                word: String::new(),
                index: None,
            })
            .collect();
        let merged = merge_windows(entities.clone());
        assert_disjoint(&merged)?;
        prop_assert_eq!(merged.is_empty(), entities.is_empty());
        for e in &merged {
            prop_assert!(entities.contains(e));
        }
    }
}
