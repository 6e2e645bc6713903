//! The lexical channel of a classifier: the shipped topic model's channel
//! gives the logits scikit-learn gives (`tests/fixtures/lexical_reference.json`,
//! written by `scripts/train/laws_lexical.py`), and a classifier adds its
//! channel's logits to the model's.

mod common;

use std::path::{Path, PathBuf};

use common::{f32s, fixture, reference, tiny_cls_with_channel};
use norsk::{Article, Classifier, ClassifyOptions, NorskError, Precision};
use norsk_lexical::LexicalChannel;

#[test]
fn the_shipped_channel_gives_scikit_learns_logits() {
    let reference = reference("lexical_reference.json");
    let model =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(reference["model"].as_str().unwrap());
    let channel = LexicalChannel::load(&model).unwrap();
    let cases = reference["cases"].as_array().unwrap();
    assert!(cases.len() >= 8);
    for case in cases {
        let text = case["text"].as_str().unwrap();
        let want = f32s(&case["logits"]);
        let got = channel.logits(text);
        assert_eq!(got.len(), want.len(), "{text:?}");
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 1e-3, "{text:?}: {got:?} vs {want:?}");
        }
    }
}

fn scores(model: &Classifier, article: Article, lexical: bool) -> Vec<(String, f32)> {
    let options = ClassifyOptions {
        lexical,
        ..ClassifyOptions::default()
    };
    let mut out: Vec<(String, f32)> = model.classify_articles(&[article], &options).unwrap()[0]
        .iter()
        .map(|p| (p.label.clone(), p.score))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn load(dir: &Path) -> Result<Classifier, NorskError> {
    Classifier::load(dir, Precision::F32)
}

#[test]
fn a_classifier_adds_its_channels_logits_to_the_models() {
    let labels = ["politikk", "økonomi", "sport", "kultur"];
    let dir = tiny_cls_with_channel(&labels, 2, 3.0);
    let model = load(dir.path()).unwrap();
    assert!(model.lexical().is_some());
    // The term is in the title: the channel reads the joined text.
    let article = Article {
        title: Some("Mål"),
        text: "Kampen endte uavgjort i kveld.",
    };
    let alone = scores(&model, article, false);
    let with = scores(&model, article, true);
    let plain = load(&fixture("tiny-cls")).unwrap();
    assert_eq!(
        alone,
        scores(&plain, article, true),
        "no channel, no change"
    );
    // softmax(l + 3·e_sport): sport's odds against every other label × e³.
    let odds = |s: &[(String, f32)], a: &str, b: &str| {
        let get = |l: &str| s.iter().find(|(n, _)| n == l).unwrap().1;
        get(a) / get(b)
    };
    for other in ["politikk", "økonomi", "kultur"] {
        let ratio = odds(&with, "sport", other) / odds(&alone, "sport", other);
        assert!(
            (ratio - 3f32.exp()).abs() < 1e-3 * 3f32.exp(),
            "{other}: {ratio}"
        );
    }
    let untouched = Article::untitled("Kampen endte uavgjort i kveld.");
    assert_eq!(
        scores(&model, untouched, true),
        scores(&model, untouched, false)
    );
}

#[test]
fn a_channel_whose_labels_are_not_the_models_is_refused() {
    let dir = tiny_cls_with_channel(&["politikk", "sport", "økonomi", "kultur"], 0, 1.0);
    let err = load(dir.path())
        .err()
        .expect("mismatched labels must be refused");
    assert!(matches!(err, NorskError::Labels(_)), "{err}");
    assert!(err.to_string().contains("lexical channel"), "{err}");
}
