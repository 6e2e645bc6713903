//! `norsk ner` matches transformers' token-classification pipeline on the
//! tiny NorNE-labelled fixture model: token ids, logits and entities, for
//! every aggregation strategy, with and without stride.
//! Reference: `tests/fixtures/ner_reference.json` (`scripts/make_fixtures.py`).

mod common;

use common::{f32s, fixture, max_abs_diff, reference, single_input, u32s};
use norsk::{Aggregation, CharIndex, NerOptions, NerPipeline, Precision};
use norsk_model::TokenClassifier;
use norsk_tokens::WindowPlan;
use serde_json::Value;

const LOGIT_TOLERANCE: f32 = 1e-4;

fn pipeline() -> NerPipeline {
    NerPipeline::load(&fixture("tiny-ner"), Precision::F32).expect("tiny-ner loads")
}

/// What truncation to `max_len` keeps of a full encoding: the first tokens
/// and the closing special token.
fn truncate<T: Clone>(full: &[T], max_len: usize) -> Vec<T> {
    if full.len() <= max_len {
        return full.to_vec();
    }
    let mut kept = full[..max_len - 1].to_vec();
    kept.push(full[full.len() - 1].clone());
    kept
}

#[test]
fn token_ids_are_identical() {
    let reference = reference("ner_reference.json");
    let ner = pipeline();
    let max_len = reference["max_length"].as_u64().unwrap() as usize;
    let stride = reference["stride"].as_u64().unwrap() as usize;
    for case in reference["cases"].as_array().unwrap() {
        let text = case["text"].as_str().unwrap();
        let truncated = ner
            .tokenizer()
            .windows(
                text,
                WindowPlan {
                    max_len,
                    stride: None,
                },
            )
            .unwrap();
        assert_eq!(truncated.len(), 1, "{text:?}");
        let full = u32s(&case["input_ids"]);
        let expected_ids = truncate(&full, max_len);
        assert_eq!(truncated[0].ids, expected_ids, "{text:?}");
        let index = CharIndex::new(text);
        let chars: Vec<[usize; 2]> = truncated[0]
            .offsets
            .iter()
            .map(|&(s, e)| [index.char_of_byte(s), index.char_of_byte(e)])
            .collect();
        let expected: Vec<[usize; 2]> = serde_json::from_value(case["offsets"].clone()).unwrap();
        assert_eq!(chars, truncate(&expected, max_len), "offsets of {text:?}");

        let windows = ner
            .tokenizer()
            .windows(
                text,
                WindowPlan {
                    max_len,
                    stride: Some(stride),
                },
            )
            .unwrap();
        let expected = case["windows"].as_array().unwrap();
        assert_eq!(windows.len(), expected.len(), "windows of {text:?}");
        for (window, want) in windows.iter().zip(expected) {
            assert_eq!(window.ids, u32s(&want["input_ids"]), "window of {text:?}");
        }
    }
}

#[test]
fn logits_match_within_tolerance() {
    let reference = reference("ner_reference.json");
    let model = TokenClassifier::load(&fixture("tiny-ner"), Precision::F32).unwrap();
    let mut worst = 0.0f32;
    let mut windows_checked = 0;
    for case in reference["cases"].as_array().unwrap() {
        for window in case["windows"].as_array().unwrap() {
            let ids = u32s(&window["input_ids"]);
            let types = vec![0; ids.len()];
            let logits = model.forward(&single_input(&ids, &types)).unwrap();
            let got: Vec<f32> = logits.flatten_all().unwrap().to_vec1().unwrap();
            let want: Vec<f32> = window["logits"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(f32s)
                .collect();
            worst = worst.max(max_abs_diff(&got, &want));
            windows_checked += 1;
        }
    }
    eprintln!("max |logit difference| over {windows_checked} windows: {worst:e}");
    assert!(windows_checked > 30);
    assert!(worst <= LOGIT_TOLERANCE, "max logit difference {worst}");
}

/// Compares our entities with the pipeline's: same group, start, end and
/// source text; scores within tolerance.
fn assert_same_entities(text: &str, got: &[norsk::Entity], want: &Value, what: &str) {
    let want = want.as_array().unwrap();
    let index = CharIndex::new(text);
    let key = |label: &str, start: usize, end: usize| format!("{label} {start}..{end}");
    let got_keys: Vec<String> = got
        .iter()
        .map(|g| {
            key(
                &g.label,
                index.char_of_byte(g.start),
                index.char_of_byte(g.end),
            )
        })
        .collect();
    let want_keys: Vec<String> = want
        .iter()
        .map(|w| {
            let label = w
                .get("entity_group")
                .or_else(|| w.get("entity"))
                .and_then(Value::as_str);
            key(
                label.unwrap(),
                w["start"].as_u64().unwrap() as usize,
                w["end"].as_u64().unwrap() as usize,
            )
        })
        .collect();
    let only_got: Vec<&String> = got_keys.iter().filter(|k| !want_keys.contains(k)).collect();
    let only_want: Vec<&String> = want_keys.iter().filter(|k| !got_keys.contains(k)).collect();
    assert_eq!(
        got.len(),
        want.len(),
        "{what}: {} chars\nonly ours: {only_got:?}\nonly transformers': {only_want:?}",
        text.chars().count()
    );
    for (g, w) in got.iter().zip(want) {
        let label = w
            .get("entity_group")
            .or_else(|| w.get("entity"))
            .and_then(Value::as_str)
            .unwrap();
        let start = w["start"].as_u64().unwrap() as usize;
        let end = w["end"].as_u64().unwrap() as usize;
        assert_eq!(g.label, label, "{what}: {text:?} {g:?}");
        assert_eq!(index.char_of_byte(g.start), start, "{what}: {text:?} {g:?}");
        assert_eq!(index.char_of_byte(g.end), end, "{what}: {text:?} {g:?}");
        assert_eq!(g.word, w["text_span"].as_str().unwrap(), "{what}: {text:?}");
        assert_eq!(&text[g.start..g.end], g.word);
        let score = w["score"].as_f64().unwrap() as f32;
        assert!(
            (g.score - score).abs() <= LOGIT_TOLERANCE,
            "{what}: {text:?} {g:?} score {score}"
        );
        if let Some(i) = w.get("index") {
            assert_eq!(g.index, Some(i.as_u64().unwrap() as usize), "{what}");
        }
    }
}

fn check_pipeline(key: &str, stride: Option<usize>) -> usize {
    let reference = reference("ner_reference.json");
    let ner = pipeline();
    let mut compared = 0;
    for case in reference["cases"].as_array().unwrap() {
        let text = case["text"].as_str().unwrap();
        for (name, want) in case[key].as_object().unwrap() {
            let aggregation: Aggregation = name.parse().unwrap();
            let options = NerOptions {
                aggregation,
                stride,
                split_sentences: false,
                ..NerOptions::default()
            };
            let got = ner.tag(text, &options).unwrap();
            assert_same_entities(text, &got, want, &format!("{key}/{name}"));
            compared += want.as_array().unwrap().len();
        }
    }
    compared
}

#[test]
fn entities_match_without_stride() {
    let compared = check_pipeline("pipeline", None);
    eprintln!("{compared} entities identical (no stride)");
    assert!(compared > 100);
}

#[test]
fn entities_match_with_stride() {
    let compared = check_pipeline("pipeline_stride", Some(128));
    eprintln!("{compared} entities identical (stride 128)");
    assert!(compared > 100);
}

#[test]
fn batching_does_not_change_results() {
    let reference = reference("ner_reference.json");
    let ner = pipeline();
    let texts: Vec<&str> = reference["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["text"].as_str().unwrap())
        .collect();
    let options = NerOptions {
        split_sentences: false,
        ..NerOptions::default()
    };
    let batched = ner.tag_batch(&texts, &options).unwrap();
    for (text, entities) in texts.iter().zip(&batched) {
        let alone = ner.tag(text, &options).unwrap();
        assert_eq!(alone.len(), entities.len(), "{text:?}");
        for (a, b) in alone.iter().zip(entities) {
            assert_eq!((a.start, a.end, &a.label), (b.start, b.end, &b.label));
            assert!((a.score - b.score).abs() < 1e-4);
        }
    }
}
