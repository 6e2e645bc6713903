//! Helpers shared by the integration tests: fixture paths and reference files.
#![allow(dead_code)]

use std::path::PathBuf;

use candle_core::Device;
use norsk_model::EncoderInput;
use serde_json::Value;

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
