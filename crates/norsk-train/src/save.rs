//! Writing the fine-tuned model as a Hugging Face folder.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Tensor};
use serde_json::{Map, Value};

use crate::TrainError;

/// The tokenizer files copied from the base folder when present.
pub const TOKENIZER_FILES: [&str; 5] = [
    "tokenizer.json",
    "vocab.txt",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
];

/// Writes `bytes` to `path` through a temporary file and a rename, so that
/// a reader (or a run killed mid-write) never sees half a file.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), TrainError> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).map_err(|e| TrainError::io("write", &tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| TrainError::io("write", path, e))
}

/// Serialises tensors as f32 (or, with `half`, f16) safetensors with
/// `{"format": "pt"}` metadata (what `transformers` expects), names sorted.
pub(crate) fn safetensors_bytes(
    tensors: &HashMap<String, Tensor>,
    half: bool,
) -> Result<Vec<u8>, TrainError> {
    let mut names: Vec<&String> = tensors.keys().collect();
    names.sort();
    let mut header = Map::new();
    header.insert("__metadata__".into(), serde_json::json!({"format": "pt"}));
    let mut data: Vec<u8> = Vec::new();
    for name in names {
        let tensor = tensors[name].to_dtype(DType::F32)?.flatten_all()?;
        let values: Vec<f32> = tensor.to_vec1()?;
        let start = data.len();
        for v in values {
            if half {
                data.extend_from_slice(&half::f16::from_f32(v).to_le_bytes());
            } else {
                data.extend_from_slice(&v.to_le_bytes());
            }
        }
        header.insert(
            name.clone(),
            serde_json::json!({
                "dtype": if half { "F16" } else { "F32" },
                "shape": tensors[name].dims(),
                "data_offsets": [start, data.len()],
            }),
        );
    }
    let mut header = serde_json::to_vec(&Value::Object(header)).expect("JSON of a map");
    let padding = (8 - header.len() % 8) % 8;
    header.extend(std::iter::repeat_n(b' ', padding));
    let mut out = Vec::with_capacity(8 + header.len() + data.len());
    out.extend_from_slice(&(header.len() as u64).to_le_bytes());
    out.extend_from_slice(&header);
    out.extend_from_slice(&data);
    Ok(out)
}

/// The output `config.json`: the base config with every size field kept,
/// made a `BertForSequenceClassification` over `labels`.
pub(crate) fn classifier_config(base: &Map<String, Value>, labels: &[String]) -> Value {
    let mut config = base.clone();
    config.insert(
        "architectures".into(),
        serde_json::json!(["BertForSequenceClassification"]),
    );
    let id2label: Map<String, Value> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| (i.to_string(), Value::from(l.as_str())))
        .collect();
    let label2id: Map<String, Value> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| (l.clone(), Value::from(i)))
        .collect();
    config.insert("id2label".into(), Value::Object(id2label));
    config.insert("label2id".into(), Value::Object(label2id));
    config.insert(
        "problem_type".into(),
        Value::from("single_label_classification"),
    );
    Value::Object(config)
}

/// Copies the tokenizer files the base folder has into `out`.
pub(crate) fn copy_tokenizer(base: &Path, out: &Path) -> Result<(), TrainError> {
    for name in TOKENIZER_FILES {
        let from = base.join(name);
        if from.is_file() {
            let to = out.join(name);
            std::fs::copy(&from, &to).map_err(|e| TrainError::io("copy", &from, e))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn safetensors_round_trip_through_candle() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.safetensors");
        let mut tensors = HashMap::new();
        let a = Tensor::new(&[[1.5f32, -2.0, 3.25], [0.0, 1e-7, 7.0]], &Device::Cpu).unwrap();
        tensors.insert("bert.a".to_string(), a.clone());
        tensors.insert(
            "classifier.bias".to_string(),
            Tensor::new(&[0.5f32], &Device::Cpu).unwrap(),
        );
        write_atomic(&path, &safetensors_bytes(&tensors, false).unwrap()).unwrap();
        let back = candle_core::safetensors::load(&path, &Device::Cpu).unwrap();
        assert_eq!(back.len(), 2);
        let got: Vec<Vec<f32>> = back["bert.a"].to_vec2().unwrap();
        assert_eq!(got, a.to_vec2::<f32>().unwrap());
    }
}
