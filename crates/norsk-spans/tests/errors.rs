//! Bad input gives errors, never panics.

use norsk_spans::{
    decode_window, softmax, Aggregation, LabelDecoding, Labels, PreEntity, SpanError,
};

const ALL: [Aggregation; 5] = [
    Aggregation::None,
    Aggregation::Simple,
    Aggregation::First,
    Aggregation::Average,
    Aggregation::Max,
];

fn labels() -> Labels {
    Labels::new(["O", "B-PER", "I-PER"].map(String::from).to_vec()).unwrap()
}

fn token(start: usize, end: usize, scores: Vec<f32>) -> PreEntity {
    PreEntity {
        word: "x".into(),
        scores,
        start,
        end,
        index: 1,
        is_subword: false,
    }
}

fn decode(text: &str, pre: Vec<PreEntity>, a: Aggregation) -> Result<usize, SpanError> {
    decode_window(text, pre, &labels(), a, LabelDecoding::Constrained, &[]).map(|e| e.len())
}

#[test]
fn empty_input_gives_no_entities() {
    for a in ALL {
        assert_eq!(decode("", vec![], a), Ok(0));
        assert_eq!(decode("Hei", vec![], a), Ok(0));
    }
}

#[test]
fn wrong_score_length() {
    for a in ALL {
        let pre = vec![
            token(0, 1, vec![0.2, 0.3, 0.5]),
            token(1, 2, vec![0.5, 0.5]),
        ];
        let err = decode("ab", pre, a).unwrap_err();
        assert_eq!(
            err,
            SpanError::ScoreCount {
                position: 1,
                expected: 3,
                got: 2
            }
        );
        assert!(
            err.to_string().contains("expected 3 labels, got 2"),
            "{err}"
        );
        assert!(decode("ab", vec![token(0, 1, vec![])], a).is_err());
    }
}

#[test]
fn bad_offsets() {
    let scores = || vec![0.2, 0.3, 0.5];
    for a in ALL {
        // Past the end, reversed, and inside the two-byte "ø".
        for (start, end) in [(0, 9), (2, 1), (0, 1), (1, 3)] {
            let err = decode("øx", vec![token(start, end, scores())], a).unwrap_err();
            assert!(matches!(err, SpanError::InvalidOffsets { .. }), "{err}");
        }
        let pre = vec![token(2, 3, scores()), token(0, 2, scores())];
        let err = decode("øx", pre, a).unwrap_err();
        assert_eq!(
            err,
            SpanError::Unsorted {
                position: 1,
                start: 0,
                previous: 2
            }
        );
    }
}

#[test]
fn non_finite_scores_do_not_panic() {
    let text = "a b c";
    for (a, d) in ALL
        .into_iter()
        .flat_map(|a| [(a, LabelDecoding::Argmax), (a, LabelDecoding::Constrained)])
    {
        let pre = vec![
            token(0, 1, softmax(&[f32::NAN, 0.0, 1.0])),
            token(2, 3, softmax(&[f32::INFINITY, 0.0, 1.0])),
            token(4, 5, vec![f32::NEG_INFINITY, f32::NAN, f32::INFINITY]),
        ];
        let entities = decode_window(text, pre, &labels(), a, d, &[]).unwrap();
        assert!(!entities.is_empty());
    }
}

#[test]
fn bad_names() {
    assert_eq!(
        "avg".parse::<Aggregation>(),
        Err(SpanError::UnknownAggregation("avg".into()))
    );
    assert!("bio".parse::<norsk_spans::LabelScheme>().is_err());
    assert_eq!(Labels::new(vec![]), Err(SpanError::NoLabels));
}
