//! A lexical channel: its files, and text to logits.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use safetensors::{Dtype, SafeTensors};
use serde::Deserialize;

use crate::{term_counts, LexicalError};

/// The channel's config in a model folder: labels, vocabulary and features.
pub const LEXICAL_CONFIG: &str = "norsk_lexical.json";
/// The channel's numbers in a model folder: `idf` (f32, one per term),
/// `weight` (f16 or f32, terms × labels) and `bias` (f32, one per label).
pub const LEXICAL_WEIGHTS: &str = "norsk_lexical.safetensors";

/// What `norsk_lexical.json` holds.
/// Other keys (how the weights were made) are read by people, not here.
#[derive(Debug, Deserialize)]
struct LexicalConfig {
    /// Always `"tfidf-linear"`.
    kind: String,
    /// Labels in the order of the weights' columns.
    labels: Vec<String>,
    /// The longest run of words taken as one term.
    max_ngram: usize,
    /// Whether a term's count `c` is taken as `1 + ln c`.
    sublinear_tf: bool,
    /// The terms; a term's position is its feature id.
    vocabulary: Vec<String>,
}

/// TF-IDF of words and word pairs through a linear layer: one logit per
/// label for a whole text, however long.
#[derive(Debug, Clone)]
pub struct LexicalChannel {
    labels: Vec<String>,
    max_ngram: usize,
    sublinear_tf: bool,
    index: HashMap<String, u32>,
    idf: Vec<f32>,
    /// Terms × labels, row-major: a term's weights are contiguous.
    weight: Vec<f32>,
    bias: Vec<f32>,
}

impl LexicalChannel {
    /// Whether `dir` holds a lexical channel.
    pub fn is_in(dir: &Path) -> bool {
        dir.join(LEXICAL_CONFIG).is_file()
    }

    /// Loads the channel of a model folder ([`LEXICAL_CONFIG`] and
    /// [`LEXICAL_WEIGHTS`]).
    pub fn load(dir: &Path) -> Result<Self, LexicalError> {
        let config_path = dir.join(LEXICAL_CONFIG);
        let config: LexicalConfig =
            serde_json::from_slice(&read(&config_path)?).map_err(|source| {
                LexicalError::Config {
                    path: config_path.clone(),
                    source,
                }
            })?;
        let invalid = |path: &Path, reason: String| LexicalError::Invalid {
            path: path.to_path_buf(),
            reason,
        };
        if config.kind != "tfidf-linear" {
            return Err(invalid(
                &config_path,
                format!("kind {:?} is not \"tfidf-linear\"", config.kind),
            ));
        }
        if config.labels.is_empty() || config.max_ngram == 0 {
            return Err(invalid(
                &config_path,
                "needs at least one label and max_ngram >= 1".into(),
            ));
        }
        let terms = config.vocabulary.len();
        let mut index = HashMap::with_capacity(terms);
        for (id, term) in config.vocabulary.into_iter().enumerate() {
            if index.insert(term, id as u32).is_some() {
                return Err(invalid(&config_path, format!("term {id} is a duplicate")));
            }
        }

        let weights_path = dir.join(LEXICAL_WEIGHTS);
        let bytes = read(&weights_path)?;
        let tensors = SafeTensors::deserialize(&bytes).map_err(|source| LexicalError::Weights {
            path: weights_path.clone(),
            source,
        })?;
        let labels = config.labels.len();
        let floats = |name: &str, len: usize| -> Result<Vec<f32>, LexicalError> {
            let view = tensors
                .tensor(name)
                .map_err(|_| invalid(&weights_path, format!("no tensor {name:?}")))?;
            let values = to_f32(view.dtype(), view.data())
                .ok_or_else(|| invalid(&weights_path, format!("{name:?} is not f16 or f32")))?;
            if values.len() != len {
                return Err(invalid(
                    &weights_path,
                    format!("{name:?} has {} values, expected {len}", values.len()),
                ));
            }
            Ok(values)
        };
        Ok(Self {
            idf: floats("idf", terms)?,
            weight: floats("weight", terms * labels)?,
            bias: floats("bias", labels)?,
            labels: config.labels,
            max_ngram: config.max_ngram,
            sublinear_tf: config.sublinear_tf,
            index,
        })
    }

    /// Label names in the order of [`logits`](Self::logits).
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// The number of terms the channel knows.
    pub fn terms(&self) -> usize {
        self.idf.len()
    }

    /// One logit per label for `text`: the bias plus the weights of the
    /// text's known terms, each weighted by its TF-IDF in the text's
    /// L2-normalised vector. A text with no known term gets the bias.
    pub fn logits(&self, text: &str) -> Vec<f32> {
        let counts = term_counts(text, self.max_ngram, |term| self.index.get(term).copied());
        let mut features: Vec<(u32, f32)> = counts
            .into_iter()
            .map(|(id, count)| {
                let tf = if self.sublinear_tf {
                    1.0 + (count as f32).ln()
                } else {
                    count as f32
                };
                (id, tf * self.idf[id as usize])
            })
            .collect();
        // A fixed order keeps the sums the same from run to run.
        features.sort_unstable_by_key(|&(id, _)| id);
        let norm = features.iter().map(|(_, x)| x * x).sum::<f32>().sqrt();
        let mut logits = self.bias.clone();
        if norm > 0.0 {
            let labels = self.labels.len();
            for (id, x) in features {
                let row = &self.weight[id as usize * labels..][..labels];
                for (logit, w) in logits.iter_mut().zip(row) {
                    *logit += x / norm * w;
                }
            }
        }
        logits
    }
}

fn read(path: &Path) -> Result<Vec<u8>, LexicalError> {
    std::fs::read(path).map_err(|source| LexicalError::Read {
        path: PathBuf::from(path),
        source,
    })
}

/// Little-endian f16 or f32 values as f32; `None` for another type.
fn to_f32(dtype: Dtype, data: &[u8]) -> Option<Vec<f32>> {
    match dtype {
        Dtype::F32 => Some(
            data.chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
        ),
        Dtype::F16 => Some(
            data.chunks_exact(2)
                .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use safetensors::tensor::TensorView;
    use serde_json::json;

    /// Writes a channel of two labels over `terms` into `dir`, with
    /// `weight` given per term and label, idf 1 and bias `[0.5, -0.5]`.
    fn write_channel(dir: &Path, terms: &[&str], weight: &[f32], config: serde_json::Value) {
        let mut config = config;
        config["vocabulary"] = json!(terms);
        std::fs::write(dir.join(LEXICAL_CONFIG), config.to_string()).unwrap();
        let idf: Vec<u8> = terms.iter().flat_map(|_| 1f32.to_le_bytes()).collect();
        let weight: Vec<u8> = weight.iter().flat_map(|w| w.to_le_bytes()).collect();
        let bias: Vec<u8> = [0.5f32, -0.5]
            .iter()
            .flat_map(|b| b.to_le_bytes())
            .collect();
        let tensors = [
            (
                "idf",
                TensorView::new(Dtype::F32, vec![terms.len()], &idf).unwrap(),
            ),
            (
                "weight",
                TensorView::new(Dtype::F32, vec![weight.len() / 8, 2], &weight).unwrap(),
            ),
            ("bias", TensorView::new(Dtype::F32, vec![2], &bias).unwrap()),
        ];
        safetensors::serialize_to_file(tensors, None, &dir.join(LEXICAL_WEIGHTS)).unwrap();
    }

    fn config() -> serde_json::Value {
        json!({"kind": "tfidf-linear", "labels": ["a", "b"], "max_ngram": 2, "sublinear_tf": true})
    }

    #[test]
    fn logits_are_the_bias_plus_normalised_tf_idf_times_weights() {
        let dir = tempfile::tempdir().unwrap();
        write_channel(
            dir.path(),
            &["toll", "lov", "lov om"],
            &[1.0, 0.0, 0.0, 2.0, 0.0, 4.0],
            config(),
        );
        let channel = LexicalChannel::load(dir.path()).unwrap();
        assert_eq!(channel.terms(), 3);
        // "toll" twice (tf 1 + ln 2), "lov" once, "lov om" once; "om" unknown.
        let tf_toll = 1.0 + 2f32.ln();
        let norm = (tf_toll * tf_toll + 2.0).sqrt();
        let got = channel.logits("Toll, toll: lov om");
        let want = [0.5 + tf_toll / norm, -0.5 + (2.0 + 4.0) / norm];
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-6, "{got:?} vs {want:?}");
        }
        assert_eq!(channel.logits("ingen kjente ord"), [0.5, -0.5]);
        assert_eq!(channel.logits(""), [0.5, -0.5]);
    }

    #[test]
    fn a_missing_weights_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(LEXICAL_CONFIG),
            json!({"kind": "tfidf-linear", "labels": ["a"], "max_ngram": 1, "sublinear_tf": true, "vocabulary": []})
                .to_string(),
        )
        .unwrap();
        let err = LexicalChannel::load(dir.path()).unwrap_err();
        assert!(matches!(err, LexicalError::Read { .. }), "{err}");
        assert!(err.to_string().contains(LEXICAL_WEIGHTS), "{err}");
    }

    #[test]
    fn a_config_that_is_not_a_channel_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(LEXICAL_CONFIG), "{\"kind\": ").unwrap();
        let err = LexicalChannel::load(dir.path()).unwrap_err();
        assert!(matches!(err, LexicalError::Config { .. }), "{err}");

        let mut other = config();
        other["kind"] = json!("naive-bayes");
        write_channel(dir.path(), &["lov"], &[1.0, 1.0], other);
        let err = LexicalChannel::load(dir.path()).unwrap_err();
        assert!(err.to_string().contains("naive-bayes"), "{err}");
    }

    #[test]
    fn weights_of_the_wrong_shape_or_duplicate_terms_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        // Two terms, but weights for one.
        write_channel(dir.path(), &["lov", "toll"], &[1.0, 1.0], config());
        let err = LexicalChannel::load(dir.path()).unwrap_err();
        assert!(
            err.to_string()
                .contains("\"weight\" has 2 values, expected 4"),
            "{err}"
        );

        write_channel(dir.path(), &["lov", "lov"], &[1.0; 4], config());
        let err = LexicalChannel::load(dir.path()).unwrap_err();
        assert!(err.to_string().contains("duplicate"), "{err}");
    }
}
