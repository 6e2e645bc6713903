//! The shipped embedding model gives, for each text, the vector that
//! transformers with sentence-transformers' mean pooling and normalisation
//! gives (`scripts/make_embed_fixture.py`): cosine ≥ 0.9999 in f32, the
//! same token ids, unit length.

mod common;

use common::{f32s, reference, u32s};
use norsk::{EmbedKind, EmbedOptions, Embedder, Precision};
use norsk_tokens::TextTokenizer;

const MIN_COSINE: f32 = 0.9999;

fn kind(name: &str) -> EmbedKind {
    match name {
        "query" => EmbedKind::Query,
        "passage" => EmbedKind::Passage,
        other => panic!("unknown kind {other}"),
    }
}

#[test]
fn shipped_embeddings_match_transformers_mean_pooling() {
    let reference = reference("embed_reference.json");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(reference["model"].as_str().expect("model folder"));
    let model = Embedder::load(&dir, Precision::F32).unwrap();
    let tokenizer = TextTokenizer::from_dir(&dir).unwrap();
    let cases = reference["cases"].as_array().unwrap();
    assert!(cases.len() >= 8);
    let mut lowest = f32::INFINITY;
    for kind_name in ["query", "passage"] {
        let chosen: Vec<_> = cases.iter().filter(|c| c["kind"] == kind_name).collect();
        let texts: Vec<&str> = chosen.iter().map(|c| c["text"].as_str().unwrap()).collect();
        let options = EmbedOptions {
            kind: kind(kind_name),
            ..Default::default()
        };
        let got = model.embed_batch(&texts, &options).unwrap();
        for (case, vector) in chosen.iter().zip(&got) {
            let text = case["text"].as_str().unwrap();
            let prompted = format!("{}{text}", case["prompt"].as_str().unwrap());
            let ids = tokenizer.encode(&prompted).unwrap().ids;
            assert_eq!(ids, u32s(&case["input_ids"]), "{text:?}");
            let want = f32s(&case["embedding"]);
            assert_eq!(vector.len(), want.len());
            let cosine: f32 = vector.iter().zip(&want).map(|(a, b)| a * b).sum();
            let norm: f32 = vector.iter().map(|v| v * v).sum::<f32>().sqrt();
            assert!((norm - 1.0).abs() < 1e-4, "{text:?}: norm {norm}");
            assert!(cosine >= MIN_COSINE, "{text:?}: cosine {cosine}");
            lowest = lowest.min(cosine);
        }
    }
    println!("{} texts, lowest cosine {lowest:.7}", cases.len());
}
