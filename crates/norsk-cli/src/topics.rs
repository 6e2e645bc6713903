//! The topic model of `classify` and `eval classify`: the shipped (or a
//! given) classifier, or zero-shot topics named at run time.

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::Args;
use norsk::{
    load_classifier, load_zero_shot, ClassifyArticles, Precision, TopicSet, DEFAULT_EMBED_MODEL,
    DEFAULT_HYPOTHESIS_TEMPLATE,
};

use crate::model;

/// Zero-shot topics: which, and how an NLI model is asked about them.
#[derive(Debug, Args)]
pub struct TopicArgs {
    /// Zero-shot: candidate topics, comma-separated, or a built-in set by
    /// name: `@nyheter` (news-desk sections) or `@departementer` (the
    /// ministries' fields, for laws and public documents). Without --model
    /// each article is compared with each topic by the shipped embedding
    /// model (cosine similarity with the topic put into
    /// --hypothesis-template, softmax at a fitted temperature); with an
    /// NLI --model, each topic is put into --hypothesis-template and judged
    /// by the model.
    #[arg(long, value_delimiter = ',', conflicts_with = "labels_file")]
    labels: Vec<String>,

    /// Zero-shot: topics with descriptions, one per line,
    /// `label<TAB>description` (a line without a tab is a label alone; `#`
    /// starts a comment). Articles are compared with the descriptions.
    #[arg(long, value_name = "FILE")]
    labels_file: Option<PathBuf>,

    /// Zero-shot: the hypothesis made from each topic, `{}` its label (NLI
    /// model) or its description, else its label (embedding model).
    #[arg(long, default_value = DEFAULT_HYPOTHESIS_TEMPLATE)]
    hypothesis_template: String,

    /// Read a trained classifier alone, without the lexical channel its
    /// folder may have (`norsk_lexical.json`, as the shipped topic model's:
    /// TF-IDF of the whole text's words and word pairs, whose logits are
    /// added to the model's).
    #[arg(long)]
    no_lexical: bool,
}

impl TopicArgs {
    /// Whether a trained classifier's lexical channel is read.
    pub fn lexical(&self) -> bool {
        !self.no_lexical
    }

    /// The zero-shot topics asked for, or `None` for a trained classifier.
    pub fn topics(&self) -> anyhow::Result<Option<TopicSet>> {
        if let Some(path) = &self.labels_file {
            return Ok(Some(TopicSet::read_tsv(path)?));
        }
        if self.labels.is_empty() {
            return Ok(None);
        }
        let named: Vec<&String> = self.labels.iter().filter(|l| l.starts_with('@')).collect();
        match (named.as_slice(), self.labels.len()) {
            ([], _) => Ok(Some(TopicSet::from_labels(&self.labels)?)),
            ([name], 1) => Ok(Some(TopicSet::builtin(&name[1..])?)),
            _ => bail!("--labels takes either topic names or one built-in set (@name), not both"),
        }
    }

    /// The model that gives articles their topics: zero-shot when topics
    /// are asked for (by the shipped embedding model when no `model` is
    /// given), else the classifier `model` or the shipped topic model; with
    /// the folder it was loaded from.
    pub fn load(
        &self,
        model: Option<&str>,
        precision: Precision,
    ) -> anyhow::Result<(PathBuf, Box<dyn ClassifyArticles>)> {
        match self.topics()? {
            None => {
                let dir = model::resolve(model, "norsk-topic")?;
                let classifier = load_classifier(&dir, precision, &model::hub())
                    .with_context(|| format!("cannot load classifier from {}", dir.display()))?;
                Ok((dir, classifier))
            }
            Some(topics) => {
                if !self.hypothesis_template.contains("{}") {
                    bail!(
                        "--hypothesis-template {:?} has no {{}} for the topic",
                        self.hypothesis_template
                    );
                }
                let dir = model::resolve(model, DEFAULT_EMBED_MODEL)?;
                let scorer = load_zero_shot(&dir, precision, &topics, &self.hypothesis_template)
                    .with_context(|| {
                        format!("cannot load a zero-shot model from {}", dir.display())
                    })?;
                Ok((dir, scorer))
            }
        }
    }
}
