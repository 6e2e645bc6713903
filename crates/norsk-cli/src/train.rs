//! `norsk train classify`: fine-tune a classifier with candle on the CPU.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand};
use norsk::{Precision, DEFAULT_EMBED_MODEL};
use norsk_train::{
    train_classifier, train_head, ClassWeights, Event, Example, HeadTrainConfig, TrainConfig,
};

use crate::choice::Choice;
use crate::eval::{load_labelled, Labelled};
use crate::{model, Outcome};

#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(subcommand)]
    task: TrainTask,
}

#[derive(Debug, Subcommand)]
enum TrainTask {
    /// Fine-tune an encoder and a classification head on labelled texts;
    /// the best epoch on dev is written in Hugging Face layout. With
    /// --head-only, train a linear head over frozen sentence embeddings in
    /// minutes.
    #[command(after_help = crate::EXIT_CODES)]
    Classify(TrainClassifyArgs),
}

#[derive(Debug, Args)]
struct TrainClassifyArgs {
    /// Training records: JSONL, CSV or TSV (`.gz`/`.xz` read directly).
    #[arg(long, value_name = "FILE")]
    train: PathBuf,

    /// Dev records for choosing the best epoch (may be the same file as
    /// --train with other --dev-filter values).
    #[arg(long, value_name = "FILE")]
    dev: PathBuf,

    /// Keep only training records whose FIELD equals VALUE; repeatable.
    #[arg(long, value_name = "FIELD=VALUE", value_parser = crate::eval::parse_filter)]
    train_filter: Vec<(String, String)>,

    /// Keep only dev records whose FIELD equals VALUE; repeatable.
    #[arg(long, value_name = "FIELD=VALUE", value_parser = crate::eval::parse_filter)]
    dev_filter: Vec<(String, String)>,

    /// The encoder to start from (any BERT folder or hub id); default: the
    /// shipped norsk-bert-ner's encoder, or with --head-only the shipped
    /// embedding model norsk-e5-embed.
    #[arg(long)]
    base: Option<String>,

    /// Train only a softmax head over the frozen, mean-pooled sentence
    /// embeddings of --base (every window of a long text pooled, the title
    /// in front of each): the texts are embedded once (cached in
    /// --cache-dir), then the head takes seconds. The L2 penalty is chosen
    /// on dev. The output folder (`norsk_head.json`, `head.safetensors`)
    /// refers to the encoder and loads in `classify --model`.
    #[arg(long)]
    head_only: bool,

    /// With --head-only: where embeddings are cached [default:
    /// $XDG_CACHE_HOME/norsk/embeddings or ~/.cache/norsk/embeddings].
    #[arg(long, requires = "head_only", value_name = "DIR")]
    cache_dir: Option<PathBuf>,

    /// With --head-only: the precision the base embeds the texts in (int8
    /// embeds about twice as fast; `classify` may then read the head in
    /// any precision).
    #[arg(
        long,
        value_parser = Choice::<Precision>::new(),
        requires = "head_only",
        default_value = "f32"
    )]
    precision: Precision,

    /// Keep at most N training records per label (a few-shot sample, chosen
    /// by --seed).
    #[arg(long, value_name = "N")]
    per_label: Option<usize>,

    /// Output folder.
    #[arg(long)]
    out: PathBuf,

    /// The field or column holding the text.
    #[arg(long, default_value = "text")]
    text_field: String,

    /// The field or column holding the label.
    #[arg(long, default_value = "label")]
    label_field: String,

    /// A field put in front of the text (e.g. a title), joined by ". ";
    /// records without it are read as text alone, as `classify
    /// --title-field` reads them.
    #[arg(long)]
    prefix_field: Option<String>,

    #[arg(long, default_value_t = 3)]
    epochs: usize,
    #[arg(long, default_value_t = 16)]
    batch_size: usize,
    /// Tokens per example, special tokens included (longer texts are cut).
    #[arg(long, default_value_t = 256)]
    max_len: usize,
    /// Learning rate of the encoder.
    #[arg(long, default_value_t = 1e-4)]
    lr: f64,
    /// Learning rate of the new head.
    #[arg(long, default_value_t = 1e-3)]
    head_lr: f64,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Wall-clock budget; training stops in time to evaluate and save.
    #[arg(long)]
    max_minutes: Option<f64>,
    /// Store the weights as f16 (half the size).
    #[arg(long)]
    f16: bool,
    /// Keep the embeddings and the first N encoder layers as the base has
    /// them: their outputs are computed once, so epochs cost only the
    /// layers above.
    #[arg(long, default_value_t = 0, value_name = "N")]
    freeze_layers: usize,
    /// Refer to the base's shards that hold only frozen tensors instead of
    /// copying them (`../BASE/SHARD` in the index); --out must be beside a
    /// sharded --base folder.
    #[arg(long)]
    share_base_shards: bool,
    /// How much each class's examples weigh in the loss: `none` (plain
    /// cross-entropy), `balanced` (n / (k · n_class): every class weighs the
    /// same in all) or `sqrt` (its square root, a milder lift of rare classes).
    #[arg(long, default_value = "none", value_name = "none|balanced|sqrt")]
    class_weights: ClassWeights,
}

pub fn run(args: TrainArgs) -> anyhow::Result<Outcome> {
    match args.task {
        TrainTask::Classify(args) => classify(args),
    }
}

fn classify(args: TrainClassifyArgs) -> anyhow::Result<Outcome> {
    if args.head_only {
        return head(args);
    }
    if args.per_label.is_some() {
        anyhow::bail!("--per-label works with --head-only only");
    }
    let base = model::resolve(args.base.as_deref(), "norsk-bert-ner")?;
    let prefix = args.prefix_field.as_deref();
    let (text, label) = (&args.text_field, &args.label_field);
    let load = |path, filters| -> anyhow::Result<Vec<(String, String)>> {
        let examples = load_labelled(path, text, label, prefix, filters)?;
        let joined = |e: &Labelled| e.article().joined().0.into_owned();
        Ok(examples
            .iter()
            .map(|e| (joined(e), e.label.clone()))
            .collect())
    };
    let train = load(&args.train, &args.train_filter)?;
    let dev = load(&args.dev, &args.dev_filter)?;
    let config = TrainConfig {
        epochs: args.epochs,
        batch_size: args.batch_size,
        learning_rate: args.lr,
        head_learning_rate: args.head_lr,
        max_len: args.max_len,
        seed: args.seed,
        max_minutes: args.max_minutes,
        save_f16: args.f16,
        freeze_layers: args.freeze_layers,
        share_base_shards: args.share_base_shards,
        class_weights: args.class_weights,
        ..TrainConfig::default()
    };
    if args.out.join(norsk::LEXICAL_CONFIG).is_file() {
        eprintln!(
            "norsk: warning: {} has a lexical channel ({}) fitted to the model it held; it stays and will be added \
             to the new model's logits: fit it again for the new model (as models/norsk-topic/README.md shows) or \
             remove it",
            args.out.display(),
            norsk::LEXICAL_CONFIG
        );
    }
    let live = std::io::stderr().is_terminal();
    let report = train_classifier(&base, &train, &dev, &config, &args.out, |event| match event {
        Event::Step {
            epoch,
            step,
            steps_in_epoch,
            loss,
            tokens_per_second,
            ..
        } if live || step % 50 == 0 => {
            let line = format!(
                "epoch {epoch} step {step}/{steps_in_epoch} loss {loss:.4} ({tokens_per_second:.0} tokens/s)"
            );
            if live {
                eprint!("\r\x1b[2K{line}");
            } else {
                eprintln!("{line}");
            }
        }
        Event::Step { .. } => {}
        Event::Epoch(e) => eprintln!(
            "\repoch {}: train loss {:.4}, dev accuracy {:.4}, dev macro-F1 {:.4} ({:.0} s)",
            e.epoch, e.train_loss, e.dev_accuracy, e.dev_macro_f1, e.seconds
        ),
        other => eprintln!("{other:?}"),
    })
    .with_context(|| format!("training from {} failed", base.display()))?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(Outcome::Success)
}

/// `--head-only`: a softmax head over frozen sentence embeddings.
fn head(args: TrainClassifyArgs) -> anyhow::Result<Outcome> {
    let base = model::resolve(args.base.as_deref(), DEFAULT_EMBED_MODEL)?;
    let prefix = args.prefix_field.as_deref();
    let (text, label) = (&args.text_field, &args.label_field);
    let train = load_labelled(&args.train, text, label, prefix, &args.train_filter)?;
    let dev = load_labelled(&args.dev, text, label, prefix, &args.dev_filter)?;
    fn examples(all: &[Labelled]) -> Vec<Example<'_>> {
        all.iter()
            .map(|e| Example {
                article: e.article(),
                label: &e.label,
            })
            .collect()
    }
    let cache_dir = match args.cache_dir {
        Some(dir) => dir,
        None => default_cache_dir()?,
    };
    let config = HeadTrainConfig {
        per_label: args.per_label,
        seed: args.seed,
        batch_size: args.batch_size,
        precision: args.precision,
        ..HeadTrainConfig::default()
    };
    // A hub id is written as given; a folder by its path from --out.
    let name = args.base.as_deref().filter(|b| !Path::new(b).exists());
    let report = train_head(
        &base,
        name,
        &examples(&train),
        &examples(&dev),
        &config,
        &args.out,
        &cache_dir,
        |done, total| eprint!("\rembedding {done}/{total} texts"),
    )
    .with_context(|| format!("training a head over {} failed", base.display()))?;
    eprintln!();
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(Outcome::Success)
}

/// `$XDG_CACHE_HOME/norsk/embeddings`, else `~/.cache/norsk/embeddings`.
fn default_cache_dir() -> anyhow::Result<PathBuf> {
    let base = match std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(
            std::env::var_os("HOME")
                .context("no HOME to cache embeddings under: pass --cache-dir")?,
        )
        .join(".cache"),
    };
    Ok(base.join("norsk").join("embeddings"))
}
