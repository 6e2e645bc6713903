//! Sentences tagged with their neighbours: consecutive sentences share a
//! window (the model sees them as context), the default follows the model's
//! `config.json`, and word tags of sentence files are read the same way.

mod common;

use common::{fixture, fixture_with_config};
use norsk::{Aggregation, NerOptions, NerPipeline, Precision, SentenceContext};
use norsk_spans::word_tags;

const TEXT: &str = "Jens Stoltenberg møtte Erna Solberg i Oslo. Han reiste så til Bergen.\n\
                    Equinor melder om rekordoverskudd! Hva nå?";

fn options(context: SentenceContext) -> NerOptions {
    NerOptions {
        aggregation: Aggregation::None,
        ignore_labels: Vec::new(),
        context,
        ..NerOptions::default()
    }
}

/// A copy of the tiny NER fixture whose config asks for sentence context.
fn trained_with_context() -> tempfile::TempDir {
    fixture_with_config("tiny-ner", "norsk_sentence_context", true.into())
}

#[test]
fn the_default_follows_the_models_config() {
    let plain = NerPipeline::load(&fixture("tiny-ner"), Precision::F32).unwrap();
    assert!(!plain.uses_neighbours(SentenceContext::Model));
    assert!(plain.uses_neighbours(SentenceContext::Neighbours));
    let dir = trained_with_context();
    let packed = NerPipeline::load(dir.path(), Precision::F32).unwrap();
    assert!(packed.uses_neighbours(SentenceContext::Model));
    assert!(!packed.uses_neighbours(SentenceContext::Alone));
    let by_default = packed.tag(TEXT, &NerOptions::default()).unwrap();
    let neighbours = packed
        .tag(
            TEXT,
            &NerOptions {
                context: SentenceContext::Neighbours,
                ..NerOptions::default()
            },
        )
        .unwrap();
    assert_eq!(by_default, neighbours);
}

#[test]
fn neighbouring_sentences_share_one_window() {
    let pipeline = NerPipeline::load(&fixture("tiny-ner"), Precision::F32).unwrap();
    let neighbours = pipeline
        .tag(TEXT, &options(SentenceContext::Neighbours))
        .unwrap();
    let whole = pipeline
        .tag(
            TEXT,
            &NerOptions {
                split_sentences: false,
                ..options(SentenceContext::Alone)
            },
        )
        .unwrap();
    // The four sentences fit in one window: tagged together, as the whole text.
    assert!(!neighbours.is_empty());
    assert_eq!(neighbours, whole);
    // Alone, each token is scored without the other sentences: other scores.
    let alone = pipeline
        .tag(TEXT, &options(SentenceContext::Alone))
        .unwrap();
    assert_eq!(alone.len(), neighbours.len());
    assert!(alone
        .iter()
        .zip(&neighbours)
        .any(|(a, n)| a.score != n.score));
    for e in &neighbours {
        assert_eq!(&TEXT[e.start..e.end], e.word);
    }
}

#[test]
fn word_tags_of_rows_tagged_with_their_neighbours() {
    let pipeline = NerPipeline::load(&fixture("tiny-ner"), Precision::F32).unwrap();
    let rows = vec![
        vec![
            "Jens",
            "Stoltenberg",
            "møtte",
            "Erna",
            "Solberg",
            "i",
            "Oslo",
            ".",
        ],
        vec![],
        vec!["Han", "reiste", "til", "Bergen", "."],
    ];
    let options = NerOptions {
        aggregation: Aggregation::First,
        ..options(SentenceContext::Neighbours)
    };
    let tagged = pipeline.tag_words(&rows, &options).unwrap();
    assert_eq!(
        tagged.iter().map(Vec::len).collect::<Vec<_>>(),
        vec![8, 0, 5]
    );
    // The same as tagging the rows as one text, a row per line.
    let text = "Jens Stoltenberg møtte Erna Solberg i Oslo .\n\nHan reiste til Bergen .";
    let mut words = Vec::new();
    let mut at = 0;
    for word in rows.iter().flatten() {
        let start = at + text[at..].find(word).unwrap();
        words.push((start, start + word.len()));
        at = start + word.len();
    }
    let whole = NerOptions {
        split_sentences: false,
        ..options.clone()
    };
    let expected = word_tags(&words, &pipeline.tag(text, &whole).unwrap());
    assert_eq!(tagged.concat(), expected);
    let alone = pipeline
        .tag_words(
            &rows,
            &NerOptions {
                context: SentenceContext::Alone,
                ..options
            },
        )
        .unwrap();
    assert_eq!(
        alone.iter().map(Vec::len).collect::<Vec<_>>(),
        vec![8, 0, 5]
    );
}

#[test]
fn context_names_parse_and_print() {
    for context in [
        SentenceContext::Model,
        SentenceContext::Alone,
        SentenceContext::Neighbours,
    ] {
        assert_eq!(context.to_string().parse::<SentenceContext>(), Ok(context));
    }
    let err = "both".parse::<SentenceContext>().unwrap_err();
    assert!(err.contains("model, alone or neighbours"), "{err}");
}
