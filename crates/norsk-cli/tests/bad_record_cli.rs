//! One bad record never costs a run or its neighbours: a text the model
//! fails on gives an error record in its place, and the records batched
//! with it come out as they would without it.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};

use common::{
    articles, assert_same_lines, fine_tune_args, fixture, norsk, ok_stdout, run_batch, write,
};
use serde_json::Value;

/// A word the broken tokenizer below knows and the model does not.
const BAD_WORD: &str = "Trollkatt";

/// A copy of fixture `name` whose tokenizer has one added token more than
/// the model has embeddings for, as when tokens are added to a tokenizer
/// and the model is not resized: any text holding [`BAD_WORD`] fails in the
/// model (an embedding index out of range), every other text runs.
fn broken_model(dir: &Path, name: &str) -> PathBuf {
    let (from, to) = (fixture(name), dir.join(name));
    std::fs::create_dir(&to).unwrap();
    for file in std::fs::read_dir(&from).unwrap() {
        let file = file.unwrap().path();
        std::fs::copy(&file, to.join(file.file_name().unwrap())).unwrap();
    }
    let config: Value =
        serde_json::from_str(&std::fs::read_to_string(to.join("config.json")).unwrap()).unwrap();
    let path = to.join("tokenizer.json");
    let mut tokenizer: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    tokenizer["added_tokens"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "id": config["vocab_size"], "content": BAD_WORD, "single_word": false,
            "lstrip": false, "rstrip": false, "normalized": false, "special": false
        }));
    std::fs::write(&path, tokenizer.to_string()).unwrap();
    to
}

/// 40 records; records 5 and 23 hold the bad word.
fn input() -> String {
    articles(40)
        .lines()
        .enumerate()
        .map(|(i, line)| match i {
            5 | 23 => line.replace("Sak nummer", &format!("En {BAD_WORD} i sak")),
            _ => line.to_string(),
        })
        .map(|line| line + "\n")
        .collect()
}

fn gzip(content: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), Default::default());
    gz.write_all(content).unwrap();
    gz.finish().unwrap()
}

#[test]
fn a_text_the_model_fails_on_is_an_error_record_and_its_neighbours_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let plain = write(dir.path(), "in.jsonl", input().as_bytes());
    let packed = write(dir.path(), "in.jsonl.gz", &gzip(input().as_bytes()));
    for (task, name) in [("classify", "tiny-cls"), ("ner", "tiny-ner")] {
        let model = broken_model(dir.path(), name);
        let model = model.to_str().unwrap();
        // The sound model on the same records, for the records that run.
        let sound = ok_stdout(&run_batch(task, &["--input", &plain], &[]));
        for path in [&plain, &packed] {
            for batch in ["1", "8"] {
                let args = ["--input", path, "--model", model, "--batch-size", batch];
                let out = run_batch(task, &args, &[]);
                let what = format!("{task} {path} --batch-size {batch}");
                let stderr = String::from_utf8_lossy(&out.stderr);
                assert_eq!(out.status.code(), Some(1), "{what}: {stderr}");
                let text = String::from_utf8(out.stdout).unwrap();
                let records: Vec<Value> = text
                    .lines()
                    .map(|l| serde_json::from_str(l).unwrap())
                    .collect();
                assert_eq!(records.len(), 40, "{what}: one record per input record");
                for (i, record) in records.iter().enumerate() {
                    assert_eq!(record["id"], format!("r{i}"), "{what}");
                    let error = record["error"].as_str();
                    if i == 5 || i == 23 {
                        let error = error.unwrap_or_else(|| panic!("{what}: {record}"));
                        assert!(error.starts_with("cannot "), "{what}: {error}");
                        assert!(error.contains("index"), "{what}: {error}");
                        assert!(!error.contains('\n'), "{what}: one line: {error}");
                    } else {
                        assert_eq!(error, None, "{what}: record {i}");
                    }
                }
                if batch == "1" {
                    let good = |s: &str| -> String {
                        s.split_inclusive('\n')
                            .enumerate()
                            .filter(|(i, _)| *i != 5 && *i != 23)
                            .map(|(_, l)| l)
                            .collect()
                    };
                    assert_same_lines(&good(&text), &good(&sound), &what);
                }
            }
        }
    }
}

/// Labelled records, the second and fourth without a title.
const LABELLED: [(&str, Option<&str>, &str); 4] = [
    (
        "Stortinget vedtok budsjettet.",
        Some("Budsjett"),
        "politikk",
    ),
    ("Rosenborg slo Molde.", None, "sport"),
    ("Renta går opp.", Some("Norges Bank"), "økonomi"),
    ("Teateret har premiere.", None, "kultur"),
];

fn labelled_jsonl() -> String {
    LABELLED
        .iter()
        .map(|(text, title, label)| {
            let mut record = serde_json::json!({"text": text, "label": label});
            if let Some(title) = title {
                record["tittel"] = Value::from(*title);
            }
            format!("{record}\n")
        })
        .collect()
}

#[test]
fn eval_and_train_read_a_record_without_its_title_as_classify_does() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "data.jsonl", labelled_jsonl().as_bytes());
    let model = fixture("tiny-cls");
    let model = model.to_str().unwrap();
    let title = ["--prefix-field", "tittel"];
    let eval = ok_stdout(&norsk(
        &[
            &[
                "eval", "classify", "--model", model, "--data", &data, "--format", "json",
            ][..],
            &title,
        ]
        .concat(),
        &[],
    ));
    let report: Value = serde_json::from_str(&eval).unwrap();
    let classified = ok_stdout(&norsk(
        &[
            "classify",
            "--model",
            model,
            "--input",
            &data,
            "--title-field",
            "tittel",
        ],
        &[],
    ));
    let right = classified
        .lines()
        .zip(LABELLED)
        .filter(|(line, (_, _, gold))| {
            serde_json::from_str::<Value>(line).unwrap()["label"] == *gold
        })
        .count();
    let accuracy = report["report"]["accuracy"].as_f64().unwrap();
    assert!(
        (accuracy - right as f64 / 4.0).abs() < 1e-12,
        "eval agrees with classify --title-field: {accuracy} vs {right}/4"
    );
    assert_eq!(report["report"]["examples"], 4, "no record left out");

    let out = dir.path().join("model");
    let trained = norsk(
        &fine_tune_args(&data, model, out.to_str().unwrap(), &title),
        &[],
    );
    ok_stdout(&trained);
}

#[test]
fn embed_gives_an_error_record_for_a_text_the_model_fails_on_and_embeds_its_neighbours() {
    let dir = tempfile::tempdir().unwrap();
    let plain = write(dir.path(), "in.jsonl", input().as_bytes());
    let model = broken_model(dir.path(), "tiny-cls");
    let args = [
        "embed",
        "--model",
        model.to_str().unwrap(),
        "--kind",
        "none",
    ];
    let sound = fixture("tiny-cls");
    let sound_args = [
        "embed",
        "--model",
        sound.to_str().unwrap(),
        "--kind",
        "none",
    ];
    let want = ok_stdout(&norsk(
        &[&sound_args[..], &["--input", &plain]].concat(),
        &[],
    ));
    let want: Vec<Value> = want
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for batch in ["1", "8"] {
        let out = norsk(
            &[&args[..], &["--input", &plain, "--batch-size", batch]].concat(),
            &[],
        );
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got: Vec<Value> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(got.len(), 40, "one record per input record");
        for (i, (got, want)) in got.iter().zip(&want).enumerate() {
            assert_eq!(got["id"], want["id"]);
            if i == 5 || i == 23 {
                assert!(got["error"].as_str().unwrap().contains("index"), "{got}");
                continue;
            }
            let (g, w) = (
                got["embedding"].as_array().unwrap(),
                want["embedding"].as_array().unwrap(),
            );
            assert_eq!(g.len(), w.len());
            let dot: f64 = g
                .iter()
                .zip(w)
                .map(|(a, b)| a.as_f64().unwrap() * b.as_f64().unwrap())
                .sum();
            assert!(
                dot > 0.9999,
                "record {i}: cosine {dot} with the sound model"
            );
        }
    }
}
