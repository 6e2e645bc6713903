//! `norsk embed`: one vector per input record, in order, as JSONL or `.npy`.

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use norsk::{EmbedKind, EmbedOptions, Embedder, DEFAULT_EMBED_MODEL};
use norsk_io::{write_chunk, JsonlWriter, NpyRecordWriter, RecordWriter};

use crate::classify::usable_text;
use crate::inputs::InputArgs;
use crate::kernels::PrecisionArgs;
use crate::model::{Encoder, ModelArgs};
use crate::{batch, isolate, output, Outcome};

/// Records embedded together: enough to batch by length, few enough to
/// stream.
const CHUNK: usize = 256;

#[derive(Debug, Args)]
pub struct EmbedArgs {
    #[command(flatten)]
    input: InputArgs,

    #[command(flatten)]
    pub(crate) model: ModelArgs<Encoder>,

    /// What the texts are, said to an e5 model by a prompt in front:
    /// `query` ("query: ", for searches and labels), `passage`
    /// ("passage: ", for the documents searched), `none` (no prompt, for
    /// models trained without one).
    #[arg(long, value_enum, default_value_t = Kind::Passage)]
    kind: Kind,

    /// Embed only the first window (512 tokens) of a long text, as
    /// sentence-transformers does; by default the windows' mean vectors are
    /// averaged, weighted by their token counts.
    #[arg(long)]
    truncate: bool,

    /// Write here instead of stdout (needed for npy).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,

    /// Output format; default from the --output extension (`.npy`), else
    /// JSONL. JSONL: `{"id": …, "embedding": […]}` per record (other input
    /// fields carried through), `{"id": …, "error": …}` for a record that
    /// fails. npy: a float32 array (records, dim), row i for input record
    /// i; a record that fails is a row of NaN, named on stderr.
    #[arg(long, value_enum)]
    format: Option<EmbedFormat>,

    #[command(flatten)]
    precision: PrecisionArgs,
}

/// The prompt in front of every text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Kind {
    Query,
    Passage,
    #[value(name = "none")]
    Plain,
}

impl From<Kind> for EmbedKind {
    fn from(kind: Kind) -> Self {
        match kind {
            Kind::Query => EmbedKind::Query,
            Kind::Passage => EmbedKind::Passage,
            Kind::Plain => EmbedKind::Plain,
        }
    }
}

/// How `embed` writes its vectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EmbedFormat {
    Jsonl,
    Npy,
}

/// The writer of `--format` (by default from the `--output` extension),
/// writing to stdout or `--output`.
fn writer(args: &EmbedArgs, dim: usize) -> anyhow::Result<Box<dyn RecordWriter<[f32]>>> {
    let format = args
        .format
        .unwrap_or(match args.output.as_ref().and_then(|p| p.extension()) {
            Some(e) if e == "npy" => EmbedFormat::Npy,
            _ => EmbedFormat::Jsonl,
        });
    let create = |path: &PathBuf| {
        File::create(path).with_context(|| format!("cannot write {}", path.display()))
    };
    Ok(match (format, &args.output) {
        (EmbedFormat::Jsonl, None) => Box::new(JsonlWriter::new(BufWriter::new(std::io::stdout()))),
        (EmbedFormat::Jsonl, Some(path)) => {
            Box::new(JsonlWriter::new(BufWriter::new(create(path)?)))
        }
        (EmbedFormat::Npy, Some(path)) => Box::new(NpyRecordWriter::new(
            BufWriter::new(create(path)?),
            dim,
            output::notes(),
        )?),
        (EmbedFormat::Npy, None) => bail!("--format npy needs --output FILE.npy"),
    })
}

pub fn run(args: EmbedArgs) -> anyhow::Result<Outcome> {
    let precision = args.precision.chosen();
    let dir = args.model.dir(DEFAULT_EMBED_MODEL)?;
    let model = Embedder::load(&dir, precision)
        .with_context(|| format!("cannot load embedding model from {}", dir.display()))?;
    let options = EmbedOptions {
        kind: args.kind.into(),
        truncate: args.truncate,
        batch_size: args.model.batch_size,
    };
    let mut writer = writer(&args, model.dim())?;
    let outcome = batch::run(&args.input, CHUNK, 0..u64::MAX, |records| {
        let texts: Vec<Result<&str, String>> = records.iter().map(usable_text).collect();
        let vectors = isolate::each(&texts, |texts| {
            model.embed_batch(texts, &options).context("cannot embed")
        });
        let results = vectors.iter().map(|r| r.as_deref());
        Ok(write_chunk(writer.as_mut(), records, results)?)
    })?;
    writer.finish()?;
    Ok(outcome)
}
