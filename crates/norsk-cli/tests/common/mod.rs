//! What the end-to-end tests of the `norsk` binary share: running it, the
//! tiny fixture models, and JSONL inputs of many records. Each test file
//! uses some of it.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// The arguments of a short fine-tuning run: `norsk train classify` of one
/// epoch over 32-token examples, training and choosing on `data`, from
/// `base` into `out`; then `extra`.
pub fn fine_tune_args<'a>(
    data: &'a str,
    base: &'a str,
    out: &'a str,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec![
        "train",
        "classify",
        "--train",
        data,
        "--dev",
        data,
        "--base",
        base,
        "--out",
        out,
        "--epochs",
        "1",
        "--max-len",
        "32",
    ];
    args.extend_from_slice(extra);
    args
}

/// A model folder of `tests/fixtures` (`tiny-ner`, `tiny-cls`).
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(name)
}

/// `norsk ARGS…` with no stdin, the model and shard variables of the
/// environment removed and then `env` set.
pub fn command(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_norsk"));
    command
        .args(args)
        .env_remove("NORSK_NER_MODEL")
        .env_remove("NORSK_CLASSIFY_MODEL")
        .env_remove("NORSK_EMBED_MODEL")
        .env_remove("NORSK_MODELS")
        .env_remove("JOB_COMPLETION_INDEX")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Runs `norsk ARGS…` (see [`command`]) to its end; it must not panic.
pub fn norsk(args: &[&str], env: &[(&str, &str)]) -> Output {
    let output = command(args, env).output().expect("norsk runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "norsk panicked: {stderr}");
    output
}

/// `norsk TASK ARGS…` for `ner` (`--format jsonl`) or `classify`, with
/// `--model` the fixture tiny-ner or tiny-cls and `--batch-size 1` (small
/// chunks of records, many writes) unless ARGS give them.
pub fn batch_args(task: &str, args: &[&str]) -> Vec<String> {
    let model = fixture(if task == "ner" {
        "tiny-ner"
    } else {
        "tiny-cls"
    });
    let mut all = vec![task.to_string()];
    if !args.contains(&"--model") {
        all.extend(["--model", model.to_str().unwrap()].map(String::from));
    }
    if !args.contains(&"--batch-size") {
        all.extend(["--batch-size", "1"].map(String::from));
    }
    if task == "ner" {
        all.extend(["--format", "jsonl"].map(String::from));
    }
    all.extend(args.iter().map(|a| a.to_string()));
    all
}

/// [`norsk`] with [`batch_args`].
pub fn run_batch(task: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let all = batch_args(task, args);
    norsk(&all.iter().map(String::as_str).collect::<Vec<_>>(), env)
}

/// `n` JSONL records `{"id": "r0", "text": …, "kilde": …}` of news-like
/// Norwegian sentences, each different.
pub fn articles(n: usize) -> String {
    const PEOPLE: [&str; 5] = [
        "Jens Stoltenberg",
        "Erna Solberg",
        "Jonas Gahr Støre",
        "Hadia Tajik",
        "Trygve Slagsvold Vedum",
    ];
    const PLACES: [&str; 4] = ["Oslo", "Bergen", "Tromsø", "Trondheim"];
    const TOPICS: [&str; 4] = [
        "statsbudsjettet",
        "rentemøtet i Norges Bank",
        "cupfinalen mellom Rosenborg og Molde",
        "premieren på Nationaltheatret",
    ];
    (0..n)
        .map(|i| {
            let text = format!(
                "{} møtte pressen i {} om {} for {} gang. Sak nummer {i}.",
                PEOPLE[i % PEOPLE.len()],
                PLACES[i % PLACES.len()],
                TOPICS[i % TOPICS.len()],
                ["første", "andre", "tredje"][i % 3],
            );
            format!("{{\"id\":\"r{i}\",\"text\":\"{text}\",\"kilde\":\"NTB\"}}\n")
        })
        .collect()
}

/// Writes `content` to `dir/name` and gives the path as a string.
pub fn write(dir: &Path, name: &str, content: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path.to_str().unwrap().to_string()
}

/// The output as text, after checking that the command succeeded.
pub fn ok_stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).expect("UTF-8 output")
}

/// Asserts that two outputs are the same, naming the first line that is not.
pub fn assert_same_lines(got: &str, want: &str, what: &str) {
    if got == want {
        return;
    }
    let (got_lines, want_lines): (Vec<&str>, Vec<&str>) = (
        got.split_inclusive('\n').collect(),
        want.split_inclusive('\n').collect(),
    );
    let at = got_lines
        .iter()
        .zip(&want_lines)
        .position(|(g, w)| g != w)
        .unwrap_or(got_lines.len().min(want_lines.len()));
    panic!(
        "{what}: line {} differs ({} lines, want {}):\n got: {:?}\nwant: {:?}",
        at + 1,
        got_lines.len(),
        want_lines.len(),
        got_lines.get(at),
        want_lines.get(at)
    );
}

/// Runs `norsk ARGS…` (see [`command`]) with `stdin` as its input; it must
/// not panic.
pub fn norsk_with_stdin(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = command(args, &[])
        .stdin(Stdio::piped())
        .spawn()
        .expect("norsk runs");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "norsk panicked: {stderr}");
    output
}

/// The JSON records of stdout, one per line.
pub fn records(output: &Output) -> Vec<Value> {
    String::from_utf8(output.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON record per line"))
        .collect()
}
