//! The invariants of model-folder loading, checked on arbitrary bytes: by
//! the `model_folder` fuzz target (`crates/norsk-model/fuzz`) and by the
//! regression tests that replay its seeds (`tests/fuzz_seeds.rs`). Not part
//! of the API.
//!
//! The input is a model folder in sections (a tag byte, a little-endian
//! `u16` length, the bytes): `config.json`, `model.safetensors`, the shard
//! index and two shards, a raw `pytorch_model.bin`, or the `data.pkl` and
//! storages of one, zipped here as PyTorch zips them, so that the pickle
//! itself is what varies. [`check_model_folder`] reads the config, finds and
//! loads the weights and loads both heads; everything must end in a value or
//! an error, never a panic, and a model that loads must run one window.

use candle_core::Device;
use std::io::Write;

use crate::{
    load_weights, BertConfig, EncoderInput, Precision, SequenceClassifier, TokenClassifier,
    WeightFiles,
};

/// The files a section's tag names (tags 6 and 7 build `pytorch_model.bin`).
const FILES: [&str; 6] = [
    "config.json",
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "model-00001-of-00002.safetensors",
    "model-00002-of-00002.safetensors",
];

/// The tag of a `data.pkl` section and of a storage section.
const PICKLE: u8 = 6;
const STORAGE: u8 = 7;

/// For the fuzz target, after libFuzzer's hook (which aborts on every
/// panic, even one that is caught): a panic of candle's pickle reader is
/// caught by [`crate::WeightStore::open`] and becomes the file's error, so
/// it does not abort; any other panic still does.
pub fn allow_caught_pickle_panics() {
    let abort = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let in_pickle_reader = info.location().is_some_and(|at| {
            at.file().contains("candle-core") && at.file().ends_with("pickle.rs")
        });
        if !in_pickle_reader {
            abort(info);
        }
    }));
}

/// The sections of `data`: `(tag, bytes)`, a short last one cut to what is
/// there.
pub fn sections(data: &[u8]) -> Vec<(u8, &[u8])> {
    let mut out = Vec::new();
    let mut rest = data;
    while let [tag, low, high, tail @ ..] = rest {
        let len = usize::from(u16::from_le_bytes([*low, *high])).min(tail.len());
        out.push((tag % 8, &tail[..len]));
        rest = &tail[len..];
    }
    out
}

/// Checks the invariants on `data`; panics when one fails.
pub fn check_model_folder(data: &[u8]) {
    let scratch = tempfile::tempdir().expect("a scratch folder");
    let path = scratch.path();
    let write = |name: &str, bytes: &[u8]| {
        std::fs::write(path.join(name), bytes).expect("a scratch file");
    };
    let mut pickle: Option<&[u8]> = None;
    let mut storages = Vec::new();
    for (tag, bytes) in sections(data) {
        match tag {
            PICKLE => pickle = Some(bytes),
            STORAGE => storages.push(bytes),
            _ => write(FILES[usize::from(tag)], bytes),
        }
    }
    if let Some(pickle) = pickle {
        write("pytorch_model.bin", &torch_zip(pickle, &storages));
    }
    if let Ok(config) = BertConfig::from_file(&path.join("config.json")) {
        let _ = config.architecture();
        let _ = config.labels();
        let _ = config.head_dim();
    }
    if let Ok(files) = WeightFiles::find(path) {
        let _ = load_weights(&files, &Device::Cpu);
    }
    let precision = if data.first().is_some_and(|b| b & 0x80 != 0) {
        Precision::Int8
    } else {
        Precision::F32
    };
    if let Ok(model) = TokenClassifier::load(path, precision) {
        if let Some(input) = window(model.config().max_position_embeddings) {
            let _ = model.forward(&input);
        }
    }
    if let Ok(model) = SequenceClassifier::load(path, precision) {
        if let Some(input) = window(model.config().max_position_embeddings) {
            let _ = model.forward(&input);
        }
    }
}

/// A window of a few ids that every vocabulary has (0 and 1), if the
/// model takes any position at all.
fn window(positions: usize) -> Option<EncoderInput> {
    let ids: Vec<u32> = (0..positions.min(4) as u32).map(|i| i % 2).collect();
    let types = vec![0; ids.len()];
    EncoderInput::from_rows(&[&ids], &[&types], 0, &Device::Cpu).ok()
}

/// A PyTorch checkpoint zip (`archive/data.pkl`, `archive/data/N`), stored
/// uncompressed as `torch.save` writes it.
fn torch_zip(pickle: &[u8], storages: &[&[u8]]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut add = |name: String, bytes: &[u8]| {
        zip.start_file(name, stored).expect("zip into memory");
        zip.write_all(bytes).expect("zip into memory");
    };
    add("archive/data.pkl".into(), pickle);
    add("archive/version".into(), b"3\n");
    for (i, bytes) in storages.iter().enumerate() {
        add(format!("archive/data/{i}"), bytes);
    }
    zip.finish().expect("zip into memory").into_inner()
}
