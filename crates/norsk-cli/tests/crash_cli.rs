//! Crash safety of `norsk classify --output` and `norsk ner --output`:
//! killed at any point (SIGKILL) a run leaves whole records and at most a
//! half last line, and `--resume` completes it to exactly what an
//! uninterrupted run writes; SIGTERM and SIGINT stop it soon, after a whole
//! record.
#![cfg(unix)]

mod common;

use std::path::Path;
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

use common::{articles, assert_same_lines, batch_args, command, ok_stdout, run_batch, write};
use serde_json::Value;

/// Input records: enough for a few dozen chunks at `--batch-size 1`.
const RECORDS: usize = 300;

/// A small seeded pseudo-random generator (xorshift), for kill points
/// that differ from one another but not from run to run.
struct Rng(u64);

impl Rng {
    /// A number in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// `norsk TASK --input INPUT --output OUTPUT --resume`, started.
fn start(task: &str, input: &str, output: &Path, stdin_open: bool) -> Child {
    let args = [
        "--input",
        input,
        "--output",
        output.to_str().unwrap(),
        "--resume",
    ];
    let all = batch_args(task, &args);
    let mut command = command(&all.iter().map(String::as_str).collect::<Vec<_>>(), &[]);
    if stdin_open {
        command.stdin(std::process::Stdio::piped());
    }
    command.spawn().expect("norsk runs")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Waits until `path` is longer than `than` bytes (with `usize::MAX`:
/// until it exists) or `child` has ended.
fn wait_for_growth(child: &mut Child, path: &Path, than: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let grown = || match std::fs::metadata(path) {
        Ok(meta) => than == usize::MAX || meta.len() as usize > than,
        Err(_) => false,
    };
    while !grown() && child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "no progress in 20 s");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Waits for `child` at most `limit`.
fn wait_within(child: &mut Child, limit: Duration) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "still running after {limit:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// What a killed run may leave: whole lines of `full` from its start, then
/// at most the beginning of the next line.
fn assert_prefix(partial: &str, full: &str, what: &str) {
    assert!(
        full.starts_with(partial),
        "{what}: not a prefix of the uninterrupted output ({} bytes)",
        partial.len()
    );
}

/// Runs `--resume` to the end and checks the output against `full`: one
/// record per input id, in order, each once, no half line, the same bytes.
fn resume_to_end(task: &str, input: &str, output: &Path, full: &str, what: &str) {
    let mut child = start(task, input, output, false);
    let status = wait_within(&mut child, Duration::from_secs(60));
    assert!(status.success(), "{what}: resumed run failed: {status}");
    let text = read(output);
    assert!(text.ends_with('\n'), "{what}: no half line");
    let ids: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("whole JSON lines")["id"].clone())
        .collect();
    let want: Vec<Value> = (0..RECORDS).map(|i| Value::from(format!("r{i}"))).collect();
    assert_eq!(ids, want, "{what}: every id once, in input order");
    assert_same_lines(&text, full, what);
}

#[test]
fn killed_runs_resume_to_an_uninterrupted_runs_output() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "in.jsonl", articles(RECORDS).as_bytes());
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    for task in ["classify", "ner"] {
        let full = ok_stdout(&run_batch(task, &["--input", &input], &[]));
        let output = dir.path().join(format!("{task}.jsonl"));

        // SIGKILL five times at seeded points after some progress.
        let mut kills = 0;
        for _ in 0..5 {
            let mut child = start(task, &input, &output, false);
            let before = read(&output).len();
            wait_for_growth(&mut child, &output, before);
            std::thread::sleep(Duration::from_millis(rng.below(12)));
            if child.try_wait().unwrap().is_none() {
                kills += 1;
            }
            child.kill().unwrap();
            child.wait().unwrap();
            assert_prefix(&read(&output), &full, &format!("{task} after kill {kills}"));
        }
        assert!(
            kills >= 3,
            "{task}: only {kills} of 5 kills found the run going"
        );
        resume_to_end(task, &input, &output, &full, &format!("{task} after kills"));

        // A kill in the middle of a write leaves any prefix of the output.
        for _ in 0..3 {
            let cut = rng.below(full.len() as u64) as usize;
            std::fs::write(&output, &full.as_bytes()[..cut]).unwrap();
            resume_to_end(
                task,
                &input,
                &output,
                &full,
                &format!("{task} cut at {cut}"),
            );
        }

        // SIGTERM and SIGINT: the chunk in hand is written, then it exits.
        for (signal, code) in [(libc::SIGTERM, 143), (libc::SIGINT, 130)] {
            std::fs::remove_file(&output).unwrap();
            let mut child = start(task, &input, &output, false);
            wait_for_growth(&mut child, &output, 0);
            // SAFETY: kill only sends a signal to the child started above.
            assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, signal) }, 0);
            let status = wait_within(&mut child, Duration::from_secs(5));
            let what = format!("{task} stopped by signal {signal}");
            assert_eq!(status.code(), Some(code), "{what}");
            let partial = read(&output);
            assert!(partial.ends_with('\n'), "{what}: ends after a whole record");
            assert!(partial.len() < full.len(), "{what}: stopped before the end");
            assert_prefix(&partial, &full, &what);
            resume_to_end(task, &input, &output, &full, &what);
        }
    }
}

#[test]
fn a_signal_while_waiting_for_input_ends_the_run_at_once() {
    for (signal, code) in [(libc::SIGINT, 130), (libc::SIGTERM, 143)] {
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("out.jsonl");
        // stdin stays open and empty: the run waits for its first record.
        let mut child = start("classify", "-", &output, true);
        // The output is opened once the model is loaded, just before the
        // signals are caught and the first record is waited for.
        wait_for_growth(&mut child, &output, usize::MAX);
        std::thread::sleep(Duration::from_millis(200));
        // SAFETY: kill only sends a signal to the child started above.
        assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, signal) }, 0);
        let status = wait_within(&mut child, Duration::from_secs(5));
        assert_eq!(status.code(), Some(code));
        assert_eq!(read(&output), "", "nothing was written");
    }
}
