//! Zero-shot topics without an NLI model: an article's sentence embedding
//! (all its windows pooled) compared by cosine with the embedding of each
//! topic's description, turned into probabilities at a temperature fitted
//! on labelled data.

use std::path::Path;

use serde::Deserialize;

use crate::classify::ranked;
use crate::error::BoxError;
use crate::{
    Article, ClassifyArticles, ClassifyOptions, EmbedKind, EmbedOptions, Embedder, NorskError,
    Prediction, TopicSet,
};

/// The file in an embedding model's folder holding its zero-shot calibration.
pub const CALIBRATION_FILE: &str = "norsk_zero_shot.json";

/// How cosine similarities become probabilities.
///
/// Single-label: `softmax(cos / temperature)` over the topics. Multi-label:
/// each topic on its own, `sigmoid((cos − threshold) / multi_label_temperature)`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct Calibration {
    /// Softmax temperature of the single-label scores.
    pub temperature: f32,
    /// The cosine at which a topic's multi-label score is 0.5.
    pub threshold: f32,
    /// Sigmoid temperature of the multi-label scores.
    pub multi_label_temperature: f32,
}

impl Calibration {
    /// The values fitted for the shipped `norsk-e5-embed` on the laws data's
    /// train split (`scripts/calibrate_zero_shot.py`), used for any model
    /// whose folder has no [`CALIBRATION_FILE`].
    pub const DEFAULT: Calibration = Calibration {
        temperature: 0.006487,
        threshold: 0.874281,
        multi_label_temperature: 0.012922,
    };

    /// The calibration in `dir`'s [`CALIBRATION_FILE`], else
    /// [`Calibration::DEFAULT`].
    pub fn for_model(dir: &Path) -> Result<Self, NorskError> {
        let path = dir.join(CALIBRATION_FILE);
        if !path.is_file() {
            return Ok(Self::DEFAULT);
        }
        let bad = |source: BoxError| NorskError::Calibration {
            path: path.clone(),
            source,
        };
        let bytes = std::fs::read(&path).map_err(|e| bad(e.into()))?;
        let calibration: Calibration = serde_json::from_slice(&bytes).map_err(|e| bad(e.into()))?;
        let positive = |t: f32| t.is_finite() && t > 0.0;
        if !positive(calibration.temperature)
            || !positive(calibration.multi_label_temperature)
            || !calibration.threshold.is_finite()
        {
            return Err(bad("temperatures must be positive and finite".into()));
        }
        Ok(calibration)
    }

    /// Probabilities from the cosines of one article with every topic.
    fn scores(&self, cosines: &[f32], multi_label: bool) -> Vec<f32> {
        if multi_label {
            cosines
                .iter()
                .map(|c| 1.0 / (1.0 + (-(c - self.threshold) / self.multi_label_temperature).exp()))
                .collect()
        } else {
            let logits: Vec<f32> = cosines.iter().map(|c| c / self.temperature).collect();
            norsk_spans::softmax(&logits)
        }
    }
}

/// Zero-shot topic classification by embedding similarity: an embedding
/// model and its calibration; the topics are embedded apart
/// ([`SimilarityClassifier::embed_topics`]), once per set.
pub struct SimilarityClassifier {
    embedder: Embedder,
    calibration: Calibration,
}

/// Topics embedded for [`SimilarityClassifier`]: labels and unit vectors.
pub struct EmbeddedTopics {
    labels: Vec<String>,
    vectors: Vec<Vec<f32>>,
}

impl EmbeddedTopics {
    /// The topic labels in order.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }
}

impl SimilarityClassifier {
    /// Loads the embedding model in `dir` (see [`Embedder::load`]) and its
    /// calibration ([`Calibration::for_model`]).
    pub fn load(dir: &Path, precision: norsk_model::Precision) -> Result<Self, NorskError> {
        Ok(Self {
            embedder: Embedder::load(dir, precision)?,
            calibration: Calibration::for_model(dir)?,
        })
    }

    /// The calibration in use.
    pub fn calibration(&self) -> Calibration {
        self.calibration
    }

    /// Embeds every topic as an e5 query: its description (or label) put
    /// into `template` at `{}` (`"Denne artikkelen handler om {}."`; a bare
    /// word matches articles poorly), with its first letter lowercased when
    /// the second is lowercase.
    pub fn embed_topics(
        &self,
        topics: &TopicSet,
        template: &str,
    ) -> Result<EmbeddedTopics, NorskError> {
        let texts: Vec<String> = topics
            .topics()
            .iter()
            .map(|t| template.replace("{}", &lowercase_first(t.text())))
            .collect();
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        let options = EmbedOptions {
            kind: EmbedKind::Query,
            ..EmbedOptions::default()
        };
        Ok(EmbeddedTopics {
            labels: topics.labels(),
            vectors: self.embedder.embed_batch(&texts, &options)?,
        })
    }

    /// Each article's cosine similarity with every topic, in topic order.
    pub fn similarities(
        &self,
        articles: &[Article],
        topics: &EmbeddedTopics,
        options: &ClassifyOptions,
    ) -> Result<Vec<Vec<f32>>, NorskError> {
        let embed = EmbedOptions {
            kind: EmbedKind::Passage,
            truncate: options.truncate,
            batch_size: options.batch_size,
        };
        let vectors = self.embedder.embed_articles(articles, &embed)?;
        Ok(vectors
            .iter()
            .map(|v| topics.vectors.iter().map(|t| dot(v, t)).collect())
            .collect())
    }

    /// Each article's topics with their probabilities, best first: a softmax
    /// over the topics, or with `multi_label` each topic on its own.
    pub fn classify_articles(
        &self,
        articles: &[Article],
        topics: &EmbeddedTopics,
        options: &ClassifyOptions,
    ) -> Result<Vec<Vec<Prediction>>, NorskError> {
        let multi = options.multi_label.unwrap_or(false);
        Ok(self
            .similarities(articles, topics, options)?
            .iter()
            .map(|cosines| {
                ranked(
                    &topics.labels,
                    &self.calibration.scores(cosines, multi),
                    options.top_k,
                )
            })
            .collect())
    }
}

/// A [`SimilarityClassifier`] with its topics.
pub struct SimilarityTopics {
    /// The model.
    pub model: SimilarityClassifier,
    /// The embedded topics.
    pub topics: EmbeddedTopics,
}

impl ClassifyArticles for SimilarityTopics {
    fn classify_articles(
        &self,
        articles: &[Article],
        options: &ClassifyOptions,
    ) -> Result<Vec<Vec<Prediction>>, NorskError> {
        self.model
            .classify_articles(articles, &self.topics, options)
    }
}

/// `text` with its first letter lowercased when its second is lowercase
/// (`Skatter og avgifter` → `skatter og avgifter`; `NAV` stays).
fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (Some(first), Some(second)) if second.is_lowercase() => first
            .to_lowercase()
            .chain(text[first.len_utf8()..].chars())
            .collect(),
        _ => text.to_string(),
    }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_fixture as fixture;
    use norsk_model::Precision;

    fn topics() -> TopicSet {
        TopicSet::from_tsv(
            "sport\tFotball og ski\nkultur\tMusikk og film\npolitikk\tStortinget\n",
            "test",
        )
        .unwrap()
    }

    #[test]
    fn only_a_capital_that_starts_a_word_is_lowercased() {
        assert_eq!(lowercase_first("Skatter og toll"), "skatter og toll");
        assert_eq!(lowercase_first("NAV og trygd"), "NAV og trygd");
        assert_eq!(lowercase_first("Økonomi"), "økonomi");
        assert_eq!(lowercase_first("x"), "x");
        assert_eq!(lowercase_first(""), "");
    }

    #[test]
    fn softmax_at_the_temperature_and_sigmoid_around_the_threshold() {
        let calibration = Calibration {
            temperature: 0.5,
            threshold: 0.2,
            multi_label_temperature: 0.1,
        };
        let single = calibration.scores(&[0.5, 0.0], false);
        let want = 1.0 / (1.0 + (-1.0f32).exp());
        assert!((single[0] - want).abs() < 1e-6, "{single:?}");
        let multi = calibration.scores(&[0.2, 0.3], true);
        assert!((multi[0] - 0.5).abs() < 1e-6);
        assert!((multi[1] - want).abs() < 1e-6, "{multi:?}");
    }

    #[test]
    fn scores_follow_the_cosines_and_a_batch_equals_single_articles() {
        let model = SimilarityClassifier::load(&fixture("tiny-cls"), Precision::F32).unwrap();
        let topics = model
            .embed_topics(&topics(), crate::DEFAULT_HYPOTHESIS_TEMPLATE)
            .unwrap();
        let texts = ["Rosenborg vant kampen.", "Ny plate fra Sondre Lerche."];
        let articles: Vec<Article> = texts.iter().map(|t| Article::untitled(t)).collect();
        let options = ClassifyOptions::default();
        let batch = model
            .classify_articles(&articles, &topics, &options)
            .unwrap();
        let cosines = model.similarities(&articles, &topics, &options).unwrap();
        for ((article, predictions), cosines) in articles.iter().zip(&batch).zip(&cosines) {
            assert_eq!(predictions.len(), 3);
            let total: f32 = predictions.iter().map(|p| p.score).sum();
            assert!((total - 1.0).abs() < 1e-5);
            let best = cosines
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .unwrap()
                .0;
            assert_eq!(predictions[0].label, topics.labels()[best]);
            let single = model
                .classify_articles(std::slice::from_ref(article), &topics, &options)
                .unwrap();
            assert_eq!(single[0][0].label, predictions[0].label);
            assert!((single[0][0].score - predictions[0].score).abs() < 1e-5);
        }
    }

    #[test]
    fn a_calibration_file_is_read_and_a_bad_one_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            Calibration::for_model(dir.path()).unwrap(),
            Calibration::DEFAULT
        );
        let path = dir.path().join(CALIBRATION_FILE);
        std::fs::write(
            &path,
            r#"{"temperature": 0.02, "threshold": 0.75, "multi_label_temperature": 0.03}"#,
        )
        .unwrap();
        let read = Calibration::for_model(dir.path()).unwrap();
        assert_eq!(read.temperature, 0.02);
        for bad in [
            r#"{"temperature": 0, "threshold": 0.75, "multi_label_temperature": 0.03}"#,
            r#"{"temperature": 0.02}"#,
            "not json",
        ] {
            std::fs::write(&path, bad).unwrap();
            let error = Calibration::for_model(dir.path()).unwrap_err().to_string();
            assert!(error.contains(CALIBRATION_FILE), "{error}");
        }
    }
}
