//! Expected outputs produced by running transformers 5.24's
//! `TokenClassificationPipeline.postprocess` (with a stub tokenizer and model
//! around these exact tokens, offsets and logits) for every aggregation
//! strategy. Offsets below are char offsets, as Python reports them; scores
//! are the float32 values Python printed.

use norsk_spans::{
    decode_window, default_ignore_labels, merge_windows, softmax, Aggregation, LabelDecoding,
    Labels, PreEntity,
};

/// A non-special token: vocabulary word, char offsets, index in its window,
/// logits.
struct Tok {
    word: &'static str,
    start: usize,
    end: usize,
    index: usize,
    logits: &'static [f32],
}

const fn tok(
    word: &'static str,
    start: usize,
    end: usize,
    index: usize,
    logits: &'static [f32],
) -> Tok {
    Tok {
        word,
        start,
        end,
        index,
        logits,
    }
}

/// Label, score, char start, char end, index.
type Expected = (&'static str, f32, usize, usize, Option<usize>);

struct Case {
    name: &'static str,
    text: &'static str,
    labels: &'static [&'static str],
    /// `None`: transformers' default `["O"]`.
    ignore: Option<&'static [&'static str]>,
    windows: &'static [&'static [Tok]],
    expected: &'static [(Aggregation, &'static [Expected])],
}

fn byte_offset(text: &str, chars: usize) -> usize {
    text.char_indices()
        .nth(chars)
        .map_or(text.len(), |(byte, _)| byte)
}

fn decode(case: &Case, aggregation: Aggregation) -> Vec<norsk_spans::Entity> {
    let labels = Labels::new(case.labels.iter().map(|s| s.to_string()).collect()).unwrap();
    let ignore: Vec<String> = match case.ignore {
        Some(list) => list.iter().map(|s| s.to_string()).collect(),
        None => default_ignore_labels(),
    };
    let mut all = Vec::new();
    for window in case.windows {
        let pre = window
            .iter()
            .map(|t| {
                PreEntity::new(
                    case.text,
                    t.word.to_string(),
                    softmax(t.logits),
                    byte_offset(case.text, t.start),
                    byte_offset(case.text, t.end),
                    t.index,
                    t.word == "[UNK]",
                )
            })
            .collect();
        all.extend(
            decode_window(
                case.text,
                pre,
                &labels,
                aggregation,
                LabelDecoding::Argmax,
                &ignore,
            )
            .unwrap(),
        );
    }
    if case.windows.len() > 1 {
        all = merge_windows(all);
    }
    all
}

#[test]
fn matches_transformers() {
    let mut checked = 0;
    for case in CASES {
        for &(aggregation, expected) in case.expected {
            let got = decode(case, aggregation);
            let context = format!("case {} with {aggregation}: got {got:#?}", case.name);
            assert_eq!(got.len(), expected.len(), "{context}");
            for (entity, &(label, score, start, end, index)) in got.iter().zip(expected) {
                assert_eq!(entity.label, label, "{context}");
                assert_eq!(entity.start, byte_offset(case.text, start), "{context}");
                assert_eq!(entity.end, byte_offset(case.text, end), "{context}");
                assert_eq!(
                    entity.word,
                    &case.text[entity.start..entity.end],
                    "{context}"
                );
                assert_eq!(entity.index, index, "{context}");
                if score.is_nan() {
                    assert!(entity.score.is_nan(), "{context}");
                } else {
                    assert!((entity.score - score).abs() < 1e-5, "{context}");
                }
            }
            checked += 1;
        }
    }
    assert_eq!(checked, CASES.len() * 5);
}

#[test]
fn strategies_differ_on_the_reference_text() {
    // Guards the fixture itself: "Stol|##ten|##berg" is B-PER, I-LOC, I-PER
    // token by token, so the strategies must disagree.
    let case = &CASES[0];
    let spans =
        |a| -> Vec<(usize, usize)> { decode(case, a).iter().map(|e| (e.start, e.end)).collect() };
    assert_eq!(spans(Aggregation::Simple).len(), 5);
    assert_eq!(spans(Aggregation::First), [(0, 4), (5, 16), (23, 30)]);
    assert_eq!(spans(Aggregation::Average), [(0, 16), (23, 30)]);
}

const CASES: &[Case] = &[
    Case {
        name: "stoltenberg",
        text: "Jens Stoltenberg bor i Tromsø.",
        labels: &["O", "B-PER", "I-PER", "B-LOC", "I-LOC"],
        ignore: None,
        windows: &[&[
            tok("Jens", 0, 4, 1, &[0.1, 4.0, 1.0, 0.5, 0.2]),
            tok("Stol", 5, 9, 2, &[0.3, 2.6, 2.5, 0.2, 0.4]),
            tok("##ten", 9, 12, 3, &[0.2, 0.4, 1.5, 0.3, 2.0]),
            tok("##berg", 12, 16, 4, &[0.1, 0.2, 4.0, 0.1, 0.5]),
            tok("bor", 17, 20, 5, &[5.0, 0.1, 0.2, 0.1, 0.1]),
            tok("i", 21, 22, 6, &[4.0, 0.5, 0.1, 0.3, 0.2]),
            tok("Troms", 23, 28, 7, &[0.5, 0.3, 0.1, 2.0, 1.9]),
            tok("##ø", 28, 29, 8, &[0.4, 0.1, 0.2, 0.6, 3.5]),
            tok(".", 29, 30, 9, &[3.0, 0.1, 0.1, 0.1, 0.1]),
        ]],
        expected: &[
            (
                Aggregation::None,
                &[
                    ("B-PER", 0.89079154, 0, 4, Some(1)),
                    ("B-PER", 0.45318228, 5, 9, Some(2)),
                    ("I-LOC", 0.46373376, 9, 12, Some(3)),
                    ("I-PER", 0.9148696, 12, 16, Some(4)),
                    ("B-LOC", 0.40646777, 23, 28, Some(7)),
                    ("I-LOC", 0.8544607, 28, 29, Some(8)),
                ],
            ),
            (
                Aggregation::Simple,
                &[
                    ("PER", 0.89079154, 0, 4, None),
                    ("PER", 0.45318228, 5, 9, None),
                    ("LOC", 0.46373376, 9, 12, None),
                    ("PER", 0.9148696, 12, 16, None),
                    ("LOC", 0.63046426, 23, 29, None),
                ],
            ),
            (
                Aggregation::First,
                &[
                    ("PER", 0.89079154, 0, 4, None),
                    ("PER", 0.45318228, 5, 16, None),
                    ("LOC", 0.40646777, 23, 29, None),
                ],
            ),
            (
                Aggregation::Average,
                &[
                    ("PER", 0.7130949, 0, 16, None),
                    ("LOC", 0.611124, 23, 29, None),
                ],
            ),
            (
                Aggregation::Max,
                &[
                    ("PER", 0.9028306, 0, 16, None),
                    ("LOC", 0.8544607, 23, 29, None),
                ],
            ),
        ],
    },
    Case {
        name: "ties",
        text: "Ola Nordmann Oslo",
        labels: &["O", "B-PER", "I-PER", "B-LOC", "I-LOC"],
        ignore: None,
        windows: &[&[
            tok("Ola", 0, 3, 1, &[-200.0, 0.0, 0.0, -200.0, -200.0]),
            tok("Nord", 4, 8, 2, &[-200.0, -200.0, 0.0, -200.0, 0.0]),
            tok("##mann", 8, 12, 3, &[-200.0, -200.0, -200.0, 0.0, 0.0]),
            tok("Os", 13, 15, 4, &[-200.0, 0.0, -200.0, -200.0, -200.0]),
            tok("##lo", 15, 17, 5, &[-200.0, -200.0, -200.0, 0.0, -200.0]),
        ]],
        expected: &[
            (
                Aggregation::None,
                &[
                    ("B-PER", 0.5, 0, 3, Some(1)),
                    ("I-PER", 0.5, 4, 8, Some(2)),
                    ("B-LOC", 0.5, 8, 12, Some(3)),
                    ("B-PER", 1.0, 13, 15, Some(4)),
                    ("B-LOC", 1.0, 15, 17, Some(5)),
                ],
            ),
            (
                Aggregation::Simple,
                &[
                    ("PER", 0.5, 0, 8, None),
                    ("LOC", 0.5, 8, 12, None),
                    ("PER", 1.0, 13, 15, None),
                    ("LOC", 1.0, 15, 17, None),
                ],
            ),
            (
                Aggregation::First,
                &[("PER", 0.5, 0, 12, None), ("PER", 1.0, 13, 17, None)],
            ),
            (
                Aggregation::Average,
                &[
                    ("PER", 0.5, 0, 3, None),
                    ("LOC", 0.5, 4, 12, None),
                    ("PER", 0.5, 13, 17, None),
                ],
            ),
            (
                Aggregation::Max,
                &[("PER", 0.5, 0, 12, None), ("PER", 1.0, 13, 17, None)],
            ),
        ],
    },
    Case {
        name: "unknown",
        text: "Hilsen fra 𝔊𝔯𝔢𝔱𝔢 og Sn☃ i Bø",
        labels: &["O", "B-PER", "I-PER", "B-LOC", "I-LOC"],
        ignore: None,
        windows: &[&[
            tok("Hilsen", 0, 6, 1, &[3.0, 0.1, 0.1, 0.1, 0.1]),
            tok("fra", 7, 10, 2, &[3.0, 0.2, 0.1, 0.4, 0.1]),
            tok("[UNK]", 11, 16, 3, &[0.5, 2.5, 1.0, 0.3, 0.1]),
            tok("og", 17, 19, 4, &[3.0, 0.1, 0.1, 0.1, 0.1]),
            tok("Sn", 20, 22, 5, &[0.2, 3.0, 0.5, 0.1, 0.1]),
            tok("[UNK]", 22, 23, 6, &[0.2, 0.3, 1.0, 2.0, 0.1]),
            tok("i", 24, 25, 7, &[3.0, 0.1, 0.1, 0.1, 0.1]),
            tok("Bø", 26, 28, 8, &[0.1, 0.1, 0.1, 3.0, 0.5]),
        ]],
        expected: &[
            (
                Aggregation::None,
                &[
                    ("B-PER", 0.6410312, 11, 16, Some(3)),
                    ("B-PER", 0.79812187, 20, 22, Some(5)),
                    ("B-LOC", 0.5360693, 22, 23, Some(6)),
                    ("B-LOC", 0.8018252, 26, 28, Some(8)),
                ],
            ),
            (
                Aggregation::Simple,
                &[
                    ("PER", 0.6410312, 11, 16, None),
                    ("PER", 0.79812187, 20, 22, None),
                    ("LOC", 0.5360693, 22, 23, None),
                    ("LOC", 0.8018252, 26, 28, None),
                ],
            ),
            (
                Aggregation::First,
                &[
                    ("PER", 0.6410312, 11, 16, None),
                    ("PER", 0.79812187, 20, 22, None),
                    ("LOC", 0.5360693, 22, 23, None),
                    ("LOC", 0.8018252, 26, 28, None),
                ],
            ),
            (
                Aggregation::Average,
                &[
                    ("PER", 0.6410312, 11, 16, None),
                    ("PER", 0.79812187, 20, 22, None),
                    ("LOC", 0.5360693, 22, 23, None),
                    ("LOC", 0.8018252, 26, 28, None),
                ],
            ),
            (
                Aggregation::Max,
                &[
                    ("PER", 0.6410312, 11, 16, None),
                    ("PER", 0.79812187, 20, 22, None),
                    ("LOC", 0.5360693, 22, 23, None),
                    ("LOC", 0.8018252, 26, 28, None),
                ],
            ),
        ],
    },
    Case {
        name: "windows",
        text: "Statsminister Jonas Gahr Støre besøkte Nord-Norge i går.",
        labels: &["O", "B-PER", "I-PER", "B-LOC", "I-LOC"],
        ignore: None,
        windows: &[
            &[
                tok("Stats", 0, 5, 1, &[3.0, 0.1, 0.1, 0.1, 0.1]),
                tok("##minister", 5, 13, 2, &[3.0, 0.1, 0.1, 0.1, 0.1]),
                tok("Jonas", 14, 19, 3, &[0.1, 3.0, 0.5, 0.1, 0.1]),
                tok("Gahr", 20, 24, 4, &[0.1, 0.5, 3.0, 0.1, 0.1]),
                tok("St", 25, 27, 5, &[0.1, 0.3, 2.0, 0.1, 0.1]),
                tok("##ø", 27, 28, 6, &[0.1, 0.3, 2.5, 0.1, 0.1]),
                tok("##re", 28, 30, 7, &[0.1, 0.3, 2.2, 0.1, 0.1]),
                tok("besøkte", 31, 38, 8, &[3.0, 0.1, 0.1, 0.1, 0.1]),
                tok("Nord", 39, 43, 9, &[0.1, 0.1, 0.1, 2.0, 0.1]),
                tok("-", 43, 44, 10, &[0.3, 0.1, 0.1, 0.1, 1.5]),
                tok("Norge", 44, 49, 11, &[0.1, 0.1, 0.1, 0.4, 2.5]),
            ],
            &[
                tok("##ø", 27, 28, 1, &[0.1, 4.0, 0.3, 0.1, 0.1]),
                tok("##re", 28, 30, 2, &[0.1, 0.3, 2.2, 0.1, 0.1]),
                tok("besøkte", 31, 38, 3, &[3.0, 0.1, 0.1, 0.1, 0.1]),
                tok("Nord", 39, 43, 4, &[0.1, 0.1, 0.1, 3.0, 0.1]),
                tok("-", 43, 44, 5, &[0.3, 0.1, 0.1, 0.1, 1.5]),
                tok("Norge", 44, 49, 6, &[0.1, 0.1, 0.1, 0.4, 2.5]),
                tok("i", 50, 51, 7, &[3.0, 0.1, 0.1, 0.1, 0.1]),
                tok("går", 52, 55, 8, &[3.0, 0.1, 0.1, 0.1, 0.1]),
                tok(".", 55, 56, 9, &[3.0, 0.1, 0.1, 0.1, 0.1]),
            ],
        ],
        expected: &[
            (
                Aggregation::None,
                &[
                    ("B-PER", 0.8018252, 14, 19, Some(3)),
                    ("I-PER", 0.8018252, 20, 24, Some(4)),
                    ("I-PER", 0.6129744, 25, 27, Some(5)),
                    ("B-PER", 0.92127764, 27, 28, Some(1)),
                    ("I-PER", 0.6592227, 28, 30, Some(7)),
                    ("B-LOC", 0.8196098, 39, 43, Some(4)),
                    ("I-LOC", 0.48995948, 43, 44, Some(10)),
                    ("I-LOC", 0.7170462, 44, 49, Some(11)),
                ],
            ),
            (
                Aggregation::Simple,
                &[
                    ("PER", 0.7197871, 14, 30, None),
                    ("LOC", 0.67553854, 39, 49, None),
                ],
            ),
            (
                Aggregation::First,
                &[
                    ("PER", 0.7388749, 14, 30, None),
                    ("LOC", 0.67553854, 39, 49, None),
                ],
            ),
            (
                Aggregation::Average,
                &[
                    ("PER", 0.75624853, 14, 30, None),
                    ("LOC", 0.67553854, 39, 49, None),
                ],
            ),
            (
                Aggregation::Max,
                &[
                    ("PER", 0.77557963, 14, 30, None),
                    ("LOC", 0.67553854, 39, 49, None),
                ],
            ),
        ],
    },
    Case {
        name: "plain",
        text: "Kari Ola og Per fra Oslo Bergen",
        labels: &["O", "PER", "GPE-LOC"],
        ignore: None,
        windows: &[&[
            tok("Kari", 0, 4, 1, &[0.1, 3.0, 0.2]),
            tok("Ola", 5, 8, 2, &[0.1, 2.0, 0.2]),
            tok("og", 9, 11, 3, &[3.0, 0.1, 0.2]),
            tok("Per", 12, 15, 4, &[0.1, 2.5, 0.2]),
            tok("fra", 16, 19, 5, &[3.0, 0.1, 0.2]),
            tok("Oslo", 20, 24, 6, &[0.1, 0.2, 3.0]),
            tok("Bergen", 25, 31, 7, &[0.1, 0.2, 2.0]),
        ]],
        expected: &[
            (
                Aggregation::None,
                &[
                    ("PER", 0.89619124, 0, 4, Some(1)),
                    ("PER", 0.76053286, 5, 8, Some(2)),
                    ("PER", 0.83964694, 12, 15, Some(4)),
                    ("GPE-LOC", 0.89619124, 20, 24, Some(6)),
                    ("GPE-LOC", 0.7605329, 25, 31, Some(7)),
                ],
            ),
            (
                Aggregation::Simple,
                &[
                    ("PER", 0.82836205, 0, 8, None),
                    ("PER", 0.83964694, 12, 15, None),
                    ("LOC", 0.8283621, 20, 31, None),
                ],
            ),
            (
                Aggregation::First,
                &[
                    ("PER", 0.82836205, 0, 8, None),
                    ("PER", 0.83964694, 12, 15, None),
                    ("LOC", 0.8283621, 20, 31, None),
                ],
            ),
            (
                Aggregation::Average,
                &[
                    ("PER", 0.82836205, 0, 8, None),
                    ("PER", 0.83964694, 12, 15, None),
                    ("LOC", 0.8283621, 20, 31, None),
                ],
            ),
            (
                Aggregation::Max,
                &[
                    ("PER", 0.82836205, 0, 8, None),
                    ("PER", 0.83964694, 12, 15, None),
                    ("LOC", 0.8283621, 20, 31, None),
                ],
            ),
        ],
    },
    Case {
        name: "nan",
        text: "Per er her",
        labels: &["O", "B-PER", "I-PER", "B-LOC", "I-LOC"],
        ignore: Some(&[]),
        windows: &[&[
            tok("Per", 0, 3, 1, &[0.0, 3.0, 0.0, 0.0, 0.0]),
            tok("er", 4, 6, 2, &[f32::NAN, 0.0, 0.0, 0.0, 0.0]),
            tok("her", 7, 10, 3, &[1.0, 0.0, 0.0, 0.0, 0.0]),
        ]],
        expected: &[
            (
                Aggregation::None,
                &[
                    ("B-PER", 0.8339253, 0, 3, Some(1)),
                    ("O", f32::NAN, 4, 6, Some(2)),
                    ("O", 0.4046097, 7, 10, Some(3)),
                ],
            ),
            (
                Aggregation::Simple,
                &[
                    ("PER", 0.8339253, 0, 3, None),
                    ("O", 0.4046097, 4, 10, None),
                ],
            ),
            (
                Aggregation::First,
                &[
                    ("PER", 0.8339253, 0, 3, None),
                    ("O", 0.4046097, 4, 10, None),
                ],
            ),
            (
                Aggregation::Average,
                &[
                    ("PER", 0.8339253, 0, 3, None),
                    ("O", 0.4046097, 4, 10, None),
                ],
            ),
            (
                Aggregation::Max,
                &[
                    ("PER", 0.8339253, 0, 3, None),
                    ("O", 0.4046097, 4, 10, None),
                ],
            ),
        ],
    },
    Case {
        name: "keep_everything",
        text: "Jens Stoltenberg bor i Tromsø.",
        labels: &["O", "B-PER", "I-PER", "B-LOC", "I-LOC"],
        ignore: Some(&[]),
        windows: &[&[
            tok("Jens", 0, 4, 1, &[0.1, 4.0, 1.0, 0.5, 0.2]),
            tok("Stol", 5, 9, 2, &[0.3, 2.6, 2.5, 0.2, 0.4]),
            tok("##ten", 9, 12, 3, &[0.2, 0.4, 1.5, 0.3, 2.0]),
            tok("##berg", 12, 16, 4, &[0.1, 0.2, 4.0, 0.1, 0.5]),
            tok("bor", 17, 20, 5, &[5.0, 0.1, 0.2, 0.1, 0.1]),
            tok("i", 21, 22, 6, &[4.0, 0.5, 0.1, 0.3, 0.2]),
            tok("Troms", 23, 28, 7, &[0.5, 0.3, 0.1, 2.0, 1.9]),
            tok("##ø", 28, 29, 8, &[0.4, 0.1, 0.2, 0.6, 3.5]),
            tok(".", 29, 30, 9, &[3.0, 0.1, 0.1, 0.1, 0.1]),
        ]],
        expected: &[
            (
                Aggregation::None,
                &[
                    ("B-PER", 0.89079154, 0, 4, Some(1)),
                    ("B-PER", 0.45318228, 5, 9, Some(2)),
                    ("I-LOC", 0.46373376, 9, 12, Some(3)),
                    ("I-PER", 0.9148696, 12, 16, Some(4)),
                    ("O", 0.97033745, 17, 20, Some(5)),
                    ("O", 0.9111338, 21, 22, Some(6)),
                    ("B-LOC", 0.40646777, 23, 28, Some(7)),
                    ("I-LOC", 0.8544607, 28, 29, Some(8)),
                    ("O", 0.8196098, 29, 30, Some(9)),
                ],
            ),
            (
                Aggregation::Simple,
                &[
                    ("PER", 0.89079154, 0, 4, None),
                    ("PER", 0.45318228, 5, 9, None),
                    ("LOC", 0.46373376, 9, 12, None),
                    ("PER", 0.9148696, 12, 16, None),
                    ("O", 0.94073564, 17, 22, None),
                    ("LOC", 0.63046426, 23, 29, None),
                    ("O", 0.8196098, 29, 30, None),
                ],
            ),
            (
                Aggregation::First,
                &[
                    ("PER", 0.89079154, 0, 4, None),
                    ("PER", 0.45318228, 5, 16, None),
                    ("O", 0.94073564, 17, 22, None),
                    ("LOC", 0.40646777, 23, 29, None),
                    ("O", 0.8196098, 29, 30, None),
                ],
            ),
            (
                Aggregation::Average,
                &[
                    ("PER", 0.7130949, 0, 16, None),
                    ("O", 0.94073564, 17, 22, None),
                    ("LOC", 0.611124, 23, 29, None),
                    ("O", 0.8196098, 29, 30, None),
                ],
            ),
            (
                Aggregation::Max,
                &[
                    ("PER", 0.9028306, 0, 16, None),
                    ("O", 0.94073564, 17, 22, None),
                    ("LOC", 0.8544607, 23, 29, None),
                    ("O", 0.8196098, 29, 30, None),
                ],
            ),
        ],
    },
    Case {
        name: "ignore_types",
        text: "Jens Stoltenberg bor i Tromsø.",
        labels: &["O", "B-PER", "I-PER", "B-LOC", "I-LOC"],
        ignore: Some(&["O", "LOC", "B-PER"]),
        windows: &[&[
            tok("Jens", 0, 4, 1, &[0.1, 4.0, 1.0, 0.5, 0.2]),
            tok("Stol", 5, 9, 2, &[0.3, 2.6, 2.5, 0.2, 0.4]),
            tok("##ten", 9, 12, 3, &[0.2, 0.4, 1.5, 0.3, 2.0]),
            tok("##berg", 12, 16, 4, &[0.1, 0.2, 4.0, 0.1, 0.5]),
            tok("bor", 17, 20, 5, &[5.0, 0.1, 0.2, 0.1, 0.1]),
            tok("i", 21, 22, 6, &[4.0, 0.5, 0.1, 0.3, 0.2]),
            tok("Troms", 23, 28, 7, &[0.5, 0.3, 0.1, 2.0, 1.9]),
            tok("##ø", 28, 29, 8, &[0.4, 0.1, 0.2, 0.6, 3.5]),
            tok(".", 29, 30, 9, &[3.0, 0.1, 0.1, 0.1, 0.1]),
        ]],
        expected: &[
            (
                Aggregation::None,
                &[
                    ("I-LOC", 0.46373376, 9, 12, Some(3)),
                    ("I-PER", 0.9148696, 12, 16, Some(4)),
                    ("B-LOC", 0.40646777, 23, 28, Some(7)),
                    ("I-LOC", 0.8544607, 28, 29, Some(8)),
                ],
            ),
            (
                Aggregation::Simple,
                &[
                    ("PER", 0.89079154, 0, 4, None),
                    ("PER", 0.45318228, 5, 9, None),
                    ("PER", 0.9148696, 12, 16, None),
                ],
            ),
            (
                Aggregation::First,
                &[
                    ("PER", 0.89079154, 0, 4, None),
                    ("PER", 0.45318228, 5, 16, None),
                ],
            ),
            (Aggregation::Average, &[("PER", 0.7130949, 0, 16, None)]),
            (Aggregation::Max, &[("PER", 0.9028306, 0, 16, None)]),
        ],
    },
];
