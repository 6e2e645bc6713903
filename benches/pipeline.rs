//! Criterion benchmarks of each stage on the shipped model, so regressions
//! show: tokenizing with offsets, the encoder at fixed shapes, span
//! decoding, and the whole batch pipeline on a real article.
//!
//! `cargo bench --bench pipeline`

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use norsk::bench::{BenchModel, Task};
use norsk::{Aggregation, NerOptions, NerPipeline, Precision};
use norsk_spans::{decode_window, softmax, PreEntity};
use norsk_tokens::WindowPlan;

fn shipped() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/norsk-bert-ner")
}

fn article() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/artikkel.txt");
    std::fs::read_to_string(path).expect("sample article")
}

fn tokenize(c: &mut Criterion) {
    let pipeline = NerPipeline::load(&shipped(), Precision::F32).unwrap();
    let text = article();
    let mut group = c.benchmark_group("tokenize");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("article windows with offsets", |b| {
        b.iter(|| {
            pipeline
                .tokenizer()
                .windows(
                    &text,
                    WindowPlan {
                        max_len: 128,
                        stride: Some(32),
                    },
                )
                .unwrap()
        })
    });
    group.finish();
}

fn encoder(c: &mut Criterion) {
    let mut group = c.benchmark_group("encoder");
    group.sample_size(10);
    for precision in Precision::ALL {
        let model = BenchModel::load(&shipped(), Task::Ner, precision).unwrap();
        for (batch, seq) in [(1, 128), (8, 128)] {
            let rows = model.synthetic_rows(batch, seq, 0);
            let refs: Vec<&[u32]> = rows.iter().map(Vec::as_slice).collect();
            group.throughput(Throughput::Elements((batch * seq) as u64));
            group.bench_with_input(
                BenchmarkId::new(precision.to_string(), format!("{batch}x{seq}")),
                &refs,
                |b, refs| b.iter(|| model.forward(refs).unwrap()),
            );
        }
    }
    group.finish();
}

fn decode(c: &mut Criterion) {
    let pipeline = NerPipeline::load(&shipped(), Precision::F32).unwrap();
    let text = article();
    let window = pipeline.tokenizer().encode(&text).unwrap();
    let labels = pipeline.labels().clone();
    // Fixed pseudo-logits: decoding cost does not depend on their values.
    let logits: Vec<Vec<f32>> = (0..window.len())
        .map(|i| {
            (0..labels.len())
                .map(|j| ((i * 7 + j * 13) % 11) as f32)
                .collect()
        })
        .collect();
    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Elements(window.len() as u64));
    for aggregation in [Aggregation::Simple, Aggregation::First, Aggregation::Max] {
        group.bench_function(aggregation.to_string(), |b| {
            b.iter(|| {
                let pre: Vec<PreEntity> = (0..window.len())
                    .filter(|&i| !window.special[i])
                    .map(|i| {
                        let (s, e) = window.offsets[i];
                        PreEntity::new(
                            &text,
                            window.tokens[i].clone(),
                            softmax(&logits[i]),
                            s,
                            e,
                            i,
                            false,
                        )
                    })
                    .collect();
                decode_window(&text, pre, &labels, aggregation, &["O".to_string()]).unwrap()
            })
        });
    }
    group.finish();
}

fn pipeline(c: &mut Criterion) {
    let pipeline = NerPipeline::load(&shipped(), Precision::F32).unwrap();
    let text = article();
    let texts: Vec<&str> = std::iter::repeat_n(text.as_str(), 8).collect();
    let mut group = c.benchmark_group("pipeline");
    group.sample_size(10);
    group.throughput(Throughput::Elements(texts.len() as u64));
    group.bench_function("8 articles, sentences batched by length", |b| {
        b.iter(|| pipeline.tag_batch(&texts, &NerOptions::default()).unwrap())
    });
    group.finish();
}

criterion_group!(benches, tokenize, encoder, decode, pipeline);
criterion_main!(benches);
