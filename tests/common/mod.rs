//! Helpers shared by the integration tests: fixture paths and reference files.
#![allow(dead_code)]

use std::path::PathBuf;

use candle_core::Device;
use norsk_lexical::{LEXICAL_CONFIG, LEXICAL_WEIGHTS};
use norsk_model::EncoderInput;
use safetensors::{tensor::TensorView, Dtype};
use serde_json::{json, Value};

/// A folder or file under `tests/fixtures/`.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A copy of the fixture folder `name` whose `config.json` has `key` set
/// to `value` (a model trained or configured otherwise).
pub fn fixture_with_config(name: &str, key: &str, value: Value) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(fixture(name)).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    let config = dir.path().join("config.json");
    let mut parsed: Value = serde_json::from_slice(&std::fs::read(&config).unwrap()).unwrap();
    parsed[key] = value;
    std::fs::write(&config, serde_json::to_vec(&parsed).unwrap()).unwrap();
    dir
}

/// A reference file written by `scripts/make_fixtures.py` with transformers.
pub fn reference(name: &str) -> Value {
    let path = fixture(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).expect("reference JSON")
}

/// A JSON array of numbers as `u32`s.
pub fn u32s(value: &Value) -> Vec<u32> {
    value
        .as_array()
        .expect("array")
        .iter()
        .map(|v| v.as_u64().expect("integer") as u32)
        .collect()
}

/// A JSON array of numbers as `f32`s.
pub fn f32s(value: &Value) -> Vec<f32> {
    value
        .as_array()
        .expect("array")
        .iter()
        .map(|v| v.as_f64().expect("number") as f32)
        .collect()
}

/// One unpadded row as an encoder batch of one.
pub fn single_input(ids: &[u32], type_ids: &[u32]) -> EncoderInput {
    EncoderInput::from_rows(&[ids], &[type_ids], 0, &Device::Cpu).expect("input")
}

/// The largest absolute difference between two equally long slices.
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "lengths differ");
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// A copy of `tiny-cls` with a lexical channel: labels `labels`, one term
/// (`mål`) that adds `weight` to label `target`, bias 0.
pub fn tiny_cls_with_channel(labels: &[&str], target: usize, weight: f32) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(fixture("tiny-cls")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    let config = json!({"kind": "tfidf-linear", "labels": labels, "max_ngram": 1,
                        "sublinear_tf": true, "vocabulary": ["mål"]});
    std::fs::write(dir.path().join(LEXICAL_CONFIG), config.to_string()).unwrap();
    let mut row = vec![0f32; labels.len()];
    row[target] = weight;
    let bytes = |v: &[f32]| -> Vec<u8> { v.iter().flat_map(|x| x.to_le_bytes()).collect() };
    let (idf, weight, bias) = (bytes(&[1.0]), bytes(&row), bytes(&vec![0.0; labels.len()]));
    let tensors = [
        ("idf", TensorView::new(Dtype::F32, vec![1], &idf).unwrap()),
        (
            "weight",
            TensorView::new(Dtype::F32, vec![1, labels.len()], &weight).unwrap(),
        ),
        (
            "bias",
            TensorView::new(Dtype::F32, vec![labels.len()], &bias).unwrap(),
        ),
    ];
    safetensors::serialize_to_file(tensors, None, &dir.path().join(LEXICAL_WEIGHTS)).unwrap();
    dir
}
