//! The crates of the text side build no tensors: none of them depends on
//! candle, directly or through another crate (`cargo tree`, offline, from
//! `Cargo.lock`).

use std::process::Command;

const TENSOR_FREE: [&str; 4] = ["norsk-tokens", "norsk-spans", "norsk-io", "norsk-lexical"];

fn normal_dependencies(krate: &str) -> Vec<String> {
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
