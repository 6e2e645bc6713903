//! Every weight and tokenizer layout a Hugging Face folder may have loads into
//! the same model; broken folders give clear errors, never panics.

mod common;

use std::collections::HashMap;
use std::path::Path;

use candle_core::{Device, Tensor};
use common::{fixture, max_abs_diff, reference, single_input, u32s};
use norsk::{NerPipeline, NorskError, Precision};
use norsk_model::{load_weights, ModelError, TokenClassifier, WeightFiles};
use norsk_tokens::TextTokenizer;

const TEXT: &str = "Jens Stoltenberg møtte Erna Solberg i Oslo.";

fn logits_of(dir: &Path) -> Vec<f32> {
    let tokenizer = TextTokenizer::from_dir(dir).unwrap();
    let window = tokenizer.encode(TEXT).unwrap();
    let model = TokenClassifier::load(dir, Precision::F32).unwrap();
    let logits = model
        .forward(&single_input(&window.ids, &window.type_ids))
        .unwrap();
    logits.flatten_all().unwrap().to_vec1().unwrap()
}

/// A copy of tiny-ner's config and tokenizer in a fresh folder.
fn folder_like_tiny_ner() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "config.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "vocab.txt",
    ] {
        std::fs::copy(fixture("tiny-ner").join(name), dir.path().join(name)).unwrap();
    }
    dir
}

/// A full copy of tiny-ner, weights included, to break.
fn copy_of_tiny_ner() -> tempfile::TempDir {
    let dir = folder_like_tiny_ner();
    std::fs::copy(
        fixture("tiny-ner/model.safetensors"),
        dir.path().join("model.safetensors"),
    )
    .unwrap();
    dir
}

fn tiny_ner_tensors() -> HashMap<String, Tensor> {
    load_weights(
        &WeightFiles::find(&fixture("tiny-ner")).unwrap(),
        &Device::Cpu,
    )
    .unwrap()
}

fn edit_config(dir: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = dir.join("config.json");
    let mut config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    edit(&mut config);
    std::fs::write(&path, serde_json::to_vec_pretty(&config).unwrap()).unwrap();
}

#[test]
fn safetensors_sharded_and_pytorch_bin_give_identical_logits() {
    let base = logits_of(&fixture("tiny-ner"));
    for variant in ["tiny-ner-sharded", "tiny-ner-bin"] {
        let other = logits_of(&fixture(variant));
        assert_eq!(max_abs_diff(&base, &other), 0.0, "{variant}");
    }
}

#[test]
fn vocab_txt_builds_the_same_tokenizer_as_tokenizer_json() {
    let json = TextTokenizer::from_dir(&fixture("tiny-ner")).unwrap();
    let vocab = TextTokenizer::from_dir(&fixture("tiny-ner-bin")).unwrap();
    let reference = reference("ner_reference.json");
    for case in reference["cases"].as_array().unwrap() {
        let text = case["text"].as_str().unwrap();
        let a = json.encode(text).unwrap();
        let b = vocab.encode(text).unwrap();
        assert_eq!(a.ids, b.ids, "{text:?}");
        assert_eq!(a.offsets, b.offsets, "{text:?}");
        if case["logits"].is_array() {
            assert_eq!(b.ids, u32s(&case["input_ids"]), "{text:?}");
        }
    }
}

#[test]
fn legacy_names_and_missing_bert_prefix_load() {
    let dir = folder_like_tiny_ner();
    let renamed: HashMap<String, Tensor> = tiny_ner_tensors()
        .into_iter()
        .map(|(name, t)| {
            let name = name
                .trim_start_matches("bert.")
                .replace("LayerNorm.weight", "LayerNorm.gamma")
                .replace("LayerNorm.bias", "LayerNorm.beta");
            (name, t)
        })
        .collect();
    assert!(renamed.keys().any(|k| k.ends_with("LayerNorm.gamma")));
    candle_core::safetensors::save(&renamed, dir.path().join("model.safetensors")).unwrap();
    assert_eq!(
        max_abs_diff(&logits_of(&fixture("tiny-ner")), &logits_of(dir.path())),
        0.0
    );
}

fn load_error(dir: &Path) -> String {
    match NerPipeline::load(dir, Precision::F32) {
        Ok(_) => panic!("{} loaded but should not", dir.display()),
        Err(e) => norsk_io::error_message(&e),
    }
}

#[test]
fn truncated_safetensors_is_a_clear_error() {
    let dir = folder_like_tiny_ner();
    let bytes = std::fs::read(fixture("tiny-ner/model.safetensors")).unwrap();
    std::fs::write(
        dir.path().join("model.safetensors"),
        &bytes[..bytes.len() / 2],
    )
    .unwrap();
    let message = load_error(dir.path());
    assert!(message.contains("model.safetensors"), "{message}");
}

#[test]
fn missing_weights_name_what_is_expected() {
    let dir = folder_like_tiny_ner();
    let message = load_error(dir.path());
    assert!(message.contains("no weights"), "{message}");
}

#[test]
fn config_without_id2label_is_a_clear_error() {
    let dir = copy_of_tiny_ner();
    edit_config(dir.path(), |c| {
        c.as_object_mut().unwrap().remove("id2label");
        c.as_object_mut().unwrap().remove("label2id");
    });
    let message = load_error(dir.path());
    assert!(message.contains("id2label"), "{message}");
}

#[test]
fn label_count_disagreeing_with_weights_is_a_clear_error() {
    let dir = copy_of_tiny_ner();
    edit_config(dir.path(), |c| {
        c["id2label"].as_object_mut().unwrap().remove("18");
        c.as_object_mut().unwrap().remove("label2id");
    });
    match TokenClassifier::load(dir.path(), Precision::F32) {
        Err(ModelError::LabelMismatch { config, weights }) => {
            assert_eq!((config, weights), (18, 19));
        }
        Err(other) => panic!("wrong error: {other}"),
        Ok(_) => panic!("loaded a model whose labels disagree with its weights"),
    }
}

#[test]
fn unsupported_architecture_is_a_clear_error() {
    let dir = copy_of_tiny_ner();
    edit_config(dir.path(), |c| {
        c["architectures"] = serde_json::json!(["RobertaForTokenClassification"]);
    });
    let message = load_error(dir.path());
    assert!(
        message.contains("RobertaForTokenClassification"),
        "{message}"
    );
    edit_config(dir.path(), |c| {
        c["architectures"] = serde_json::json!(["BertForTokenClassification"]);
        c["model_type"] = serde_json::json!("deberta-v2");
    });
    let message = load_error(dir.path());
    assert!(message.contains("deberta-v2"), "{message}");
}

#[test]
fn missing_folder_and_missing_tokenizer_are_clear_errors() {
    let message = load_error(Path::new("/no/such/model"));
    assert!(!message.is_empty());
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixture("tiny-ner/config.json"),
        dir.path().join("config.json"),
    )
    .unwrap();
    let message = load_error(dir.path());
    assert!(
        message.contains("tokenizer") || message.contains("vocab"),
        "{message}"
    );
    assert!(matches!(
        norsk::ModelSource::parse("/no/such/model")
            .resolve(&norsk::HubOptions::new("/nonexistent/hub-cache")),
        Err(NorskError::NoModelDir(_))
    ));
}
