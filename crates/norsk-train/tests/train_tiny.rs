//! Fine-tunes on a small synthetic two-topic task: the shipped
//! `models/norsk-bert-ner` encoder (whatever the shipped NER model is) for the learning check, the tiny
//! fixtures for the mechanics (any BERT folder as base, fresh pooler, the
//! time budget).
//!
//! The tiny fixtures are random encoders (`initializer_range` 0.4): nothing
//! learns a topic from 40 sentences on them in three epochs
//! (`transformers` with the same data and settings stays at 45–70 % dev
//! accuracy), so the learning check needs a pre-trained encoder.

use std::path::{Path, PathBuf};

use norsk_model::{EncoderInput, Precision, SequenceClassifier};
use norsk_tokens::{TextTokenizer, WindowPlan};
use norsk_train::{train_classifier, Event, TrainConfig, Trainer};

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

/// Short sentences about football (`sport`) or the state budget
/// (`økonomi`), built from shared frames so that only the topic words tell
/// them apart.
fn sentences(offset: usize, count: usize) -> Vec<(String, String)> {
    let subjects = ["Laget", "Regjeringen", "Kommunen", "Ordføreren", "Treneren"];
    let frames = [
        "{a} og {b}.",
        "{s}: {a}, {b}, {c}.",
        "Mer {a} og {c} i dag.",
        "Nytt om {b} og {a}.",
        "{a}, {b} og {c}!",
    ];
    let sport = ["fotball", "kampen", "mål", "fotballkampen", "målene"];
    let economy = [
        "skatt",
        "budsjettet",
        "kroner",
        "skattene",
        "millioner kroner",
    ];
    (offset..offset + count)
        .map(|i| {
            let (words, label) = if i % 2 == 0 {
                (&sport, "sport")
            } else {
                (&economy, "økonomi")
            };
            let text = frames[i % frames.len()]
                .replace("{s}", subjects[(i / 2) % subjects.len()])
                .replace("{a}", words[i % 5])
                .replace("{b}", words[(i + 2) % 5])
                .replace("{c}", words[(i + 3) % 5]);
            (text, label.to_string())
        })
        .collect()
}

fn config() -> TrainConfig {
    TrainConfig {
        epochs: 3,
        batch_size: 8,
        learning_rate: 1e-4,
        head_learning_rate: 1e-3,
        max_len: 32,
        seed: 11,
        ..TrainConfig::default()
    }
}

/// Logits of the saved folder through the inference loader, text by text.
fn loaded_logits(dir: &Path, texts: &[&str]) -> Vec<Vec<f32>> {
    let model = SequenceClassifier::load(dir, Precision::F32).unwrap();
    let tokenizer = TextTokenizer::from_dir(dir).unwrap();
    texts
        .iter()
        .map(|text| {
            let w = tokenizer
                .windows(
                    text,
                    WindowPlan {
                        max_len: 32,
                        stride: None,
                    },
                )
                .unwrap()
                .remove(0);
            let input = EncoderInput::from_rows(
                &[&w.ids],
                &[&w.type_ids],
                tokenizer.pad_id(),
                &candle_core::Device::Cpu,
            )
            .unwrap();
            let rows: Vec<Vec<f32>> = model.forward(&input).unwrap().to_vec2().unwrap();
            rows.into_iter().next().unwrap()
        })
        .collect()
}

fn assert_close(got: &[Vec<f32>], want: &[Vec<f32>]) {
    for (g, w) in got.iter().zip(want) {
        for (a, b) in g.iter().zip(w) {
            assert!((a - b).abs() < 1e-5, "{got:?} vs {want:?}");
        }
    }
}

#[test]
fn learns_two_topics_and_writes_a_folder_that_loads_with_the_same_logits() {
    let train = sentences(0, 40);
    let dev = sentences(40, 20);
    let out = tempfile::tempdir().unwrap();
    let labels = vec!["sport".to_string(), "økonomi".to_string()];
    let base = repo("models/norsk-bert-ner");
    let mut trainer = Trainer::new(&base, labels.clone(), &config()).unwrap();
    assert_eq!(
        trainer.fresh_variables(),
        [
            "bert.pooler.dense.bias",
            "bert.pooler.dense.weight",
            "classifier.bias",
            "classifier.weight"
        ]
    );
    let mut steps = 0;
    let report = trainer
        .fit(&train, &dev, out.path(), |e| {
            if matches!(e, Event::Step { .. }) {
                steps += 1;
            }
        })
        .unwrap();
    assert_eq!(steps, 15);
    assert_eq!(report.labels, labels);
    assert_eq!(report.epochs.len(), 3);
    let losses: Vec<f64> = report.epochs.iter().map(|e| e.train_loss).collect();
    assert!(losses[2] < losses[0], "train loss did not fall: {losses:?}");
    let best = report.best().unwrap();
    assert!(best.dev_accuracy >= 0.9, "{report:#?}");

    // The folder: Hugging Face layout, sizes from the base, one log line per epoch.
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("config.json")).unwrap()).unwrap();
    assert_eq!(config["architectures"][0], "BertForSequenceClassification");
    assert_eq!(config["id2label"]["1"], "økonomi");
    assert_eq!(config["label2id"]["sport"], 0);
    assert_eq!(config["problem_type"], "single_label_classification");
    let base_config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(base.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["hidden_size"], base_config["hidden_size"]);
    assert_eq!(
        config["num_hidden_layers"],
        base_config["num_hidden_layers"]
    );
    for file in [
        "tokenizer.json",
        "tokenizer_config.json",
        "train_config.json",
    ] {
        assert!(out.path().join(file).is_file(), "{file} missing");
    }
    let log = std::fs::read_to_string(out.path().join("train_log.jsonl")).unwrap();
    assert_eq!(log.lines().count(), 3);

    // The inference loader reads it back: same labels, same logits as the
    // trainer's model (which holds the best epoch's weights).
    let loaded = SequenceClassifier::load(out.path(), Precision::F32).unwrap();
    assert_eq!(loaded.labels(), labels.as_slice());
    let texts: Vec<&str> = dev.iter().take(6).map(|(t, _)| t.as_str()).collect();
    assert_close(
        &loaded_logits(out.path(), &texts),
        &trainer.logits(&texts).unwrap(),
    );
}

#[test]
fn a_base_with_a_pooler_keeps_it_and_only_the_classifier_is_new() {
    let out = tempfile::tempdir().unwrap();
    let config = TrainConfig {
        epochs: 1,
        ..config()
    };
    let labels = vec!["sport".to_string(), "økonomi".to_string()];
    let mut trainer = Trainer::new(&repo("tests/fixtures/tiny-cls"), labels, &config).unwrap();
    assert_eq!(
        trainer.fresh_variables(),
        ["classifier.bias", "classifier.weight"]
    );
    let report = trainer
        .fit(&sentences(0, 16), &sentences(16, 4), out.path(), |_| {})
        .unwrap();
    assert_eq!(report.best_epoch, 1);
    let texts = ["Mer fotball i dag.", "Nytt om skatt."];
    assert_close(
        &loaded_logits(out.path(), &texts),
        &trainer.logits(&texts).unwrap(),
    );
}

#[test]
fn any_bert_folder_is_a_base_and_the_time_budget_keeps_the_best_so_far() {
    // tiny-ner: a token classifier without pooler; its head is dropped and a
    // pooler is made fresh.
    let train = sentences(0, 40);
    let dev = sentences(40, 10);
    let out = tempfile::tempdir().unwrap();
    let config = TrainConfig {
        max_minutes: Some(1e-4),
        ..config()
    };
    let mut events = Vec::new();
    let report = train_classifier(
        &repo("tests/fixtures/tiny-ner"),
        &train,
        &dev,
        &config,
        out.path(),
        |e| events.push(e.clone()),
    )
    .unwrap();
    assert!(report.budget_reached);
    assert_eq!(report.epochs.len(), 1);
    assert!(!report.epochs[0].complete);
    assert_eq!(report.epochs[0].steps, 1);
    assert!(events
        .iter()
        .any(|e| matches!(e, Event::BudgetReached { .. })));
    let loaded = SequenceClassifier::load(out.path(), Precision::F32).unwrap();
    assert_eq!(loaded.labels(), ["sport", "økonomi"]);
    assert!(loaded.encoder().has_pooler());

    let one_label = train_classifier(
        &repo("tests/fixtures/tiny-ner"),
        &train[..1],
        &dev,
        &TrainConfig::default(),
        out.path(),
        |_| {},
    );
    assert!(one_label
        .unwrap_err()
        .to_string()
        .contains("two distinct labels"));
}
