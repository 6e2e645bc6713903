//! `norsk classify` end to end: every input format, one output record per
//! input record in order, error records for bad input, resume, zero-shot.

mod common;

use std::io::Write;
use std::process::Output;

use common::{fine_tune_args, fixture, norsk_with_stdin as norsk, records};
use serde_json::Value;

fn classify(args: &[&str], stdin: &[u8]) -> Output {
    let model = fixture("tiny-cls");
    let mut all = vec!["classify", "--model", model.to_str().unwrap()];
    all.extend_from_slice(args);
    norsk(&all, stdin)
}

const LABELS: [&str; 4] = ["politikk", "økonomi", "sport", "kultur"];

#[test]
fn jsonl_in_jsonl_out_one_record_per_line_in_order() {
    let big = "Equinor og DNB kjøpte aksjer i Telenor. ".repeat(25_000);
    let input = format!(
        "{{\"id\":\"a\",\"text\":\"Rosenborg slo Molde.\",\"kilde\":\"NTB\"}}\n{{\"id\":\"b\",\"text\":\"\"}}\nnot json\n{{\"tekst\":\"x\"}}\n{{\"id\":\"c\",\"text\":\"{big}\"}}\n"
    );
    // --truncate keeps the 1 MB article quick here; pooling over windows is
    // tested in tests/classify_parity.rs.
    let out = classify(
        &["--input", "-", "--top-k", "2", "--truncate"],
        input.as_bytes(),
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let records = records(&out);
    assert_eq!(records.len(), 5);
    assert_eq!(records[0]["id"], "a");
    assert_eq!(records[0]["kilde"], "NTB");
    assert!(LABELS.contains(&records[0]["label"].as_str().unwrap()));
    assert_eq!(records[0]["labels"].as_array().unwrap().len(), 2);
    assert_eq!(records[1]["error"], "empty text");
    assert!(records[2]["error"].as_str().unwrap().contains("line 3"));
    assert!(records[3]["error"].as_str().unwrap().contains("\"text\""));
    assert_eq!(records[4]["id"], "c", "a 1 MB article is classified");
    assert!(records[4]["label"].is_string());
}

#[test]
fn csv_folder_and_stdin_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("artikler.csv");
    std::fs::write(&csv, "id,text,kilde\n1,Stortinget vedtok budsjettet.,NTB\n2\n3,\"Kultur, teater og musikk\",NRK\n").unwrap();
    let out = classify(&["--input", csv.to_str().unwrap()], b"");
    let rows = records(&out);
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["id"], "1");
    assert_eq!(rows[0]["kilde"], "NTB");
    assert!(
        rows[1]["error"].as_str().unwrap().contains("row 3"),
        "{}",
        rows[1]
    );
    assert_eq!(rows[2]["id"], "3");

    let folder = dir.path().join("saker");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join("b.txt"), "Rosenborg vant.").unwrap();
    std::fs::write(folder.join("a.txt"), "Statsbudsjettet er lagt fram.").unwrap();
    std::fs::write(folder.join("c.txt"), b"\x00\x01binary").unwrap();
    let out = classify(&["--input", folder.to_str().unwrap()], b"");
    let rows = records(&out);
    let ids: Vec<&str> = rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["a.txt", "b.txt", "c.txt"]);
    assert!(rows[2]["error"].as_str().unwrap().contains("binary"));

    let out = classify(&[], "Stortinget vedtok budsjettet.".as_bytes());
    assert!(out.status.success());
    assert_eq!(records(&out).len(), 1);
}

#[test]
fn a_title_field_is_read_in_front_of_the_text() {
    let titled = "{\"id\":1,\"tittel\":\"Statsbudsjettet\",\"text\":\"Rosenborg slo Molde.\"}\n\
                  {\"id\":2,\"text\":\"Rosenborg slo Molde.\"}\n";
    let joined = "{\"id\":1,\"text\":\"Statsbudsjettet. Rosenborg slo Molde.\"}\n\
                  {\"id\":2,\"text\":\"Rosenborg slo Molde.\"}\n";
    let scores =
        |out: &Output| -> Vec<Value> { records(out).iter().map(|r| r["labels"].clone()).collect() };
    let with_title = classify(
        &["--input", "-", "--title-field", "tittel"],
        titled.as_bytes(),
    );
    let without = classify(&["--input", "-"], titled.as_bytes());
    let by_hand = classify(&["--input", "-"], joined.as_bytes());
    assert_eq!(
        scores(&with_title),
        scores(&by_hand),
        "title + \". \" + text; none: text alone"
    );
    assert_ne!(scores(&with_title), scores(&without), "the title is read");
    assert_eq!(
        records(&with_title)[0]["tittel"],
        "Statsbudsjettet",
        "carried through"
    );

    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("artikler.csv");
    std::fs::write(
        &csv,
        "id,tittel,text\n1,Statsbudsjettet,Rosenborg slo Molde.\n2,,Rosenborg slo Molde.\n",
    )
    .unwrap();
    let out = classify(
        &["--input", csv.to_str().unwrap(), "--title-field", "tittel"],
        b"",
    );
    assert_eq!(
        scores(&out),
        scores(&by_hand),
        "CSV column; an empty title is none"
    );
}

#[test]
fn csv_output_and_resume_skip_what_is_done() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    let lines: Vec<String> = (0..5)
        .map(|i| format!("{{\"id\":{i},\"text\":\"Sak nummer {i} om budsjettet.\"}}"))
        .collect();
    std::fs::write(&input, lines[..3].join("\n")).unwrap();
    let output = dir.path().join("out.jsonl");
    let run = || {
        classify(
            &[
                "--input",
                input.to_str().unwrap(),
                "--output",
                output.to_str().unwrap(),
                "--resume",
            ],
            b"",
        )
    };
    assert!(run().status.success());
    // A crash mid-write leaves half a line; resume cuts it and goes on.
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&output)
        .unwrap();
    file.write_all(b"{\"id\":3,\"lab").unwrap();
    drop(file);
    std::fs::write(&input, lines.join("\n")).unwrap();
    assert!(run().status.success());
    let written: Vec<Value> = std::fs::read_to_string(&output)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ids: Vec<i64> = written.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [0, 1, 2, 3, 4]);

    let csv_out = dir.path().join("out.csv");
    let out = classify(
        &[
            "--input",
            input.to_str().unwrap(),
            "--output",
            csv_out.to_str().unwrap(),
        ],
        b"",
    );
    assert!(out.status.success());
    let text = std::fs::read_to_string(&csv_out).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("id,label,score,labels,error"));
    assert_eq!(lines.count(), 5);
}

#[test]
fn resume_keys_on_position_not_id() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    let text = "\"text\":\"Sak om budsjettet.\"";
    let lines = [
        format!("{{\"id\":\"a\",{text}}}"),
        format!("{{\"id\":\"b\",{text}}}"),
        format!("{{\"id\":\"a\",{text}}}"),
        format!("{{\"id\":7,{text}}}"),
        format!("{{\"id\":\"7\",{text}}}"),
        "not json".to_string(),
        format!("{{\"id\":5,{text}}}"),
    ];
    std::fs::write(&input, lines.join("\n")).unwrap();
    let output = dir.path().join("out.jsonl");
    let run = |resume: bool| {
        let mut args = vec![
            "--input",
            input.to_str().unwrap(),
            "--output",
            output.to_str().unwrap(),
        ];
        args.extend(resume.then_some("--resume"));
        classify(&args, b"")
    };
    let written = || -> Vec<String> {
        let text = std::fs::read_to_string(&output).unwrap();
        assert!(text.ends_with('\n'), "{text}");
        text.lines().map(str::to_string).collect()
    };
    let ids = |lines: &[String]| -> Vec<Value> {
        lines
            .iter()
            .map(|l| serde_json::from_str::<Value>(l).unwrap()["id"].clone())
            .collect()
    };
    assert_eq!(run(false).status.code(), Some(1), "one malformed line");
    let full = written();
    let want: Vec<Value> = serde_json::from_str(r#"["a","b","a",7,"7",5,5]"#).unwrap();
    assert_eq!(ids(&full), want);
    for kept in [1, 2, 4, 6] {
        let mut partial = full[..kept].join("\n");
        partial.push_str("\n{\"id\":\"half-writ");
        std::fs::write(&output, partial).unwrap();
        let out = run(true);
        let resumed = written();
        assert_eq!(ids(&resumed), want, "resumed after {kept} records");
        assert_eq!(resumed[..kept], full[..kept], "earlier records are kept");
        let errors = resumed.iter().filter(|l| l.contains("\"error\"")).count();
        assert_eq!(errors, 1, "{resumed:?}");
        // Resuming goes back to the last whole chunk (256 records here), so
        // all seven are done again, the malformed line with them.
        assert_eq!(out.status.code(), Some(1), "after {kept}");
    }
}

#[test]
fn zero_shot_with_an_nli_model() {
    let model = fixture("tiny-nli");
    let out = norsk(
        &[
            "classify",
            "--model",
            model.to_str().unwrap(),
            "--labels",
            "politikk,økonomi,sport",
            "Rosenborg slo Molde 3-1.",
        ],
        b"",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = records(&out);
    let labels = rows[0]["labels"].as_array().unwrap();
    assert_eq!(labels.len(), 3);
    let total: f64 = labels.iter().map(|l| l["score"].as_f64().unwrap()).sum();
    assert!((total - 1.0).abs() < 1e-4, "single-label scores sum to 1");
}

#[test]
fn eval_classify_reports_accuracy_macro_f1_and_confusion() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("dev.jsonl");
    let mut lines = Vec::new();
    for (i, (text, label)) in [
        ("Stortinget vedtok budsjettet.", "politikk"),
        ("Rosenborg slo Molde.", "sport"),
        ("Renta går opp.", "økonomi"),
        ("Teateret har premiere.", "kultur"),
    ]
    .iter()
    .enumerate()
    {
        let split = if i < 3 { "dev" } else { "train" };
        lines.push(format!(
            "{{\"text\":\"{text}\",\"label\":\"{label}\",\"split\":\"{split}\"}}"
        ));
    }
    std::fs::write(&data, lines.join("\n")).unwrap();
    let model = fixture("tiny-cls");
    let out = norsk(
        &[
            "eval",
            "classify",
            "--model",
            model.to_str().unwrap(),
            "--data",
            data.to_str().unwrap(),
            "--filter",
            "split=dev",
            "--format",
            "json",
        ],
        b"",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = &report["report"];
    assert_eq!(r["examples"], 3);
    let accuracy = r["accuracy"].as_f64().unwrap();
    let correct: u64 = (0..r["labels"].as_array().unwrap().len())
        .map(|i| r["confusion"][i][i].as_u64().unwrap())
        .sum();
    assert!((accuracy - correct as f64 / 3.0).abs() < 1e-12);
    assert!(r["macro_f1"].as_f64().unwrap() <= 1.0);
}

#[test]
fn train_classify_writes_a_model_that_classify_loads() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data.jsonl");
    let mut lines = Vec::new();
    for i in 0..12 {
        let (text, label) = if i % 2 == 0 {
            ("Rosenborg vant kampen på Lerkendal.", "sport")
        } else {
            ("Statsbudsjettet gir mer skatt.", "økonomi")
        };
        let split = if i < 8 { "train" } else { "dev" };
        lines.push(format!(
            "{{\"text\":\"{text} {i}\",\"label\":\"{label}\",\"split\":\"{split}\",\"title\":\"Sak {i}\"}}"
        ));
    }
    std::fs::write(&data, lines.join("\n")).unwrap();
    let out_dir = dir.path().join("model");
    let base = fixture("tiny-ner");
    let d = data.to_str().unwrap();
    let args = fine_tune_args(
        d,
        base.to_str().unwrap(),
        out_dir.to_str().unwrap(),
        &[
            "--train-filter",
            "split=train",
            "--dev-filter",
            "split=dev",
            "--prefix-field",
            "title",
            "--f16",
        ],
    );
    let out = norsk(&args, b"");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["labels"], serde_json::json!(["sport", "økonomi"]));
    assert_eq!(report["epochs"].as_array().unwrap().len(), 1);

    let out = norsk(
        &[
            "classify",
            "--model",
            out_dir.to_str().unwrap(),
            "Rosenborg vant.",
        ],
        b"",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = records(&out);
    assert!(["sport", "økonomi"].contains(&rows[0]["label"].as_str().unwrap()));
}

#[test]
fn the_shipped_topic_model_classifies_with_no_model_flag() {
    // Policy-area texts written for this test (not from the training data),
    // one per label; the model's dev accuracy is below 1, so one miss is
    // allowed, but every record must come back, in order, with a label of
    // the shipped model's 16.
    let cases = [
        ("a", "Skatteetaten krever inn merverdiavgift og formuesskatt, og nye regler for fradrag i inntektsskatten gjelder fra januar.", "økonomi"),
        ("b", "Pasientene på sykehuset skal få behandling av helsepersonell innen fristen, og fastlegene får nye plikter.", "helse"),
        ("c", "Forsvaret kjøper nye kampfly, og soldatene i Hæren skal øve sammen med allierte i Nord-Norge.", "forsvar"),
        ("d", "Elevene i grunnskolen får flere timer i matematikk, og universitetene og høyskolene får mer penger til forskning.", "utdanning"),
    ];
    let input: String = cases
        .iter()
        .map(|(id, text, _)| format!("{{\"id\":\"{id}\",\"text\":\"{text}\"}}\n"))
        .collect();
    let out = norsk(&["classify", "--input", "-"], input.as_bytes());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = records(&out);
    assert_eq!(rows.len(), cases.len());
    let mut right = 0;
    for ((id, _, want), row) in cases.iter().zip(&rows) {
        assert_eq!(row["id"], *id);
        let label = row["label"].as_str().expect("a label");
        eprintln!("{id}: {label} (want {want})");
        right += usize::from(label == *want);
    }
    assert!(
        right >= cases.len() - 1,
        "{right} of {} right: {rows:?}",
        cases.len()
    );
}

#[test]
fn the_shipped_topic_model_reads_its_lexical_channel_unless_told_not_to() {
    let text = "Forskrift om tollavgift og merverdiavgift ved innførsel av varer.";
    let run = |extra: &[&str]| {
        let mut args = vec!["classify", "--top-k", "3", "--text", text];
        args.extend_from_slice(extra);
        let out = norsk(&args, b"");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        records(&out).remove(0)
    };
    let with = run(&[]);
    let alone = run(&["--no-lexical"]);
    assert_eq!(with["labels"].as_array().unwrap().len(), 3);
    assert_ne!(
        with["labels"], alone["labels"],
        "the channel's logits must move the scores"
    );
}

#[test]
fn training_over_a_folder_with_a_lexical_channel_warns_that_it_stays() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data.jsonl");
    std::fs::write(
        &data,
        "{\"text\":\"Rosenborg vant.\",\"label\":\"sport\"}\n{\"text\":\"Skatten øker.\",\"label\":\"økonomi\"}\n",
    )
    .unwrap();
    let out_dir = dir.path().join("model");
    std::fs::create_dir(&out_dir).unwrap();
    std::fs::write(out_dir.join("norsk_lexical.json"), "{}").unwrap();
    let (d, base) = (data.to_str().unwrap(), fixture("tiny-ner"));
    let args = fine_tune_args(d, base.to_str().unwrap(), out_dir.to_str().unwrap(), &[]);
    let out = norsk(&args, b"");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("has a lexical channel"), "{stderr}");
}
