//! One interface over the ways norsk gives an article its topics: a
//! fine-tuned classifier, an NLI model asked about each topic, or an
//! embedding model comparing the article with each topic's description.

use std::path::Path;

use norsk_model::{Architecture, BertConfig, Precision};

use crate::{
    Article, Classifier, ClassifyOptions, HeadClassifier, HubOptions, NorskError, Prediction,
    SimilarityClassifier, SimilarityTopics, TopicSet, ZeroShotClassifier,
};

/// Gives each article its labels with probabilities, best first.
pub trait ClassifyArticles: Send + Sync {
    /// Predictions for each article, in input order.
    fn classify_articles(
        &self,
        articles: &[Article],
        options: &ClassifyOptions,
    ) -> Result<Vec<Vec<Prediction>>, NorskError>;
}

impl ClassifyArticles for Classifier {
    fn classify_articles(
        &self,
        articles: &[Article],
        options: &ClassifyOptions,
    ) -> Result<Vec<Vec<Prediction>>, NorskError> {
        Classifier::classify_articles(self, articles, options)
    }
}

/// An NLI model with its candidate topics and hypothesis template.
pub struct NliTopics {
    model: ZeroShotClassifier,
    labels: Vec<String>,
    template: String,
}

impl ClassifyArticles for NliTopics {
    /// Each article read as `"{title}. {text}"` (the first window: an NLI
    /// pair is one window), `multi_label` as `options` say (default off).
    fn classify_articles(
        &self,
        articles: &[Article],
        options: &ClassifyOptions,
    ) -> Result<Vec<Vec<Prediction>>, NorskError> {
        let joined: Vec<_> = articles.iter().map(|a| a.joined().0).collect();
        let texts: Vec<&str> = joined.iter().map(AsRef::as_ref).collect();
        let mut out = self.model.classify_batch(
            &texts,
            &self.labels,
            &self.template,
            options.multi_label.unwrap_or(false),
            options.batch_size,
        )?;
        for predictions in &mut out {
            predictions.truncate(options.top_k.unwrap_or(predictions.len()));
        }
        Ok(out)
    }
}

/// The trained classifier in `dir`: a head over an embedding model
/// ([`HeadClassifier`]) or a fine-tuned sequence classifier.
pub fn load_classifier(
    dir: &Path,
    precision: Precision,
    hub: &HubOptions,
) -> Result<Box<dyn ClassifyArticles>, NorskError> {
    if HeadClassifier::is_head(dir) {
        Ok(Box::new(HeadClassifier::load(dir, precision, hub)?))
    } else {
        Ok(Box::new(Classifier::load(dir, precision)?))
    }
}

/// How a model folder can give zero-shot topics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZeroShotKind {
    /// An NLI classifier (a label starting with `entail`).
    Nli,
    /// A bare encoder or a sentence-transformers folder: by embedding
    /// similarity.
    Embedding,
}

impl ZeroShotKind {
    /// The kind of the model in `dir`; an error for a model that is
    /// neither (e.g. a fine-tuned token or sequence classifier).
    pub fn of(dir: &Path) -> Result<Self, NorskError> {
        if ZeroShotClassifier::is_nli(dir)? {
            return Ok(ZeroShotKind::Nli);
        }
        let config = BertConfig::from_file(&dir.join("config.json"))?;
        if dir.join("modules.json").is_file() || config.architecture()? == Architecture::Encoder {
            return Ok(ZeroShotKind::Embedding);
        }
        Err(NorskError::Labels(format!(
            "{} is a {} with no entailment label: zero-shot topics need an NLI model or an \
             embedding model (a bare encoder or a sentence-transformers folder)",
            dir.display(),
            config
                .architectures
                .first()
                .map_or("classifier", String::as_str)
        )))
    }
}

/// Zero-shot topics from the model in `dir` ([`ZeroShotKind::of`]): through
/// NLI (each topic's label put into `template`), or by embedding similarity
/// with each topic's description put into `template`.
pub fn load_zero_shot(
    dir: &Path,
    precision: Precision,
    topics: &TopicSet,
    template: &str,
) -> Result<Box<dyn ClassifyArticles>, NorskError> {
    match ZeroShotKind::of(dir)? {
        ZeroShotKind::Nli => Ok(Box::new(NliTopics {
            model: ZeroShotClassifier::load(dir, precision)?,
            labels: topics.labels(),
            template: template.to_string(),
        })),
        ZeroShotKind::Embedding => {
            let model = SimilarityClassifier::load(dir, precision)?;
            let topics = model.embed_topics(topics, template)?;
            Ok(Box::new(SimilarityTopics { model, topics }))
        }
    }
}
