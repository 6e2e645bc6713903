//! `norsk eval`: scores of a model on labelled data.

use std::io::{self, StdoutLock, Write};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use norsk::{
    classification_report, evaluate, Aggregation, Article, ClassifyOptions, LabelDecoding, Mode,
    NerOptions, NerPipeline, SentenceContext,
};
use norsk_io::{read_examples, read_tagged, ClassEvalRecord, NerEvalRecord};
use serde::Serialize;

use crate::choice::Choice;
use crate::inputs::title;
use crate::kernels::PrecisionArgs;
use crate::model::{Classifier, ModelArgs, TaggerEval};
use crate::topics::TopicArgs;
use crate::Outcome;

#[derive(Debug, Args)]
pub struct EvalArgs {
    #[command(subcommand)]
    pub(crate) task: EvalTask,
}

#[derive(Debug, Subcommand)]
pub(crate) enum EvalTask {
    /// Entity-level precision, recall and F1 on NorNE-style data, as seqeval computes them.
    #[command(after_help = crate::EXIT_CODES)]
    Ner(EvalNerArgs),
    /// Accuracy, macro-F1, per-label scores and the confusion matrix of a classifier.
    #[command(after_help = crate::EXIT_CODES)]
    Classify(EvalClassifyArgs),
}

#[derive(Debug, Args)]
pub(crate) struct EvalClassifyArgs {
    /// Labelled records: JSONL, CSV or TSV (`.gz`/`.xz` read directly).
    #[arg(long, value_name = "FILE")]
    data: PathBuf,

    #[command(flatten)]
    pub(crate) model: ModelArgs<Classifier>,

    #[command(flatten)]
    topics: TopicArgs,

    /// The field or column holding the text.
    #[arg(long, default_value = "text")]
    text_field: String,

    /// The field or column holding the gold label.
    #[arg(long, default_value = "label")]
    label_field: String,

    /// A field put in front of the text (e.g. a title), joined by ". ", as
    /// in `norsk train classify --prefix-field`; it begins every window of a
    /// long text. Records without it are read as text alone, as
    /// `classify --title-field` reads them.
    #[arg(long)]
    prefix_field: Option<String>,

    /// Keep only records whose FIELD equals VALUE (e.g. `split=dev`); repeatable.
    #[arg(long = "filter", value_name = "FIELD=VALUE", value_parser = parse_filter)]
    filters: Vec<(String, String)>,

    /// Classify only the first window of long texts.
    #[arg(long)]
    truncate: bool,

    #[command(flatten)]
    precision: PrecisionArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    format: ReportFormat,
}

pub fn parse_filter(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(f, v)| (f.to_string(), v.to_string()))
        .ok_or_else(|| format!("expected FIELD=VALUE, got {s:?}"))
}

#[derive(Debug, Args)]
pub(crate) struct EvalNerArgs {
    /// Labelled sentences: `TOKEN<TAB>TAG` lines (blank line between
    /// sentences) or CoNLL-U with `name=TAG` in MISC; `.gz` is read directly.
    #[arg(long, value_name = "FILE")]
    data: PathBuf,

    #[command(flatten)]
    pub(crate) model: ModelArgs<TaggerEval>,

    /// How tokens are grouped into entities before words are tagged.
    /// Default: as the model's config.json says, else first (as `norsk ner`).
    #[arg(long, value_parser = Choice::<Aggregation>::new())]
    aggregation: Option<Aggregation>,

    /// How each word's (or token's) label is chosen: `argmax` takes each
    /// one's best label, as transformers does; `constrained` the best label
    /// sequence the scheme allows (no I-PER after O). Default: as the
    /// model's config.json says (`norsk_decoding`; the shipped model:
    /// constrained), else argmax.
    #[arg(long, value_parser = Choice::<LabelDecoding>::new())]
    decoding: Option<LabelDecoding>,

    /// Tag each sentence of the file with the sentences around it as context
    /// (the file's order taken as document order; as many as fit in one
    /// window), or alone; `model`: as the model was trained.
    #[arg(long, default_value = "model", value_parser = Choice::<SentenceContext>::new())]
    context: SentenceContext,

    #[command(flatten)]
    precision: PrecisionArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    format: ReportFormat,
}

/// How scores are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// A table.
    Human,
    /// One JSON object.
    Json,
}

pub fn run(args: EvalArgs) -> anyhow::Result<Outcome> {
    match args.task {
        EvalTask::Ner(args) => ner(args),
        EvalTask::Classify(args) => classify(args),
    }
}

fn ner(args: EvalNerArgs) -> anyhow::Result<Outcome> {
    let dir = args.model.dir("norsk-bert-ner")?;
    let precision = args.precision.chosen();
    let pipeline = NerPipeline::load(&dir, precision)
        .with_context(|| format!("cannot load NER model from {}", dir.display()))?;
    let data = read_tagged(&args.data)?;
    let words: Vec<Vec<String>> = data.iter().map(|s| s.tokens.clone()).collect();
    let gold: Vec<Vec<String>> = data.iter().map(|s| s.tags.clone()).collect();
    let aggregation = args
        .aggregation
        .unwrap_or_else(|| pipeline.default_aggregation());
    let options = NerOptions {
        aggregation,
        decoding: args.decoding,
        batch_size: args.model.batch_size,
        context: args.context,
        ..NerOptions::default()
    };
    let context = match pipeline.uses_neighbours(args.context) {
        true => SentenceContext::Neighbours,
        false => SentenceContext::Alone,
    };
    let decoding = pipeline.label_decoding(args.decoding);
    let started = Instant::now();
    let predicted = pipeline.tag_words(&words, &options)?;
    let seconds = started.elapsed().as_secs_f64();
    let default = evaluate(&gold, &predicted, Mode::Default)?;
    let strict = evaluate(&gold, &predicted, Mode::Strict)?;
    let word_count: usize = words.iter().map(Vec::len).sum();
    let record = NerEvalRecord {
        model: dir.display().to_string(),
        data: args.data.display().to_string(),
        precision: precision.to_string(),
        aggregation: aggregation.to_string(),
        decoding: decoding.to_string(),
        context: context.to_string(),
        sentences: data.len(),
        words: word_count,
        seconds,
        words_per_s: word_count as f64 / seconds,
        default,
        strict,
    };
    print(&record, args.format, NerEvalRecord::write_table)
}

/// Writes an evaluation record to stdout: as JSON, or its table.
fn print<R: Serialize>(
    record: &R,
    format: ReportFormat,
    table: impl FnOnce(&R, &mut StdoutLock<'static>) -> io::Result<()>,
) -> anyhow::Result<Outcome> {
    let mut out = io::stdout().lock();
    match format {
        ReportFormat::Json => {
            serde_json::to_writer_pretty(&mut out, record)?;
            writeln!(out)?;
        }
        ReportFormat::Human => table(record, &mut out)?,
    }
    Ok(Outcome::Success)
}

/// One labelled example: its title (from `--prefix-field`), text and label.
pub struct Labelled {
    /// The `--prefix-field` value, if one is named.
    pub title: Option<String>,
    /// The text field's value.
    pub text: String,
    /// The gold label.
    pub label: String,
}

impl Labelled {
    /// The example as the classifier reads it.
    pub fn article(&self) -> Article<'_> {
        Article {
            title: self.title.as_deref(),
            text: &self.text,
        }
    }
}

/// Labelled examples of a file (see [`read_examples`]), each with its
/// `prefix` field as title when one is named and the record has it as a
/// string (as `classify --title-field` reads titles: a record without one is
/// its text alone); an error when none is left.
pub fn load_labelled(
    path: &std::path::Path,
    text_field: &str,
    label_field: &str,
    prefix: Option<&str>,
    filters: &[(String, String)],
) -> anyhow::Result<Vec<Labelled>> {
    let examples: Vec<Labelled> = read_examples(path, text_field, label_field, filters)?
        .into_iter()
        .map(|e| Labelled {
            title: title(&e.fields, prefix).map(str::to_string),
            text: e.text,
            label: e.label,
        })
        .collect();
    if examples.is_empty() {
        anyhow::bail!("{}: no labelled records", path.display());
    }
    Ok(examples)
}

fn classify(args: EvalClassifyArgs) -> anyhow::Result<Outcome> {
    let precision = args.precision.chosen();
    let (dir, model) = args.topics.load(args.model.model.as_deref(), precision)?;
    let examples = load_labelled(
        &args.data,
        &args.text_field,
        &args.label_field,
        args.prefix_field.as_deref(),
        &args.filters,
    )?;
    let articles: Vec<Article> = examples.iter().map(Labelled::article).collect();
    let options = ClassifyOptions {
        truncate: args.truncate,
        batch_size: args.model.batch_size,
        top_k: Some(1),
        lexical: args.topics.lexical(),
        ..ClassifyOptions::default()
    };
    let started = Instant::now();
    let predicted: Vec<String> = model
        .classify_articles(&articles, &options)?
        .into_iter()
        .map(|p| p.into_iter().next().map(|p| p.label).unwrap_or_default())
        .collect();
    let seconds = started.elapsed().as_secs_f64();
    let gold: Vec<&str> = examples.iter().map(|e| e.label.as_str()).collect();
    let report = classification_report(&gold, &predicted);
    let record = ClassEvalRecord {
        model: dir.display().to_string(),
        data: args.data.display().to_string(),
        seconds,
        texts_per_s: articles.len() as f64 / seconds,
        report,
    };
    print(&record, args.format, ClassEvalRecord::write_table)
}
