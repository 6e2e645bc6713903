use std::path::Path;
use std::time::{Duration, Instant};

use norsk_batch::Logits;
use norsk_model::{Precision, TokenClassifier};
use norsk_spans::{word_tags, Aggregation, Entity, LabelDecoding, Labels};
use norsk_tokens::{TextTokenizer, Window, WindowPlan};

use crate::batching::by_length;
use crate::ner_decode::{
    is_runnable, merge_pieces, pack_runs, piece_jobs, pieces, Cut, Decoder, Job,
};
use crate::NorskError;

/// Tokens shared by consecutive windows of a long text, unless told otherwise.
pub const DEFAULT_STRIDE: usize = 128;

/// Batches of windows cut, run and decoded at a time: enough to sort by
/// length, few enough that memory does not grow with the text.
const ROUND_BATCHES: usize = 16;

/// How [`NerPipeline`] turns token scores into entities.
#[derive(Debug, Clone, PartialEq)]
pub struct NerOptions {
    /// How tokens are grouped into entities (`transformers`' `aggregation_strategy`).
    pub aggregation: Aggregation,
    /// How each token's or word's label is chosen from its scores; `None`
    /// as the model's `config.json` says (`norsk_decoding`), argmax when it
    /// says nothing.
    pub decoding: Option<LabelDecoding>,
    /// Tokens shared by consecutive windows over a text longer than the model
    /// takes, at most half a window (a larger stride is cut down to that).
    /// `None` truncates such a text to its first window, as `transformers`
    /// does when no `stride` is given.
    pub stride: Option<usize>,
    /// Labels (or entity groups) left out of the result.
    pub ignore_labels: Vec<String>,
    /// Windows run through the model together.
    pub batch_size: usize,
    /// Tag each sentence on its own ([`norsk_tokens::sentences`]), as models
    /// trained on sentences (NorNE) expect. `false` runs the whole text, as
    /// `transformers`' pipeline does.
    pub split_sentences: bool,
    /// Whether split sentences are tagged alone or with their neighbours.
    pub context: SentenceContext,
}

/// Whether split sentences are tagged alone or together with the sentences
/// around them (document context, as FLERT trains and tags).
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SentenceContext {
    /// As the model was trained: with neighbours when its `config.json`
    /// sets `norsk_sentence_context`, alone otherwise.
    #[default]
    Model,
    /// Each sentence in a window of its own.
    Alone,
    /// Consecutive sentences of a text share a window, as many as fit
    /// (whole sentences; a longer sentence gets windows of its own), so that
    /// each is tagged with its neighbours as context.
    Neighbours,
}

impl std::str::FromStr for SentenceContext {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        match name {
            "model" => Ok(Self::Model),
            "alone" => Ok(Self::Alone),
            "neighbours" => Ok(Self::Neighbours),
            other => Err(format!(
                "unknown sentence context {other:?} (expected model, alone or neighbours)"
            )),
        }
    }
}

impl std::fmt::Display for SentenceContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Model => "model",
            Self::Alone => "alone",
            Self::Neighbours => "neighbours",
        })
    }
}

impl Default for NerOptions {
    fn default() -> Self {
        Self {
            aggregation: Aggregation::Simple,
            decoding: None,
            stride: Some(DEFAULT_STRIDE),
            ignore_labels: vec!["O".to_string()],
            batch_size: 8,
            split_sentences: true,
            context: SentenceContext::Model,
        }
    }
}

/// The choice a model's `config.json` names under `key`, if it names one.
fn config_choice<T>(dir: &Path, key: &str, name: &Option<String>) -> Result<Option<T>, NorskError>
where
    T: std::str::FromStr<Err = norsk_spans::SpanError>,
{
    name.as_deref()
        .map(|name| {
            name.parse().map_err(|e| {
                NorskError::Model(norsk_model::ModelError::Config {
                    path: dir.join("config.json"),
                    source: format!("{key}: {e}").into(),
                })
            })
        })
        .transpose()
}

/// Named-entity recognition: a tokenizer and a token-classification model.
pub struct NerPipeline {
    tokenizer: TextTokenizer,
    model: TokenClassifier,
    labels: Labels,
    max_len: usize,
    /// The aggregation the model's config asks for.
    model_aggregation: Aggregation,
    /// The label decoding the model's config asks for.
    model_decoding: LabelDecoding,
}

/// Where the time of one [`NerPipeline::tag_batch_timed`] call went.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StageTimes {
    /// Sentence splitting and tokenizing into windows.
    pub tokenize: Duration,
    /// The model's forward passes.
    pub model: Duration,
    /// Softmax, aggregation and window merging.
    pub decode: Duration,
    /// Tokens run through the model, special tokens included, padding not.
    pub tokens: usize,
}

impl NerPipeline {
    /// Loads a token-classification model folder in Hugging Face layout.
    pub fn load(dir: &Path, precision: Precision) -> Result<Self, NorskError> {
        let tokenizer = TextTokenizer::from_dir(dir)?;
        let model = TokenClassifier::load(dir, precision)?;
        let labels = Labels::new(model.labels().to_vec())?;
        let config = model.config();
        let model_aggregation = config_choice(dir, "norsk_aggregation", &config.norsk_aggregation)?
            .unwrap_or(Aggregation::First);
        let model_decoding = config_choice(dir, "norsk_decoding", &config.norsk_decoding)?
            .unwrap_or(LabelDecoding::Argmax);
        let positions = model.config().max_position_embeddings;
        let max_len = tokenizer
            .max_length()
            .map_or(positions, |n| n.min(positions));
        Ok(Self {
            tokenizer,
            model,
            labels,
            max_len,
            model_aggregation,
            model_decoding,
        })
    }

    /// The model's labels.
    pub fn labels(&self) -> &Labels {
        &self.labels
    }

    /// The tokenizer.
    pub fn tokenizer(&self) -> &TextTokenizer {
        &self.tokenizer
    }

    /// The longest window the model takes, special tokens included.
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// Whether `context` means tagging sentences with their neighbours, for
    /// this model.
    pub fn uses_neighbours(&self, context: SentenceContext) -> bool {
        match context {
            SentenceContext::Model => self.model.config().norsk_sentence_context,
            SentenceContext::Alone => false,
            SentenceContext::Neighbours => true,
        }
    }

    /// The aggregation that suits this model: its `config.json`'s
    /// `norsk_aggregation` (the shipped model: `average`), else `first`
    /// (a word labelled by its first token, as most NER models are trained).
    pub fn default_aggregation(&self) -> Aggregation {
        self.model_aggregation
    }

    /// The label decoding `decoding` means for this model.
    pub fn label_decoding(&self, decoding: Option<LabelDecoding>) -> LabelDecoding {
        decoding.unwrap_or(self.model_decoding)
    }

    /// Text tokens of one window, special tokens left out.
    fn room(&self) -> usize {
        self.max_len
            .saturating_sub(self.tokenizer.special_tokens_per_text())
            .max(1)
    }

    /// Entities of one text, sorted by start, with byte offsets.
    pub fn tag(&self, text: &str, options: &NerOptions) -> Result<Vec<Entity>, NorskError> {
        Ok(self.tag_batch(&[text], options)?.pop().unwrap_or_default())
    }

    /// Entities of each text, in input order. Windows of all texts are
    /// batched by similar length so little compute goes to padding.
    pub fn tag_batch(
        &self,
        texts: &[&str],
        options: &NerOptions,
    ) -> Result<Vec<Vec<Entity>>, NorskError> {
        Ok(self.tag_batch_timed(texts, options)?.0)
    }

    /// [`Self::tag_batch`], also telling where the time went.
    pub fn tag_batch_timed(
        &self,
        texts: &[&str],
        options: &NerOptions,
    ) -> Result<(Vec<Vec<Entity>>, StageTimes), NorskError> {
        let mut times = StageTimes::default();
        let plan = WindowPlan {
            max_len: self.max_len,
            stride: options.stride.map(|s| s.min(self.max_len / 2)),
        };
        let clock = Instant::now();
        let cut = match options.split_sentences {
            false => Cut::Whole,
            true if self.uses_neighbours(options.context) => Cut::SentenceRuns {
                tokenizer: &self.tokenizer,
                room: self.room(),
            },
            true => Cut::Sentences,
        };
        let pieces = pieces(texts, cut)?;
        times.tokenize += clock.elapsed();
        let decoder = Decoder {
            tokenizer: &self.tokenizer,
            labels: &self.labels,
            aggregation: options.aggregation,
            decoding: self.label_decoding(options.decoding),
            ignore_labels: &options.ignore_labels,
        };
        let batch_size = options.batch_size.max(1);
        // Pieces go through in rounds of about ROUND_BATCHES batches of
        // windows, each decoded before the next is cut, so that what a
        // round holds (tokens, logits) is bounded by the batch size, not by
        // the length of the texts.
        let round = ROUND_BATCHES * batch_size;
        let mut per_piece: Vec<Vec<Entity>> = vec![Vec::new(); pieces.len()];
        let mut next = 0;
        while next < pieces.len() {
            let clock = Instant::now();
            let mut jobs = Vec::new();
            while next < pieces.len() && jobs.len() < round {
                jobs.extend(piece_jobs(&self.tokenizer, &pieces[next], next, plan)?);
                next += 1;
            }
            times.tokenize += clock.elapsed();
            times.tokens += jobs.iter().map(|j| j.window.len()).sum::<usize>();
            let clock = Instant::now();
            let logits = self.run(&jobs, batch_size)?;
            times.model += clock.elapsed();
            let clock = Instant::now();
            decoder.add_windows(&pieces, &jobs, logits, &mut per_piece)?;
            times.decode += clock.elapsed();
        }
        let clock = Instant::now();
        let per_text = merge_pieces(texts.len(), &pieces, per_piece);
        times.decode += clock.elapsed();
        Ok((per_text, times))
    }

    /// IOB2 tags of pre-split words, one row per sentence, as evaluation
    /// against CoNLL data needs them: each row's words are joined by single
    /// spaces and tagged as one text (never split further), the entities
    /// turned back into word tags with [`word_tags`]. With neighbours as
    /// context (`options.context`), consecutive rows are tagged together,
    /// as many as fit in one window, the way [`SentenceContext::Neighbours`]
    /// packs a text's sentences.
    pub fn tag_words<S: AsRef<str>>(
        &self,
        sentences: &[Vec<S>],
        options: &NerOptions,
    ) -> Result<Vec<Vec<String>>, NorskError> {
        // All rows in one text, a row per line; `rows` holds their spans.
        let mut text = String::new();
        let mut words = Vec::new();
        let mut rows = Vec::with_capacity(sentences.len());
        for sentence in sentences {
            let start = text.len();
            for (i, word) in sentence.iter().enumerate() {
                if i > 0 {
                    text.push(' ');
                }
                words.push((text.len(), text.len() + word.as_ref().len()));
                text.push_str(word.as_ref());
            }
            rows.push((start, text.len()));
            text.push('\n');
        }
        let runs = match self.uses_neighbours(options.context) {
            true => pack_runs(&self.tokenizer, &text, rows, self.room())?,
            false => rows,
        };
        let refs: Vec<&str> = runs.iter().map(|&(start, end)| &text[start..end]).collect();
        let options = NerOptions {
            split_sentences: false,
            ..options.clone()
        };
        let mut entities = Vec::new();
        for ((start, _), found) in runs.iter().zip(self.tag_batch(&refs, &options)?) {
            entities.extend(found.into_iter().map(|mut e| {
                e.start += start;
                e.end += start;
                e
            }));
        }
        let mut tags = word_tags(&words, &entities).into_iter();
        Ok(sentences
            .iter()
            .map(|sentence| tags.by_ref().take(sentence.len()).collect())
            .collect())
    }

    /// Logits of each job's window, `[seq][label]`, in job order. Windows
    /// without text tokens are not run (their logits are empty).
    fn run(&self, jobs: &[Job], batch_size: usize) -> Result<Vec<Vec<Vec<f32>>>, NorskError> {
        let runnable: Vec<usize> = (0..jobs.len())
            .filter(|&i| is_runnable(&jobs[i].window))
            .collect();
        let windows: Vec<&Window> = runnable.iter().map(|&i| &jobs[i].window).collect();
        let logits = by_length(
            &self.model,
            &windows,
            batch_size,
            self.tokenizer.pad_id(),
            Logits::into_vec3,
        )?;
        let mut out = vec![Vec::new(); jobs.len()];
        for (i, mut rows) in runnable.into_iter().zip(logits) {
            rows.truncate(jobs[i].window.len());
            out[i] = rows;
        }
        Ok(out)
    }
}
