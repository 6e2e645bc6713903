//! `norsk classify`: a topic record for every input record, in order.

use std::io::{BufWriter, IsTerminal};

use anyhow::Context;
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use norsk::{Article, ClassifyOptions, Prediction};
use norsk_io::{write_chunk, CsvWriter, JsonlWriter, Record, RecordWriter, LABELS_CSV_HEADER};

use crate::inputs::{title, InputArgs};
use crate::kernels::PrecisionArgs;
use crate::model::{Classifier, ModelArgs};
use crate::output::OutputArgs;
use crate::resume::{self, Chunks, Layout};
use crate::shard::{self, Shard, ShardArgs};
use crate::topics::TopicArgs;
use crate::{batch, isolate, Outcome};

/// Records classified together, per window in a model batch: enough to
/// batch by length, few enough to stream and to lose little on a crash.
const CHUNK_BATCHES: usize = 16;

#[derive(Debug, Args)]
pub struct ClassifyArgs {
    #[command(flatten)]
    input: InputArgs,

    #[command(flatten)]
    shard: ShardArgs,

    #[command(flatten)]
    pub(crate) model: ModelArgs<Classifier>,

    #[command(flatten)]
    topics: TopicArgs,

    /// Score each label on its own (sigmoid, or entailment vs contradiction
    /// in zero-shot) instead of one distribution over all labels.
    #[arg(long)]
    multi_label: bool,

    /// Keep the k best labels per record (default: all).
    #[arg(long)]
    top_k: Option<usize>,

    /// Classify only the first window of a long article (faster); by
    /// default all windows are pooled.
    #[arg(long)]
    truncate: bool,

    /// The field or column holding a headline or title: it is put in front
    /// of the text (`"{title}. {text}"`) and begins every window of a long
    /// article, as the shipped topic model was trained. Records without it
    /// are read as text alone.
    #[arg(long, value_name = "FIELD")]
    title_field: Option<String>,

    #[command(flatten)]
    out: OutputArgs,

    /// Output format; default from the --output extension (`.csv`), else JSONL.
    #[arg(long, value_enum)]
    format: Option<OutputFormat>,

    #[command(flatten)]
    precision: PrecisionArgs,
}

/// How `classify` writes its records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Jsonl,
    Csv,
}

pub fn run(args: ClassifyArgs) -> anyhow::Result<Outcome> {
    let chunk = CHUNK_BATCHES * args.model.batch_size.max(1);
    let shard = args.shard.shard()?;
    let positions = shard::positions(&args.input, shard, chunk)?;
    let precision = args.precision.chosen();
    let (_, scorer) = args.topics.load(args.model.model.as_deref(), precision)?;
    let options = ClassifyOptions {
        top_k: args.top_k,
        multi_label: args.multi_label.then_some(true),
        truncate: args.truncate,
        batch_size: args.model.batch_size,
        lexical: args.topics.lexical(),
    };
    let format =
        args.format
            .unwrap_or(match args.out.output.as_ref().and_then(|p| p.extension()) {
                Some(e) if e == "csv" => OutputFormat::Csv,
                _ => OutputFormat::Jsonl,
            });
    let layout = match format {
        OutputFormat::Jsonl => Layout::Lines,
        OutputFormat::Csv => Layout::Csv {
            header: LABELS_CSV_HEADER,
            with_header: shard.is_none_or(Shard::is_first),
        },
    };
    let chunks = Chunks {
        size: chunk as u64,
        total: positions.end - positions.start,
    };
    let (sink, done) = resume::open(args.out.output.as_deref(), layout, args.out.resume, chunks)?;
    let sink = BufWriter::new(sink);
    let mut writer: Box<dyn RecordWriter<[Prediction]>> = match format {
        OutputFormat::Jsonl => Box::new(JsonlWriter::new(sink)),
        OutputFormat::Csv => Box::new(CsvWriter::new(sink)),
    };
    let progress = progress_bar(|| match shard {
        Some(_) => Some(positions.end - positions.start),
        None => args.input.count().ok(),
    });
    progress.set_position(done);
    let todo = positions.start.saturating_add(done)..positions.end;
    let title_field = args.title_field.as_deref();
    let outcome = batch::run(&args.input, chunk, todo, |records| {
        let articles: Vec<Result<Article, String>> =
            records.iter().map(|r| article(r, title_field)).collect();
        let scored = isolate::each(&articles, |articles| {
            scorer
                .classify_articles(articles, &options)
                .context("cannot classify")
        });
        let results = scored.iter().map(|r| r.as_deref());
        let failed = write_chunk(writer.as_mut(), records, results)?;
        progress.inc(records.len() as u64);
        Ok(failed)
    })?;
    writer.finish()?;
    progress.finish_and_clear();
    Ok(outcome)
}

/// The record as an article (with its title, when `title_field` names
/// one it has), or why it cannot be classified.
fn article<'a>(record: &'a Record, title_field: Option<&str>) -> Result<Article<'a>, String> {
    Ok(Article {
        title: title(&record.extra, title_field),
        text: usable_text(record)?,
    })
}

/// The record's text, or why it cannot be classified.
pub(crate) fn usable_text(record: &Record) -> Result<&str, String> {
    match &record.text {
        Ok(text) if text.trim().is_empty() => Err("empty text".to_string()),
        Ok(text) => Ok(text),
        Err(e) => Err(norsk_io::error_message(e)),
    }
}

/// A progress bar on stderr when it is a terminal (articles/s, ETA, with
/// the `total` records to do when it is known); hidden otherwise.
fn progress_bar(total: impl FnOnce() -> Option<u64>) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    match total() {
        Some(n) => ProgressBar::new(n).with_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} articles, {per_sec}, ETA {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        ),
        None => ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("{spinner} {pos} articles, {per_sec}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use norsk::Precision;

    use super::*;
    use crate::{Cli, Command};

    #[test]
    fn the_shared_output_flags_and_the_format_parse() {
        let argv = [
            "norsk", "classify", "--input", "a.csv", "-o", "b.csv", "--resume", "--format", "csv",
        ];
        let Command::Classify(args) = Cli::try_parse_from(argv).unwrap().command else {
            panic!("not classify");
        };
        assert_eq!(
            args.out.output.as_deref(),
            Some(std::path::Path::new("b.csv"))
        );
        assert!(args.out.resume);
        assert_eq!(args.format, Some(OutputFormat::Csv));
        assert_eq!(args.precision.precision, Precision::F32);
        let err = Cli::try_parse_from(["norsk", "classify", "--resume", "x"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::MissingRequiredArgument);
    }
}
