//! Few-shot classifiers in minutes: a softmax regression over frozen
//! sentence embeddings (computed once and cached), written as a head folder
//! that `norsk classify --model` loads ([`norsk::HeadClassifier`]).

use std::path::{Component, Path, PathBuf};
use std::time::Instant;

use norsk::{
    classification_report, save_head, Article, EmbedKind, EmbedOptions, Embedder, HeadConfig,
    LinearHead, Precision,
};
use serde::Serialize;

use crate::data::Rng;
use crate::embedding_cache::EmbeddingCache;
use crate::TrainError;

/// How a head is trained.
#[derive(Debug, Clone, PartialEq)]
pub struct HeadTrainConfig {
    /// L2 penalties tried; the one with the best dev macro-F1 is kept.
    pub l2: Vec<f32>,
    /// Full-batch Adam steps.
    pub steps: usize,
    /// Adam's learning rate.
    pub learning_rate: f32,
    /// Keep at most this many training examples per label (chosen by
    /// `seed`); `None` keeps all.
    pub per_label: Option<usize>,
    /// Seed of the per-label sample.
    pub seed: u64,
    /// The e5 prompt the articles are embedded with.
    pub kind: EmbedKind,
    /// Windows run through the encoder together.
    pub batch_size: usize,
    /// The precision the encoder embeds in (int8 is about twice as fast;
    /// each precision has its own cache entries).
    pub precision: Precision,
}

impl Default for HeadTrainConfig {
    fn default() -> Self {
        Self {
            l2: vec![1e-4, 1e-3, 1e-2],
            steps: 300,
            learning_rate: 0.05,
            per_label: None,
            seed: 42,
            kind: EmbedKind::Passage,
            batch_size: 16,
            precision: Precision::F32,
        }
    }
}

/// One labelled article.
#[derive(Debug, Clone, Copy)]
pub struct Example<'a> {
    /// The article (its title begins every window).
    pub article: Article<'a>,
    /// Its label.
    pub label: &'a str,
}

/// What [`train_head`] did, also written into the head's config.
#[derive(Debug, Clone, Serialize)]
pub struct HeadReport {
    /// Training examples used (after the per-label sample).
    pub train_examples: usize,
    /// Dev examples scored.
    pub dev_examples: usize,
    /// The labels, in the head's order.
    pub labels: Vec<String>,
    /// Dev accuracy and macro-F1 for each L2 penalty tried.
    pub tried: Vec<L2Score>,
    /// The penalty kept.
    pub l2: f32,
    /// Dev accuracy of the head kept.
    pub dev_accuracy: f64,
    /// Dev macro-F1 of the head kept.
    pub dev_macro_f1: f64,
    /// Seconds spent embedding (texts found in the cache cost none).
    pub embed_seconds: f64,
    /// Seconds spent fitting every penalty.
    pub fit_seconds: f64,
}

/// Dev scores of one L2 penalty.
#[derive(Debug, Clone, Serialize)]
pub struct L2Score {
    /// The penalty.
    pub l2: f32,
    /// Dev accuracy.
    pub accuracy: f64,
    /// Dev macro-F1.
    pub macro_f1: f64,
}

/// Trains a head over the embedding model in `encoder` and writes it to
/// `out`, which names the encoder as `encoder_name` (a hub id as given) or,
/// for a folder, by its path relative to `out`. Vectors are cached in
/// `cache_dir`; `progress` hears `(done, to_embed)` while embedding.
#[allow(clippy::too_many_arguments)]
pub fn train_head(
    encoder: &Path,
    encoder_name: Option<&str>,
    train: &[Example],
    dev: &[Example],
    config: &HeadTrainConfig,
    out: &Path,
    cache_dir: &Path,
    mut progress: impl FnMut(usize, usize),
) -> Result<HeadReport, TrainError> {
    if train.is_empty() {
        return Err(TrainError::NoTrainingData);
    }
    if dev.is_empty() {
        return Err(TrainError::NoDevData);
    }
    if config.l2.is_empty() || config.steps == 0 {
        return Err(TrainError::Config(
            "a head needs at least one L2 penalty and one step".into(),
        ));
    }
    let mut labels: Vec<String> = train.iter().map(|e| e.label.to_string()).collect();
    labels.sort();
    labels.dedup();
    if labels.len() < 2 {
        return Err(TrainError::TooFewLabels(labels));
    }
    let train = sample_per_label(train, config.per_label, config.seed);
    let embedder = Embedder::load(encoder, config.precision)?;
    let key = format!(
        "{}|{}|mean|{}",
        encoder
            .canonicalize()
            .unwrap_or_else(|_| encoder.to_path_buf())
            .display(),
        config.kind.name(),
        config.precision
    );
    let mut cache = EmbeddingCache::open(cache_dir, &key, embedder.dim())?;
    let options = EmbedOptions {
        kind: config.kind,
        truncate: false,
        batch_size: config.batch_size,
    };
    let started = Instant::now();
    let mut all: Vec<Article> = train.iter().map(|e| e.article).collect();
    all.extend(dev.iter().map(|e| e.article));
    let vectors = cache.embed(&embedder, &all, &options, &mut progress)?;
    let embed_seconds = started.elapsed().as_secs_f64();
    let (train_x, dev_x) = vectors.split_at(train.len());
    let index = |label: &str| labels.iter().position(|l| l == label);
    let train_y: Vec<usize> = train.iter().filter_map(|e| index(e.label)).collect();

    let started = Instant::now();
    let gold: Vec<&str> = dev.iter().map(|e| e.label).collect();
    let mut best: Option<(LinearHead, L2Score)> = None;
    let mut tried = Vec::new();
    for &l2 in &config.l2 {
        let head = fit_head(train_x, &train_y, labels.len(), l2, config);
        let predicted: Vec<&str> = dev_x
            .iter()
            .map(|x| labels[argmax(&head.logits(x))].as_str())
            .collect();
        let report = classification_report(&gold, &predicted);
        let score = L2Score {
            l2,
            accuracy: report.accuracy,
            macro_f1: report.macro_f1,
        };
        tried.push(score.clone());
        if best
            .as_ref()
            .is_none_or(|(_, b)| (score.macro_f1, score.accuracy) > (b.macro_f1, b.accuracy))
        {
            best = Some((head, score));
        }
    }
    let (head, score) = best.expect("at least one penalty");
    let report = HeadReport {
        train_examples: train.len(),
        dev_examples: dev.len(),
        labels: labels.clone(),
        tried,
        l2: score.l2,
        dev_accuracy: score.accuracy,
        dev_macro_f1: score.macro_f1,
        embed_seconds,
        fit_seconds: started.elapsed().as_secs_f64(),
    };
    let config = HeadConfig {
        encoder: encoder_name.map_or_else(|| relative_to(encoder, out), str::to_string),
        labels,
        pooling: "mean".into(),
        kind: config.kind.name().into(),
        training: Some(serde_json::to_value(&report).expect("a report serialises")),
    };
    save_head(out, &config, &head)?;
    Ok(report)
}

/// Softmax regression with an L2 penalty by full-batch Adam, on features
/// standardised per dimension (the embeddings of one model are close to one
/// another, so raw features would make the problem ill-conditioned); the
/// standardisation is folded into the returned weights.
pub fn fit_head(
    x: &[Vec<f32>],
    y: &[usize],
    classes: usize,
    l2: f32,
    config: &HeadTrainConfig,
) -> LinearHead {
    let dim = x.first().map_or(0, Vec::len);
    let n = x.len() as f32;
    let mean: Vec<f32> = (0..dim)
        .map(|d| x.iter().map(|v| v[d]).sum::<f32>() / n)
        .collect();
    let std: Vec<f32> = (0..dim)
        .map(|d| {
            let var = x.iter().map(|v| (v[d] - mean[d]).powi(2)).sum::<f32>() / n;
            var.sqrt().max(1e-6)
        })
        .collect();
    let z: Vec<Vec<f32>> = x
        .iter()
        .map(|v| (0..dim).map(|d| (v[d] - mean[d]) / std[d]).collect())
        .collect();

    let mut weight = vec![0f32; classes * dim];
    let mut bias = vec![0f32; classes];
    let mut adam = Adam::new(classes * dim + classes, config.learning_rate);
    for _ in 0..config.steps {
        let mut grad = vec![0f32; classes * dim + classes];
        let (grad_w, grad_b) = grad.split_at_mut(classes * dim);
        for (features, &label) in z.iter().zip(y) {
            let logits: Vec<f32> = weight
                .chunks(dim)
                .zip(&bias)
                .map(|(row, b)| b + dot(row, features))
                .collect();
            let probs = norsk_spans::softmax(&logits);
            for (c, p) in probs.iter().enumerate() {
                let g = (p - f32::from(u8::from(c == label))) / n;
                grad_b[c] += g;
                for (gw, f) in grad_w[c * dim..(c + 1) * dim].iter_mut().zip(features) {
                    *gw += g * f;
                }
            }
        }
        for (g, w) in grad_w.iter_mut().zip(&weight) {
            *g += l2 * w;
        }
        adam.step(&mut weight, &mut bias, &grad);
    }
    // Fold the standardisation in: w·(x − μ)/σ + b = (w/σ)·x + (b − Σ w μ/σ).
    for (row, b) in weight.chunks_mut(dim.max(1)).zip(&mut bias) {
        for d in 0..dim {
            row[d] /= std[d];
            *b -= row[d] * mean[d];
        }
    }
    LinearHead { weight, bias }
}

/// Adam over the weights and the bias as one parameter vector.
struct Adam {
    m: Vec<f32>,
    v: Vec<f32>,
    t: i32,
    learning_rate: f32,
}

impl Adam {
    fn new(size: usize, learning_rate: f32) -> Self {
        Self {
            m: vec![0.0; size],
            v: vec![0.0; size],
            t: 0,
            learning_rate,
        }
    }

    fn step(&mut self, weight: &mut [f32], bias: &mut [f32], grad: &[f32]) {
        const B1: f32 = 0.9;
        const B2: f32 = 0.999;
        self.t += 1;
        let (c1, c2) = (1.0 - B1.powi(self.t), 1.0 - B2.powi(self.t));
        for (i, p) in weight.iter_mut().chain(bias.iter_mut()).enumerate() {
            self.m[i] = B1 * self.m[i] + (1.0 - B1) * grad[i];
            self.v[i] = B2 * self.v[i] + (1.0 - B2) * grad[i] * grad[i];
            *p -= self.learning_rate * (self.m[i] / c1) / ((self.v[i] / c2).sqrt() + 1e-8);
        }
    }
}

/// At most `per_label` examples of each label, chosen by `seed`, in their
/// original order.
fn sample_per_label<'a>(
    examples: &[Example<'a>],
    per_label: Option<usize>,
    seed: u64,
) -> Vec<Example<'a>> {
    let Some(limit) = per_label else {
        return examples.to_vec();
    };
    let mut order: Vec<usize> = (0..examples.len()).collect();
    Rng::new(seed).shuffle(&mut order);
    let mut counts = std::collections::HashMap::new();
    let mut keep: Vec<usize> = order
        .into_iter()
        .filter(|&i| {
            let count = counts.entry(examples[i].label).or_insert(0);
            *count += 1;
            *count <= limit
        })
        .collect();
    keep.sort_unstable();
    keep.into_iter().map(|i| examples[i]).collect()
}

/// `path` as seen from the folder `from` (both made absolute), e.g.
/// `../norsk-e5-embed` for a sibling folder.
fn relative_to(path: &Path, from: &Path) -> String {
    let absolute = |p: &Path| {
        let p = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        p.components().fold(PathBuf::new(), |mut out, c| {
            match c {
                Component::ParentDir => {
                    out.pop();
                }
                Component::CurDir => {}
                other => out.push(other),
            }
            out
        })
    };
    let (path, from) = (absolute(path), absolute(from));
    let common = path
        .components()
        .zip(from.components())
        .take_while(|(a, b)| a == b)
        .count();
    let mut out = PathBuf::new();
    for _ in common..from.components().count() {
        out.push("..");
    }
    for part in path.components().skip(common) {
        out.push(part);
    }
    out.display().to_string()
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn argmax(values: &[f32]) -> usize {
    values
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map_or(0, |(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use norsk::{ClassifyArticles, ClassifyOptions, HeadClassifier};

    fn example<'a>(text: &'a str, label: &'a str) -> Example<'a> {
        Example {
            article: Article::untitled(text),
            label,
        }
    }

    #[test]
    fn a_head_separates_separable_points() {
        // Two clusters that differ in one coordinate only, on top of a large
        // shared offset (as embeddings of one model are).
        let x: Vec<Vec<f32>> = (0..40)
            .map(|i| {
                let side = if i % 2 == 0 { 0.02 } else { -0.02 };
                vec![0.9, 0.3 + side, 0.1 + (i as f32) * 1e-3]
            })
            .collect();
        let y: Vec<usize> = (0..40).map(|i| i % 2).collect();
        let head = fit_head(&x, &y, 2, 1e-3, &HeadTrainConfig::default());
        for (v, &label) in x.iter().zip(&y) {
            assert_eq!(argmax(&head.logits(v)), label);
        }
    }

    #[test]
    fn the_sample_keeps_at_most_n_per_label_in_order() {
        let examples: Vec<Example> = (0..30)
            .map(|i| example(["a", "b", "c"][i % 3], ["x", "y", "y"][i % 3]))
            .collect();
        let kept = sample_per_label(&examples, Some(4), 7);
        assert_eq!(kept.iter().filter(|e| e.label == "x").count(), 4);
        assert_eq!(kept.iter().filter(|e| e.label == "y").count(), 4);
        assert_eq!(sample_per_label(&examples, None, 7).len(), 30);
    }

    #[test]
    fn relative_paths_go_up_to_the_common_folder() {
        assert_eq!(
            relative_to(Path::new("/m/models/e5"), Path::new("/m/models/head")),
            "../e5"
        );
        assert_eq!(
            relative_to(Path::new("/m/models/e5"), Path::new("/tmp/x/../head")),
            "../../m/models/e5"
        );
    }

    /// Accuracy of the head in `out`, loaded as `classify` loads it, on `examples`.
    fn classify_accuracy(out: &Path, precision: Precision, examples: &[Example]) -> f64 {
        let model = HeadClassifier::load(
            out,
            precision,
            &norsk::HubOptions::new("/nonexistent/hub-cache"),
        )
        .unwrap();
        let articles: Vec<Article> = examples.iter().map(|e| e.article).collect();
        let got = model
            .classify_articles(&articles, &ClassifyOptions::default())
            .unwrap();
        let right = got
            .iter()
            .zip(examples)
            .filter(|(p, e)| p[0].label == e.label)
            .count();
        right as f64 / examples.len() as f64
    }

    #[test]
    fn each_precision_embeds_into_its_own_cache_and_its_head_agrees_with_classify() {
        let encoder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/tiny-cls");
        let dir = tempfile::tempdir().unwrap();
        let texts = [
            ("Rosenborg vant kampen 3-0.", "sport"),
            ("Konserten i Oslo var utsolgt.", "kultur"),
        ];
        let train: Vec<Example> = texts.iter().map(|&(t, l)| example(t, l)).collect();
        let cache = dir.path().join("cache");
        for (n, precision) in [Precision::F32, Precision::Int8].into_iter().enumerate() {
            let out = dir.path().join(format!("head-{precision}"));
            let config = HeadTrainConfig {
                precision,
                ..HeadTrainConfig::default()
            };
            let report = train_head(
                &encoder,
                None,
                &train,
                &train,
                &config,
                &out,
                &cache,
                |_, _| {},
            )
            .unwrap();
            assert_eq!(std::fs::read_dir(&cache).unwrap().count(), n + 1);
            let accuracy = classify_accuracy(&out, precision, &train);
            assert!((accuracy - report.dev_accuracy).abs() < 1e-9);
        }
    }

    #[test]
    fn a_trained_head_loads_in_classify_and_bad_settings_are_refused() {
        let encoder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/tiny-cls");
        let dir = tempfile::tempdir().unwrap();
        let texts = [
            ("Rosenborg vant kampen 3-0.", "sport"),
            ("Molde tapte på hjemmebane.", "sport"),
            ("Konserten i Oslo var utsolgt.", "kultur"),
            ("Ny roman fra Jon Fosse.", "kultur"),
        ];
        let train: Vec<Example> = texts.iter().map(|&(t, l)| example(t, l)).collect();
        let out = dir.path().join("head");
        let cache = dir.path().join("cache");
        let config = HeadTrainConfig::default();
        let report = train_head(
            &encoder,
            None,
            &train,
            &train,
            &config,
            &out,
            &cache,
            |_, _| {},
        )
        .unwrap();
        assert_eq!(report.labels, ["kultur", "sport"]);
        assert_eq!(report.tried.len(), 3);
        let accuracy = classify_accuracy(&out, Precision::F32, &train);
        assert!(
            (accuracy - report.dev_accuracy).abs() < 1e-9,
            "classify agrees with the training report"
        );

        let bad = HeadTrainConfig {
            l2: vec![],
            ..config
        };
        let error = train_head(
            &encoder,
            None,
            &train,
            &train,
            &bad,
            &out,
            &cache,
            |_, _| {},
        );
        assert!(matches!(error, Err(TrainError::Config(_))));
        let one_label = [example("a", "x"), example("b", "x")];
        let error = train_head(
            &encoder,
            None,
            &one_label,
            &train,
            &config,
            &out,
            &cache,
            |_, _| {},
        );
        assert!(matches!(error, Err(TrainError::TooFewLabels(_))));
    }
}
