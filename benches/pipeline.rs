//! Criterion benchmarks of each stage on the shipped model, so regressions
//! show: tokenizing with offsets, the encoder at fixed shapes, span
//! decoding, the whole batch pipeline on a real article, and batch
//! classification of real passages batched by length against a loop that
//! pads every window to the full window length.
//!
//! `cargo bench --bench pipeline`

use std::path::PathBuf;

use candle_core::Device;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use norsk::bench::{BenchModel, Task};
use norsk::{Aggregation, Classifier, ClassifyOptions, NerOptions, NerPipeline, Precision};
use norsk_model::{EncoderInput, SequenceClassifier};
use norsk_spans::{decode_window, softmax, LabelDecoding, PreEntity};
use norsk_tokens::{TextTokenizer, Window, WindowPlan};

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
                decode_window(
                    &text,
                    pre,
                    &labels,
                    aggregation,
                    LabelDecoding::Argmax,
                    &["O".to_string()],
                )
                .unwrap()
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

/// The first passages of the laws data's dev split (real texts of 40–755
/// words), when `../shared/data` is there.
fn passages(count: usize) -> Option<Vec<String>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/norwegian_laws_ministry/laws_chunks.jsonl.xz");
    let dev = [("split".to_string(), "dev".to_string())];
    let records = norsk_io::read_labelled(&path, "text", "label", &dev).ok()?;
    Some(
        records
            .into_iter()
            .take(count)
            .map(|(text, _)| text)
            .collect(),
    )
}

fn classify(c: &mut Criterion) {
    let Some(texts) = passages(24) else {
        eprintln!("classify: ../shared/data/norwegian_laws_ministry not found, skipped");
        return;
    };
    let topic = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/norsk-topic");
    let classifier = Classifier::load(&topic, Precision::F32).unwrap();
    let tokenizer = TextTokenizer::from_dir(&topic).unwrap();
    let model = SequenceClassifier::load(&topic, Precision::F32).unwrap();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let options = ClassifyOptions::default();
    // The windows classify_batch makes (model_max_length 128, a quarter
    // overlap), run in input order, each padded to the full window.
    let plan = WindowPlan {
        max_len: 128,
        stride: Some(32),
    };
    let windows: Vec<Window> = refs
        .iter()
        .flat_map(|t| tokenizer.windows(t, plan).unwrap())
        .collect();
    let mut group = c.benchmark_group("classify");
    group.sample_size(10);
    group.throughput(Throughput::Elements(texts.len() as u64));
    group.bench_function("24 passages, batches by length", |b| {
        b.iter(|| classifier.classify_batch(&refs, &options).unwrap())
    });
    group.bench_function("24 passages, every window padded to 128", |b| {
        b.iter(|| {
            for batch in windows.chunks(options.batch_size) {
                let ids: Vec<&[u32]> = batch.iter().map(|w| w.ids.as_slice()).collect();
                let types: Vec<&[u32]> = batch.iter().map(|w| w.type_ids.as_slice()).collect();
                let pad = tokenizer.pad_id();
                let input =
                    EncoderInput::padded_to(&ids, &types, pad, plan.max_len, &Device::Cpu).unwrap();
                model.forward(&input).unwrap();
            }
        })
    });
    group.finish();
}

criterion_group!(benches, tokenize, encoder, decode, pipeline, classify);
criterion_main!(benches);
