//! `norsk ner`: entities of texts, in the format asked for.

use std::io::{BufWriter, IsTerminal, Write};

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use norsk::{Aggregation, LabelDecoding, NerOptions, NerPipeline, SentenceContext, DEFAULT_STRIDE};
use norsk_io::{
    write_chunk, ConllWriter, HumanWriter, JsonWriter, JsonlWriter, OffsetUnit, Palette,
    RecordWriter, Tagged,
};

use crate::choice::Choice;
use crate::inputs::InputArgs;
use crate::kernels::PrecisionArgs;
use crate::model::{ModelArgs, Tagger};
use crate::output::{self, OutputArgs};
use crate::resume::{self, Chunks, Layout};
use crate::shard::{self, ShardArgs};
use crate::{batch, isolate, Outcome};

/// Texts tagged together, per window in a model batch: enough to batch
/// windows well, few enough to stream. `norsk bench --corpus` hands the
/// pipeline the same chunks.
pub(crate) const CHUNK_BATCHES: usize = 8;

#[derive(Debug, Args)]
pub struct NerArgs {
    #[command(flatten)]
    input: InputArgs,

    #[command(flatten)]
    shard: ShardArgs,

    #[command(flatten)]
    pub(crate) model: ModelArgs<Tagger>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,

    #[command(flatten)]
    out: OutputArgs,

    /// How tokens are grouped into entities (as transformers' aggregation_strategy:
    /// none, simple, first, average, max). Default: as the model's
    /// config.json says (`norsk_aggregation`; the shipped model: average,
    /// its word pieces are all trained), else first (a word labelled by its
    /// first token, as most NER models are trained).
    #[arg(long, value_parser = Choice::<Aggregation>::new())]
    aggregation: Option<Aggregation>,

    /// How each word's (or token's) label is chosen: `argmax` takes each
    /// one's best label, as transformers does; `constrained` the best label
    /// sequence the scheme allows (no I-PER after O). Default: as the
    /// model's config.json says (`norsk_decoding`; the shipped model:
    /// constrained), else argmax.
    #[arg(long, value_parser = Choice::<LabelDecoding>::new())]
    decoding: Option<LabelDecoding>,

    /// Run each text whole, as transformers' pipeline does, instead of
    /// sentence by sentence (as NorNE-trained models expect).
    #[arg(long)]
    no_split: bool,

    /// Tag each sentence with its neighbours as context (consecutive
    /// sentences share a window, as many as fit), or alone. `model`: as the
    /// model was trained (its config.json's `norsk_sentence_context`; the
    /// shipped model: neighbours).
    #[arg(long, default_value = "model", value_parser = Choice::<SentenceContext>::new(), conflicts_with = "no_split")]
    context: SentenceContext,

    /// Tokens shared by consecutive windows over a text longer than the model
    /// takes (at most half a window).
    #[arg(long, default_value_t = DEFAULT_STRIDE, conflicts_with = "truncate")]
    stride: usize,

    /// Tag only the first window of a long text (as transformers without stride).
    #[arg(long)]
    truncate: bool,

    /// Labels (or entity groups) to leave out.
    #[arg(long, value_delimiter = ',', default_value = "O")]
    ignore_labels: Vec<String>,

    /// What `start` and `end` count: characters (as Python) or UTF-8 bytes.
    #[arg(long, value_parser = Choice::<OffsetUnit>::new(), default_value = "chars")]
    offsets: OffsetUnit,

    #[command(flatten)]
    precision: PrecisionArgs,

    /// Colour in human output.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// The text with entities highlighted, then one line per entity.
    Human,
    /// One JSON array of entities per text (one text: just that array).
    Json,
    /// One JSON record per text: `{"id": …, "entities": […]}`.
    Jsonl,
    /// One word per line with its IOB2 tag.
    Conll,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

/// Tags every input record and writes one result (or error) per record, in order.
pub fn run(args: NerArgs) -> anyhow::Result<Outcome> {
    if args.out.resume && args.format != Format::Jsonl {
        bail!("--resume goes on after the whole lines of --format jsonl output; other formats cannot be resumed");
    }
    let chunk = CHUNK_BATCHES * args.model.batch_size.max(1);
    let shard = args.shard.shard()?;
    if shard.is_some() && args.format == Format::Json {
        bail!("--shard: --format json writes one array per run, and arrays do not concatenate; use --format jsonl");
    }
    let positions = shard::positions(&args.input, shard, chunk)?;
    let dir = args.model.dir("norsk-bert-ner")?;
    let precision = args.precision.chosen();
    let pipeline = NerPipeline::load(&dir, precision)
        .with_context(|| format!("cannot load NER model from {}", dir.display()))?;
    let options = NerOptions {
        aggregation: args
            .aggregation
            .unwrap_or_else(|| pipeline.default_aggregation()),
        decoding: args.decoding,
        stride: (!args.truncate).then_some(args.stride),
        ignore_labels: args.ignore_labels.clone(),
        batch_size: args.model.batch_size,
        split_sentences: !args.no_split,
        context: args.context,
    };
    let chunks = Chunks {
        size: chunk as u64,
        total: positions.end - positions.start,
    };
    let (sink, done) = resume::open(
        args.out.output.as_deref(),
        Layout::Lines,
        args.out.resume,
        chunks,
    )?;
    let mut writer = writer(&args, BufWriter::new(sink));
    let todo = positions.start.saturating_add(done)..positions.end;
    let outcome = batch::run(&args.input, chunk, todo, |records| {
        let texts: Vec<Result<&str, String>> = records
            .iter()
            .map(|r| r.text.as_deref().map_err(|e| norsk_io::error_message(e)))
            .collect();
        let tagged = isolate::each(&texts, |texts| {
            pipeline.tag_batch(texts, &options).context("cannot tag")
        });
        let results: Vec<Result<Tagged, &str>> = texts
            .iter()
            .zip(&tagged)
            .map(|(text, entities)| match (text, entities) {
                (Ok(text), Ok(entities)) => Ok(Tagged { text, entities }),
                (Err(message), _) | (_, Err(message)) => Err(message.as_str()),
            })
            .collect();
        let results = results.iter().map(Result::as_ref);
        Ok(write_chunk(writer.as_mut(), records, results)?)
    })?;
    writer.finish()?;
    Ok(outcome)
}

/// The writer of `--format`, writing to `out`.
fn writer<'w>(
    args: &NerArgs,
    out: impl Write + 'w,
) -> Box<dyn for<'t> RecordWriter<Tagged<'t>> + 'w> {
    let single = args.input.is_single();
    match args.format {
        Format::Human => Box::new(HumanWriter::new(
            out,
            palette(args),
            single,
            output::notes(),
        )),
        Format::Json => Box::new(JsonWriter::new(out, args.offsets, single, output::notes())),
        Format::Jsonl => Box::new(JsonlWriter::new(out).offsets(args.offsets)),
        Format::Conll => Box::new(ConllWriter::new(out, output::notes())),
    }
}

/// Colours for a terminal (unless `NO_COLOR` is set), or as `--color` says.
fn palette(args: &NerArgs) -> Palette {
    let colour = match args.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => {
            args.out.output.is_none()
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none()
        }
    };
    if colour {
        Palette::Ansi
    } else {
        Palette::Plain
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use std::path::Path;

    use norsk::Precision;

    use super::*;
    use crate::{Cli, Command};

    fn parse(args: &[&str]) -> Result<NerArgs, clap::Error> {
        let argv = ["norsk", "ner"].iter().chain(args);
        match Cli::try_parse_from(argv)?.command {
            Command::Ner(args) => Ok(args),
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn every_choice_parses_by_its_name_and_the_shared_flags_land_in_place() {
        let args = parse(&[
            "--precision",
            "INT8",
            "--offsets",
            "bytes",
            "--aggregation",
            "Average",
            "--decoding",
            "constrained",
            "--context",
            "neighbours",
            "--format",
            "jsonl",
            "-o",
            "ut.jsonl",
            "--resume",
            "--input",
            "inn.jsonl",
        ])
        .unwrap();
        assert_eq!(args.precision.precision, Precision::Int8);
        assert_eq!(args.offsets, OffsetUnit::Bytes);
        assert_eq!(args.aggregation, Some(Aggregation::Average));
        assert_eq!(args.decoding, Some(LabelDecoding::Constrained));
        assert_eq!(args.context, SentenceContext::Neighbours);
        assert_eq!(args.out.output.as_deref(), Some(Path::new("ut.jsonl")));
        assert!(args.out.resume);
        assert_eq!(args.input.input.as_deref(), Some(Path::new("inn.jsonl")));
        assert!(args.input.texts.is_empty());

        let defaults = parse(&["Oslo"]).unwrap();
        assert_eq!(defaults.input.texts, ["Oslo"]);
        assert_eq!(defaults.precision.precision, Precision::F32);
        assert_eq!(defaults.offsets, OffsetUnit::Chars);
        assert_eq!(defaults.aggregation, None);
        assert_eq!(defaults.context, SentenceContext::Model);
        assert!(defaults.out.output.is_none() && !defaults.out.resume);
        // The library's older spellings stay accepted.
        assert_eq!(
            parse(&["--precision", "fp32"]).unwrap().precision.precision,
            Precision::F32
        );
        assert_eq!(
            parse(&["--offsets", "char"]).unwrap().offsets,
            OffsetUnit::Chars
        );
    }

    #[test]
    fn a_bad_choice_names_the_possible_values_and_resume_needs_an_output() {
        let err = parse(&["--precision", "fp16"]).unwrap_err().to_string();
        assert!(
            err.contains("fp16") && err.contains("f32, bf16 or int8"),
            "{err}"
        );
        let err = parse(&["--aggregation", "loudest"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("average"), "{err}");
        let err = parse(&["--resume", "Oslo"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::MissingRequiredArgument);
        let err = parse(&["--input", "inn.jsonl", "Oslo"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ArgumentConflict);
    }
}
