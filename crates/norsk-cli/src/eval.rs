//! `norsk eval`: scores of a model on labelled data.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use norsk::{evaluate, Aggregation, Mode, NerOptions, NerPipeline, Precision, Report};
use norsk_io::read_tagged;
use serde_json::json;

use crate::{model, Outcome};

#[derive(Debug, Args)]
pub struct EvalArgs {
    #[command(subcommand)]
    task: EvalTask,
}

#[derive(Debug, Subcommand)]
enum EvalTask {
    /// Entity-level precision, recall and F1 on NorNE-style data, as seqeval computes them.
    Ner(EvalNerArgs),
}

#[derive(Debug, Args)]
struct EvalNerArgs {
    /// Labelled sentences: `TOKEN<TAB>TAG` lines (blank line between
    /// sentences) or CoNLL-U with `name=TAG` in MISC; `.gz` is read directly.
    #[arg(long, value_name = "FILE")]
    data: PathBuf,

    /// Model folder or hub id; default: the shipped norsk-bert-ner.
    #[arg(short, long, env = "NORSK_NER_MODEL")]
    model: Option<String>,

    /// How tokens are grouped into entities before words are tagged.
    #[arg(long, default_value = "first", value_parser = crate::ner::parse_aggregation)]
    aggregation: Aggregation,

    /// Numeric precision of the model.
    #[arg(long, default_value = "f32")]
    precision: Precision,

    /// Sentences run through the model together.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,

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
    }
}

fn ner(args: EvalNerArgs) -> anyhow::Result<Outcome> {
    let dir = model::resolve(args.model.as_deref(), "norsk-bert-ner")?;
    let pipeline = NerPipeline::load(&dir, args.precision)
        .with_context(|| format!("cannot load NER model from {}", dir.display()))?;
    let data = read_tagged(&args.data)?;
    let words: Vec<Vec<String>> = data.iter().map(|s| s.tokens.clone()).collect();
    let gold: Vec<Vec<String>> = data.iter().map(|s| s.tags.clone()).collect();
    let options = NerOptions {
        aggregation: args.aggregation,
        batch_size: args.batch_size,
        ..NerOptions::default()
    };
    let started = Instant::now();
    let predicted = pipeline.tag_words(&words, &options)?;
    let seconds = started.elapsed().as_secs_f64();
    let default = evaluate(&gold, &predicted, Mode::Default)?;
    let strict = evaluate(&gold, &predicted, Mode::Strict)?;
    let word_count: usize = words.iter().map(Vec::len).sum();
    match args.format {
        ReportFormat::Json => {
            let out = json!({
                "model": dir.display().to_string(),
                "data": args.data.display().to_string(),
                "precision": args.precision.to_string(),
                "aggregation": args.aggregation.to_string(),
                "sentences": data.len(),
                "words": word_count,
                "seconds": seconds,
                "words_per_s": word_count as f64 / seconds,
                "default": default,
                "strict": strict,
            });
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
        ReportFormat::Human => {
            println!(
                "{}: {} sentences, {word_count} words, {seconds:.1} s ({:.0} words/s)",
                args.data.display(),
                data.len(),
                word_count as f64 / seconds
            );
            println!(
                "model {} ({}, aggregation {})\n",
                dir.display(),
                args.precision,
                args.aggregation
            );
            print_report(&default, &strict);
        }
    }
    Ok(Outcome::Success)
}

fn print_report(default: &Report, strict: &Report) {
    println!("{:<12} {:>16} {:>12}", "", "seqeval default", "strict IOB2");
    for (name, a, b) in [
        ("precision", default.precision, strict.precision),
        ("recall", default.recall, strict.recall),
        ("F1", default.f1, strict.f1),
    ] {
        println!("{name:<12} {a:>16.4} {b:>12.4}");
    }
    println!(
        "{:<12} {:>16} {:>12}\n",
        "entities",
        format!("{}/{}", default.correct, default.support),
        format!("{}/{}", strict.correct, strict.support)
    );
    println!(
        "{:<12} {:>9} {:>9} {:>9} {:>9}",
        "type", "precision", "recall", "F1", "support"
    );
    for (kind, s) in &default.per_type {
        println!(
            "{kind:<12} {:>9.4} {:>9.4} {:>9.4} {:>9}",
            s.precision, s.recall, s.f1, s.support
        );
    }
}
