//! The crates of the text side build no tensors: none of them depends on
//! candle, directly or through another crate (`cargo tree`, offline, from
//! `Cargo.lock`). The pipeline crate `norsk` reaches models only through the
//! `norsk-batch` seam: it does not depend on candle itself and names no
//! candle type; `norsk-model` behind the seam does.

use std::process::Command;

const TENSOR_FREE: [&str; 5] = [
    "norsk-tokens",
    "norsk-spans",
    "norsk-io",
    "norsk-lexical",
    "norsk-batch",
];

/// `krate` and its normal dependencies, `depth` levels down (all with `None`).
fn normal_dependencies(krate: &str) -> Vec<String> {
    dependencies(krate, None)
}

fn dependencies(krate: &str, depth: Option<usize>) -> Vec<String> {
    let depth = depth.map(|d| d.to_string());
    let out = Command::new(env!("CARGO"))
        .args([
            "tree",
            "--offline",
            "-e",
            "normal",
            "--prefix",
            "none",
            "-p",
            krate,
        ])
        .args(depth.iter().flat_map(|d| ["--depth", d.as_str()]))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

#[test]
fn the_text_side_crates_do_not_depend_on_candle() {
    for krate in TENSOR_FREE {
        let deps = normal_dependencies(krate);
        assert_eq!(deps.first().map(String::as_str), Some(krate), "{deps:?}");
        let candle: Vec<&String> = deps.iter().filter(|d| d.starts_with("candle")).collect();
        assert!(candle.is_empty(), "{krate} depends on {candle:?}");
    }
}

#[test]
fn the_check_sees_candle_where_it_is() {
    assert!(normal_dependencies("norsk-model")
        .iter()
        .any(|d| d == "candle-core"));
}

#[test]
fn the_pipeline_crate_neither_depends_on_candle_nor_names_it() {
    let direct = dependencies("norsk", Some(1));
    assert!(direct.iter().any(|d| d == "norsk-batch"), "{direct:?}");
    assert!(
        !direct.iter().any(|d| d.starts_with("candle")),
        "norsk depends on candle directly: {direct:?}"
    );
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/norsk/src");
    let mut named = Vec::new();
    let mut files = vec![src];
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
                // `EncoderInput` is the model side's tensor batch.
                if line.contains("candle") || line.contains("EncoderInput") {
                    named.push(format!("{}: {line}", path.display()));
                }
            }
        }
    }
    assert!(named.is_empty(), "candle named in the pipeline: {named:#?}");
}
