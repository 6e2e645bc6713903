//! The model a command runs: the `--model` and `--batch-size` flags, and
//! finding the model's folder. The environment (`HF_HOME`, `HF_HUB_CACHE`,
//! `HF_HUB_OFFLINE`, `HF_TOKEN`, `HF_ENDPOINT`, `NORSK_MODELS`) is read
//! here, at the edge, and passed to the library.

use std::fmt::Debug;
use std::marker::PhantomData;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use norsk::{HubOptions, ModelSource};

/// What a command's model does: the variable that names it when `--model`
/// is not given, the help of both flags, and how many inputs it runs at
/// once by default.
pub trait ModelRole: Debug + Clone + Send + Sync + 'static {
    /// The environment variable read when `--model` is not given.
    const ENV: &'static str;
    /// The help of `--model`: what model it takes, and the default.
    const MODEL_HELP: &'static str;
    /// The default `--batch-size`. (A string: clap keeps a `default_value_t`
    /// in a static that every role would share.)
    const BATCH_SIZE: &'static str;
    /// The help of `--batch-size`: what is batched.
    const BATCH_HELP: &'static str;
}

/// `--model` and `--batch-size`, as `R` describes them.
#[derive(Debug, Args)]
pub struct ModelArgs<R: ModelRole> {
    #[arg(short, long, env = R::ENV, help = R::MODEL_HELP)]
    pub model: Option<String>,

    #[arg(long, default_value = R::BATCH_SIZE, help = R::BATCH_HELP)]
    pub batch_size: usize,

    #[arg(skip)]
    role: PhantomData<R>,
}

impl<R: ModelRole> ModelArgs<R> {
    /// The folder of `--model`, or of the shipped model `default_name`.
    pub fn dir(&self, default_name: &str) -> anyhow::Result<PathBuf> {
        resolve(self.model.as_deref(), default_name)
    }
}

/// `ner`: a token classifier, tagging windows.
#[derive(Debug, Clone)]
pub struct Tagger;

impl ModelRole for Tagger {
    const ENV: &'static str = "NORSK_NER_MODEL";
    const MODEL_HELP: &'static str = "Model folder or Hugging Face Hub id \
        (`owner/name[@revision]`); default: the shipped norsk-bert-ner.";
    const BATCH_SIZE: &'static str = "8";
    const BATCH_HELP: &'static str = "Windows run through the model together; texts \
        are read, batched by length and written 8 × this many at a time.";
}

/// `eval ner`: the tagger, on labelled sentences.
#[derive(Debug, Clone)]
pub struct TaggerEval;

impl ModelRole for TaggerEval {
    const ENV: &'static str = Tagger::ENV;
    const MODEL_HELP: &'static str = Tagger::MODEL_HELP;
    const BATCH_SIZE: &'static str = "32";
    const BATCH_HELP: &'static str = "Sentences run through the model together.";
}

/// `classify` and `eval classify`: a sequence classifier, or a zero-shot
/// model with `--labels`.
#[derive(Debug, Clone)]
pub struct Classifier;

impl ModelRole for Classifier {
    const ENV: &'static str = "NORSK_CLASSIFY_MODEL";
    const MODEL_HELP: &'static str = "Model folder or hub id: a sequence classifier; \
        with --labels or --labels-file an NLI model or an embedding model. Default: the \
        shipped topic model, or with --labels the shipped embedding model.";
    const BATCH_SIZE: &'static str = "16";
    const BATCH_HELP: &'static str = "Windows (or text–hypothesis pairs) run through \
        the model together.";
}

/// `embed`: a BERT encoder, mean-pooled.
#[derive(Debug, Clone)]
pub struct Encoder;

impl ModelRole for Encoder {
    const ENV: &'static str = "NORSK_EMBED_MODEL";
    const MODEL_HELP: &'static str = "Model folder or hub id of a BERT encoder; \
        default: the shipped norsk-e5-embed (multilingual-e5-small, Norwegian vocabulary).";
    const BATCH_SIZE: &'static str = "16";
    const BATCH_HELP: &'static str = "Windows run through the model together.";
}

/// The folder of `--model` (a folder or a hub id), or of the shipped model
/// `default_name` when none is given.
pub fn resolve(model: Option<&str>, default_name: &str) -> anyhow::Result<PathBuf> {
    match model {
        Some(spec) => ModelSource::parse(spec)
            .resolve(&hub())
            .with_context(|| format!("cannot load model {spec:?}")),
        None => Ok(norsk::default_model_dir(
            &norsk::model_roots_from_env(),
            default_name,
        )?),
    }
}

/// The hub settings of this process's environment.
pub fn hub() -> HubOptions {
    HubOptions::from_env()
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::eval::EvalTask;
    use crate::{Cli, Command};

    /// The `--batch-size` a command gets by default.
    fn default_batch(argv: &[&str]) -> usize {
        match Cli::try_parse_from(argv).unwrap().command {
            Command::Ner(args) => args.model.batch_size,
            Command::Classify(args) => args.model.batch_size,
            Command::Embed(args) => args.model.batch_size,
            Command::Eval(args) => match args.task {
                EvalTask::Ner(args) => args.model.batch_size,
                EvalTask::Classify(args) => args.model.batch_size,
            },
            other => panic!("no model flags in {other:?}"),
        }
    }

    #[test]
    fn each_role_keeps_its_own_default_batch_size() {
        assert_eq!(default_batch(&["norsk", "ner", "x"]), 8);
        assert_eq!(default_batch(&["norsk", "classify", "x"]), 16);
        assert_eq!(default_batch(&["norsk", "embed", "x"]), 16);
        assert_eq!(default_batch(&["norsk", "eval", "ner", "--data", "d"]), 32);
        let argv = ["norsk", "eval", "classify", "--data", "d"];
        assert_eq!(default_batch(&argv), 16);
        let argv = ["norsk", "ner", "-m", "owner/name", "--batch-size", "3", "x"];
        let Command::Ner(args) = Cli::try_parse_from(argv).unwrap().command else {
            panic!("not ner");
        };
        assert_eq!(args.model.model.as_deref(), Some("owner/name"));
        assert_eq!(args.model.batch_size, 3);
    }
}
