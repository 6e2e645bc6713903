use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use candle_core::safetensors::Load;
use candle_core::{DType, Device, Shape, Tensor};
use candle_nn::var_builder::SimpleBackend;
use candle_nn::VarBuilder;
use safetensors::tensor::{Dtype, Metadata, TensorInfo, TensorView};
use serde::Deserialize;

use crate::error::BoxError;
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
    let err = |source: BoxError| ModelError::Weights {
        path: index.to_path_buf(),
        source,
    };
    let bytes = std::fs::read(index).map_err(|e| err(e.into()))?;
    let parsed: ShardIndex = serde_json::from_slice(&bytes).map_err(|e| err(e.into()))?;
    let mut names: Vec<String> = parsed.weight_map.into_values().collect();
    names.sort();
    names.dedup();
    for name in &names {
        if !(is_plain_file_name(name) || is_sibling_shard(name)) {
            return Err(err(format!(
                "shard name {name:?} is neither a file of the model folder nor ../FOLDER/FILE"
            )
            .into()));
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
    let store = WeightStore::open(files)?;
    store
        .tensors
        .iter()
        .map(|(name, stored)| Ok((name.clone(), stored.load(device)?)))
        .collect()
}

/// The tensors of a model folder under the names [`load_weights`] gives
/// them, each read from its file only when it is asked for. A model built
/// from it ([`WeightStore::into_var_builder`]) holds one f32 tensor at a
/// time beside the copies it keeps (packed, int8, bf16), instead of every
/// tensor of the folder at once: the peak memory of loading is the model's
/// own size plus its largest tensor. PyTorch pickles are read whole.
pub struct WeightStore {
    tensors: HashMap<String, Stored>,
}

/// One tensor of a [`WeightStore`].
enum Stored {
    /// A safetensors tensor, not read yet.
    InFile {
        file: Arc<Mutex<std::fs::File>>,
        path: Arc<Path>,
        /// Its name in the file, for messages.
        name: String,
        info: TensorInfo,
        /// Where its bytes begin in the file.
        offset: u64,
    },
    /// A tensor read already.
    Loaded(Tensor),
}

impl WeightStore {
    /// Reads and checks the headers of a model folder's weight files (and a
    /// PyTorch pickle whole).
    pub fn open(files: &WeightFiles) -> Result<Self, ModelError> {
        let raw: Vec<(String, Stored)> = match files {
            WeightFiles::Safetensors(path) => index_safetensors(path)?,
            WeightFiles::Sharded { shards, .. } => {
                let mut all = Vec::new();
                for shard in shards {
                    all.extend(index_safetensors(shard)?);
                }
                all
            }
            WeightFiles::PyTorch(path) => read_pickle(path)
                .map_err(|source| ModelError::Weights {
                    path: path.clone(),
                    source,
                })?
                .into_iter()
                .map(|(name, tensor)| (name, Stored::Loaded(tensor)))
                .collect(),
        };
        let has_prefix = raw.iter().any(|(name, _)| name.starts_with("bert."));
        Ok(Self {
            tensors: raw
                .into_iter()
                .map(|(name, stored)| (normalise_name(&name, has_prefix), stored))
                .collect(),
        })
    }

    /// The shape of a tensor, without reading it.
    pub fn shape(&self, name: &str) -> Option<Vec<usize>> {
        self.tensors.get(name).map(|stored| match stored {
            Stored::InFile { info, .. } => info.shape.clone(),
            Stored::Loaded(tensor) => tensor.dims().to_vec(),
        })
    }

    /// A var builder that reads each tensor when a layer asks for it, in
    /// `dtype` on `device`.
    pub fn into_var_builder(self, dtype: DType, device: &Device) -> VarBuilder<'static> {
        VarBuilder::from_backend(Box::new(self), dtype, device.clone())
    }

    fn read(&self, name: &str, dtype: DType, device: &Device) -> candle_core::Result<Tensor> {
        let stored = self.tensors.get(name).ok_or_else(|| {
            candle_core::Error::CannotFindTensor {
                path: name.to_string(),
            }
            .bt()
        })?;
        stored
            .load(device)
            .map_err(candle_core::Error::wrap)?
            .to_dtype(dtype)
    }
}

impl SimpleBackend for WeightStore {
    fn get(
        &self,
        shape: Shape,
        name: &str,
        _: candle_nn::Init,
        dtype: DType,
        device: &Device,
    ) -> candle_core::Result<Tensor> {
        // Checked from the header, before any bytes are read.
        if let Some(found) = self.shape(name).filter(|found| found != shape.dims()) {
            Err(candle_core::Error::UnexpectedShape {
                msg: format!("shape mismatch for {name}"),
                expected: shape,
                got: found.into(),
            }
            .bt())?
        }
        self.read(name, dtype, device)
    }

    fn get_unchecked(
        &self,
        name: &str,
        dtype: DType,
        device: &Device,
    ) -> candle_core::Result<Tensor> {
        self.read(name, dtype, device)
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.tensors.contains_key(name)
    }
}

impl Stored {
    /// The tensor, read from its file if it is not in memory.
    fn load(&self, device: &Device) -> Result<Tensor, ModelError> {
        let (file, path, name, info, offset) = match self {
            Stored::Loaded(tensor) => return Ok(tensor.clone()),
            Stored::InFile {
                file,
                path,
                name,
                info,
                offset,
            } => (file, path, name, info, *offset),
        };
        let err = |source: BoxError| ModelError::Weights {
            path: path.to_path_buf(),
            source: format!("{name}: {source}").into(),
        };
        let (start, end) = info.data_offsets;
        let mut file = file
            .lock()
            .map_err(|_| err("the file's lock is poisoned".into()))?;
        file.seek(SeekFrom::Start(offset + start as u64))
            .map_err(|e| err(e.into()))?;
        let shape = info.shape.clone();
        // The common float types are read straight into the tensor's own
        // buffer (safetensors is little-endian), so that a large tensor (the
        // word embeddings) is never held twice; others go through a buffer.
        let direct = match info.dtype {
            _ if cfg!(target_endian = "big") => None,
            Dtype::F32 => Some(read_values::<f32>(&mut file, shape.clone(), device)),
            Dtype::F16 => Some(read_values::<half::f16>(&mut file, shape.clone(), device)),
            Dtype::BF16 => Some(read_values::<half::bf16>(&mut file, shape.clone(), device)),
            _ => None,
        };
        if let Some(tensor) = direct {
            return tensor.map_err(err);
        }
        let mut bytes = vec![0u8; end - start];
        file.read_exact(&mut bytes).map_err(|e| err(e.into()))?;
        TensorView::new(info.dtype, shape, &bytes)
            .map_err(|e| err(e.into()))?
            .load(device)
            .map_err(|e| err(e.into()))
    }
}

/// The tensors of a PyTorch checkpoint, read by candle. Its pickle reader
/// panics on some malformed files (an index past a short argument list,
/// found by fuzzing); that panic becomes this file's error instead of
/// ending the program.
fn read_pickle(path: &Path) -> Result<Vec<(String, Tensor)>, BoxError> {
    let read = std::panic::catch_unwind(|| candle_core::pickle::read_all(path));
    match read {
        Ok(tensors) => Ok(tensors?),
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(format!("a malformed PyTorch pickle (its reader failed: {message})").into())
        }
    }
}

/// Reads a tensor of `shape` from `file`'s position into a buffer of `T`
/// that becomes the tensor's own.
fn read_values<T: bytemuck::Pod + candle_core::WithDType>(
    file: &mut std::fs::File,
    shape: Vec<usize>,
    device: &Device,
) -> Result<Tensor, BoxError> {
    let mut values = vec![T::zeroed(); shape.iter().product()];
    file.read_exact(bytemuck::cast_slice_mut(&mut values))?;
    Ok(Tensor::from_vec(values, shape, device)?)
}

/// The tensors of a safetensors file, not read yet: the header is parsed
/// and checked (offsets in order, sizes matching shapes and dtypes, the file
/// as long as the header says). Reading the file whole instead
/// (`candle_core::safetensors::load`) costs its size in memory on top of
/// the tensors.
fn index_safetensors(path: &Path) -> Result<Vec<(String, Stored)>, ModelError> {
    let err = |source: BoxError| ModelError::Weights {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(|e| err(e.into()))?;
    let file_len = file.metadata().map_err(|e| err(e.into()))?.len();
    let mut prefix = [0u8; 8];
    file.read_exact(&mut prefix)
        .map_err(|e| err(format!("no safetensors header: {e}").into()))?;
    let header_len = u64::from_le_bytes(prefix);
    if header_len > file_len.saturating_sub(8) || header_len > MAX_HEADER_BYTES {
        return Err(err(format!(
            "header of {header_len} bytes in a file of {file_len}"
        )
        .into()));
    }
    let mut header = vec![0u8; header_len as usize];
    file.read_exact(&mut header)
        .map_err(|e| err(format!("header: {e}").into()))?;
    let metadata: Metadata =
        serde_json::from_slice(&header).map_err(|e| err(format!("header: {e}").into()))?;
    let mut infos: Vec<(String, &TensorInfo)> = metadata.tensors().into_iter().collect();
    infos.sort_by_key(|(_, info)| info.data_offsets);
    let data_len = infos.last().map_or(0, |(_, info)| info.data_offsets.1) as u64;
    if 8 + header_len + data_len != file_len {
        return Err(err(format!(
            "the header describes {data_len} bytes of tensors, the file holds {}",
            file_len - 8 - header_len
        )
        .into()));
    }
    let (file, path): (Arc<Mutex<std::fs::File>>, Arc<Path>) =
        (Arc::new(Mutex::new(file)), Arc::from(path));
    Ok(infos
        .into_iter()
        .map(|(name, info)| {
            let stored = Stored::InFile {
                file: file.clone(),
                path: path.clone(),
                name: name.clone(),
                info: info.clone(),
                offset: 8 + header_len,
            };
            (name, stored)
        })
        .collect())
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
        let err = norsk_io::error_message(&shard_names(&index).unwrap_err());
        assert!(err.contains("../../secret.safetensors"), "{err}");
    }

    /// Writes `tensors` (f32 and f16) to a safetensors file.
    fn write_safetensors(path: &Path, tensors: &[(&str, Tensor)]) {
        let tensors: HashMap<String, Tensor> = tensors
            .iter()
            .map(|(name, t)| (name.to_string(), t.clone()))
            .collect();
        candle_core::safetensors::save(&tensors, path).unwrap();
    }

    #[test]
    fn the_store_reads_each_tensor_only_when_asked_and_checks_its_shape() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.safetensors");
        let a = Tensor::new(&[[1f32, 2.0], [3.0, 4.0]], &Device::Cpu).unwrap();
        let b = Tensor::new(&[5f32, 6.0, 7.0], &Device::Cpu)
            .unwrap()
            .to_dtype(DType::F16)
            .unwrap();
        write_safetensors(&path, &[("a", a), ("b", b)]);
        let store = WeightStore::open(&WeightFiles::Safetensors(path.clone())).unwrap();
        assert_eq!(store.shape("bert.a"), Some(vec![2, 2]));
        // Change the file's bytes in place after the header was read (the
        // same layout, other values): only a store that reads when asked
        // sees the new values.
        let a = Tensor::new(&[[9f32, 8.0], [7.0, 6.0]], &Device::Cpu).unwrap();
        let b = Tensor::new(&[1f32, 2.0, 3.0], &Device::Cpu)
            .unwrap()
            .to_dtype(DType::F16)
            .unwrap();
        let other = dir.path().join("other.safetensors");
        write_safetensors(&other, &[("a", a), ("b", b)]);
        let bytes = std::fs::read(&other).unwrap();
        assert_eq!(bytes.len() as u64, std::fs::metadata(&path).unwrap().len());
        std::io::Write::write_all(
            &mut std::fs::OpenOptions::new().write(true).open(&path).unwrap(),
            &bytes,
        )
        .unwrap();
        let vb = store.into_var_builder(DType::F32, &Device::Cpu);
        let a = vb.get((2, 2), "bert.a").unwrap();
        assert_eq!(a.to_vec2::<f32>().unwrap(), [[9.0, 8.0], [7.0, 6.0]]);
        let b = vb.get(3, "bert.b").unwrap();
        assert_eq!(b.to_vec1::<f32>().unwrap(), [1.0, 2.0, 3.0]);
        let err = vb.get((4, 1), "bert.a").unwrap_err().to_string();
        assert!(err.contains("shape mismatch for bert.a"), "{err}");
        assert!(vb.get(1, "bert.c").is_err());
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
