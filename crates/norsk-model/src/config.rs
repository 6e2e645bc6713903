use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::error::BoxError;
use crate::ModelError;

/// Activation of the feed-forward block, as `config.json` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HiddenAct {
    /// Exact GELU (`erf`), BERT's default.
    Gelu,
    /// The tanh approximation of GELU.
    #[serde(alias = "gelu_pytorch_tanh", alias = "gelu_fast")]
    GeluNew,
    Relu,
}

/// Which head sits on top of the encoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Architecture {
    /// `BertModel`: the encoder alone.
    Encoder,
    /// `BertForTokenClassification`.
    TokenClassification,
    /// `BertForSequenceClassification`.
    SequenceClassification,
}

/// A BERT `config.json`, with the fields norsk uses and `transformers`' defaults.
#[derive(Debug, Clone, Deserialize)]
pub struct BertConfig {
    #[serde(default)]
    pub architectures: Vec<String>,
    #[serde(default = "default_model_type")]
    pub model_type: String,
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    #[serde(default = "default_act")]
    pub hidden_act: HiddenAct,
    #[serde(default = "default_max_positions")]
    pub max_position_embeddings: usize,
    #[serde(default = "default_type_vocab")]
    pub type_vocab_size: usize,
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
    #[serde(default)]
    pub pad_token_id: Option<u32>,
    #[serde(default = "default_position_type")]
    pub position_embedding_type: String,
    /// Label names by id, as `config.json` writes them (string keys).
    #[serde(default)]
    pub id2label: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub label2id: Option<BTreeMap<String, i64>>,
    /// `single_label_classification`, `multi_label_classification` or `regression`.
    #[serde(default)]
    pub problem_type: Option<String>,
    /// Set (`"norsk_sentence_context": true`) on token classifiers trained on
    /// runs of consecutive sentences rather than on sentences alone, so that
    /// each sentence is best tagged together with its neighbours.
    #[serde(default)]
    pub norsk_sentence_context: bool,
    /// How a token classifier's tokens are best grouped into words
    /// (`"first"`, `"average"`, `"max"`…, transformers' aggregation
    /// strategy names); unset means `first`.
    #[serde(default)]
    pub norsk_aggregation: Option<String>,
    /// How a token classifier's labels are best chosen (`"constrained"` or
    /// `"argmax"`, norsk's `LabelDecoding`); unset means argmax.
    #[serde(default)]
    pub norsk_decoding: Option<String>,
}

fn default_model_type() -> String {
    "bert".into()
}
fn default_act() -> HiddenAct {
    HiddenAct::Gelu
}
fn default_max_positions() -> usize {
    512
}
fn default_type_vocab() -> usize {
    2
}
fn default_eps() -> f64 {
    1e-12
}
fn default_position_type() -> String {
    "absolute".into()
}

impl BertConfig {
    /// Reads and checks `config.json`.
    pub fn from_file(path: &Path) -> Result<Self, ModelError> {
        let err = |source: BoxError| ModelError::Config {
            path: path.to_path_buf(),
            source,
        };
        let bytes = std::fs::read(path).map_err(|e| err(e.into()))?;
        let config: BertConfig = serde_json::from_slice(&bytes).map_err(|e| err(e.into()))?;
        config.check().map_err(|reason| err(reason.into()))?;
        Ok(config)
    }

    fn check(&self) -> Result<(), String> {
        if !matches!(self.model_type.as_str(), "bert") {
            return Err(format!(
                "model_type {:?} is not supported (norsk runs BERT models)",
                self.model_type
            ));
        }
        if self.position_embedding_type != "absolute" {
            return Err(format!(
                "position_embedding_type {:?} is not supported (only \"absolute\")",
                self.position_embedding_type
            ));
        }
        if self.num_attention_heads == 0
            || !self.hidden_size.is_multiple_of(self.num_attention_heads)
        {
            return Err(format!(
                "hidden_size {} is not a multiple of num_attention_heads {}",
                self.hidden_size, self.num_attention_heads
            ));
        }
        Ok(())
    }

    /// The head named by `architectures` (the first entry).
    pub fn architecture(&self) -> Result<Architecture, ModelError> {
        match self.architectures.first().map(String::as_str) {
            None | Some("BertModel") | Some("BertForMaskedLM") | Some("BertForPreTraining") => {
                Ok(Architecture::Encoder)
            }
            Some("BertForTokenClassification") => Ok(Architecture::TokenClassification),
            Some("BertForSequenceClassification") => Ok(Architecture::SequenceClassification),
            Some(other) => Err(ModelError::Unsupported {
                found: other.to_string(),
                expected: "BertModel, BertForTokenClassification or BertForSequenceClassification"
                    .into(),
            }),
        }
    }

    /// Label names in id order. Every id from 0 to n-1 must be present.
    pub fn labels(&self) -> Result<Vec<String>, String> {
        let map = self
            .id2label
            .as_ref()
            .ok_or("config has no id2label: a classification model needs its label names")?;
        let mut names = vec![None; map.len()];
        for (id, name) in map {
            let i: usize = id
                .parse()
                .map_err(|_| format!("id2label key {id:?} is not a number"))?;
            let slot = names
                .get_mut(i)
                .ok_or_else(|| format!("id2label ids must be 0..{}, found {i}", map.len()))?;
            *slot = Some(name.clone());
        }
        names
            .into_iter()
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| "id2label names the same id twice".to_string())
    }

    /// Width of one attention head.
    pub fn head_dim(&self) -> usize {
        self.hidden_size / self.num_attention_heads
    }
}
