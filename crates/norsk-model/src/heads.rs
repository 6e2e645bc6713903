use std::path::Path;

use candle_core::{Device, Module, Tensor};
use candle_nn::{Init, Linear, VarBuilder};

use crate::{
    Architecture, BertConfig, BertEncoder, Dropout, EncoderInput, Mode, ModelError, Precision,
    WeightFiles, WeightStore,
};

/// The standard deviation of fresh head weights (BERT's `initializer_range`).
const HEAD_INIT_STD: f64 = 0.02;

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
        let weights = WeightStore::open(&WeightFiles::find(dir)?)?;
        let found = config.architecture()?;
        if found != want && found != Architecture::Encoder {
            return Err(ModelError::Unsupported {
                found: config.architectures.join(", "),
                expected: format!("{want:?}"),
            });
        }
        let labels = config.labels().map_err(|reason| ModelError::Config {
            path: dir.join("config.json"),
            source: reason.into(),
        })?;
        let (outputs, hidden) = match weights.shape("classifier.weight").as_deref() {
            Some(&[outputs, hidden]) => (outputs, hidden),
            Some(other) => {
                return Err(ModelError::Shape(format!(
                    "classifier.weight has shape {other:?}, not [labels, hidden]"
                )))
            }
            None => {
                return Err(ModelError::Shape(
                    "no classifier.weight: the model has no classification head".into(),
                ))
            }
        };
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
        let vb = weights.into_var_builder(precision.dtype(), &Device::Cpu);
        Self::from_vb(vb, config, labels, precision.inference_mode())
    }

    /// Builds the encoder (under `bert.`) and the classifier from a var
    /// builder rooted at the model's top.
    fn from_vb(
        vb: VarBuilder,
        config: BertConfig,
        labels: Vec<String>,
        mode: Mode,
    ) -> Result<Self, ModelError> {
        let encoder = BertEncoder::load_with(vb.pp("bert"), &config, mode)?;
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
        let _op = tracing::trace_span!("head").entered();
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

    /// A trainable classifier (see [`Mode::Trainable`]) over a var builder
    /// rooted at the model's top: the encoder under `bert.`, the head as
    /// `classifier.weight` / `classifier.bias`.
    ///
    /// With a `VarMap`-backed builder, a missing head is created fresh:
    /// `classifier.weight` and, when the base has no pooler,
    /// `bert.pooler.dense.weight` from normal(0, 0.02), biases 0 (as
    /// `transformers` initialises them). Those draws use candle's unseeded
    /// generator; insert the variables into the `VarMap` beforehand for a
    /// repeatable start. Other backends must hold every tensor.
    pub fn load_trainable(
        vb: VarBuilder,
        config: BertConfig,
        labels: Vec<String>,
    ) -> Result<Self, ModelError> {
        let shape_err = |e: candle_core::Error| ModelError::Shape(e.to_string());
        let (h, n) = (config.hidden_size, labels.len());
        if n == 0 {
            return Err(ModelError::Shape(
                "a classifier needs at least one label".into(),
            ));
        }
        let fresh = |vb: &VarBuilder, shape: (usize, usize)| -> Result<(), ModelError> {
            vb.get_with_hints(
                shape,
                "weight",
                Init::Randn {
                    mean: 0.0,
                    stdev: HEAD_INIT_STD,
                },
            )
            .map_err(shape_err)?;
            vb.get_with_hints(shape.0, "bias", Init::Const(0.0))
                .map_err(shape_err)?;
            Ok(())
        };
        let pooler = vb.pp("bert").pp("pooler").pp("dense");
        if !pooler.contains_tensor("weight") {
            fresh(&pooler, (h, h))?;
        }
        fresh(&vb.pp("classifier"), (n, h))?;
        Loaded::from_vb(vb, config, labels, Mode::Trainable).map(|inner| Self { inner })
    }

    /// Logits `[batch, labels]`, always f32, without dropout.
    pub fn forward(&self, input: &EncoderInput) -> Result<Tensor, ModelError> {
        let hidden = self.inner.encoder.forward(input)?;
        let pooled = self.inner.encoder.pool(&hidden)?;
        let _op = tracing::trace_span!("head").entered();
        let logits = self.inner.classifier.forward(&pooled)?;
        Ok(logits.to_dtype(candle_core::DType::F32)?)
    }

    /// Logits `[batch, labels]` of a training step: dropout in the encoder
    /// and on the pooled output (as `BertForSequenceClassification`), and
    /// differentiable all the way to the variables of a classifier built by
    /// [`SequenceClassifier::load_trainable`].
    pub fn forward_train(
        &self,
        input: &EncoderInput,
        dropout: &mut Dropout,
    ) -> Result<Tensor, ModelError> {
        let hidden = self.inner.encoder.forward_train(input, dropout)?;
        self.head_train(&hidden, dropout)
    }

    /// Logits of a training step that starts at layer `first` from hidden
    /// states computed by [`BertEncoder::hidden_after`]`(input, first)`:
    /// how a classifier whose embeddings and first `first` layers are frozen
    /// trains without recomputing them.
    pub fn forward_train_from(
        &self,
        hidden: &Tensor,
        attention_mask: &Tensor,
        first: usize,
        dropout: &mut Dropout,
    ) -> Result<Tensor, ModelError> {
        let encoder = &self.inner.encoder;
        let hidden = encoder.forward_train_from(hidden, attention_mask, first, dropout)?;
        self.head_train(&hidden, dropout)
    }

    /// Pooler, dropout and classifier of a training step.
    fn head_train(&self, hidden: &Tensor, dropout: &mut Dropout) -> Result<Tensor, ModelError> {
        let pooled = self.inner.encoder.pool(hidden)?;
        let p = dropout.hidden();
        let pooled = dropout.apply(&pooled, p)?;
        let logits = self.inner.classifier.forward(&pooled)?;
        Ok(logits.to_dtype(candle_core::DType::F32)?)
    }

    /// The encoder.
    pub fn encoder(&self) -> &BertEncoder {
        &self.inner.encoder
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
    let vb = WeightStore::open(&WeightFiles::find(dir)?)?
        .into_var_builder(precision.dtype(), &Device::Cpu);
    let encoder = BertEncoder::load_with(vb.pp("bert"), &config, precision.inference_mode())?;
    Ok((config, encoder))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures")
            .join(name)
    }

    fn batch() -> EncoderInput {
        let a: &[u32] = &[2, 100, 101, 102, 103, 3];
        let b: &[u32] = &[2, 200, 3];
        EncoderInput::from_rows(&[a, b], &[&[0; 6], &[0; 3]], 0, &Device::Cpu).unwrap()
    }

    /// A trainable classifier over a `VarMap` holding the fixture's tensors.
    fn trainable(dir: &Path) -> (SequenceClassifier, candle_nn::VarMap) {
        let config = BertConfig::from_file(&dir.join("config.json")).unwrap();
        let labels = config.labels().unwrap();
        let tensors = crate::load_weights(&WeightFiles::find(dir).unwrap(), &Device::Cpu).unwrap();
        let varmap = candle_nn::VarMap::new();
        {
            let mut data = varmap.data().lock().unwrap();
            for (name, t) in tensors {
                if t.dtype().is_float() {
                    data.insert(name, candle_core::Var::from_tensor(&t).unwrap());
                }
            }
        }
        let vb = VarBuilder::from_varmap(&varmap, candle_core::DType::F32, &Device::Cpu);
        (
            SequenceClassifier::load_trainable(vb, config, labels).unwrap(),
            varmap,
        )
    }

    #[test]
    fn the_trainable_layout_computes_what_the_inference_layout_does() {
        let dir = fixture("tiny-cls");
        let fused = SequenceClassifier::load(&dir, Precision::F32).unwrap();
        let (model, _) = trainable(&dir);
        assert_eq!(model.encoder().mode(), Mode::Trainable);
        let want: Vec<Vec<f32>> = fused.forward(&batch()).unwrap().to_vec2().unwrap();
        let got: Vec<Vec<f32>> = model.forward(&batch()).unwrap().to_vec2().unwrap();
        // No dropout: the training forward is the same function.
        let mut off = Dropout::new(0.0, 0.0, 1);
        let train: Vec<Vec<f32>> = model
            .forward_train(&batch(), &mut off)
            .unwrap()
            .to_vec2()
            .unwrap();
        for rows in [&got, &train] {
            for (w, g) in want.iter().zip(rows.iter()) {
                for (a, b) in w.iter().zip(g) {
                    assert!((a - b).abs() < 1e-5, "{want:?} vs {rows:?}");
                }
            }
        }
    }

    #[test]
    fn a_forward_pass_can_start_from_a_kept_layer_output() {
        let (model, _) = trainable(&fixture("tiny-cls"));
        let want: Vec<Vec<f32>> = model.forward(&batch()).unwrap().to_vec2().unwrap();
        let mut off = Dropout::new(0.0, 0.0, 1);
        let mask = &batch().attention_mask;
        for first in 0..=model.encoder().num_layers() {
            let hidden = model.encoder().hidden_after(&batch(), first).unwrap();
            let got: Vec<Vec<f32>> = model
                .forward_train_from(&hidden, mask, first, &mut off)
                .unwrap()
                .to_vec2()
                .unwrap();
            assert_eq!(got, want, "starting at layer {first}");
        }
        let past = model.encoder().num_layers() + 1;
        assert!(model.encoder().hidden_after(&batch(), past).is_err());
    }

    #[test]
    fn gradients_reach_every_variable_and_updates_show_at_once() {
        let (model, varmap) = trainable(&fixture("tiny-cls"));
        let mut dropout = Dropout::bert(7);
        let logits = model.forward_train(&batch(), &mut dropout).unwrap();
        let target = Tensor::new(&[1u32, 2], &Device::Cpu).unwrap();
        let loss = candle_nn::loss::cross_entropy(&logits, &target).unwrap();
        let grads = loss.backward().unwrap();
        let data = varmap.data().lock().unwrap();
        let used: Vec<&String> = data.keys().filter(|n| !n.starts_with("cls.")).collect();
        assert!(used.len() > 30, "{used:?}");
        for name in used {
            assert!(
                grads.get(data[name].as_tensor()).is_some(),
                "no gradient for {name}"
            );
        }
        let before: Vec<Vec<f32>> = model.forward(&batch()).unwrap().to_vec2().unwrap();
        let bias = &data["classifier.bias"];
        bias.set(&(bias.as_tensor() + 1.0).unwrap()).unwrap();
        let after: Vec<Vec<f32>> = model.forward(&batch()).unwrap().to_vec2().unwrap();
        assert!((after[0][0] - before[0][0] - 1.0).abs() < 1e-5);
    }

    #[test]
    fn dropout_is_seeded_and_scales_what_it_keeps() {
        let x = Tensor::ones((64, 64), candle_core::DType::F32, &Device::Cpu).unwrap();
        let a: Vec<f32> = Dropout::bert(3)
            .apply(&x, 0.25)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let b: Vec<f32> = Dropout::bert(3)
            .apply(&x, 0.25)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        assert_eq!(a, b);
        let dropped = a.iter().filter(|&&v| v == 0.0).count() as f64 / a.len() as f64;
        assert!((dropped - 0.25).abs() < 0.03, "{dropped}");
        assert!(a.iter().all(|&v| v == 0.0 || (v - 1.0 / 0.75).abs() < 1e-6));
    }
}
