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
    // Windows of the trained length.
    let tokenizer_config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("tokenizer_config.json")).unwrap())
            .unwrap();
    assert_eq!(tokenizer_config["model_max_length"], 32);

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

/// Writes the tiny classifier's weights (prefixed names) as a sharded base
/// in `dir/base`: embeddings and layer 0 in one shard, the rest in another.
fn sharded_base(dir: &Path) -> PathBuf {
    let from = repo("tests/fixtures/tiny-cls");
    let base = dir.join("base");
    std::fs::create_dir_all(&base).unwrap();
    for file in [
        "config.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "vocab.txt",
    ] {
        if from.join(file).is_file() {
            std::fs::copy(from.join(file), base.join(file)).unwrap();
        }
    }
    let files = norsk_model::WeightFiles::find(&from).unwrap();
    let tensors = norsk_model::load_weights(&files, &candle_core::Device::Cpu).unwrap();
    let bottom = |name: &str| {
        name.starts_with("bert.embeddings.") || name.starts_with("bert.encoder.layer.0.")
    };
    let mut weight_map = serde_json::Map::new();
    for (file, part) in [("a.safetensors", true), ("b.safetensors", false)] {
        let shard: std::collections::HashMap<String, candle_core::Tensor> = tensors
            .iter()
            .filter(|(name, _)| bottom(name) == part)
            .map(|(n, t)| (n.clone(), t.clone()))
            .collect();
        for name in shard.keys() {
            weight_map.insert(name.clone(), file.into());
        }
        candle_core::safetensors::save(&shard, base.join(file)).unwrap();
    }
    let index = serde_json::json!({"metadata": {}, "weight_map": weight_map});
    std::fs::write(base.join("model.safetensors.index.json"), index.to_string()).unwrap();
    base
}

#[test]
fn frozen_layers_stay_as_they_were_and_their_shards_are_shared() {
    let dir = tempfile::tempdir().unwrap();
    let base = sharded_base(dir.path());
    let out = dir.path().join("topic");
    let config = TrainConfig {
        epochs: 2,
        freeze_layers: 1,
        share_base_shards: true,
        ..config()
    };
    let labels = vec!["sport".to_string(), "økonomi".to_string()];
    let mut trainer = Trainer::new(&base, labels, &config).unwrap();
    let before = trainer.weights().unwrap();
    let mut frozen_events = 0;
    trainer
        .fit(&sentences(0, 16), &sentences(16, 6), &out, |e| {
            if matches!(e, Event::Frozen { layers: 1, .. }) {
                frozen_events += 1;
            }
        })
        .unwrap();
    assert_eq!(frozen_events, 1);
    let after = trainer.weights().unwrap();
    let same = |name: &str| {
        let flat = |t: &candle_core::Tensor| t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        flat(&before[name]) == flat(&after[name])
    };
    assert!(same("bert.embeddings.word_embeddings.weight"));
    assert!(same("bert.encoder.layer.0.output.dense.weight"));
    assert!(!same("bert.encoder.layer.1.output.dense.weight"));
    assert!(!same("classifier.weight"));

    // The output refers to the base shard that holds only frozen tensors and
    // keeps the rest in its own file; it loads with the trainer's logits.
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("model.safetensors.index.json")).unwrap())
            .unwrap();
    let map = &index["weight_map"];
    assert_eq!(
        map["bert.embeddings.word_embeddings.weight"],
        "../base/a.safetensors"
    );
    assert_eq!(
        map["bert.encoder.layer.1.output.dense.weight"],
        "model-trained.safetensors"
    );
    assert_eq!(map["classifier.weight"], "model-trained.safetensors");
    assert!(!out.join("model.safetensors").exists());
    let texts = ["Mer fotball i dag.", "Nytt om skatt."];
    assert_close(
        &loaded_logits(&out, &texts),
        &trainer.logits(&texts).unwrap(),
    );

    // Saving without sharing writes one self-contained file instead.
    let copy = dir.path().join("copy");
    let plain = Trainer::new(&base, vec!["a".into(), "b".into()], &TrainConfig::default()).unwrap();
    plain.save(&copy).unwrap();
    assert!(copy.join("model.safetensors").is_file());
    assert!(!copy.join("model.safetensors.index.json").exists());
}

#[test]
fn sharing_needs_frozen_layers_and_a_sibling_sharded_base() {
    let labels = || vec!["sport".to_string(), "økonomi".to_string()];
    let unfrozen = TrainConfig {
        share_base_shards: true,
        ..config()
    };
    let err = Trainer::new(&repo("tests/fixtures/tiny-cls"), labels(), &unfrozen)
        .err()
        .unwrap();
    assert!(err.to_string().contains("freeze_layers"), "{err}");

    let frozen = TrainConfig {
        freeze_layers: 1,
        share_base_shards: true,
        ..config()
    };
    let dir = tempfile::tempdir().unwrap();
    let base = sharded_base(dir.path());
    let elsewhere = dir.path().join("deeper/topic");
    let trainer = Trainer::new(&base, labels(), &frozen).unwrap();
    let err = trainer.save(&elsewhere).unwrap_err().to_string();
    assert!(err.contains("beside the base"), "{err}");

    let single = Trainer::new(&repo("tests/fixtures/tiny-cls"), labels(), &frozen).unwrap();
    let err = single.save(&dir.path().join("x")).unwrap_err().to_string();
    assert!(err.contains("sharded base"), "{err}");

    let too_many = TrainConfig {
        freeze_layers: 3,
        ..config()
    };
    let err = Trainer::new(&base, labels(), &too_many).err().unwrap();
    assert!(
        err.to_string().contains("exceeds the encoder's 2 layers"),
        "{err}"
    );
}
