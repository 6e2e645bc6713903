//! The extension module `norsk._norsk`: the library's pipelines as Python
//! classes. The Python side (`python/norsk/__init__.py`) gives them
//! transformers' `pipeline()` shape; here each batch call releases the GIL
//! and runs on the library's own threads.

use std::path::{Path, PathBuf};

use norsk::kernels::{self, KernelOptions};
use norsk::{
    Aggregation, Article, CharIndex, Classifier, ClassifyOptions, EmbedKind, EmbedOptions,
    Embedder, Entity, HubOptions, ModelSource, NerOptions, NerPipeline, Precision, Prediction,
    SimilarityClassifier, TopicSet, ZeroShotClassifier, ZeroShotKind, DEFAULT_EMBED_MODEL,
};
use norsk_io::error_message;
use pyo3::exceptions::{PyException, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

pyo3::create_exception!(
    _norsk,
    NorskError,
    PyException,
    "A model could not be loaded or run; the message says what and where."
);

/// Turns a library error into `norsk.NorskError` with the library's message
/// and its causes.
fn library_error(e: impl std::error::Error + 'static) -> PyErr {
    NorskError::new_err(error_message(&e))
}

/// [`library_error`] for a model that could not be loaded: names the model
/// and its folder.
fn load_error<'a>(what: &'a str, dir: &'a Path) -> impl FnOnce(norsk::NorskError) -> PyErr + 'a {
    move |e| {
        let message = error_message(&e);
        NorskError::new_err(format!(
            "cannot load {what} from {}: {message}",
            dir.display()
        ))
    }
}

/// Parses an option value with its `FromStr`, as a `ValueError` naming the option.
fn parse_option<T: std::str::FromStr>(name: &str, value: &str) -> PyResult<T>
where
    T::Err: std::fmt::Display,
{
    value
        .parse()
        .map_err(|e| PyValueError::new_err(format!("{name}={value:?}: {e}")))
}

/// The model folder for `model`: a folder or hub id (through the hub
/// settings of the environment, as `huggingface_hub` reads them), or the
/// shipped model called `default` when `None` (looked for in `models_dir`,
/// then `$NORSK_MODELS`, `models/` here, or beside the program).
fn model_dir(model: Option<&str>, default: &str, models_dir: Option<PathBuf>) -> PyResult<PathBuf> {
    match model {
        Some(spec) => ModelSource::parse(spec)
            .resolve(&HubOptions::from_env())
            .map_err(library_error),
        None => {
            let roots: Vec<PathBuf> = models_dir
                .into_iter()
                .chain(norsk::model_roots_from_env())
                .collect();
            norsk::default_model_dir(&roots, default).map_err(library_error)
        }
    }
}

fn batch_size(value: usize) -> PyResult<usize> {
    if value == 0 {
        Err(PyValueError::new_err("batch_size must be at least 1"))
    } else {
        Ok(value)
    }
}

/// A token-classification model with its options: entities of texts.
#[pyclass(frozen, module = "norsk._norsk")]
struct NerModel {
    pipeline: NerPipeline,
    options: NerOptions,
    dir: PathBuf,
}

#[pymethods]
impl NerModel {
    #[new]
    #[pyo3(signature = (model=None, *, aggregation_strategy=None, decoding=None, stride=Some(norsk::DEFAULT_STRIDE), ignore_labels=None, batch_size=8, split_sentences=true, context="model", precision="f32", models_dir=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        model: Option<&str>,
        aggregation_strategy: Option<&str>,
        decoding: Option<&str>,
        stride: Option<usize>,
        ignore_labels: Option<Vec<String>>,
        batch_size: usize,
        split_sentences: bool,
        context: &str,
        precision: &str,
        models_dir: Option<PathBuf>,
    ) -> PyResult<Self> {
        let aggregation: Option<Aggregation> = aggregation_strategy
            .map(|name| parse_option("aggregation_strategy", name))
            .transpose()?;
        let precision: Precision = parse_option("precision", precision)?;
        let decoding = decoding
            .map(|name| parse_option("decoding", name))
            .transpose()?;
        let batch_size = self::batch_size(batch_size)?;
        let context = parse_option("context", context)?;
        let dir = model_dir(model, "norsk-bert-ner", models_dir)?;
        let pipeline = py
            .detach(|| NerPipeline::load(&dir, precision))
            .map_err(load_error("NER model", &dir))?;
        let options = NerOptions {
            aggregation: aggregation.unwrap_or_else(|| pipeline.default_aggregation()),
            decoding,
            stride,
            ignore_labels: ignore_labels.unwrap_or_else(|| vec!["O".to_string()]),
            batch_size,
            split_sentences,
            context,
        };
        Ok(Self {
            pipeline,
            options,
            dir,
        })
    }

    /// Entities of each text: dicts with transformers' keys (`entity_group`,
    /// `score`, `word`, `start`, `end`; `entity` and `index` with
    /// aggregation `none`), offsets in Python characters.
    fn tag<'py>(
        &self,
        py: Python<'py>,
        texts: Vec<String>,
    ) -> PyResult<Vec<Vec<Bound<'py, PyDict>>>> {
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let tagged = py
            .detach(|| self.pipeline.tag_batch(&refs, &self.options))
            .map_err(library_error)?;
        texts
            .iter()
            .zip(&tagged)
            .map(|(text, entities)| entity_dicts(py, text, entities))
            .collect()
    }

    /// The model's labels, in id order.
    #[getter]
    fn labels(&self) -> Vec<String> {
        self.pipeline.labels().names().to_vec()
    }

    /// The model folder.
    #[getter]
    fn model_dir(&self) -> PathBuf {
        self.dir.clone()
    }
}

fn entity_dicts<'py>(
    py: Python<'py>,
    text: &str,
    entities: &[Entity],
) -> PyResult<Vec<Bound<'py, PyDict>>> {
    let chars = CharIndex::new(text);
    entities
        .iter()
        .map(|e| {
            let dict = PyDict::new(py);
            let key = if e.index.is_some() {
                "entity"
            } else {
                "entity_group"
            };
            dict.set_item(key, &e.label)?;
            dict.set_item("score", e.score)?;
            dict.set_item("word", &e.word)?;
            dict.set_item("start", chars.char_of_byte(e.start))?;
            dict.set_item("end", chars.char_of_byte(e.end))?;
            if let Some(index) = e.index {
                dict.set_item("index", index)?;
            }
            Ok(dict)
        })
        .collect()
}

/// A fine-tuned sequence classifier: labels of texts.
#[pyclass(frozen, module = "norsk._norsk")]
struct TextClassifier {
    classifier: Classifier,
    batch_size: usize,
    dir: PathBuf,
}

#[pymethods]
impl TextClassifier {
    #[new]
    #[pyo3(signature = (model=None, *, batch_size=16, precision="f32", models_dir=None))]
    fn new(
        py: Python<'_>,
        model: Option<&str>,
        batch_size: usize,
        precision: &str,
        models_dir: Option<PathBuf>,
    ) -> PyResult<Self> {
        let precision: Precision = parse_option("precision", precision)?;
        let dir = model_dir(model, "norsk-topic", models_dir)?;
        let classifier = py
            .detach(|| Classifier::load(&dir, precision))
            .map_err(load_error("classifier", &dir))?;
        Ok(Self {
            classifier,
            batch_size: self::batch_size(batch_size)?,
            dir,
        })
    }

    /// `(label, score)` pairs of each text, best first: the best `top_k`
    /// (all with `None`). A title, where given, begins every window.
    /// `lexical=False` reads the model without its lexical channel.
    #[pyo3(signature = (texts, titles=None, *, top_k=Some(1), multi_label=None, truncation=false, lexical=true))]
    fn classify(
        &self,
        py: Python<'_>,
        texts: Vec<String>,
        titles: Option<Vec<Option<String>>>,
        top_k: Option<usize>,
        multi_label: Option<bool>,
        truncation: bool,
        lexical: bool,
    ) -> PyResult<Vec<Vec<(String, f32)>>> {
        let titles = titles.unwrap_or_else(|| vec![None; texts.len()]);
        if titles.len() != texts.len() {
            return Err(PyValueError::new_err(format!(
                "{} titles for {} texts",
                titles.len(),
                texts.len()
            )));
        }
        let articles: Vec<Article> = texts
            .iter()
            .zip(&titles)
            .map(|(text, title)| Article {
                title: title.as_deref(),
                text,
            })
            .collect();
        let options = ClassifyOptions {
            top_k,
            multi_label,
            truncate: truncation,
            batch_size: self.batch_size,
            lexical,
        };
        let predictions = py
            .detach(|| self.classifier.classify_articles(&articles, &options))
            .map_err(library_error)?;
        Ok(predictions.into_iter().map(pairs).collect())
    }

    /// The model's labels, in id order.
    #[getter]
    fn labels(&self) -> Vec<String> {
        self.classifier.labels().to_vec()
    }

    /// The model folder.
    #[getter]
    fn model_dir(&self) -> PathBuf {
        self.dir.clone()
    }
}

fn pairs(predictions: Vec<Prediction>) -> Vec<(String, f32)> {
    predictions
        .into_iter()
        .map(|p| (p.label, p.score))
        .collect()
}

/// How [`ZeroShotModel`] scores topics.
enum ZeroShotScorer {
    /// An NLI model judges each hypothesis.
    Nli(Box<ZeroShotClassifier>),
    /// An embedding model compares the text with each topic.
    Similarity(Box<SimilarityClassifier>),
}

/// Zero-shot classification: by an NLI model, or by embedding similarity
/// (the shipped embedding model when no model is given).
#[pyclass(frozen, module = "norsk._norsk")]
struct ZeroShotModel {
    scorer: ZeroShotScorer,
    batch_size: usize,
    dir: PathBuf,
}

#[pymethods]
impl ZeroShotModel {
    #[new]
    #[pyo3(signature = (model=None, *, batch_size=16, precision="f32", models_dir=None))]
    fn new(
        py: Python<'_>,
        model: Option<&str>,
        batch_size: usize,
        precision: &str,
        models_dir: Option<PathBuf>,
    ) -> PyResult<Self> {
        let precision: Precision = parse_option("precision", precision)?;
        let dir = model_dir(model, DEFAULT_EMBED_MODEL, models_dir)?;
        let scorer = py
            .detach(|| -> Result<ZeroShotScorer, norsk::NorskError> {
                Ok(match ZeroShotKind::of(&dir)? {
                    ZeroShotKind::Nli => {
                        ZeroShotScorer::Nli(Box::new(ZeroShotClassifier::load(&dir, precision)?))
                    }
                    ZeroShotKind::Embedding => ZeroShotScorer::Similarity(Box::new(
                        SimilarityClassifier::load(&dir, precision)?,
                    )),
                })
            })
            .map_err(load_error("a zero-shot model", &dir))?;
        Ok(Self {
            scorer,
            batch_size: self::batch_size(batch_size)?,
            dir,
        })
    }

    /// `(label, score)` pairs of each text over `candidate_labels`, best first.
    #[pyo3(signature = (texts, candidate_labels, hypothesis_template=norsk::DEFAULT_HYPOTHESIS_TEMPLATE, multi_label=false))]
    fn classify(
        &self,
        py: Python<'_>,
        texts: Vec<String>,
        candidate_labels: Vec<String>,
        hypothesis_template: &str,
        multi_label: bool,
    ) -> PyResult<Vec<Vec<(String, f32)>>> {
        if !hypothesis_template.contains("{}") {
            return Err(PyValueError::new_err(format!(
                "hypothesis_template {hypothesis_template:?} has no {{}} for the label"
            )));
        }
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let predictions = py
            .detach(|| match &self.scorer {
                ZeroShotScorer::Nli(model) => model.classify_batch(
                    &refs,
                    &candidate_labels,
                    hypothesis_template,
                    multi_label,
                    self.batch_size,
                ),
                ZeroShotScorer::Similarity(model) => {
                    let topics = TopicSet::from_labels(&candidate_labels)?;
                    let topics = model.embed_topics(&topics, hypothesis_template)?;
                    let articles: Vec<Article> =
                        refs.iter().map(|t| Article::untitled(t)).collect();
                    let options = ClassifyOptions {
                        multi_label: Some(multi_label),
                        batch_size: self.batch_size,
                        ..ClassifyOptions::default()
                    };
                    model.classify_articles(&articles, &topics, &options)
                }
            })
            .map_err(library_error)?;
        Ok(predictions.into_iter().map(pairs).collect())
    }

    /// The model folder.
    #[getter]
    fn model_dir(&self) -> PathBuf {
        self.dir.clone()
    }
}

/// A sentence-embedding model: one unit vector per text.
#[pyclass(frozen, module = "norsk._norsk")]
struct EmbedModel {
    embedder: Embedder,
    options: EmbedOptions,
    dir: PathBuf,
}

#[pymethods]
impl EmbedModel {
    #[new]
    #[pyo3(signature = (model=None, *, kind="passage", truncate=false, batch_size=16, precision="f32", models_dir=None))]
    fn new(
        py: Python<'_>,
        model: Option<&str>,
        kind: &str,
        truncate: bool,
        batch_size: usize,
        precision: &str,
        models_dir: Option<PathBuf>,
    ) -> PyResult<Self> {
        let kind = EmbedKind::from_name(kind).ok_or_else(|| {
            PyValueError::new_err(format!(
                "kind={kind:?}: expected \"query\", \"passage\" or \"none\""
            ))
        })?;
        let precision: Precision = parse_option("precision", precision)?;
        let dir = model_dir(model, DEFAULT_EMBED_MODEL, models_dir)?;
        let embedder = py
            .detach(|| Embedder::load(&dir, precision))
            .map_err(load_error("embedding model", &dir))?;
        Ok(Self {
            embedder,
            options: EmbedOptions {
                kind,
                truncate,
                batch_size: self::batch_size(batch_size)?,
            },
            dir,
        })
    }

    /// One unit vector per text (mean pooling, L2 norm; long texts pooled over windows).
    fn embed(&self, py: Python<'_>, texts: Vec<String>) -> PyResult<Vec<Vec<f32>>> {
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        py.detach(|| self.embedder.embed_batch(&refs, &self.options))
            .map_err(library_error)
    }

    /// The length of every vector.
    #[getter]
    fn dim(&self) -> usize {
        self.embedder.dim()
    }

    /// The model folder.
    #[getter]
    fn model_dir(&self) -> PathBuf {
        self.dir.clone()
    }
}

/// Which product kernels this process runs, and why (as `norsk info` says).
#[pyfunction]
fn kernels_info() -> String {
    kernels::selected().to_string()
}

/// The module: freed tensor buffers kept for reuse, kernels chosen from the environment (`NORSK_ISA`,
/// `NORSK_KERNELS`, `NORSK_KERNEL_LIBS`) before any model loads.
#[pymodule]
fn _norsk(m: &Bound<'_, PyModule>) -> PyResult<()> {
    norsk::alloc::reuse_freed_buffers();
    let options = KernelOptions::from_env(&[]).map_err(library_error)?;
    // Fails only if the kernels are already chosen, e.g. the module loaded twice.
    let _ = kernels::configure(&options);
    m.add("NorskError", m.py().get_type::<NorskError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add(
        "DEFAULT_HYPOTHESIS_TEMPLATE",
        norsk::DEFAULT_HYPOTHESIS_TEMPLATE,
    )?;
    m.add_class::<NerModel>()?;
    m.add_class::<TextClassifier>()?;
    m.add_class::<ZeroShotModel>()?;
    m.add_class::<EmbedModel>()?;
    m.add_function(wrap_pyfunction!(kernels_info, m)?)?;
    Ok(())
}
