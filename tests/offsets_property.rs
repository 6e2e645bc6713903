//! Offsets are exact: over arbitrary Unicode text (emoji, ZWJ sequences,
//! combining marks, CRLF, NBSP, tabs, scripts the vocabulary has never seen),
//! every entity's `text[start..end]` is its string, and entities are sorted
//! and do not overlap, for every aggregation strategy.

mod common;

use std::sync::OnceLock;

use common::fixture;
use norsk::{Aggregation, CharIndex, NerOptions, NerPipeline, Precision, SentenceContext};
use proptest::prelude::*;

fn pipeline() -> &'static NerPipeline {
    static PIPELINE: OnceLock<NerPipeline> = OnceLock::new();
    PIPELINE.get_or_init(|| NerPipeline::load(&fixture("tiny-ner"), Precision::F32).unwrap())
}

/// Pieces that make tokenizers and offsets go wrong, mixed with Norwegian words.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "Jens", "Stoltenberg", "Oslo", "Equinor", "Tromsø", "Ærø", "NRK", "møtte", "i", "og",
            "Dagens Næringsliv", "Sámediggi", "Åse", "Ola-Nordmann", "17. mai",
        ]).prop_map(str::to_string),
        2 => prop::sample::select(vec![
            " ", "  ", "\t", "\r\n", "\n", "\u{a0}", "\u{2009}", "\u{200b}", ".", ",", "«", "»",
            "–", "👩‍👩‍👧", "🇳🇴", "e\u{301}", "a\u{30a}", "\u{feff}", "ﬁ", "ǅ", "İ",
        ]).prop_map(str::to_string),
        1 => any::<char>().prop_map(|c| c.to_string()),
        1 => "\\PC{1,6}",
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(piece(), 0..40).prop_map(|pieces| pieces.concat())
}

fn aggregation() -> impl Strategy<Value = Aggregation> {
    prop::sample::select(vec![
        Aggregation::None,
        Aggregation::Simple,
        Aggregation::First,
        Aggregation::Average,
        Aggregation::Max,
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn entity_offsets_index_the_source_text(
        text in text(),
        aggregation in aggregation(),
        long in any::<bool>(),
        split_sentences in any::<bool>(),
        neighbours in any::<bool>(),
    ) {
        // Repeating the text makes some inputs span several windows.
        let text = if long { text.repeat(30) } else { text };
        let options = NerOptions {
            aggregation,
            stride: Some(16),
            split_sentences,
            context: if neighbours { SentenceContext::Neighbours } else { SentenceContext::Alone },
            ..NerOptions::default()
        };
        let entities = pipeline().tag(&text, &options).unwrap();
        let index = CharIndex::new(&text);
        let mut previous_end = 0;
        for e in &entities {
            prop_assert!(e.start < e.end, "empty entity {:?}", e);
            prop_assert!(text.is_char_boundary(e.start) && text.is_char_boundary(e.end));
            prop_assert_eq!(&text[e.start..e.end], e.word.as_str());
            prop_assert!(e.start >= previous_end, "overlap or disorder at {:?}", e);
            previous_end = e.end;
            let (cs, ce) = (index.char_of_byte(e.start), index.char_of_byte(e.end));
            let by_chars: String = text.chars().skip(cs).take(ce - cs).collect();
            prop_assert_eq!(by_chars, e.word.clone());
        }
    }
}
