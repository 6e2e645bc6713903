//! Classification matches transformers' `text-classification` and
//! `zero-shot-classification` pipelines on the tiny fixture models
//! (`tests/fixtures/{cls,zeroshot}_reference.json`), and long articles are
//! classified as a whole, with their title in every window.

mod common;

use common::{fixture, reference, u32s};
use norsk::{Article, Classifier, ClassifyOptions, Precision, Prediction, ZeroShotClassifier};
use norsk_tokens::{TextTokenizer, WindowPlan};
use serde_json::Value;

const TOLERANCE: f32 = 1e-4;

fn assert_same(got: &[Prediction], want: &Value, what: &str) {
    let want = want.as_array().unwrap();
    assert_eq!(got.len(), want.len(), "{what}");
    for (g, w) in got.iter().zip(want) {
        assert_eq!(g.label, w["label"].as_str().unwrap(), "{what}: {got:?}");
        let score = w["score"].as_f64().unwrap() as f32;
        assert!(
            (g.score - score).abs() <= TOLERANCE,
            "{what}: {got:?} vs {want:?}"
        );
    }
}

#[test]
fn text_classification_matches_transformers() {
    let reference = reference("cls_reference.json");
    let model = Classifier::load(&fixture("tiny-cls"), Precision::F32).unwrap();
    let cases = reference["cases"].as_array().unwrap();
    let texts: Vec<&str> = cases.iter().map(|c| c["text"].as_str().unwrap()).collect();
    let truncate = ClassifyOptions {
        truncate: true,
        ..ClassifyOptions::default()
    };
    let softmax = model.classify_batch(&texts, &truncate).unwrap();
    let sigmoid = model
        .classify_batch(
            &texts,
            &ClassifyOptions {
                multi_label: Some(true),
                ..truncate.clone()
            },
        )
        .unwrap();
    for ((case, soft), sig) in cases.iter().zip(&softmax).zip(&sigmoid) {
        let text = case["text"].as_str().unwrap();
        assert_same(soft, &case["pipeline"], text);
        assert_same(sig, &case["pipeline_sigmoid"], text);
    }
    let top = model
        .classify_batch(
            &texts[..1],
            &ClassifyOptions {
                top_k: Some(2),
                ..truncate
            },
        )
        .unwrap();
    assert_same(
        &top[0],
        &Value::Array(cases[0]["pipeline"].as_array().unwrap()[..2].to_vec()),
        "top_k",
    );
}

#[test]
fn long_articles_are_classified_whole_unless_truncated() {
    let model = Classifier::load(&fixture("tiny-cls"), Precision::F32).unwrap();
    let start =
        "Equinor og DNB kjøpte aksjer i Telenor i fjor, melder Dagens Næringsliv. ".repeat(60);
    let a = format!(
        "{start}{}",
        "Rosenborg slo Molde 3-1 på Lerkendal i kveld. ".repeat(60)
    );
    let b = format!(
        "{start}{}",
        "Det Norske Teatret set opp ei ny framsyning. ".repeat(60)
    );
    let truncate = ClassifyOptions {
        truncate: true,
        ..ClassifyOptions::default()
    };
    let cut = model.classify_batch(&[&a, &b], &truncate).unwrap();
    assert_eq!(cut[0], cut[1], "truncation sees only the shared start");
    let whole = model
        .classify_batch(&[&a, &b], &ClassifyOptions::default())
        .unwrap();
    assert_ne!(whole[0], whole[1], "pooling sees the different endings");
    let short = model
        .classify_batch(
            &["Equinor og DNB kjøpte aksjer."],
            &ClassifyOptions::default(),
        )
        .unwrap();
    let alone = model
        .classify_batch(&["Equinor og DNB kjøpte aksjer."], &truncate)
        .unwrap();
    assert_eq!(
        short, alone,
        "a text within one window is not changed by pooling"
    );
}

#[test]
fn zero_shot_matches_transformers() {
    let reference = reference("zeroshot_reference.json");
    let model = ZeroShotClassifier::load(&fixture("tiny-nli"), Precision::F32).unwrap();
    let candidates: Vec<String> =
        serde_json::from_value(reference["candidate_labels"].clone()).unwrap();
    let template = reference["hypothesis_template"].as_str().unwrap();
    let mut compared = 0;
    for case in reference["cases"].as_array().unwrap() {
        let text = case["text"].as_str().unwrap();
        for pair in case["pairs"].as_array().unwrap() {
            let window = model
                .encode_pair(text, pair["hypothesis"].as_str().unwrap())
                .unwrap();
            assert_eq!(window.ids, u32s(&pair["input_ids"]), "{text:?}");
            assert_eq!(window.type_ids, u32s(&pair["token_type_ids"]), "{text:?}");
        }
        if case["single_label"].get("error").is_some() {
            // transformers refuses the empty text; batch classification
            // gives it an error record before it reaches the model.
            assert!(text.is_empty());
            continue;
        }
        for (multi, key) in [(false, "single_label"), (true, "multi_label")] {
            let got = model
                .classify_batch(&[text], &candidates, template, multi, 8)
                .unwrap();
            let want = &case[key];
            let expected: Vec<Value> = want["labels"]
                .as_array()
                .unwrap()
                .iter()
                .zip(want["scores"].as_array().unwrap())
                .map(|(l, s)| serde_json::json!({"label": l, "score": s}))
                .collect();
            assert_same(&got[0], &Value::Array(expected), &format!("{key}: {text}"));
            compared += 1;
        }
    }
    assert!(compared >= 8, "compared {compared}");
}

#[test]
fn a_model_without_entailment_label_is_refused_for_zero_shot() {
    let error = ZeroShotClassifier::load(&fixture("tiny-cls"), Precision::F32)
        .err()
        .expect("tiny-cls is no NLI model");
    assert!(error.to_string().contains("entailment"), "{error}");
}

#[test]
fn a_title_begins_every_window() {
    let tokenizer = TextTokenizer::from_dir(&fixture("tiny-cls")).unwrap();
    let body =
        "Equinor og DNB kjøpte aksjer i Telenor i fjor, melder Dagens Næringsliv. ".repeat(20);
    let plan = WindowPlan {
        max_len: 32,
        stride: Some(8),
    };
    for title in ["Rosenborg slo Molde", &"Lang tittel om Tromsø ".repeat(10)] {
        let text = format!("{title}. {body}");
        let head = title.len() + 2;
        let whole = tokenizer.encode(&text).unwrap();
        let text_tokens: Vec<usize> = (0..whole.len()).filter(|&i| !whole.special[i]).collect();
        let in_head = |i: &&usize| whole.offsets[**i].0 < head;
        let head_ids: Vec<u32> = text_tokens
            .iter()
            .filter(in_head)
            .take((32 - 2) / 2)
            .map(|&i| whole.ids[i])
            .collect();
        let windows = tokenizer.headed_windows(&text, head, plan).unwrap();
        assert!(windows.len() > 2, "{title}: {} windows", windows.len());
        let mut covered = std::collections::BTreeSet::new();
        for window in &windows {
            assert!(window.len() <= 32);
            assert_eq!(&window.ids[1..=head_ids.len()], head_ids, "{title}");
            for (&(start, end), &special) in window.offsets.iter().zip(&window.special) {
                if !special {
                    assert!(text.is_char_boundary(start) && end <= text.len());
                    covered.insert((start, end));
                }
            }
        }
        let all: std::collections::BTreeSet<_> =
            text_tokens.iter().map(|&i| whole.offsets[i]).collect();
        let head_cut = text_tokens.iter().filter(in_head).count() > head_ids.len();
        if head_cut {
            assert!(
                covered.is_subset(&all),
                "{title}: only the cut title is left out"
            );
        } else {
            assert_eq!(
                covered, all,
                "{title}: every token of the text is in some window"
            );
        }
        let first = tokenizer
            .windows(
                &text,
                WindowPlan {
                    stride: None,
                    ..plan
                },
            )
            .unwrap();
        assert_eq!(first.len(), 1);
        if !head_cut {
            assert_eq!(windows[0], first[0], "the first window is plain truncation");
        }
    }
}

#[test]
fn a_title_is_read_with_every_window_of_a_long_article() {
    let model = Classifier::load(&fixture("tiny-cls"), Precision::F32).unwrap();
    let title = "Rosenborg slo Molde 3-1 på Lerkendal";
    let long = "Det Norske Teatret set opp ei ny framsyning. ".repeat(60);
    let short = "Equinor og DNB kjøpte aksjer.";
    let truncate = ClassifyOptions {
        truncate: true,
        ..ClassifyOptions::default()
    };
    let pooled = ClassifyOptions::default();
    let titled = |text| Article {
        title: Some(title),
        text,
    };
    let joined = |text: &str| format!("{title}. {text}");
    let classify =
        |articles: &[Article], options| model.classify_articles(articles, options).unwrap();
    let plain = |text: &str, options| model.classify_batch(&[text], options).unwrap();
    assert_eq!(
        classify(&[titled(long.as_str())], &truncate),
        plain(&joined(&long), &truncate),
        "the first window is the joined text's"
    );
    assert_ne!(
        classify(&[titled(long.as_str())], &pooled),
        plain(&joined(&long), &pooled),
        "the title is in every window, not only the first"
    );
    assert_eq!(
        classify(&[titled(short)], &pooled),
        plain(&joined(short), &pooled),
        "one window: the same as the joined text"
    );
    let empty_title = Article {
        title: Some(" "),
        text: short,
    };
    assert_eq!(
        classify(&[empty_title], &pooled),
        plain(short, &pooled),
        "an empty title is no title"
    );
}
