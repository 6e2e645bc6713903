//! Sentence embeddings: one unit vector per text, pooled as
//! sentence-transformers pools (the mean of the last hidden state over the
//! attention mask, then L2 normalisation), with e5's `query: ` /
//! `passage: ` prompts in front.

use std::path::Path;

use norsk_batch::Logits;
use norsk_model::{load_encoder, MeanPooled, Precision};
use norsk_tokens::{TextTokenizer, Window, WindowPlan};
use serde::Deserialize;

use crate::batching::by_length;
use crate::classify::max_len;
use crate::error::BoxError;
use crate::{Article, NorskError};

/// The shipped embedding model (`models/norsk-e5-embed`), for
/// [`crate::default_model_dir`].
pub const DEFAULT_EMBED_MODEL: &str = "norsk-e5-embed";

/// What a text is to an e5 model, which says so with a prompt in front.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EmbedKind {
    /// A search query or a label to match against passages: `query: `.
    Query,
    /// A document or passage to be found: `passage: `.
    #[default]
    Passage,
    /// No prompt, for models trained without one.
    Plain,
}

impl EmbedKind {
    /// The kind by its name: `query`, `passage` or `none`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "query" => Some(EmbedKind::Query),
            "passage" => Some(EmbedKind::Passage),
            "none" => Some(EmbedKind::Plain),
            _ => None,
        }
    }

    /// The name [`EmbedKind::from_name`] reads.
    pub fn name(self) -> &'static str {
        match self {
            EmbedKind::Query => "query",
            EmbedKind::Passage => "passage",
            EmbedKind::Plain => "none",
        }
    }

    /// The prompt put in front of the text.
    pub fn prefix(self) -> &'static str {
        match self {
            EmbedKind::Query => "query: ",
            EmbedKind::Passage => "passage: ",
            EmbedKind::Plain => "",
        }
    }
}

/// How [`Embedder`] reads texts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbedOptions {
    /// Which prompt goes in front of every text.
    pub kind: EmbedKind,
    /// Embed only the first window of a long text (as sentence-transformers,
    /// which truncates); otherwise all windows are pooled.
    pub truncate: bool,
    /// Windows run through the model together.
    pub batch_size: usize,
}

impl Default for EmbedOptions {
    fn default() -> Self {
        Self {
            kind: EmbedKind::Passage,
            truncate: false,
            batch_size: 16,
        }
    }
}

/// The pooling a sentence-transformers folder asks for in
/// `1_Pooling/config.json` (only the key norsk needs).
#[derive(Deserialize)]
struct PoolingConfig {
    #[serde(default)]
    pooling_mode_mean_tokens: bool,
}

/// A BERT encoder that turns texts into mean-pooled, L2-normalised vectors.
pub struct Embedder {
    tokenizer: TextTokenizer,
    encoder: MeanPooled,
    max_len: usize,
    dim: usize,
}

impl Embedder {
    /// Loads the encoder of a model folder in Hugging Face layout (a
    /// `BertModel`, or the encoder under a head). A sentence-transformers
    /// folder whose `1_Pooling/config.json` asks for other than mean pooling
    /// is refused: norsk pools by the mean only.
    pub fn load(dir: &Path, precision: Precision) -> Result<Self, NorskError> {
        check_pooling(dir)?;
        let tokenizer = TextTokenizer::from_dir(dir)?;
        let (config, encoder) = load_encoder(dir, precision)?;
        let max_len = max_len(&tokenizer, config.max_position_embeddings);
        Ok(Self {
            tokenizer,
            encoder: MeanPooled(encoder),
            max_len,
            dim: config.hidden_size,
        })
    }

    /// The length of every vector.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// One unit vector per text, in input order.
    pub fn embed_batch(
        &self,
        texts: &[&str],
        options: &EmbedOptions,
    ) -> Result<Vec<Vec<f32>>, NorskError> {
        let articles: Vec<Article> = texts.iter().map(|&text| Article::untitled(text)).collect();
        self.embed_articles(&articles, options)
    }

    /// One unit vector per article, read as `"{prompt}{title}. {text}"`.
    ///
    /// A text longer than the model's window is cut into windows that do not
    /// overlap, each beginning with the prompt and the title; the windows'
    /// mean-pooled vectors are averaged, each weighted by its count of
    /// tokens, and the average is normalised. A text of one window gets
    /// exactly what sentence-transformers gives.
    pub fn embed_articles(
        &self,
        articles: &[Article],
        options: &EmbedOptions,
    ) -> Result<Vec<Vec<f32>>, NorskError> {
        let plan = WindowPlan {
            max_len: self.max_len,
            stride: (!options.truncate).then_some(0),
        };
        let prefix = options.kind.prefix();
        let mut windows = Vec::new();
        let mut owner = Vec::new();
        for (i, article) in articles.iter().enumerate() {
            let (joined, title) = article.joined();
            let text = format!("{prefix}{joined}");
            // The head ends before the space that starts the body's first
            // word, whose token would otherwise count as part of the head.
            let head = text[..prefix.len() + title].trim_end().len();
            for window in self.tokenizer.headed_windows(&text, head, plan)? {
                windows.push(window);
                owner.push(i);
            }
        }
        let refs: Vec<&Window> = windows.iter().collect();
        let means = by_length(
            &self.encoder,
            &refs,
            options.batch_size,
            self.tokenizer.pad_id(),
            Logits::into_vec2,
        )?;
        let mut pooled = vec![vec![0f32; self.dim]; articles.len()];
        for ((window, mean), &text) in windows.iter().zip(&means).zip(&owner) {
            let weight = window.len() as f32;
            for (p, m) in pooled[text].iter_mut().zip(mean) {
                *p += weight * m;
            }
        }
        for vector in &mut pooled {
            normalise(vector);
        }
        Ok(pooled)
    }
}

/// Scales `vector` to unit length (a zero vector stays zero).
pub(crate) fn normalise(vector: &mut [f32]) {
    let norm = vector.iter().map(|v| v * v).sum::<f32>().sqrt();
    if norm > 0.0 {
        vector.iter_mut().for_each(|v| *v /= norm);
    }
}

/// Refuses a sentence-transformers folder that pools otherwise than by the mean.
fn check_pooling(dir: &Path) -> Result<(), NorskError> {
    let path = dir.join("1_Pooling").join("config.json");
    if !path.is_file() {
        return Ok(());
    }
    let bad = |source: BoxError| NorskError::Pooling {
        path: path.clone(),
        source,
    };
    let bytes = std::fs::read(&path).map_err(|e| bad(e.into()))?;
    let config: PoolingConfig = serde_json::from_slice(&bytes).map_err(|e| bad(e.into()))?;
    if config.pooling_mode_mean_tokens {
        Ok(())
    } else {
        Err(bad(
            "the model pools otherwise than by the mean of its tokens, the only pooling norsk does"
                .into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_fixture as fixture;
    use norsk_batch::Model;

    fn embedder() -> Embedder {
        Embedder::load(&fixture("tiny-cls"), Precision::F32).unwrap()
    }

    fn cosine(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn vectors_are_unit_length_and_a_batch_gives_what_single_texts_give() {
        let model = embedder();
        let texts = [
            "Oslo er hovedstaden.",
            "Hei",
            "Rosenborg slo Molde 2-1 i går kveld.",
        ];
        let options = EmbedOptions::default();
        let batch = model.embed_batch(&texts, &options).unwrap();
        assert_eq!(batch.len(), 3);
        for (text, vector) in texts.iter().zip(&batch) {
            assert_eq!(vector.len(), model.dim());
            let norm = cosine(vector, vector).sqrt();
            assert!((norm - 1.0).abs() < 1e-5, "{norm}");
            let single = model.embed_batch(&[text], &options).unwrap();
            assert!(cosine(&single[0], vector) > 0.99999, "{text}");
        }
    }

    #[test]
    fn the_prompt_changes_the_vector() {
        let model = embedder();
        let text = ["Stortinget vedtok budsjettet."];
        let with = |kind| {
            let options = EmbedOptions {
                kind,
                ..Default::default()
            };
            model.embed_batch(&text, &options).unwrap().remove(0)
        };
        let (query, passage, plain) = (
            with(EmbedKind::Query),
            with(EmbedKind::Passage),
            with(EmbedKind::Plain),
        );
        assert!(cosine(&query, &passage) < 0.99999);
        assert!(cosine(&plain, &passage) < 0.99999);
    }

    #[test]
    fn a_long_text_pools_every_window_weighted_by_its_tokens() {
        let mut model = embedder();
        model.max_len = 16;
        let text = "Regjeringen la fram statsbudsjettet tirsdag, og finansministeren sa at \
                    oljepengebruken skal ned neste år, mens opposisjonen vil ha mer til kommunene.";
        let options = EmbedOptions::default();
        let pooled = model.embed_batch(&[text], &options).unwrap().remove(0);
        let truncated = EmbedOptions {
            truncate: true,
            ..Default::default()
        };
        let first = model.embed_batch(&[text], &truncated).unwrap().remove(0);
        assert!(cosine(&pooled, &first) < 0.9999, "the other windows count");

        // By hand: every window's mean, weighted by its length.
        let plan = WindowPlan {
            max_len: 16,
            stride: Some(0),
        };
        let full = format!("passage: {text}");
        let windows = model
            .tokenizer
            .headed_windows(&full, "passage:".len(), plan)
            .unwrap();
        assert!(windows.len() > 2);
        let mut want = vec![0f32; model.dim()];
        for window in &windows {
            let row = norsk_batch::Row::new(&window.ids, &window.type_ids);
            let batch = norsk_batch::Batch::new(&[row], model.tokenizer.pad_id()).unwrap();
            let mean: Vec<f32> = model
                .encoder
                .logits(&batch)
                .unwrap()
                .into_vec2()
                .unwrap()
                .remove(0);
            for (w, m) in want.iter_mut().zip(mean) {
                *w += window.len() as f32 * m;
            }
            // Every window starts with the prompt.
            assert_eq!(window.ids[1..6], windows[0].ids[1..6]);
        }
        normalise(&mut want);
        assert!(cosine(&pooled, &want) > 0.99999);
    }

    #[test]
    fn a_folder_that_pools_by_cls_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        for entry in std::fs::read_dir(fixture("tiny-cls")).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
        }
        std::fs::create_dir(dir.path().join("1_Pooling")).unwrap();
        std::fs::write(
            dir.path().join("1_Pooling/config.json"),
            r#"{"pooling_mode_cls_token": true, "pooling_mode_mean_tokens": false}"#,
        )
        .unwrap();
        let err =
            norsk_io::error_message(&Embedder::load(dir.path(), Precision::F32).err().unwrap());
        assert!(err.contains("mean"), "{err}");
    }
}
