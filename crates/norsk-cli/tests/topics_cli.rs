//! Topics without a trained classifier: zero-shot `--labels` through the
//! shipped embedding model (names, `@sets`, `--labels-file`), `eval
//! classify` on zero-shot topics, and `train classify --head-only`.

mod common;

use std::process::Output;

use common::{fixture, norsk_with_stdin as norsk, records};
use serde_json::Value;

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The scores of a record's `labels`, in order.
fn scores(row: &Value) -> Vec<f64> {
    row["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["score"].as_f64().unwrap())
        .collect()
}

#[test]
fn zero_shot_without_a_model_uses_the_shipped_embedding_model() {
    // Texts written for this test, one per topic, with nothing of the
    // topic's name in them.
    let input = concat!(
        "{\"id\":\"a\",\"text\":\"Rosenborg slo Molde 3-1 på Lerkendal, og Haaland scoret to mål for landslaget.\"}\n",
        "{\"id\":\"b\",\"text\":\"Romanen hennes vant Brageprisen, og filmen fikk terningkast seks av anmelderen.\"}\n",
        "{\"id\":\"c\",\"text\":\"Regjeringen og Stortinget ble enige om statsbudsjettet etter lange forhandlinger mellom partiene.\"}\n",
    );
    let out = norsk(
        &[
            "classify",
            "--labels",
            "sport,kultur,politikk",
            "--input",
            "-",
        ],
        input.as_bytes(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let rows = records(&out);
    let got: Vec<&str> = rows.iter().map(|r| r["label"].as_str().unwrap()).collect();
    assert_eq!(got, ["sport", "kultur", "politikk"]);
    for row in &rows {
        let scores = scores(row);
        assert_eq!(scores.len(), 3);
        assert!((scores.iter().sum::<f64>() - 1.0).abs() < 1e-4);
        assert!(scores.windows(2).all(|w| w[0] >= w[1]), "best first");
    }
}

#[test]
fn a_builtin_set_a_labels_file_top_k_and_multi_label() {
    let text = "Rosenborg slo Molde 3-1 i eliteserien i fotball i går.";
    let out = norsk(
        &["classify", "--labels", "@nyheter", "--top-k", "3", text],
        b"",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let row = &records(&out)[0];
    assert_eq!(row["label"], "sport");
    assert_eq!(row["labels"].as_array().unwrap().len(), 3);

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("emner.tsv");
    std::fs::write(
        &file,
        "# egne emner\nballspill\tFotball, håndball og andre ballspill\nmusikk\tKonserter, plater og band\n",
    )
    .unwrap();
    let out = norsk(
        &[
            "classify",
            "--labels-file",
            file.to_str().unwrap(),
            "--multi-label",
            text,
        ],
        b"",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let row = &records(&out)[0];
    assert_eq!(row["label"], "ballspill");
    let scores = scores(row);
    assert!(scores.iter().all(|s| (0.0..=1.0).contains(s)));
    assert!(
        (scores.iter().sum::<f64>() - 1.0).abs() > 1e-3,
        "multi-label scores are independent: {scores:?}"
    );
}

#[test]
fn bad_topic_arguments_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.tsv");
    std::fs::write(&empty, "# nothing here\n\n").unwrap();
    let twice = dir.path().join("twice.tsv");
    std::fs::write(&twice, "sport\tA\nsport\tB\n").unwrap();
    let missing = dir.path().join("missing.tsv");
    let classifier = fixture("tiny-cls");
    for (args, needle) in [
        (vec!["--labels", "@sportsdesk"], "@nyheter"),
        (vec!["--labels", "@nyheter,sport"], "not both"),
        (vec!["--labels", " , "], "no topic"),
        (
            vec!["--labels", "sport", "--model", classifier.to_str().unwrap()],
            "NLI model or an embedding model",
        ),
        (
            vec!["--labels", "sport", "--hypothesis-template", "Om sport."],
            "has no {}",
        ),
        (vec!["--labels-file", empty.to_str().unwrap()], "no topic"),
        (vec!["--labels-file", twice.to_str().unwrap()], "twice"),
        (
            vec!["--labels-file", missing.to_str().unwrap()],
            "missing.tsv",
        ),
        (
            vec![
                "--labels",
                "sport",
                "--labels-file",
                twice.to_str().unwrap(),
            ],
            "cannot be used with",
        ),
    ] {
        let mut all = vec!["classify"];
        all.extend(args.iter().copied());
        all.push("Rosenborg vant.");
        let out = norsk(&all, b"");
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(needle), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn eval_classify_scores_zero_shot_topics() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("dev.jsonl");
    std::fs::write(
        &data,
        concat!(
            "{\"text\":\"Rosenborg slo Molde 3-1 i eliteserien.\",\"label\":\"sport\"}\n",
            "{\"text\":\"Stortinget vedtok statsbudsjettet.\",\"label\":\"politikk\"}\n",
        ),
    )
    .unwrap();
    let out = norsk(
        &[
            "eval",
            "classify",
            "--labels",
            "sport,politikk",
            "--data",
            data.to_str().unwrap(),
            "--format",
            "json",
        ],
        b"",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let labels = report["report"]["labels"].as_array().unwrap();
    assert!(labels
        .iter()
        .all(|l| ["sport", "politikk"].contains(&l.as_str().unwrap())));
    let accuracy = report["report"]["accuracy"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&accuracy));
}

#[test]
fn a_head_trained_over_embeddings_loads_in_classify() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data.jsonl");
    let mut lines = Vec::new();
    for (i, (text, label)) in [
        ("Rosenborg slo Molde.", "sport"),
        ("Brann tapte borte.", "sport"),
        ("Vålerenga vant cupen.", "sport"),
        ("Renta går opp igjen.", "økonomi"),
        ("Børsen falt kraftig.", "økonomi"),
        ("Kronekursen styrket seg.", "økonomi"),
    ]
    .iter()
    .enumerate()
    {
        let split = if i % 3 == 2 { "dev" } else { "train" };
        lines.push(format!(
            "{{\"text\":\"{text}\",\"label\":\"{label}\",\"split\":\"{split}\",\"title\":\"Nyhet\"}}"
        ));
    }
    std::fs::write(&data, lines.join("\n")).unwrap();
    let (d, base) = (data.to_str().unwrap(), fixture("tiny-cls"));
    let out_dir = dir.path().join("head");
    let cache = dir.path().join("cache");
    let train = |extra: &[&str]| {
        let mut args = vec![
            "train",
            "classify",
            "--head-only",
            "--train",
            d,
            "--train-filter",
            "split=train",
            "--dev",
            d,
            "--dev-filter",
            "split=dev",
            "--base",
            base.to_str().unwrap(),
            "--out",
            out_dir.to_str().unwrap(),
            "--cache-dir",
            cache.to_str().unwrap(),
            "--prefix-field",
            "title",
        ];
        args.extend_from_slice(extra);
        norsk(&args, b"")
    };
    let out = train(&[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["labels"], serde_json::json!(["sport", "økonomi"]));
    assert_eq!(report["train_examples"], 4);
    assert_eq!(report["dev_examples"], 2);
    let config: Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("norsk_head.json")).unwrap()).unwrap();
    assert_eq!(config["pooling"], "mean");
    assert_eq!(config["kind"], "passage");

    // A second run with a per-label sample embeds nothing new.
    let out = train(&["--per-label", "1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["train_examples"], 2);
    assert!(!stderr(&out).contains("embedding"), "{}", stderr(&out));

    let out = norsk(
        &[
            "classify",
            "--model",
            out_dir.to_str().unwrap(),
            "--title-field",
            "title",
            "--input",
            d,
        ],
        b"",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let rows = records(&out);
    assert_eq!(rows.len(), 6);
    assert!(rows
        .iter()
        .all(|r| ["sport", "økonomi"].contains(&r["label"].as_str().unwrap())));

    let out = norsk(
        &[
            "train",
            "classify",
            "--per-label",
            "3",
            "--train",
            d,
            "--dev",
            d,
            "--out",
            "x",
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--head-only"), "{}", stderr(&out));
}
