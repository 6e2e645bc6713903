use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use candle_core::safetensors::Load;
use candle_core::{Device, Tensor};
use safetensors::tensor::{Metadata, TensorInfo, TensorView};
use serde::Deserialize;

use crate::ModelError;

/// Where a model folder keeps its weights.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WeightFiles {
    /// One `model.safetensors`.
    Safetensors(PathBuf),
    /// Shards listed by `model.safetensors.index.json`.
    Sharded {
        index: PathBuf,
        shards: Vec<PathBuf>,
    },
    /// A PyTorch `pytorch_model.bin`, read without running any pickle code.
    PyTorch(PathBuf),
}

/// The weight file names, in the order they are looked for.
pub const WEIGHT_FILE_NAMES: [&str; 3] = [
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
];

#[derive(Deserialize)]
struct ShardIndex {
    weight_map: HashMap<String, String>,
}

impl WeightFiles {
    /// Finds the weights of a model folder.
    pub fn find(dir: &Path) -> Result<Self, ModelError> {
        let single = dir.join("model.safetensors");
        if single.is_file() {
            return Ok(Self::Safetensors(single));
        }
        let index = dir.join("model.safetensors.index.json");
        if index.is_file() {
            let shards = shard_names(&index)?
                .into_iter()
                .map(|name| dir.join(name))
                .collect();
            return Ok(Self::Sharded { index, shards });
        }
        let bin = dir.join("pytorch_model.bin");
        if bin.is_file() {
            return Ok(Self::PyTorch(bin));
        }
        Err(ModelError::MissingWeights {
            dir: dir.to_path_buf(),
        })
    }
}

/// The distinct shard file names an index refers to, sorted. A name is a
/// file of the model folder, or a [sibling shard](is_sibling_shard); any
/// other path is refused.
pub fn shard_names(index: &Path) -> Result<Vec<String>, ModelError> {
    let err = |reason: String| ModelError::Weights {
        path: index.to_path_buf(),
        reason,
    };
    let bytes = std::fs::read(index).map_err(|e| err(e.to_string()))?;
    let parsed: ShardIndex = serde_json::from_slice(&bytes).map_err(|e| err(e.to_string()))?;
    let mut names: Vec<String> = parsed.weight_map.into_values().collect();
    names.sort();
    names.dedup();
    for name in &names {
        if !(is_plain_file_name(name) || is_sibling_shard(name)) {
            return Err(err(format!(
                "shard name {name:?} is neither a file of the model folder nor ../FOLDER/FILE"
            )));
        }
    }
    Ok(names)
}

/// Whether a shard name is `../FOLDER/FILE`: a shard of a sibling model
/// folder, whose tensors this model shares (a classifier trained on a
/// frozen encoder refers to the encoder's shards instead of copying them).
/// `transformers` resolves such names in local folders the same way; a hub
/// repository cannot hold them.
pub fn is_sibling_shard(name: &str) -> bool {
    name.strip_prefix("../")
        .and_then(|rest| rest.split_once('/'))
        .is_some_and(|(folder, file)| is_plain_file_name(folder) && is_plain_file_name(file))
}

fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\'])
}

/// Loads every tensor of a model folder, with names normalised to
/// `transformers`' current BERT layout: encoder tensors under `bert.`,
/// heads (`classifier.`, `cls.`) at the top, and the legacy layer-norm names
/// `gamma`/`beta` renamed `weight`/`bias`.
pub fn load_weights(
    files: &WeightFiles,
    device: &Device,
) -> Result<HashMap<String, Tensor>, ModelError> {
    let raw: Vec<(String, Tensor)> = match files {
        WeightFiles::Safetensors(path) => read_safetensors(path, device)?,
        WeightFiles::Sharded { shards, .. } => {
            let mut all = Vec::new();
            for shard in shards {
                all.extend(read_safetensors(shard, device)?);
            }
            all
        }
        WeightFiles::PyTorch(path) => {
            candle_core::pickle::read_all(path).map_err(|e| ModelError::Weights {
                path: path.clone(),
                reason: e.to_string(),
            })?
        }
    };
    let has_prefix = raw.iter().any(|(name, _)| name.starts_with("bert."));
    Ok(raw
        .into_iter()
        .map(|(name, tensor)| (normalise_name(&name, has_prefix), tensor))
        .collect())
}

/// The tensors of a safetensors file, read one at a time: the header is
/// parsed and checked (offsets in order, sizes matching shapes and dtypes,
/// the file as long as the header says), then each tensor's bytes are read
/// into a buffer reused for the next. Peak memory is the tensors plus the
/// largest one, not the tensors plus the whole file, as reading the file
/// whole first (`candle_core::safetensors::load`) costs.
fn read_safetensors(path: &Path, device: &Device) -> Result<Vec<(String, Tensor)>, ModelError> {
    let err = |reason: String| ModelError::Weights {
        path: path.to_path_buf(),
        reason,
    };
    let mut file = std::fs::File::open(path).map_err(|e| err(e.to_string()))?;
    let file_len = file.metadata().map_err(|e| err(e.to_string()))?.len();
    let mut prefix = [0u8; 8];
    file.read_exact(&mut prefix)
        .map_err(|e| err(format!("no safetensors header: {e}")))?;
    let header_len = u64::from_le_bytes(prefix);
    if header_len > file_len.saturating_sub(8) || header_len > MAX_HEADER_BYTES {
        return Err(err(format!(
            "header of {header_len} bytes in a file of {file_len}"
        )));
    }
    let mut header = vec![0u8; header_len as usize];
    file.read_exact(&mut header)
        .map_err(|e| err(format!("header: {e}")))?;
    let metadata: Metadata =
        serde_json::from_slice(&header).map_err(|e| err(format!("header: {e}")))?;
    let mut infos: Vec<(String, &TensorInfo)> = metadata.tensors().into_iter().collect();
    infos.sort_by_key(|(_, info)| info.data_offsets);
    let data_len = infos.last().map_or(0, |(_, info)| info.data_offsets.1) as u64;
    if 8 + header_len + data_len != file_len {
        return Err(err(format!(
            "the header describes {data_len} bytes of tensors, the file holds {}",
            file_len - 8 - header_len
        )));
    }
    let mut buffer = Vec::new();
    let mut tensors = Vec::with_capacity(infos.len());
    for (name, info) in infos {
        let (start, end) = info.data_offsets;
        buffer.resize(end - start, 0);
        file.read_exact(&mut buffer)
            .map_err(|e| err(format!("{name}: {e}")))?;
        let tensor = TensorView::new(info.dtype, info.shape.clone(), &buffer)
            .map_err(|e| err(format!("{name}: {e}")))
            .and_then(|view| view.load(device).map_err(|e| err(format!("{name}: {e}"))))?;
        tensors.push((name, tensor));
    }
    Ok(tensors)
}

/// The largest safetensors header read (the format's own limit).
const MAX_HEADER_BYTES: u64 = 100_000_000;

fn normalise_name(name: &str, has_prefix: bool) -> String {
    let name = if let Some(stem) = name.strip_suffix(".gamma") {
        format!("{stem}.weight")
    } else if let Some(stem) = name.strip_suffix(".beta") {
        format!("{stem}.bias")
    } else {
        name.to_string()
    };
    let is_head = name.starts_with("classifier.") || name.starts_with("cls.");
    if has_prefix || is_head || name.starts_with("bert.") {
        name
    } else {
        format!("bert.{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sibling_shards_are_one_level_up_and_one_down() {
        assert!(is_sibling_shard(
            "../norsk-bert-ner/model-00001-of-00004.safetensors"
        ));
        for name in [
            "model-00001-of-00004.safetensors",
            "../../etc/passwd",
            "../a/b/c.safetensors",
            "../../a.safetensors",
            "../a/..",
            "/abs/a.safetensors",
            "..\\a\\b",
        ] {
            assert!(!is_sibling_shard(name), "{name}");
        }
    }

    #[test]
    fn an_index_may_not_leave_the_models_folder() {
        let dir = tempfile::tempdir().unwrap();
        let index = dir.path().join("model.safetensors.index.json");
        let write = |name: &str| {
            let json =
                serde_json::json!({"weight_map": {"bert.a": name, "bert.b": "own.safetensors"}});
            std::fs::write(&index, json.to_string()).unwrap();
        };
        write("../ner/model-1.safetensors");
        assert_eq!(
            shard_names(&index).unwrap(),
            ["../ner/model-1.safetensors", "own.safetensors"]
        );
        write("../../secret.safetensors");
        let err = shard_names(&index).unwrap_err().to_string();
        assert!(err.contains("../../secret.safetensors"), "{err}");
    }

    #[test]
    fn normalises_legacy_and_unprefixed_names() {
        assert_eq!(
            normalise_name("encoder.layer.0.output.LayerNorm.gamma", false),
            "bert.encoder.layer.0.output.LayerNorm.weight"
        );
        assert_eq!(
            normalise_name("embeddings.LayerNorm.beta", false),
            "bert.embeddings.LayerNorm.bias"
        );
        assert_eq!(
            normalise_name("classifier.weight", false),
            "classifier.weight"
        );
        assert_eq!(
            normalise_name("bert.pooler.dense.weight", true),
            "bert.pooler.dense.weight"
        );
    }
}
