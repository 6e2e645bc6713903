//! Writing the fine-tuned model as a Hugging Face folder.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use candle_core::{DType, Tensor};
use norsk_model::WeightFiles;
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

/// The file of a shared-shard output that holds the tensors trained here.
pub const OWN_SHARD: &str = "model-trained.safetensors";

/// Which tensors of the output live in the base folder's shards.
#[derive(Debug, Clone, Default)]
pub(crate) struct SharedShards {
    /// Tensor name → `../BASE/SHARD`, for every tensor kept in a base shard.
    pub weight_map: BTreeMap<String, String>,
    /// Bytes of those tensors as the base stores them.
    pub bytes: usize,
}

impl SharedShards {
    /// Finds the shards of the sharded folder `base` that hold only
    /// `frozen` tensors; `out` must be a folder beside `base` (same parent),
    /// so that `../BASE/SHARD` leads from one to the other.
    pub fn plan(
        base: &Path,
        out: &Path,
        frozen: &HashSet<String>,
        base_bytes: &HashMap<String, usize>,
    ) -> Result<Self, TrainError> {
        let config = |m: String| TrainError::Config(m);
        let WeightFiles::Sharded { index, .. } = WeightFiles::find(base)? else {
            return Err(config(format!(
                "sharing needs a sharded base (model.safetensors.index.json); {} has one file",
                base.display()
            )));
        };
        std::fs::create_dir_all(out).map_err(|e| TrainError::io("create", out, e))?;
        let parent = |dir: &Path| {
            dir.canonicalize()
                .map(|d| {
                    (
                        d.parent().map(Path::to_path_buf),
                        d.file_name().map(|n| n.to_owned()),
                    )
                })
                .map_err(|e| TrainError::io("read", dir, e))
        };
        let ((base_parent, base_name), (out_parent, _)) = (parent(base)?, parent(out)?);
        let base_name = base_name.and_then(|n| n.into_string().ok());
        let (Some(base_name), true) = (base_name, base_parent == out_parent) else {
            return Err(config(format!(
                "sharing needs the output folder beside the base: {} and {} have different parents",
                out.display(),
                base.display()
            )));
        };
        let raw = std::fs::read(&index).map_err(|e| TrainError::io("read", &index, e))?;
        let parsed: Value =
            serde_json::from_slice(&raw).map_err(|e| TrainError::io("read", &index, e))?;
        let mut by_file: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (name, file) in parsed["weight_map"].as_object().into_iter().flatten() {
            if let Some(file) = file.as_str() {
                by_file
                    .entry(file.to_string())
                    .or_default()
                    .push(name.clone());
            }
        }
        let mut shared = Self::default();
        for (file, names) in by_file {
            if norsk_model::is_sibling_shard(&file) || !names.iter().all(|n| frozen.contains(n)) {
                continue;
            }
            for name in names {
                shared.bytes += base_bytes.get(&name).copied().unwrap_or(0);
                shared
                    .weight_map
                    .insert(name, format!("../{base_name}/{file}"));
            }
        }
        if shared.weight_map.is_empty() {
            return Err(config(format!(
                "no shard of {} holds only frozen tensors: reshard it with a shard starting at the first trained layer (scripts/train/e5/shard.py --boundary N)",
                base.display()
            )));
        }
        Ok(shared)
    }
}

/// Writes the weights into `out`: all in `model.safetensors`, or, with
/// `shared`, those not in a base shard in [`OWN_SHARD`] plus a
/// `model.safetensors.index.json` that names both. Files of the other
/// layout are removed (`model.safetensors` would hide an index). Returns
/// the file written.
pub(crate) fn write_weights(
    out: &Path,
    tensors: &HashMap<String, Tensor>,
    half: bool,
    shared: Option<&SharedShards>,
) -> Result<PathBuf, TrainError> {
    let single = out.join("model.safetensors");
    let index = out.join("model.safetensors.index.json");
    let own_path = out.join(OWN_SHARD);
    let remove = |path: &Path| match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(TrainError::io("remove", path, e))
        }
        _ => Ok(()),
    };
    let Some(shared) = shared else {
        write_atomic(&single, &safetensors_bytes(tensors, half)?)?;
        remove(&index)?;
        remove(&own_path)?;
        return Ok(single);
    };
    let own: HashMap<String, Tensor> = tensors
        .iter()
        .filter(|(name, _)| !shared.weight_map.contains_key(*name))
        .map(|(name, t)| (name.clone(), t.clone()))
        .collect();
    write_atomic(&own_path, &safetensors_bytes(&own, half)?)?;
    let mut weight_map: BTreeMap<String, String> = shared.weight_map.clone();
    weight_map.extend(own.keys().map(|name| (name.clone(), OWN_SHARD.to_string())));
    let own_bytes: usize = own
        .values()
        .map(|t| t.elem_count() * if half { 2 } else { 4 })
        .sum();
    let json = serde_json::json!({
        "metadata": {"total_size": own_bytes + shared.bytes},
        "weight_map": weight_map,
    });
    let text = serde_json::to_string_pretty(&json).expect("JSON of an index") + "\n";
    write_atomic(&index, text.as_bytes())?;
    remove(&single)?;
    Ok(own_path)
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

/// Copies the tokenizer files the base folder has into `out`, with the
/// `model_max_length` of `tokenizer_config.json` lowered to `max_len`, the
/// length the model was trained on: `norsk classify` and `transformers`
/// then cut texts into windows of that length.
pub(crate) fn copy_tokenizer(base: &Path, out: &Path, max_len: usize) -> Result<(), TrainError> {
    for name in TOKENIZER_FILES {
        let from = base.join(name);
        if from.is_file() {
            let to = out.join(name);
            std::fs::copy(&from, &to).map_err(|e| TrainError::io("copy", &from, e))?;
        }
    }
    let path = out.join("tokenizer_config.json");
    let mut config = match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice::<Map<String, Value>>(&bytes)
            .map_err(|e| TrainError::io("parse", &path, e))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Map::new(),
        Err(e) => return Err(TrainError::io("read", &path, e)),
    };
    let base_max = config.get("model_max_length").and_then(Value::as_f64);
    if base_max.is_none_or(|n| n > max_len as f64) {
        config.insert("model_max_length".into(), Value::from(max_len));
    }
    let text = serde_json::to_string_pretty(&config).expect("JSON of a tokenizer config") + "\n";
    write_atomic(&path, text.as_bytes())
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
