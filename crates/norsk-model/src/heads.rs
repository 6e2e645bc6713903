use std::collections::HashMap;
use std::path::Path;

use candle_core::{Device, Module, Tensor};
use candle_nn::{Linear, VarBuilder};

use crate::{
    load_weights, Architecture, BertConfig, BertEncoder, EncoderInput, ModelError, Precision,
    WeightFiles,
};

/// A loaded model folder: config, encoder and the classifier weights.
struct Loaded {
    config: BertConfig,
    labels: Vec<String>,
    encoder: BertEncoder,
    classifier: Linear,
}

impl Loaded {
    fn from_dir(dir: &Path, precision: Precision, want: Architecture) -> Result<Self, ModelError> {
        let config = BertConfig::from_file(&dir.join("config.json"))?;
        let tensors = load_weights(&WeightFiles::find(dir)?, &Device::Cpu)?;
        Self::from_parts(config, tensors, precision, want, dir)
    }

    fn from_parts(
        config: BertConfig,
        tensors: HashMap<String, Tensor>,
        precision: Precision,
        want: Architecture,
        dir: &Path,
    ) -> Result<Self, ModelError> {
        let found = config.architecture()?;
        if found != want && found != Architecture::Encoder {
            return Err(ModelError::Unsupported {
                found: config.architectures.join(", "),
                expected: format!("{want:?}"),
            });
        }
        let labels = config.labels().map_err(|reason| ModelError::Config {
            path: dir.join("config.json"),
            reason,
        })?;
        let weights = tensors.get("classifier.weight").ok_or_else(|| {
            ModelError::Shape("no classifier.weight: the model has no classification head".into())
        })?;
        let (outputs, hidden) = weights.dims2()?;
        if outputs != labels.len() {
            return Err(ModelError::LabelMismatch {
                config: labels.len(),
                weights: outputs,
            });
        }
        if hidden != config.hidden_size {
            return Err(ModelError::Shape(format!(
                "classifier.weight is [{outputs}, {hidden}] but hidden_size is {}",
                config.hidden_size
            )));
        }
        let vb = VarBuilder::from_tensors(tensors, precision.dtype(), &Device::Cpu);
        let encoder = BertEncoder::load(vb.pp("bert"), &config)?;
        let classifier = candle_nn::linear(config.hidden_size, labels.len(), vb.pp("classifier"))
            .map_err(|e| ModelError::Shape(e.to_string()))?;
        Ok(Self {
            config,
            labels,
            encoder,
            classifier,
        })
    }
}

/// `BertForTokenClassification`: one score per label for every token.
pub struct TokenClassifier {
    inner: Loaded,
}

impl TokenClassifier {
    /// Loads a token-classification model folder (`config.json` + weights).
    pub fn load(dir: &Path, precision: Precision) -> Result<Self, ModelError> {
        Loaded::from_dir(dir, precision, Architecture::TokenClassification)
            .map(|inner| Self { inner })
    }

    /// Logits `[batch, seq, labels]`, always f32.
    pub fn forward(&self, input: &EncoderInput) -> Result<Tensor, ModelError> {
        let hidden = self.inner.encoder.forward(input)?;
        let logits = self.inner.classifier.forward(&hidden)?;
        Ok(logits.to_dtype(candle_core::DType::F32)?)
    }

    /// Label names in id order.
    pub fn labels(&self) -> &[String] {
        &self.inner.labels
    }

    /// The model's config.
    pub fn config(&self) -> &BertConfig {
        &self.inner.config
    }
}

/// `BertForSequenceClassification`: one score per label for every sequence.
pub struct SequenceClassifier {
    inner: Loaded,
}

impl SequenceClassifier {
    /// Loads a sequence-classification model folder (`config.json` + weights).
    pub fn load(dir: &Path, precision: Precision) -> Result<Self, ModelError> {
        Loaded::from_dir(dir, precision, Architecture::SequenceClassification)
            .map(|inner| Self { inner })
    }

    /// Logits `[batch, labels]`, always f32.
    pub fn forward(&self, input: &EncoderInput) -> Result<Tensor, ModelError> {
        let hidden = self.inner.encoder.forward(input)?;
        let pooled = self.inner.encoder.pool(&hidden)?;
        let logits = self.inner.classifier.forward(&pooled)?;
        Ok(logits.to_dtype(candle_core::DType::F32)?)
    }

    /// Label names in id order.
    pub fn labels(&self) -> &[String] {
        &self.inner.labels
    }

    /// The model's config.
    pub fn config(&self) -> &BertConfig {
        &self.inner.config
    }
}

/// Loads the bare encoder of any BERT model folder (`BertModel`, or the
/// encoder under a head), for hidden states.
pub fn load_encoder(
    dir: &Path,
    precision: Precision,
) -> Result<(BertConfig, BertEncoder), ModelError> {
    let config = BertConfig::from_file(&dir.join("config.json"))?;
    let tensors = load_weights(&WeightFiles::find(dir)?, &Device::Cpu)?;
    let vb = VarBuilder::from_tensors(tensors, precision.dtype(), &Device::Cpu);
    let encoder = BertEncoder::load(vb.pp("bert"), &config)?;
    Ok((config, encoder))
}
