use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use norsk_batch::{by_length, Row};
use norsk_model::{
    load_weights, BertConfig, BertEncoder, Dropout, EncoderInput, Mode, SequenceClassifier,
    WeightFiles,
};
use norsk_tokens::TextTokenizer;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::data::{encode_all, plan_batches, Encoded, Rng};
use crate::loss;
use crate::optim::AdamW;
use crate::save::{classifier_config, copy_tokenizer, write_atomic, write_weights, SharedShards};
use crate::vars::{BaseBackend, Store};
use crate::{TrainConfig, TrainError};
use norsk_spans::classification_report;

/// Progress of a run, handed to the `progress` callback as it happens.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The data is tokenised; training starts.
    Started {
        /// Training examples.
        train: usize,
        /// Dev examples.
        dev: usize,
        /// Training and dev texts cut by `max_len`.
        truncated: usize,
        /// Number of labels.
        labels: usize,
        /// Optimiser steps in one epoch.
        steps_per_epoch: usize,
        /// Epochs planned.
        epochs: usize,
    },
    /// One optimiser step is done.
    Step {
        /// 1-based epoch.
        epoch: usize,
        /// 1-based step within the epoch.
        step: usize,
        /// Steps in this epoch.
        steps_in_epoch: usize,
        /// The batch's mean cross-entropy.
        loss: f32,
        /// The encoder's learning rate at this step.
        learning_rate: f64,
        /// Real (unpadded) training tokens per second so far this epoch.
        tokens_per_second: f64,
        /// Seconds of this step's forward pass, backward pass and update.
        seconds: [f64; 3],
    },
    /// The dev set is being scored after an epoch (or part of one).
    Evaluating {
        /// 1-based epoch.
        epoch: usize,
    },
    /// An epoch (or the part the time budget allowed) was scored on dev.
    Epoch(EpochReport),
    /// `model.safetensors` in the output folder now holds this epoch's weights.
    Saved {
        /// 1-based epoch.
        epoch: usize,
        /// The weights file.
        path: PathBuf,
    },
    /// The outputs of the frozen layers are computed and kept.
    Frozen {
        /// Frozen layers (the embeddings too).
        layers: usize,
        /// Training and dev tokens run through them.
        tokens: usize,
        /// Seconds it took.
        seconds: f64,
    },
    /// The time budget stops training here.
    BudgetReached {
        /// 1-based epoch.
        epoch: usize,
        /// Steps done in this epoch.
        step: usize,
        /// Minutes since the run started.
        minutes: f64,
    },
}

/// One epoch's figures; also one line of `train_log.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EpochReport {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean training cross-entropy over the epoch's steps (with dropout).
    pub train_loss: f64,
    /// Share of dev examples whose predicted label is the gold one.
    pub dev_accuracy: f64,
    /// Dev macro-F1 over every gold or predicted label.
    pub dev_macro_f1: f64,
    /// Wall-clock seconds of training and evaluation.
    pub seconds: f64,
    /// Optimiser steps done in this epoch.
    pub steps: usize,
    /// `false` when the time budget stopped the epoch early.
    pub complete: bool,
    /// Real (unpadded) training tokens per second of training.
    pub tokens_per_second: f64,
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainReport {
    /// Every evaluated epoch, in order.
    pub epochs: Vec<EpochReport>,
    /// The 1-based epoch whose weights were kept (best dev macro-F1, then
    /// accuracy; the earlier on a tie).
    pub best_epoch: usize,
    /// Label names in id order (the output's `id2label`).
    pub labels: Vec<String>,
    /// Whether `max_minutes` ended the run before its last epoch was done.
    pub budget_reached: bool,
    /// Training examples.
    pub train_examples: usize,
    /// Dev examples.
    pub dev_examples: usize,
    /// Training and dev texts cut by `max_len`.
    pub truncated: usize,
}

impl TrainReport {
    /// The kept epoch's figures.
    pub fn best(&self) -> Option<&EpochReport> {
        self.epochs.iter().find(|e| e.epoch == self.best_epoch)
    }
}

/// Fine-tunes the encoder of the BERT folder `base` with a fresh
/// sequence-classification head on `(text, label)` pairs and writes the
/// best epoch (by dev macro-F1) to `out` as a Hugging Face
/// `BertForSequenceClassification` folder: `model.safetensors` (f32),
/// `config.json`, the base's tokenizer files, `train_config.json` and
/// `train_log.jsonl` (one line per epoch).
///
/// Labels are the sorted distinct training labels. Dev examples with a
/// label outside them count as errors. `base` may be any BERT folder
/// (`BertModel`, `…ForMaskedLM`, `…ForTokenClassification`,
/// `…ForSequenceClassification`): its encoder (and pooler, if any) is
/// kept, every head dropped.
pub fn train_classifier(
    base: &Path,
    train: &[(String, String)],
    dev: &[(String, String)],
    config: &TrainConfig,
    out: &Path,
    progress: impl FnMut(&Event),
) -> Result<TrainReport, TrainError> {
    let labels: Vec<String> = train
        .iter()
        .map(|(_, l)| l.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut trainer = Trainer::new(base, labels, config)?;
    trainer.fit(train, dev, out, progress)
}

/// A classifier being fine-tuned, for finer control than
/// [`train_classifier`]: build it, [`Trainer::fit`] it, then score texts
/// with the kept weights.
pub struct Trainer {
    base: PathBuf,
    config: TrainConfig,
    base_config: Map<String, Value>,
    tokenizer: TextTokenizer,
    model: SequenceClassifier,
    store: Store,
    labels: Vec<String>,
    dropout: Dropout,
    started: Instant,
    /// Bytes of each base tensor as stored (for a shared-shard index).
    base_bytes: HashMap<String, usize>,
    /// With frozen layers: the base's embeddings and frozen layers in the
    /// inference layout (fused products and attention), which compute their
    /// outputs once, faster than the training layout would.
    frozen_encoder: Option<BertEncoder>,
}

impl Trainer {
    /// Loads the encoder of `base` as f32 variables and adds a fresh head
    /// over `labels` (classifier from normal(0, 0.02), bias 0; a fresh
    /// pooler too when the base has none), seeded by `config.seed`.
    /// The time budget counts from here.
    pub fn new(base: &Path, labels: Vec<String>, config: &TrainConfig) -> Result<Self, TrainError> {
        let started = Instant::now();
        config.check()?;
        if labels.len() < 2 {
            return Err(TrainError::TooFewLabels(labels));
        }
        let distinct: HashSet<&String> = labels.iter().collect();
        if distinct.len() != labels.len() {
            return Err(TrainError::Config(format!("labels repeat: {labels:?}")));
        }
        let config_path = base.join("config.json");
        let bert_config = BertConfig::from_file(&config_path)?;
        bert_config.architecture()?;
        if config.max_len > bert_config.max_position_embeddings {
            return Err(TrainError::Config(format!(
                "max_len {} exceeds the model's max_position_embeddings {}",
                config.max_len, bert_config.max_position_embeddings
            )));
        }
        let raw =
            std::fs::read(&config_path).map_err(|e| TrainError::io("read", &config_path, e))?;
        let base_config: Map<String, Value> =
            serde_json::from_slice(&raw).map_err(|e| TrainError::io("read", &config_path, e))?;
        let tokenizer = TextTokenizer::from_dir(base)?;

        let tensors: HashMap<String, Tensor> =
            load_weights(&WeightFiles::find(base)?, &Device::Cpu)?
                .into_iter()
                .filter(|(name, t)| name.starts_with("bert.") && t.dtype().is_float())
                .collect();
        let base_bytes = tensors
            .iter()
            .map(|(name, t)| (name.clone(), t.elem_count() * t.dtype().size_in_bytes()))
            .collect();
        let frozen_encoder = match config.freeze_layers {
            0 => None,
            frozen => {
                // Only the frozen bottom: the layers above it are never run here.
                let bottom = BertConfig {
                    num_hidden_layers: frozen.min(bert_config.num_hidden_layers),
                    ..bert_config.clone()
                };
                let vb = VarBuilder::from_tensors(tensors.clone(), DType::F32, &Device::Cpu);
                Some(BertEncoder::load_with(
                    vb.pp("bert"),
                    &bottom,
                    Mode::Inference,
                )?)
            }
        };
        let store = Store::default();
        let backend = BaseBackend::new(
            tensors,
            store.clone(),
            config.seed ^ 0x6865_6164,
            config.freeze_layers,
        );
        let vb = VarBuilder::from_backend(Box::new(backend), DType::F32, Device::Cpu);
        let model = SequenceClassifier::load_trainable(vb, bert_config, labels.clone()).map_err(
            |e| match e {
                norsk_model::ModelError::Shape(reason)
                    if reason.contains("lacks encoder weights") =>
                {
                    TrainError::MissingWeights(vec![reason])
                }
                other => TrainError::Model(other),
            },
        )?;
        let layers = model.encoder().num_layers();
        if config.freeze_layers > layers {
            return Err(TrainError::Config(format!(
                "freeze_layers {} exceeds the encoder's {layers} layers",
                config.freeze_layers
            )));
        }
        let probability =
            |key: &str| base_config.get(key).and_then(Value::as_f64).unwrap_or(0.1) as f32;
        let (hidden, attention) = config.dropout.unwrap_or((
            probability("hidden_dropout_prob"),
            probability("attention_probs_dropout_prob"),
        ));
        Ok(Self {
            base: base.to_path_buf(),
            config: config.clone(),
            base_config,
            tokenizer,
            model,
            store,
            labels,
            dropout: Dropout::new(hidden, attention, config.seed ^ 0x6472_6f70),
            started,
            base_bytes,
            frozen_encoder,
        })
    }

    /// Label names in id order.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// The model, with the weights it has now (after [`Trainer::fit`]: the
    /// best epoch's).
    pub fn model(&self) -> &SequenceClassifier {
        &self.model
    }

    /// The base folder's tokenizer.
    pub fn tokenizer(&self) -> &TextTokenizer {
        &self.tokenizer
    }

    /// Names of the variables created fresh (the head), sorted.
    pub fn fresh_variables(&self) -> Vec<String> {
        self.store.fresh()
    }

    /// Logits `[labels]` of each text (truncated to `max_len`), without
    /// dropout, in input order.
    pub fn logits(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, TrainError> {
        let examples: Vec<(String, String)> = texts
            .iter()
            .map(|t| (t.to_string(), String::new()))
            .collect();
        let encoded = encode_all(
            &self.tokenizer,
            &examples,
            &HashMap::new(),
            self.config.max_len,
        )?;
        self.score(&encoded, None)
    }

    /// The current weights under their Hugging Face names.
    pub fn weights(&self) -> Result<HashMap<String, Tensor>, TrainError> {
        Ok(self.store.snapshot()?)
    }

    /// Writes the current weights, `config.json` and the tokenizer files to
    /// `out` (created if need be).
    pub fn save(&self, out: &Path) -> Result<(), TrainError> {
        self.write_folder(out)?;
        let shared = self.shared_shards(out)?;
        let snapshot = self.store.snapshot()?;
        write_weights(out, &snapshot, self.config.save_f16, shared.as_ref())?;
        Ok(())
    }

    /// With `share_base_shards`: which base shards `out` refers to.
    fn shared_shards(&self, out: &Path) -> Result<Option<SharedShards>, TrainError> {
        if !self.config.share_base_shards {
            return Ok(None);
        }
        let frozen: HashSet<String> = self.store.frozen().into_iter().collect();
        SharedShards::plan(&self.base, out, &frozen, &self.base_bytes).map(Some)
    }

    fn write_folder(&self, out: &Path) -> Result<(), TrainError> {
        std::fs::create_dir_all(out).map_err(|e| TrainError::io("create", out, e))?;
        let config = classifier_config(&self.base_config, &self.labels);
        let text = serde_json::to_string_pretty(&config).expect("JSON of a config") + "\n";
        write_atomic(&out.join("config.json"), text.as_bytes())?;
        copy_tokenizer(&self.base, out, self.config.max_len)
    }

    /// Trains for `config.epochs` epochs (or until `max_minutes`), scoring
    /// dev after each; `out` receives the folder at the start and the
    /// weights whenever an epoch beats the best so far. At the end the model
    /// holds the best epoch's weights.
    pub fn fit(
        &mut self,
        train: &[(String, String)],
        dev: &[(String, String)],
        out: &Path,
        mut progress: impl FnMut(&Event),
    ) -> Result<TrainReport, TrainError> {
        if train.is_empty() {
            return Err(TrainError::NoTrainingData);
        }
        if dev.is_empty() {
            return Err(TrainError::NoDevData);
        }
        let cfg = self.config.clone();
        let label_ids: HashMap<String, u32> = self
            .labels
            .iter()
            .enumerate()
            .map(|(i, l)| (l.clone(), i as u32))
            .collect();
        if let Some((_, unknown)) = train.iter().find(|(_, l)| !label_ids.contains_key(l)) {
            return Err(TrainError::Config(format!(
                "training label {unknown:?} is not one of the model's labels {:?}",
                self.labels
            )));
        }
        self.write_folder(out)?;
        let shared = self.shared_shards(out)?;
        let run_config = serde_json::json!({
            "base": self.base.display().to_string(),
            "config": cfg,
            "labels": self.labels,
        });
        write_atomic(
            &out.join("train_config.json"),
            (serde_json::to_string_pretty(&run_config).expect("JSON") + "\n").as_bytes(),
        )?;
        let log_path = out.join("train_log.jsonl");
        let mut log =
            std::fs::File::create(&log_path).map_err(|e| TrainError::io("create", &log_path, e))?;

        let train_set = encode_all(&self.tokenizer, train, &label_ids, cfg.max_len)?;
        let dev_set = encode_all(&self.tokenizer, dev, &label_ids, cfg.max_len)?;
        let frozen_start = Instant::now();
        let train_cache = self.frozen_states(&train_set)?;
        let dev_cache = self.frozen_states(&dev_set)?;
        if cfg.freeze_layers > 0 {
            progress(&Event::Frozen {
                layers: cfg.freeze_layers,
                tokens: train_set.iter().chain(&dev_set).map(|e| e.ids.len()).sum(),
                seconds: frozen_start.elapsed().as_secs_f64(),
            });
        }
        let truncated = train_set
            .iter()
            .chain(&dev_set)
            .filter(|e| e.truncated)
            .count();
        let lengths: Vec<usize> = train_set.iter().map(|e| e.ids.len()).collect();
        let dev_tokens: usize = dev_set.iter().map(|e| e.ids.len()).sum();
        let mut counts = vec![0usize; self.labels.len()];
        for e in &train_set {
            counts[e.label.expect("training labels are known") as usize] += 1;
        }
        let class_weights = match cfg.class_weights.weights(&counts) {
            Some(w) => Some(Tensor::new(w.as_slice(), &Device::Cpu)?),
            None => None,
        };
        let steps_per_epoch = train_set.len().div_ceil(cfg.batch_size);
        let total_steps = steps_per_epoch * cfg.epochs;
        let warmup_steps = (cfg.warmup_ratio * total_steps as f64).ceil() as usize;
        let mut optimizer = self.optimizer();
        let mut rng = Rng::new(cfg.seed);
        let budget = cfg.max_minutes.map(|m| m * 60.0);

        progress(&Event::Started {
            train: train_set.len(),
            dev: dev_set.len(),
            truncated,
            labels: self.labels.len(),
            steps_per_epoch,
            epochs: cfg.epochs,
        });

        let mut reports: Vec<EpochReport> = Vec::new();
        let mut best: Option<(f64, f64, usize, HashMap<String, Tensor>)> = None;
        let mut global_step = 0usize;
        let mut budget_reached = false;
        let mut eval_seconds: Option<f64> = None;
        let mut save_seconds = 1.0f64;
        let mut train_tokens_per_second: Option<f64> = None;

        for epoch in 1..=cfg.epochs {
            let epoch_start = Instant::now();
            let batches = plan_batches(&lengths, cfg.batch_size, &mut rng);
            let (mut loss_sum, mut steps, mut tokens) = (0f64, 0usize, 0usize);
            let mut train_seconds = 0f64;
            for batch in &batches {
                if let (Some(budget), Some(tps)) = (budget, train_tokens_per_second) {
                    // Forward only, no dropout: about a third of a training step.
                    let eval = eval_seconds.unwrap_or(dev_tokens as f64 / (tps * 2.5));
                    let elapsed = self.started.elapsed().as_secs_f64();
                    if elapsed + eval * 1.2 + save_seconds + 5.0 > budget {
                        budget_reached = true;
                        progress(&Event::BudgetReached {
                            epoch,
                            step: steps,
                            minutes: elapsed / 60.0,
                        });
                        break;
                    }
                }
                let step_start = Instant::now();
                global_step += 1;
                let factor = lr_factor(global_step, warmup_steps, total_steps);
                let rows: Vec<&Encoded> = batch.iter().map(|&i| &train_set[i]).collect();
                let input = batch_input(&rows, self.tokenizer.pad_id())?;
                let targets: Vec<u32> = rows
                    .iter()
                    .map(|e| e.label.expect("training labels are known"))
                    .collect();
                let targets = Tensor::new(targets.as_slice(), &Device::Cpu)?;
                let forward_start = Instant::now();
                let logits = forward_rows(
                    &self.model,
                    cfg.freeze_layers,
                    batch,
                    &input,
                    train_cache.as_deref(),
                    Some(&mut self.dropout),
                )?;
                let loss = loss::cross_entropy(&logits, &targets, class_weights.as_ref())?;
                let loss_value = loss.to_scalar::<f32>()?;
                if !loss_value.is_finite() {
                    return Err(TrainError::Diverged {
                        epoch,
                        step: steps + 1,
                        loss: loss_value,
                    });
                }
                let backward_start = Instant::now();
                let grads = loss.backward()?;
                let update_start = Instant::now();
                optimizer.step(&grads, factor, cfg.max_grad_norm)?;
                let phases = [
                    (backward_start - forward_start).as_secs_f64(),
                    (update_start - backward_start).as_secs_f64(),
                    update_start.elapsed().as_secs_f64(),
                ];
                drop(grads);
                steps += 1;
                loss_sum += loss_value as f64;
                tokens += rows.iter().map(|e| e.ids.len()).sum::<usize>();
                train_seconds += step_start.elapsed().as_secs_f64();
                let tps = tokens as f64 / train_seconds.max(1e-9);
                train_tokens_per_second = Some(tps);
                progress(&Event::Step {
                    epoch,
                    step: steps,
                    steps_in_epoch: batches.len(),
                    loss: loss_value,
                    learning_rate: cfg.learning_rate * factor,
                    tokens_per_second: tps,
                    seconds: phases,
                });
            }
            if steps == 0 && !reports.is_empty() {
                break;
            }
            progress(&Event::Evaluating { epoch });
            let eval_start = Instant::now();
            let (accuracy, macro_f1) = self.evaluate(&dev_set, dev_cache.as_deref(), dev)?;
            eval_seconds = Some(eval_start.elapsed().as_secs_f64());
            let report = EpochReport {
                epoch,
                train_loss: if steps > 0 {
                    loss_sum / steps as f64
                } else {
                    f64::NAN
                },
                dev_accuracy: accuracy,
                dev_macro_f1: macro_f1,
                seconds: epoch_start.elapsed().as_secs_f64(),
                steps,
                complete: steps == batches.len(),
                tokens_per_second: tokens as f64 / train_seconds.max(1e-9),
            };
            let line = serde_json::to_string(&report).expect("JSON of a report");
            writeln!(log, "{line}").map_err(|e| TrainError::io("write", &log_path, e))?;
            progress(&Event::Epoch(report.clone()));
            reports.push(report);
            let improved = match &best {
                None => true,
                Some((f1, acc, _, _)) => (macro_f1, accuracy) > (*f1, *acc),
            };
            if improved {
                let save_start = Instant::now();
                let snapshot = self.store.snapshot()?;
                let path = write_weights(out, &snapshot, self.config.save_f16, shared.as_ref())?;
                save_seconds = save_start.elapsed().as_secs_f64();
                best = Some((macro_f1, accuracy, epoch, snapshot));
                progress(&Event::Saved { epoch, path });
            }
            if budget_reached {
                break;
            }
        }
        let (_, _, best_epoch, snapshot) = best.expect("at least one epoch is evaluated");
        self.store.restore(&snapshot)?;
        Ok(TrainReport {
            epochs: reports,
            best_epoch,
            labels: self.labels.clone(),
            budget_reached,
            train_examples: train_set.len(),
            dev_examples: dev_set.len(),
            truncated,
        })
    }

    /// AdamW over every variable: the encoder at `learning_rate`, the fresh
    /// head at `head_learning_rate`; weight decay on weight matrices and
    /// embeddings but not on biases and layer norms (as `transformers`).
    fn optimizer(&self) -> AdamW {
        let fresh: HashSet<String> = self.store.fresh().into_iter().collect();
        let params = self
            .store
            .vars()
            .into_iter()
            .map(|(name, var)| {
                let head = fresh.contains(&name) || name.starts_with("classifier.");
                let no_decay = name.ends_with(".bias") || name.contains("LayerNorm");
                let lr = if head {
                    self.config.head_learning_rate
                } else {
                    self.config.learning_rate
                };
                let decay = if no_decay {
                    0.0
                } else {
                    self.config.weight_decay
                };
                (var, lr, decay)
            })
            .collect();
        AdamW::new(params)
    }

    /// The output of the frozen layers for each example, `[len, hidden]`
    /// f32 in its own storage; `None` when nothing is frozen.
    fn frozen_states(&self, examples: &[Encoded]) -> Result<Option<Vec<Tensor>>, TrainError> {
        let Some(encoder) = &self.frozen_encoder else {
            return Ok(None);
        };
        let layers = self.config.freeze_layers;
        let rows = example_rows(examples);
        let states = by_length(&rows, 32, self.tokenizer.pad_id(), |members, batch| {
            let input = EncoderInput::from_batch(batch, &Device::Cpu)?;
            let hidden = encoder.hidden_after(&input, layers)?;
            let width = hidden.dim(2)?;
            members
                .iter()
                .enumerate()
                .map(|(row, &i)| {
                    let len = examples[i].ids.len();
                    let values: Vec<f32> = hidden
                        .get(row)?
                        .narrow(0, 0, len)?
                        .flatten_all()?
                        .to_vec1()?;
                    Ok(Tensor::from_vec(values, (len, width), &Device::Cpu)?)
                })
                .collect::<Result<Vec<Tensor>, TrainError>>()
        })?;
        Ok(Some(states))
    }

    /// Logits of encoded examples, in their order, batched by length; from
    /// the frozen layers' kept outputs when given.
    fn score(
        &self,
        examples: &[Encoded],
        frozen: Option<&[Tensor]>,
    ) -> Result<Vec<Vec<f32>>, TrainError> {
        let batch_size = (self.config.batch_size * 2).clamp(1, 64);
        let first = self.config.freeze_layers;
        let rows = example_rows(examples);
        by_length(
            &rows,
            batch_size,
            self.tokenizer.pad_id(),
            |members, batch| {
                let input = EncoderInput::from_batch(batch, &Device::Cpu)?;
                let logits = forward_rows(&self.model, first, members, &input, frozen, None)?;
                Ok(logits.detach().to_vec2()?)
            },
        )
    }

    /// Dev accuracy and macro-F1.
    fn evaluate(
        &self,
        encoded: &[Encoded],
        frozen: Option<&[Tensor]>,
        examples: &[(String, String)],
    ) -> Result<(f64, f64), TrainError> {
        let logits = self.score(encoded, frozen)?;
        let predicted: Vec<&str> = logits
            .iter()
            .map(|row| self.labels[argmax(row)].as_str())
            .collect();
        let gold: Vec<&str> = examples.iter().map(|(_, l)| l.as_str()).collect();
        let report = classification_report(&gold, &predicted);
        Ok((report.accuracy, report.macro_f1))
    }
}

/// Linear warm-up from 0 to 1 over `warmup` steps, then linear decay to 0 at
/// `total` (`transformers`' `get_linear_schedule_with_warmup`, counted from
/// step 1 so that the first step already learns).
fn lr_factor(step: usize, warmup: usize, total: usize) -> f64 {
    if step <= warmup {
        step as f64 / warmup.max(1) as f64
    } else {
        let remaining = total.saturating_sub(step) as f64 + 1.0;
        (remaining / (total - warmup).max(1) as f64).clamp(0.0, 1.0)
    }
}

/// The examples' token ids as batch rows.
fn example_rows(examples: &[Encoded]) -> Vec<Row<'_>> {
    examples
        .iter()
        .map(|e| Row::new(&e.ids, &e.type_ids))
        .collect()
}

fn batch_input(rows: &[&Encoded], pad_id: u32) -> Result<EncoderInput, TrainError> {
    let ids: Vec<&[u32]> = rows.iter().map(|e| e.ids.as_slice()).collect();
    let types: Vec<&[u32]> = rows.iter().map(|e| e.type_ids.as_slice()).collect();
    Ok(EncoderInput::from_rows(&ids, &types, pad_id, &Device::Cpu)?)
}

/// Logits of the batch `input`, whose rows are examples `rows` of a set:
/// from the kept outputs of the first `first` (frozen) layers when there
/// are any. With `dropout` a training step, without it a scoring pass.
fn forward_rows(
    model: &SequenceClassifier,
    first: usize,
    rows: &[usize],
    input: &EncoderInput,
    frozen: Option<&[Tensor]>,
    dropout: Option<&mut Dropout>,
) -> Result<Tensor, TrainError> {
    let Some(states) = frozen else {
        return Ok(match dropout {
            Some(dropout) => model.forward_train(input, dropout)?,
            None => model.forward(input)?,
        });
    };
    let hidden = stack_padded(rows.iter().map(|&i| &states[i]))?;
    let mut off = Dropout::new(0.0, 0.0, 0);
    let dropout = dropout.unwrap_or(&mut off);
    Ok(model.forward_train_from(&hidden, &input.attention_mask, first, dropout)?)
}

/// Stacks `[len, hidden]` rows into `[rows, longest, hidden]`, padding
/// with zeros (the attention mask hides them).
fn stack_padded<'a>(rows: impl Iterator<Item = &'a Tensor>) -> Result<Tensor, TrainError> {
    let rows: Vec<&Tensor> = rows.collect();
    let longest = rows
        .iter()
        .map(|t| t.dim(0))
        .collect::<candle_core::Result<Vec<_>>>()?;
    let longest = longest.into_iter().max().unwrap_or(0);
    let padded = rows
        .iter()
        .map(|t| {
            let len = t.dim(0)?;
            if len < longest {
                t.pad_with_zeros(0, 0, longest - len)
            } else {
                Ok((*t).clone())
            }
        })
        .collect::<candle_core::Result<Vec<_>>>()?;
    Ok(Tensor::stack(&padded, 0)?)
}

fn argmax(row: &[f32]) -> usize {
    row.iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |(bi, bv), (i, &v)| {
            if v > bv {
                (i, v)
            } else {
                (bi, bv)
            }
        })
        .0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_warms_up_then_decays_to_zero() {
        assert!((lr_factor(1, 10, 100) - 0.1).abs() < 1e-12);
        assert!((lr_factor(10, 10, 100) - 1.0).abs() < 1e-12);
        assert!((lr_factor(11, 10, 100) - 1.0).abs() < 1e-12);
        assert!(lr_factor(100, 10, 100) > 0.0);
        assert!(lr_factor(100, 10, 100) < 0.02);
        assert!((lr_factor(1, 0, 10) - 1.0).abs() < 1e-12);
    }

    /// The frozen layers' outputs from the inference layout are those of the
    /// training layout, up to float rounding.
    #[test]
    fn frozen_states_match_the_trainable_encoder() {
        let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/tiny-cls");
        let config = TrainConfig {
            freeze_layers: 1,
            ..TrainConfig::default()
        };
        let trainer = Trainer::new(&base, vec!["a".into(), "b".into()], &config).unwrap();
        let texts = [
            ("Kort.", ""),
            ("En noe lengre setning om skatt og fotball.", ""),
        ];
        let examples: Vec<(String, String)> = texts
            .iter()
            .map(|(t, l)| (t.to_string(), l.to_string()))
            .collect();
        let encoded = encode_all(&trainer.tokenizer, &examples, &HashMap::new(), 64).unwrap();
        let states = trainer.frozen_states(&encoded).unwrap().unwrap();
        for (example, state) in encoded.iter().zip(&states) {
            let input = batch_input(&[example], trainer.tokenizer.pad_id()).unwrap();
            let want = trainer.model.encoder().hidden_after(&input, 1).unwrap();
            let diff = (want.squeeze(0).unwrap() - state)
                .unwrap()
                .abs()
                .unwrap()
                .flatten_all()
                .unwrap()
                .max(0)
                .unwrap()
                .to_scalar::<f32>()
                .unwrap();
            assert!(diff < 1e-4, "max difference {diff}");
        }
    }
}
