//! A classifier made of a sentence-embedding model and a linear head over
//! its pooled, normalised vectors (as SetFit and sentence-transformers'
//! classification heads are), trained in minutes by `norsk train classify
//! --head-only`.
//!
//! A head folder holds [`HEAD_CONFIG`] (the encoder, the labels and how
//! articles are pooled) and [`HEAD_WEIGHTS`] (`weight` `[labels, dim]` and
//! `bias` `[labels]`, f32). The encoder is referred to, not copied.

use std::path::{Path, PathBuf};

use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};
use serde::{Deserialize, Serialize};

use crate::classify::ranked;
use crate::error::BoxError;
use crate::{
    Article, ClassifyArticles, ClassifyOptions, EmbedKind, EmbedOptions, Embedder, HubOptions,
    ModelSource, NorskError, Prediction,
};

/// The head's description in its folder.
pub const HEAD_CONFIG: &str = "norsk_head.json";
/// The head's weights in its folder.
pub const HEAD_WEIGHTS: &str = "head.safetensors";

/// What [`HEAD_CONFIG`] holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeadConfig {
    /// The embedding model: a folder (relative to the head's folder, or
    /// absolute) or a hub id.
    pub encoder: String,
    /// Label names in the order of the weights' rows.
    pub labels: Vec<String>,
    /// How the encoder's tokens become one vector: always `"mean"`, then
    /// L2-normalised, every window of a long article pooled weighted by its
    /// tokens.
    pub pooling: String,
    /// The e5 prompt the articles were embedded with: `query`, `passage` or
    /// `none`.
    pub kind: String,
    /// What training found (data, sizes, scores); written, never read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training: Option<serde_json::Value>,
}

/// Logits `W x + b` over a pooled vector `x`.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearHead {
    /// `[labels × dim]`, row-major.
    pub weight: Vec<f32>,
    /// One per label.
    pub bias: Vec<f32>,
}

impl LinearHead {
    /// The length of the vectors the head reads.
    pub fn dim(&self) -> usize {
        self.weight.len() / self.bias.len().max(1)
    }

    /// The logits of one vector.
    pub fn logits(&self, x: &[f32]) -> Vec<f32> {
        self.weight
            .chunks(self.dim().max(1))
            .zip(&self.bias)
            .map(|(row, b)| b + row.iter().zip(x).map(|(w, v)| w * v).sum::<f32>())
            .collect()
    }
}

/// Writes a head folder: [`HEAD_CONFIG`] and [`HEAD_WEIGHTS`].
pub fn save_head(dir: &Path, config: &HeadConfig, head: &LinearHead) -> Result<(), NorskError> {
    let bad = |path: &Path, source: BoxError| NorskError::Head {
        path: path.to_path_buf(),
        source,
    };
    if head.bias.len() != config.labels.len()
        || !head.weight.len().is_multiple_of(config.labels.len())
    {
        return Err(bad(dir, "weights and labels do not match".into()));
    }
    std::fs::create_dir_all(dir).map_err(|e| bad(dir, e.into()))?;
    let labels = head.bias.len();
    let (weight, bias) = (le_bytes(&head.weight), le_bytes(&head.bias));
    let weights = dir.join(HEAD_WEIGHTS);
    let view = |shape: Vec<usize>, data| {
        TensorView::new(Dtype::F32, shape, data).map_err(|e| bad(&weights, e.into()))
    };
    let tensors = [
        ("weight", view(vec![labels, head.dim()], &weight)?),
        ("bias", view(vec![labels], &bias)?),
    ];
    safetensors::serialize_to_file(tensors, None, &weights).map_err(|e| bad(&weights, e.into()))?;
    let path = dir.join(HEAD_CONFIG);
    let json = serde_json::to_string_pretty(config).map_err(|e| bad(&path, e.into()))?;
    std::fs::write(&path, json + "\n").map_err(|e| bad(&path, e.into()))
}

/// `values` as little-endian bytes, as safetensors stores f32.
fn le_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// An embedding model with a trained linear head.
pub struct HeadClassifier {
    embedder: Embedder,
    config: HeadConfig,
    head: LinearHead,
    kind: EmbedKind,
}

impl HeadClassifier {
    /// Whether `dir` is a head folder.
    pub fn is_head(dir: &Path) -> bool {
        dir.join(HEAD_CONFIG).is_file()
    }

    /// Loads a head folder and the encoder it names (a hub id is resolved
    /// through `hub`).
    pub fn load(
        dir: &Path,
        precision: norsk_model::Precision,
        hub: &HubOptions,
    ) -> Result<Self, NorskError> {
        let path = dir.join(HEAD_CONFIG);
        let bad = |path: &Path, source: BoxError| NorskError::Head {
            path: path.to_path_buf(),
            source,
        };
        let bytes = std::fs::read(&path).map_err(|e| bad(&path, e.into()))?;
        let config: HeadConfig =
            serde_json::from_slice(&bytes).map_err(|e| bad(&path, e.into()))?;
        let kind = EmbedKind::from_name(&config.kind).ok_or_else(|| {
            bad(
                &path,
                format!("kind {:?} is none of query, passage, none", config.kind).into(),
            )
        })?;
        if config.pooling != "mean" {
            return Err(bad(
                &path,
                format!("pooling {:?}: norsk pools by the mean only", config.pooling).into(),
            ));
        }
        let weights = dir.join(HEAD_WEIGHTS);
        let bytes = std::fs::read(&weights).map_err(|e| bad(&weights, e.into()))?;
        let tensors = SafeTensors::deserialize(&bytes).map_err(|e| bad(&weights, e.into()))?;
        let read = |name: &str| -> Result<Vec<f32>, NorskError> {
            let tensor = tensors
                .tensor(name)
                .map_err(|_| bad(&weights, format!("no tensor {name:?}").into()))?;
            if tensor.dtype() != Dtype::F32 {
                return Err(bad(
                    &weights,
                    format!("tensor {name:?} is {:?}, not F32", tensor.dtype()).into(),
                ));
            }
            Ok(tensor
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect())
        };
        let head = LinearHead {
            weight: read("weight")?,
            bias: read("bias")?,
        };
        let embedder = Embedder::load(&encoder_dir(dir, &config.encoder, hub)?, precision)?;
        if head.bias.len() != config.labels.len()
            || head.weight.len() != config.labels.len() * embedder.dim()
        {
            return Err(bad(
                &weights,
                format!(
                    "weights for {} labels of {} values each expected ({} labels, encoder width {})",
                    config.labels.len(),
                    embedder.dim(),
                    config.labels.len(),
                    embedder.dim()
                ).into(),
            ));
        }
        Ok(Self {
            embedder,
            config,
            head,
            kind,
        })
    }

    /// Label names in order.
    pub fn labels(&self) -> &[String] {
        &self.config.labels
    }
}

impl ClassifyArticles for HeadClassifier {
    /// Each article's labels, best first: a softmax over the head's logits,
    /// or with `multi_label` a sigmoid of each.
    fn classify_articles(
        &self,
        articles: &[Article],
        options: &ClassifyOptions,
    ) -> Result<Vec<Vec<Prediction>>, NorskError> {
        let embed = EmbedOptions {
            kind: self.kind,
            truncate: options.truncate,
            batch_size: options.batch_size,
        };
        let multi = options.multi_label.unwrap_or(false);
        Ok(self
            .embedder
            .embed_articles(articles, &embed)?
            .iter()
            .map(|vector| {
                let logits = self.head.logits(vector);
                let scores = if multi {
                    logits.iter().map(|&l| 1.0 / (1.0 + (-l).exp())).collect()
                } else {
                    norsk_spans::softmax(&logits)
                };
                ranked(&self.config.labels, &scores, options.top_k)
            })
            .collect())
    }
}

/// The folder of a head's encoder: relative to the head's folder when that
/// exists, else a folder or hub id as `--model` takes it.
fn encoder_dir(dir: &Path, encoder: &str, hub: &HubOptions) -> Result<PathBuf, NorskError> {
    let beside = dir.join(encoder);
    if beside.is_dir() {
        return Ok(beside);
    }
    ModelSource::parse(encoder).resolve(hub)
}

#[cfg(test)]
mod tests {
    use super::*;
    use norsk_model::Precision;

    /// No hub: every encoder of these tests lies beside its head.
    fn offline() -> HubOptions {
        HubOptions {
            offline: true,
            ..HubOptions::new("/nonexistent/hub-cache")
        }
    }

    fn config(encoder: &str) -> HeadConfig {
        HeadConfig {
            encoder: encoder.to_string(),
            labels: vec!["sport".into(), "kultur".into()],
            pooling: "mean".into(),
            kind: "passage".into(),
            training: None,
        }
    }

    #[test]
    fn a_saved_head_loads_and_scores_by_its_logits() {
        let dir = tempfile::tempdir().unwrap();
        let encoder = crate::test_fixture("tiny-cls");
        let dim = Embedder::load(&encoder, Precision::F32).unwrap().dim();
        let head = LinearHead {
            weight: (0..2 * dim).map(|i| ((i % 7) as f32 - 3.0) / 5.0).collect(),
            bias: vec![0.1, -0.2],
        };
        save_head(dir.path(), &config(encoder.to_str().unwrap()), &head).unwrap();
        let model = HeadClassifier::load(dir.path(), Precision::F32, &offline()).unwrap();
        assert_eq!(model.head, head);
        let article = [Article::untitled("Rosenborg vant 2-1 i går.")];
        let options = ClassifyOptions::default();
        let got = model
            .classify_articles(&article, &options)
            .unwrap()
            .remove(0);
        let vector = model
            .embedder
            .embed_articles(&article, &EmbedOptions::default())
            .unwrap()
            .remove(0);
        let want = norsk_spans::softmax(&head.logits(&vector));
        let best = usize::from(want[1] > want[0]);
        assert_eq!(got[0].label, ["sport", "kultur"][best]);
        assert!((got[0].score - want[best]).abs() < 1e-5);
    }

    #[test]
    fn a_head_that_does_not_fit_its_encoder_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let encoder = crate::test_fixture("tiny-cls");
        let head = LinearHead {
            weight: vec![0.0; 2 * 3],
            bias: vec![0.0; 2],
        };
        save_head(dir.path(), &config(encoder.to_str().unwrap()), &head).unwrap();
        let error = norsk_io::error_message(
            &HeadClassifier::load(dir.path(), Precision::F32, &offline())
                .err()
                .unwrap(),
        );
        assert!(error.contains("encoder width"), "{error}");

        let mut bad = config("nosuch-folder-beside");
        bad.kind = "document".into();
        std::fs::write(
            dir.path().join(HEAD_CONFIG),
            serde_json::to_string(&bad).unwrap(),
        )
        .unwrap();
        let error = norsk_io::error_message(
            &HeadClassifier::load(dir.path(), Precision::F32, &offline())
                .err()
                .unwrap(),
        );
        assert!(error.contains("document"), "{error}");
    }
}
