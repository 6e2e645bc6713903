//! How the NER pipeline turns scores into labels: constrained decoding gives
//! valid IOB2 sequences; the defaults of decoding and aggregation follow the
//! model's `config.json`, and a bad config value is a clear error.

mod common;

use common::{fixture, fixture_with_config};
use norsk::{Aggregation, LabelDecoding, NerOptions, NerPipeline, Precision};

const TEXTS: [&str; 4] = [
    "Jens Stoltenberg møtte Erna Solberg i Oslo. Han reiste så til Bergen.",
    "Equinor melder om rekordoverskudd! Hva nå, Norges Bank?",
    "Serien har premiere på FOX kl. 2155. Hiddleston, Laurie og Colman er skuespillere.",
    "Nato-bidrag fra Tromsø og Ålesund 🇳🇴 ble diskutert i Stortinget.",
];

/// Every token's full label, none left out.
fn token_labels(pipeline: &NerPipeline, text: &str, decoding: LabelDecoding) -> Vec<String> {
    let options = NerOptions {
        aggregation: Aggregation::None,
        decoding: Some(decoding),
        ignore_labels: Vec::new(),
        split_sentences: false,
        ..NerOptions::default()
    };
    let entities = pipeline.tag(text, &options).unwrap();
    entities.into_iter().map(|e| e.label).collect()
}

/// The positions where an `I-X` follows neither `B-X` nor `I-X`.
fn iob2_breaks(labels: &[String]) -> Vec<usize> {
    (0..labels.len())
        .filter(|&i| match labels[i].strip_prefix("I-") {
            None => false,
            Some(t) => {
                i == 0 || !(labels[i - 1] == format!("B-{t}") || labels[i - 1] == format!("I-{t}"))
            }
        })
        .collect()
}

#[test]
fn constrained_labels_are_valid_iob2_where_argmax_ones_are_not() {
    let pipeline = NerPipeline::load(&fixture("tiny-ner"), Precision::F32).unwrap();
    let mut argmax_breaks = 0;
    for text in TEXTS {
        let argmax = token_labels(&pipeline, text, LabelDecoding::Argmax);
        let constrained = token_labels(&pipeline, text, LabelDecoding::Constrained);
        assert_eq!(argmax.len(), constrained.len());
        assert_eq!(
            iob2_breaks(&constrained),
            Vec::<usize>::new(),
            "{constrained:?}"
        );
        argmax_breaks += iob2_breaks(&argmax).len();
    }
    // The tiny model's random weights break IOB2 somewhere, so the
    // constrained decoding had something to mend.
    assert!(argmax_breaks > 0);
}

#[test]
fn the_default_follows_the_models_config() {
    let plain = NerPipeline::load(&fixture("tiny-ner"), Precision::F32).unwrap();
    assert_eq!(plain.label_decoding(None), LabelDecoding::Argmax);
    let dir = fixture_with_config("tiny-ner", "norsk_decoding", "constrained".into());
    let configured = NerPipeline::load(dir.path(), Precision::F32).unwrap();
    assert_eq!(configured.label_decoding(None), LabelDecoding::Constrained);
    assert_eq!(
        configured.label_decoding(Some(LabelDecoding::Argmax)),
        LabelDecoding::Argmax
    );
    let options = |decoding| NerOptions {
        aggregation: Aggregation::First,
        decoding,
        ..NerOptions::default()
    };
    for text in TEXTS {
        let by_default = configured.tag(text, &options(None)).unwrap();
        let constrained = plain
            .tag(text, &options(Some(LabelDecoding::Constrained)))
            .unwrap();
        assert_eq!(by_default, constrained);
        for e in &by_default {
            assert_eq!(&text[e.start..e.end], e.word);
        }
    }
}

#[test]
fn an_unknown_decoding_in_the_config_is_a_clear_error() {
    let dir = fixture_with_config("tiny-ner", "norsk_decoding", "viterbi".into());
    let err = norsk_io::error_message(
        &NerPipeline::load(dir.path(), Precision::F32)
            .err()
            .expect("an unknown decoding must not load"),
    );
    assert!(
        err.contains("viterbi") && err.contains("constrained"),
        "{err}"
    );
}

#[test]
fn the_default_aggregation_follows_the_models_config() {
    let plain = NerPipeline::load(&fixture("tiny-ner"), Precision::F32).unwrap();
    assert_eq!(plain.default_aggregation(), Aggregation::First);
    let dir = fixture_with_config("tiny-ner", "norsk_aggregation", "average".into());
    let configured = NerPipeline::load(dir.path(), Precision::F32).unwrap();
    assert_eq!(configured.default_aggregation(), Aggregation::Average);
    let dir = fixture_with_config("tiny-ner", "norsk_aggregation", "loudest".into());
    let err = norsk_io::error_message(
        &NerPipeline::load(dir.path(), Precision::F32)
            .err()
            .expect("an unknown aggregation must not load"),
    );
    assert!(err.contains("loudest") && err.contains("average"), "{err}");
    assert!(err.contains("config.json: norsk_aggregation"), "{err}");
}
