//! `norsk ner` end to end: every input route and output format, and bad input
//! giving clear errors and exit codes, never a panic.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const TEXT: &str = "Jens Stoltenberg møtte Erna Solberg i Oslo.";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(name)
}

/// `norsk ARGS…` with its standard streams piped.
fn command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_norsk"));
    command
        .args(args)
        .env_remove("NORSK_NER_MODEL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn norsk(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = command(args).spawn().expect("norsk runs");
    let mut pipe = child.stdin.take().unwrap();
    pipe.write_all(stdin.unwrap_or_default()).unwrap();
    drop(pipe);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "norsk panicked: {stderr}");
    output
}

/// `norsk ner --model tiny-ner ARGS…`
fn ner(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let model = fixture("tiny-ner");
    let mut all = vec!["ner", "--model", model.to_str().unwrap()];
    all.extend_from_slice(args);
    norsk(&all, stdin)
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("UTF-8 output")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Each entity's `start..end` (in `unit`) is its `word` in `text`.
fn assert_exact(text: &str, entities: &Value, unit: &str) {
    let entities = entities.as_array().expect("array of entities");
    for e in entities {
        let (start, end) = (
            e["start"].as_u64().unwrap() as usize,
            e["end"].as_u64().unwrap() as usize,
        );
        let span = match unit {
            "chars" => text
                .chars()
                .skip(start)
                .take(end - start)
                .collect::<String>(),
            _ => text[start..end].to_string(),
        };
        assert_eq!(span, e["word"].as_str().unwrap(), "{e}");
        assert!(
            e["entity_group"].is_string() || e["entity"].is_string(),
            "{e}"
        );
        assert!(e["score"].as_f64().unwrap() > 0.0);
    }
}

#[test]
fn json_prints_one_array_for_one_text() {
    let text = "Tromsø-laget 👩‍👩‍👧 møtte Jens Stoltenberg i Oslo.";
    let out = ner(&["--format", "json", text], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let entities: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(
        !entities.as_array().unwrap().is_empty(),
        "the tiny model tags something"
    );
    assert_exact(text, &entities, "chars");

    let out = ner(&["--format", "json", "--offsets", "bytes", text], None);
    assert_exact(text, &serde_json::from_str(&stdout(&out)).unwrap(), "bytes");
}

#[test]
fn json_prints_one_array_per_text_for_several() {
    let out = ner(&["--format", "json", TEXT, "", "Oslo"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let all: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 3);
    assert_exact(TEXT, &all[0], "chars");
    assert_eq!(all[1], Value::Array(vec![]));
}

#[test]
fn aggregation_none_uses_entity_and_index_keys() {
    let out = ner(&["--format", "json", "--aggregation", "none", TEXT], None);
    let entities: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let first = &entities.as_array().unwrap()[0];
    assert!(first["entity"].as_str().unwrap().contains('-'), "{first}");
    assert!(first["index"].is_u64(), "{first}");
    assert!(first.get("entity_group").is_none());
}

#[test]
fn jsonl_input_gives_one_record_per_line_in_order() {
    let input = format!(
        "{{\"id\":\"a1\",\"text\":\"{TEXT}\",\"kilde\":\"NTB\"}}\n{{not json\n\n{{\"tittel\":\"x\"}}\n{{\"text\":\"Bergen\"}}\n"
    );
    let out = ner(
        &["--input", "-", "--format", "jsonl"],
        Some(input.as_bytes()),
    );
    assert_eq!(out.status.code(), Some(1), "errors give exit code 1");
    let records: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 4);
    assert_eq!(records[0]["id"], "a1");
    assert_eq!(records[0]["kilde"], "NTB");
    assert_exact(TEXT, &records[0]["entities"], "chars");
    assert_eq!(records[1]["id"], 1);
    assert!(
        records[1]["error"].as_str().unwrap().contains("line 2"),
        "{}",
        records[1]
    );
    assert!(
        records[2]["error"].as_str().unwrap().contains("\"text\""),
        "{}",
        records[2]
    );
    assert_eq!(records[3]["id"], 3);
    assert!(records[3]["entities"].is_array());
}

/// `norsk ner --model tiny-ner ARGS…` whose reader has gone away before
/// anything is written, as `norsk ner … | head -1` ends.
fn ner_into_closed_pipe(args: &[&str]) -> Output {
    let model = fixture("tiny-ner");
    let mut child = command(&["ner", "--model", model.to_str().unwrap()])
        .args(args)
        .stdin(Stdio::null())
        .spawn()
        .expect("norsk runs");
    drop(child.stdout.take());
    child.wait_with_output().unwrap()
}

#[test]
fn broken_pipe_is_quiet_for_json_formats() {
    let dir = tempfile::tempdir().unwrap();
    let many = dir.path().join("many.jsonl");
    let line = format!("{{\"text\":\"{TEXT}\",\"pad\":\"{}\"}}\n", "x".repeat(2000));
    std::fs::write(&many, line.repeat(200)).unwrap();
    let long = TEXT.repeat(20);
    let every_token = ["--aggregation", "none", "--ignore-labels", ""];
    let runs: [Vec<&str>; 3] = [
        vec!["--input", many.to_str().unwrap(), "--format", "jsonl"],
        vec!["--input", many.to_str().unwrap(), "--format", "json"],
        [&every_token[..], &["--format", "json", &long]].concat(),
    ];
    for args in runs {
        let out = ner_into_closed_pipe(&args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert_eq!(stderr(&out), "", "{args:?}");
    }
}

#[test]
fn text_arguments_get_their_position_as_id() {
    let out = ner(&["--format", "jsonl", TEXT, "Oslo"], None);
    let ids: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["id"].clone())
        .collect();
    assert_eq!(ids, vec![Value::from(0), Value::from(1)]);
}

#[test]
fn stdin_and_files_are_texts() {
    let from_stdin = ner(&["--format", "json"], Some(TEXT.as_bytes()));
    let from_arg = ner(&["--format", "json", TEXT], None);
    assert!(from_stdin.status.success(), "{}", stderr(&from_stdin));
    assert_eq!(stdout(&from_stdin), stdout(&from_arg));

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("artikkel.txt");
    std::fs::write(&file, TEXT).unwrap();
    let from_file = ner(&["--format", "json", "-f", file.to_str().unwrap()], None);
    assert_eq!(stdout(&from_file), stdout(&from_arg));
    let named = ner(&["--format", "json", file.to_str().unwrap()], None);
    assert_eq!(stdout(&named), stdout(&from_arg), "a path argument is read");
}

#[test]
fn a_mistyped_path_is_an_error_naming_it() {
    for missing in ["nosuch.txt", "mappe/artikkel"] {
        let out = ner(&["--format", "json", missing], None);
        assert_eq!(out.status.code(), Some(1), "{missing}");
        assert!(stderr(&out).contains(missing), "{}", stderr(&out));
        assert!(stderr(&out).contains("--text"), "{}", stderr(&out));
    }
    let out = ner(&["--format", "json", "--text", "nosuch.txt"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).trim_start().starts_with('['));
    let out = ner(&["--format", "jsonl", "Oslo.", "og/eller er to ord"], None);
    assert!(out.status.success(), "texts stay texts: {}", stderr(&out));
}

#[test]
fn human_output_is_plain_when_piped_and_conll_tags_words() {
    let out = ner(&[TEXT], None);
    assert!(out.status.success());
    let human = stdout(&out);
    assert!(!human.contains('\u{1b}'), "no colour codes in a pipe");
    assert!(human.lines().next().unwrap().contains("]("), "{human}");

    let out = ner(&["--color", "always", TEXT], None);
    assert!(stdout(&out).contains('\u{1b}'));

    let out = ner(&["--format", "conll", TEXT], None);
    let conll = stdout(&out);
    let words: Vec<&str> = conll
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    assert_eq!(words.len(), TEXT.split_whitespace().count());
    for line in words {
        let (_, tag) = line.split_once('\t').unwrap();
        assert!(
            tag == "O" || tag.starts_with("B-") || tag.starts_with("I-"),
            "{line}"
        );
    }
}

#[test]
fn empty_and_whitespace_text_give_empty_results() {
    for text in ["", "   \r\n\t\u{a0} "] {
        let out = ner(&["--format", "json", text], None);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(stdout(&out).trim(), "[]");
    }
}

#[test]
fn invalid_utf8_file_names_the_file_and_the_byte() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("latin1.txt");
    std::fs::write(&file, b"Troms\xF8 og Bod\xF8").unwrap();
    let out = ner(&["-f", file.to_str().unwrap()], None);
    assert!(!out.status.success());
    let message = stderr(&out);
    assert!(message.contains("latin1.txt"), "{message}");
    assert!(message.contains("byte 5"), "{message}");
}

#[test]
fn binary_input_is_refused() {
    let out = ner(
        &["--format", "json"],
        Some(b"\x7fELF\x02\x01\x00\x00binary"),
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("binary"), "{}", stderr(&out));
}

#[test]
fn a_binary_file_or_a_folder_as_jsonl_is_one_clear_error() {
    let binary = env!("CARGO_BIN_EXE_norsk");
    let out = ner(&["--input", binary, "--format", "jsonl"], None);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(stdout(&out), "", "no error record per line");
    assert!(stderr(&out).contains("binary"), "{}", stderr(&out));

    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().to_str().unwrap();
    let out = ner(&["--input", folder, "--input-format", "jsonl"], None);
    assert_eq!(out.status.code(), Some(2));
    let message = stderr(&out);
    assert!(
        message.contains(folder) && message.contains("is a folder"),
        "{message}"
    );
    assert!(!message.contains("stdin"), "{message}");
}

#[test]
fn helps_list_the_exit_codes_and_cite_their_own_command() {
    let commands: [&[&str]; 6] = [
        &[],
        &["ner"],
        &["classify"],
        &["bench"],
        &["eval", "ner"],
        &["train", "classify"],
    ];
    for command in commands {
        let out = norsk(&[command, &["--help"]].concat(), None);
        assert!(out.status.success(), "{command:?}");
        // Help text is wrapped to the terminal's width.
        let help = stdout(&out)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            help.contains("Exit codes: 0 all went through"),
            "{command:?}: {help}"
        );
        assert!(help.contains("2 nothing could be done"), "{command:?}");
        if command == ["classify"] {
            assert!(!help.contains("norsk ner"), "{help}");
        }
    }
}

#[test]
fn sentence_context_is_chosen_by_name() {
    let model = fixture("tiny-ner");
    let model = model.to_str().unwrap();
    for context in ["model", "alone", "neighbours"] {
        let out = norsk(&["ner", "--model", model, "--context", context, TEXT], None);
        assert!(out.status.success(), "{context}: {}", stderr(&out));
    }
    let out = norsk(&["ner", "--model", model, "--context", "both", TEXT], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("model, alone or neighbours"),
        "{}",
        stderr(&out)
    );
    let out = norsk(
        &[
            "ner",
            "--model",
            model,
            "--context",
            "neighbours",
            "--no-split",
            TEXT,
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--no-split"), "{}", stderr(&out));
}

#[test]
fn label_decoding_is_chosen_by_name() {
    let model = fixture("tiny-ner");
    let model = model.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("dev.tsv");
    std::fs::write(&data, "Jens\tB-PER\nStoltenberg\tI-PER\nmøtte\tO\n").unwrap();
    let data = data.to_str().unwrap();
    for decoding in ["argmax", "constrained"] {
        let out = norsk(
            &["ner", "--model", model, "--decoding", decoding, TEXT],
            None,
        );
        assert!(out.status.success(), "{decoding}: {}", stderr(&out));
        let out = norsk(
            &[
                "eval",
                "ner",
                "--model",
                model,
                "--decoding",
                decoding,
                "--data",
                data,
                "--format",
                "json",
            ],
            None,
        );
        assert!(out.status.success(), "{decoding}: {}", stderr(&out));
        let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert_eq!(report["decoding"], decoding);
    }
    let out = norsk(
        &["ner", "--model", model, "--decoding", "viterbi", TEXT],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("expected argmax or constrained"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bad_models_give_clear_errors() {
    let out = norsk(&["ner", "--model", "/no/such/folder", TEXT], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("/no/such/folder"), "{}", stderr(&out));

    let empty = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_norsk"))
        .args(["ner", TEXT])
        .env("NORSK_MODELS", empty.path())
        .env_remove("NORSK_NER_MODEL")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--model"), "{}", stderr(&out));
}

#[test]
fn offline_hub_messages_say_what_was_looked_for_and_where() {
    let cache = tempfile::tempdir().unwrap();
    let run = |model: &str| {
        Command::new(env!("CARGO_BIN_EXE_norsk"))
            .args(["ner", "--model", model, TEXT])
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
            .env("HF_HUB_OFFLINE", "1")
            .env("HF_HUB_CACHE", cache.path())
            .env_remove("NORSK_NER_MODEL")
            .output()
            .unwrap()
    };
    let out = run("norsk-test/absent");
    assert_eq!(out.status.code(), Some(2));
    let message = stderr(&out);
    assert!(message.contains("norsk-test/absent"), "{message}");
    let place = format!("not in the cache at {}", cache.path().display());
    assert!(message.contains(&place), "{message}");
    assert!(!message.contains("has no config.json"), "{message}");

    let out = run("models/norsk-bert-nerr");
    assert_eq!(out.status.code(), Some(2));
    let message = stderr(&out);
    assert!(
        message.contains("model folder models/norsk-bert-nerr does not exist"),
        "{message}"
    );
    assert!(
        !message.contains("Hub"),
        "a folder, not a hub id: {message}"
    );
}

#[test]
fn eval_ner_scores_tagged_sentences() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("dev.tsv");
    std::fs::write(
        &data,
        "Jens\tB-PER\nStoltenberg\tI-PER\nmøtte\tO\nErna\tB-PER\nSolberg\tI-PER\ni\tO\nOslo\tB-GPE_LOC\n.\tO\n\nEquinor\tB-ORG\nvokser\tO\n",
    )
    .unwrap();
    let model = fixture("tiny-ner");
    let out = norsk(
        &[
            "eval",
            "ner",
            "--model",
            model.to_str().unwrap(),
            "--data",
            data.to_str().unwrap(),
            "--format",
            "json",
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["sentences"], 2);
    assert_eq!(report["words"], 10);
    assert_eq!(report["default"]["support"], 4);
    let f1 = report["default"]["f1"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&f1));

    std::fs::write(&data, "Jens\tB-PER\textra\n").unwrap();
    let out = norsk(
        &[
            "eval",
            "ner",
            "--model",
            model.to_str().unwrap(),
            "--data",
            data.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("dev.tsv"), "{}", stderr(&out));
}

/// `norsk bench` on the tiny NER fixture, 16-token rows, one thread, JSON
/// out, with `extra` options; its records.
fn bench_records(extra: &[&str]) -> Vec<Value> {
    let model = fixture("tiny-ner");
    let mut args = vec![
        "bench",
        "--model",
        model.to_str().unwrap(),
        "--seq-lens",
        "16",
        "--threads",
        "1",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let out = norsk(&args, None);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap()
}

#[test]
fn bench_corpus_table_prints_no_nan() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("korpus.txt");
    std::fs::write(&corpus, format!("{TEXT}\nOslo er en by.\n")).unwrap();
    let model = fixture("tiny-ner");
    let (model, corpus) = (model.to_str().unwrap(), corpus.to_str().unwrap());
    let flags = "--threads 1 --batch-sizes 2 --warmup 0 --iters 1";
    let mut args = vec!["bench", "--model", model, "--corpus", corpus];
    args.extend(flags.split(' '));
    let out = norsk(&args, None);
    assert!(out.status.success(), "{}", stderr(&out));
    let table = stdout(&out);
    assert!(table.contains("GFLOP/s"), "{table}");
    assert!(!table.contains("NaN"), "{table}");
}

#[test]
fn bench_reports_one_record_per_configuration() {
    let records = bench_records(&["--batch-sizes", "1,2", "--warmup", "0", "--iters", "2"]);
    assert_eq!(records.len(), 2);
    for (r, batch) in records.iter().zip([1, 2]) {
        assert_eq!(r["batch_size"], batch);
        assert_eq!(r["seq_len"], 16);
        assert_eq!(r["threads"], 1);
        assert_eq!(r["task"], "ner");
        assert_eq!(r["precision"], "f32");
        for key in [
            "tokens_per_s",
            "p50_ms",
            "p95_ms",
            "p99_ms",
            "peak_rss_mb",
            "gflops",
        ] {
            assert!(r[key].as_f64().unwrap() > 0.0, "{key} in {r}");
        }
        assert!(r.get("ops").is_none(), "ops only with --profile");
    }
}

#[test]
fn bench_profile_times_every_op_of_each_layer() {
    let records = bench_records(&[
        "--batch-sizes",
        "2",
        "--warmup",
        "1",
        "--iters",
        "3",
        "--profile",
    ]);
    let config: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("tiny-ner").join("config.json")).unwrap(),
    )
    .unwrap();
    let layers = config["num_hidden_layers"].as_f64().unwrap();
    let ops = records[0]["ops"].as_array().expect("ops in the record");
    let calls = |name: &str| {
        ops.iter()
            .find(|o| o["op"] == name)
            .unwrap_or_else(|| panic!("no {name} in {ops:?}"))["calls_per_pass"]
            .as_f64()
            .unwrap()
    };
    for op in ["qkv", "attention", "attention-out", "ffn-in", "ffn-out"] {
        assert_eq!(calls(op), layers, "{op}");
    }
    assert_eq!(calls("layer-norm"), 2.0 * layers);
    assert_eq!(calls("embeddings"), 1.0);
    let qkv = ops.iter().find(|o| o["op"] == "qkv").unwrap();
    assert!(qkv["gflops"].as_f64().unwrap() > 0.0, "{qkv}");
    let share: f64 = ops.iter().map(|o| o["share"].as_f64().unwrap()).sum();
    assert!((share - 1.0).abs() < 0.05, "shares add up to {share}");
}

#[test]
fn the_shipped_model_tags_the_sample_article_with_no_flags() {
    let article = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/artikkel.txt");
    let text = std::fs::read_to_string(&article).unwrap();
    let out = norsk(
        &["ner", "--format", "json", article.to_str().unwrap()],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let entities: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_exact(&text, &entities, "chars");
    let found: Vec<(&str, &str)> = entities
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["entity_group"].as_str().unwrap(),
                e["word"].as_str().unwrap(),
            )
        })
        .collect();
    // The model's dev F1 is 0.84, so only names it is sure of are checked.
    assert!(found.contains(&("PER", "Ole Endresen")), "{found:?}");
    assert!(found.contains(&("GPE_LOC", "Oslo")), "{found:?}");
}
