//! The reduced precisions stay close to f32 on the shipped NER model: real
//! weights, real Norwegian text (`tests/data/artikkel.txt`). The bounds are on
//! what a user sees: the logits' distance from f32, relative to their spread,
//! and the share of tokens whose best label changes. (Entity F1 on NorNE dev
//! per precision is measured with `norsk eval ner --precision …`; see the
//! README.)

mod common;

use std::path::PathBuf;

use common::single_input;
use norsk::Precision;
use norsk_model::TokenClassifier;
use norsk_tokens::{TextTokenizer, WindowPlan};

fn shipped() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/norsk-bert-ner")
}

/// Token ids of the sample article's windows.
fn windows() -> Vec<Vec<u32>> {
    let text = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/artikkel.txt"),
    )
    .unwrap();
    let tokenizer = TextTokenizer::from_dir(&shipped()).unwrap();
    let plan = WindowPlan {
        max_len: 128,
        stride: Some(32),
    };
    let windows = tokenizer.windows(&text, plan).unwrap();
    windows.into_iter().take(4).map(|w| w.ids).collect()
}

/// Logits of every window, `[tokens][labels]`.
fn logits(precision: Precision, windows: &[Vec<u32>]) -> Vec<Vec<f32>> {
    let model = TokenClassifier::load(&shipped(), precision).unwrap();
    windows
        .iter()
        .flat_map(|ids| {
            let types = vec![0; ids.len()];
            let logits = model.forward(&single_input(ids, &types)).unwrap();
            logits.squeeze(0).unwrap().to_vec2::<f32>().unwrap()
        })
        .collect()
}

fn argmax(row: &[f32]) -> usize {
    (0..row.len())
        .max_by(|&a, &b| row[a].total_cmp(&row[b]))
        .unwrap()
}

/// Checks `precision` against f32: the largest logit difference as a share
/// of the f32 logits' spread, and the share of tokens with a changed label.
fn assert_close(precision: Precision, max_relative: f32, max_changed: f32) {
    let windows = windows();
    let reference = logits(Precision::F32, &windows);
    let reduced = logits(precision, &windows);
    assert_eq!(reference.len(), reduced.len());
    let (lo, hi) = reference
        .iter()
        .flatten()
        .fold((f32::MAX, f32::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    let worst = reference
        .iter()
        .flatten()
        .zip(reduced.iter().flatten())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    let changed = reference
        .iter()
        .zip(&reduced)
        .filter(|(a, b)| argmax(a) != argmax(b))
        .count() as f32
        / reference.len() as f32;
    let relative = worst / (hi - lo);
    eprintln!(
        "{precision}: {} tokens, max |Δlogit| {worst:.4} ({relative:.4} of the spread {:.2}), {:.2} % labels changed",
        reference.len(),
        hi - lo,
        changed * 100.0
    );
    assert!(reference.len() > 300, "too few tokens compared");
    assert!(
        relative <= max_relative,
        "{precision}: relative difference {relative}"
    );
    assert!(
        changed <= max_changed,
        "{precision}: {changed} of labels changed"
    );
}

#[test]
fn int8_logits_stay_close_to_f32() {
    // Measured: 0.075 of the spread at worst, 1 label of 512 changed.
    assert_close(Precision::Int8, 0.1, 0.01);
}

#[test]
fn bf16_logits_stay_close_to_f32() {
    // Measured: 0.011 of the spread at worst, 1 label of 512 changed.
    assert_close(Precision::Bf16, 0.05, 0.01);
}
