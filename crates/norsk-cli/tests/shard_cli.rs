//! `--shard K/N` and `--shards N`: the N outputs concatenated in shard order
//! equal one run without sharding; bad values are clear errors.

mod common;

use std::io::Write;

use common::{articles, assert_same_lines, norsk, ok_stdout, run_batch, write};

/// The input: 50 records, one of them malformed, one with an empty text.
fn input() -> String {
    let mut lines = articles(48);
    lines.push_str("not json\n{\"id\":\"tom\",\"text\":\"\"}\n");
    lines
}

/// The outputs of `--shard K/N` for K in 0..N, concatenated in order.
fn sharded(task: &str, args: &[&str], count: usize) -> String {
    (0..count)
        .map(|k| {
            let shard = format!("{k}/{count}");
            let out = run_batch(task, &[args, &["--shard", &shard]].concat(), &[]);
            String::from_utf8(out.stdout).unwrap()
        })
        .collect()
}

#[test]
fn three_shards_concatenated_equal_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "in.jsonl", input().as_bytes());
    for task in ["classify", "ner"] {
        // Batches of 3 windows mix records: the blocks of whole chunks keep
        // each record's neighbours, so the numbers agree to the last digit.
        for batch in ["1", "3"] {
            let args = ["--input", &path, "--batch-size", batch];
            let whole = run_batch(task, &args, &[]);
            assert_eq!(whole.status.code(), Some(1), "the malformed line fails");
            let whole = String::from_utf8(whole.stdout).unwrap();
            assert_eq!(whole.lines().count(), 50);
            assert_same_lines(&sharded(task, &args, 3), &whole, &format!("{task} {batch}"));
            let one = sharded(task, &args, 1);
            assert_same_lines(&one, &whole, &format!("{task} {batch}: one shard"));
            let first: serde_json::Value =
                serde_json::from_str(whole.lines().next().unwrap()).unwrap();
            assert_eq!(first["id"], "r0");
        }
    }
}

#[test]
fn shards_keep_global_ids_and_gzip_shards_like_plain() {
    let dir = tempfile::tempdir().unwrap();
    let plain = write(dir.path(), "in.jsonl", input().as_bytes());
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), Default::default());
    gz.write_all(input().as_bytes()).unwrap();
    let packed = write(dir.path(), "in.jsonl.gz", &gz.finish().unwrap());
    let middle = run_batch("classify", &["--input", &packed, "--shard", "1/3"], &[]);
    let ids: Vec<String> = String::from_utf8(middle.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["id"].to_string())
        .collect();
    let want: Vec<String> = (16..32).map(|i| format!("\"r{i}\"")).collect();
    assert_eq!(
        ids, want,
        "block 1 of 3 in whole chunks of 16 over 50 records"
    );
    let same = run_batch("classify", &["--input", &plain, "--shard", "1/3"], &[]);
    assert_eq!(middle.stdout, same.stdout);
}

#[test]
fn shards_from_job_completion_index_equal_shard_k() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "in.jsonl", input().as_bytes());
    let by_flag = run_batch("classify", &["--input", &path, "--shard", "1/3"], &[]);
    let by_env = run_batch(
        "classify",
        &["--input", &path, "--shards", "3"],
        &[("JOB_COMPLETION_INDEX", "1")],
    );
    assert!(!by_flag.stdout.is_empty());
    assert_eq!(by_env.stdout, by_flag.stdout);
    assert_eq!(by_env.status.code(), by_flag.status.code());
}

#[test]
fn csv_shards_write_the_header_once_and_resume_per_shard() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "in.jsonl", input().as_bytes());
    let whole_csv = dir.path().join("whole.csv");
    run_batch(
        "classify",
        &["--input", &path, "--output", whole_csv.to_str().unwrap()],
        &[],
    );
    let mut joined = String::new();
    for k in 0..3 {
        let part = dir.path().join(format!("part-{k}.csv"));
        let part = part.to_str().unwrap();
        let shard = format!("{k}/3");
        let args = [
            "--input", &path, "--shard", &shard, "--output", part, "--resume",
        ];
        run_batch("classify", &args, &[]);
        let full = std::fs::read_to_string(part).unwrap();
        // A crash after two rows of this shard: resume does the rest of
        // this shard only.
        let rows: Vec<&str> = full.split_inclusive('\n').collect();
        let kept = if k == 0 { 3 } else { 2 };
        std::fs::write(part, format!("{}r9,x", rows[..kept].concat())).unwrap();
        run_batch("classify", &args, &[]);
        let resumed = std::fs::read_to_string(part).unwrap();
        assert_same_lines(&resumed, &full, &format!("shard {k}"));
        joined.push_str(&full);
    }
    assert_same_lines(
        &joined,
        &std::fs::read_to_string(&whole_csv).unwrap(),
        "CSV",
    );
    assert_eq!(joined.matches("id,label,score,labels,error").count(), 1);
}

/// Arguments, environment variables, and what the error must say.
type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);

#[test]
fn bad_shard_values_are_usage_errors_that_say_why() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "in.jsonl", input().as_bytes());
    let cases: [Case; 13] = [
        (&["--shard", "3/3"], &[], "0-based"),
        (&["--shard", "0/0"], &[], "at least 1"),
        (&["--shard", "x/3"], &[], "K must be"),
        (&["--shard", "1/three"], &[], "N must be"),
        (&["--shard", "2"], &[], "K/N"),
        (&["--shard", "-1/3"], &[], "K must be"),
        (&["--shards", "0"], &[], "at least 1"),
        (&["--shards", "-2"], &[], "N must be"),
        (&["--shards", "3"], &[], "JOB_COMPLETION_INDEX"),
        (
            &["--shards", "3"],
            &[("JOB_COMPLETION_INDEX", "3")],
            "0-based",
        ),
        (
            &["--shards", "3"],
            &[("JOB_COMPLETION_INDEX", "a")],
            "JOB_COMPLETION_INDEX",
        ),
        (
            &["--shards", "3", "--shard", "0/3"],
            &[],
            "cannot be used with",
        ),
        (&["--input", "-", "--shard", "0/2"], &[], "stdin"),
    ];
    for (args, env, says) in cases {
        for task in ["classify", "ner"] {
            let mut all = args.to_vec();
            if !all.contains(&"--input") {
                all.extend(["--input", &path]);
            }
            let out = run_batch(task, &all, env);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{task} {args:?}: {stderr}");
            assert!(stderr.contains(says), "{task} {args:?} {env:?}: {stderr}");
            assert!(out.stdout.is_empty(), "{task} {args:?}");
        }
    }
    let model = common::fixture("tiny-ner");
    let out = norsk(
        &["ner", "--model", model.to_str().unwrap(), "--shard", "0/2"],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("stdin"));
    let ner = ["ner", "--model", model.to_str().unwrap(), "--input", &path];
    let json = norsk(
        &[&ner[..], &["--shard", "0/2", "--format", "json"]].concat(),
        &[],
    );
    assert_eq!(json.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&json.stderr).contains("use --format jsonl"));
    let help = ok_stdout(&norsk(&["classify", "--help"], &[]));
    assert!(
        help.contains("0-based") && help.contains("JOB_COMPLETION_INDEX"),
        "{help}"
    );
}
