//! Text classification: fine-tuned sequence classifiers and zero-shot
//! topics through an NLI model, with the semantics of transformers'
//! `text-classification` and `zero-shot-classification` pipelines.

use std::borrow::Cow;
use std::path::Path;

use norsk_batch::Logits;
use norsk_lexical::LexicalChannel;
use norsk_model::{BertConfig, Precision, SequenceClassifier};
use norsk_spans::Prediction;
use norsk_tokens::{TextTokenizer, Window, WindowPlan};

use crate::batching::by_length;
use crate::NorskError;

/// The hypothesis `norsk` puts to an NLI model for each candidate label.
pub const DEFAULT_HYPOTHESIS_TEMPLATE: &str = "Denne artikkelen handler om {}.";

/// How [`Classifier`] scores texts.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassifyOptions {
    /// Keep the `k` best labels; `None` keeps all, best first.
    pub top_k: Option<usize>,
    /// Independent sigmoid per label instead of one softmax; `None` follows
    /// the config's `problem_type` (and a single-output model).
    pub multi_label: Option<bool>,
    /// Classify only the first window of a long text (as transformers with
    /// `truncation=True`); otherwise all windows are pooled.
    pub truncate: bool,
    /// Windows run through the model together.
    pub batch_size: usize,
    /// Add the logits of the model's lexical channel (when its folder has
    /// one, [`norsk_lexical::LEXICAL_CONFIG`]) to the model's; `false`
    /// reads the model alone.
    pub lexical: bool,
}

impl Default for ClassifyOptions {
    fn default() -> Self {
        Self {
            top_k: None,
            multi_label: None,
            truncate: false,
            batch_size: 16,
            lexical: true,
        }
    }
}

/// A text to classify, with the title it may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Article<'a> {
    /// A headline or title, put in front of the text (`"{title}. {text}"`);
    /// an empty one counts as none.
    pub title: Option<&'a str>,
    /// The text.
    pub text: &'a str,
}

impl<'a> Article<'a> {
    /// A text without a title.
    pub fn untitled(text: &'a str) -> Self {
        Self { title: None, text }
    }

    /// The text as the model reads it, and the length in bytes of the title
    /// part in front (0 without a title).
    pub fn joined(&self) -> (Cow<'a, str>, usize) {
        match self.title {
            Some(title) if !title.trim().is_empty() => {
                let joined = format!("{title}. {}", self.text);
                let head = joined.len() - self.text.len();
                (Cow::Owned(joined), head)
            }
            _ => (Cow::Borrowed(self.text), 0),
        }
    }
}

/// A fine-tuned `BertForSequenceClassification` model and its tokenizer,
/// with the lexical channel its folder may have.
pub struct Classifier {
    tokenizer: TextTokenizer,
    model: SequenceClassifier,
    lexical: Option<LexicalChannel>,
    max_len: usize,
}

impl Classifier {
    /// Loads a sequence-classification model folder in Hugging Face layout,
    /// and its lexical channel when it has one (whose labels must be the
    /// model's, in the same order).
    pub fn load(dir: &Path, precision: Precision) -> Result<Self, NorskError> {
        let tokenizer = TextTokenizer::from_dir(dir)?;
        let model = SequenceClassifier::load(dir, precision)?;
        let max_len = max_len(&tokenizer, model.config().max_position_embeddings);
        let lexical = if LexicalChannel::is_in(dir) {
            let channel = LexicalChannel::load(dir)?;
            if channel.labels() != model.labels() {
                return Err(NorskError::Labels(format!(
                    "the lexical channel of {} has the labels {:?}, the model {:?}",
                    dir.display(),
                    channel.labels(),
                    model.labels()
                )));
            }
            Some(channel)
        } else {
            None
        };
        Ok(Self {
            tokenizer,
            model,
            lexical,
            max_len,
        })
    }

    /// The lexical channel read with the model, if its folder has one.
    pub fn lexical(&self) -> Option<&LexicalChannel> {
        self.lexical.as_ref()
    }

    /// Label names in id order.
    pub fn labels(&self) -> &[String] {
        self.model.labels()
    }

    /// Whether the model is multi-label by its config.
    pub fn is_multi_label(&self) -> bool {
        self.model.config().problem_type.as_deref() == Some("multi_label_classification")
            || self.labels().len() == 1
    }

    /// Predictions for each text, in input order, best first.
    ///
    /// A text longer than the model's window is cut into windows that
    /// overlap by a quarter window; the windows' logits are averaged, each
    /// weighted by its count of text tokens, before the softmax. So the
    /// whole article counts, not just its start. The lexical channel, if
    /// the model has one and `options.lexical`, reads the whole text (also
    /// with `truncate`) and its logits are added to the pooled ones.
    pub fn classify_batch(
        &self,
        texts: &[&str],
        options: &ClassifyOptions,
    ) -> Result<Vec<Vec<Prediction>>, NorskError> {
        let articles: Vec<Article> = texts.iter().map(|&text| Article::untitled(text)).collect();
        self.classify_articles(&articles, options)
    }

    /// Predictions for each article, as [`classify_batch`](Self::classify_batch)
    /// gives them for `"{title}. {text}"`, except that the title begins every
    /// window of a long article, not only the first: each window is read
    /// with its headline, as the model was trained (`--prefix-field`).
    pub fn classify_articles(
        &self,
        articles: &[Article],
        options: &ClassifyOptions,
    ) -> Result<Vec<Vec<Prediction>>, NorskError> {
        let plan = WindowPlan {
            max_len: self.max_len,
            stride: (!options.truncate).then_some(self.max_len / 4),
        };
        let lexical = self.lexical.as_ref().filter(|_| options.lexical);
        let mut windows = Vec::new();
        let mut owner = Vec::new();
        let mut lexical_logits = Vec::new();
        for (i, article) in articles.iter().enumerate() {
            let (text, head) = article.joined();
            for window in self.tokenizer.headed_windows(&text, head, plan)? {
                windows.push(window);
                owner.push(i);
            }
            if let Some(channel) = lexical {
                lexical_logits.push(channel.logits(&text));
            }
        }
        let refs: Vec<&Window> = windows.iter().collect();
        let logits = by_length(
            &self.model,
            &refs,
            options.batch_size,
            self.tokenizer.pad_id(),
            Logits::into_vec2,
        )?;

        let labels = self.labels().len();
        let mut pooled = vec![vec![0f32; labels]; articles.len()];
        let mut weights = vec![0f32; articles.len()];
        for ((window, row), &text) in windows.iter().zip(&logits).zip(&owner) {
            let weight = window.special.iter().filter(|s| !**s).count().max(1) as f32;
            for (p, l) in pooled[text].iter_mut().zip(row) {
                *p += weight * l;
            }
            weights[text] += weight;
        }
        let multi = options.multi_label.unwrap_or_else(|| self.is_multi_label());
        Ok(pooled
            .into_iter()
            .zip(weights)
            .enumerate()
            .map(|(i, (sum, weight))| {
                let mut mean: Vec<f32> = sum.iter().map(|s| s / weight).collect();
                if let Some(extra) = lexical_logits.get(i) {
                    for (m, l) in mean.iter_mut().zip(extra) {
                        *m += l;
                    }
                }
                let scores = if multi {
                    mean.iter().map(|&l| sigmoid(l)).collect()
                } else {
                    norsk_spans::softmax(&mean)
                };
                ranked(self.labels(), &scores, options.top_k)
            })
            .collect())
    }
}

/// Zero-shot classification: an NLI model judges, for each candidate label,
/// whether the text entails the hypothesis made from the label.
pub struct ZeroShotClassifier {
    tokenizer: TextTokenizer,
    model: SequenceClassifier,
    entailment: usize,
    contradiction: usize,
    max_len: usize,
}

impl ZeroShotClassifier {
    /// Loads an NLI model folder. The entailment label is the one whose name
    /// starts with `entail` (any case), as transformers finds it; the
    /// contradiction id is 0, or the last label when entailment is 0.
    pub fn load(dir: &Path, precision: Precision) -> Result<Self, NorskError> {
        let tokenizer = TextTokenizer::from_dir(dir)?;
        let model = SequenceClassifier::load(dir, precision)?;
        let labels = model.labels();
        let entailment = labels
            .iter()
            .position(|l| l.to_lowercase().starts_with("entail"))
            .ok_or_else(|| {
                NorskError::Labels(format!(
                    "no entailment label among {labels:?}: zero-shot needs an NLI model"
                ))
            })?;
        let contradiction = if entailment == 0 { labels.len() - 1 } else { 0 };
        let max_len = max_len(&tokenizer, model.config().max_position_embeddings);
        Ok(Self {
            tokenizer,
            model,
            entailment,
            contradiction,
            max_len,
        })
    }

    /// Whether the model folder `dir` holds an NLI model: a classifier one
    /// of whose labels starts with `entail`.
    pub fn is_nli(dir: &Path) -> Result<bool, NorskError> {
        let config = BertConfig::from_file(&dir.join("config.json"))?;
        Ok(config.labels().is_ok_and(|labels| {
            labels
                .iter()
                .any(|l| l.to_lowercase().starts_with("entail"))
        }))
    }

    /// The token ids of the NLI pair for `text` and one hypothesis.
    pub fn encode_pair(&self, text: &str, hypothesis: &str) -> Result<Window, NorskError> {
        Ok(self.tokenizer.encode_pair(text, hypothesis, self.max_len)?)
    }

    /// Scores of `candidates` for each text, best first. Single-label: a
    /// softmax of the entailment logits over the candidates; multi-label
    /// (or one candidate): for each candidate, a softmax over its
    /// contradiction and entailment logits.
    pub fn classify_batch(
        &self,
        texts: &[&str],
        candidates: &[String],
        template: &str,
        multi_label: bool,
        batch_size: usize,
    ) -> Result<Vec<Vec<Prediction>>, NorskError> {
        if candidates.is_empty() {
            return Err(NorskError::Labels("no candidate labels given".into()));
        }
        let hypotheses: Vec<String> = candidates
            .iter()
            .map(|c| template.replace("{}", c))
            .collect();
        let mut pairs = Vec::with_capacity(texts.len() * candidates.len());
        for text in texts {
            for hypothesis in &hypotheses {
                pairs.push(self.encode_pair(text, hypothesis)?);
            }
        }
        let refs: Vec<&Window> = pairs.iter().collect();
        let logits = by_length(
            &self.model,
            &refs,
            batch_size,
            self.tokenizer.pad_id(),
            Logits::into_vec2,
        )?;
        Ok(logits
            .chunks(candidates.len())
            .map(|rows| {
                let scores: Vec<f32> = if multi_label || candidates.len() == 1 {
                    rows.iter()
                        .map(|r| {
                            norsk_spans::softmax(&[r[self.contradiction], r[self.entailment]])[1]
                        })
                        .collect()
                } else {
                    let entail: Vec<f32> = rows.iter().map(|r| r[self.entailment]).collect();
                    norsk_spans::softmax(&entail)
                };
                ranked(candidates, &scores, None)
            })
            .collect())
    }
}

pub(crate) fn max_len(tokenizer: &TextTokenizer, positions: usize) -> usize {
    tokenizer
        .max_length()
        .map_or(positions, |n| n.min(positions))
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Labels with their scores, best first (ties keep label order), the best `k`.
pub(crate) fn ranked(labels: &[String], scores: &[f32], top_k: Option<usize>) -> Vec<Prediction> {
    let mut out: Vec<Prediction> = labels
        .iter()
        .zip(scores)
        .map(|(label, &score)| Prediction {
            label: label.clone(),
            score,
        })
        .collect();
    out.sort_by(|a, b| b.score.total_cmp(&a.score));
    out.truncate(top_k.unwrap_or(out.len()));
    out
}
