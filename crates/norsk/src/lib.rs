//! Norwegian BERT pipelines on the CPU.
//!
//! ```no_run
//! use norsk::{HubOptions, ModelSource, NerOptions, NerPipeline};
//!
//! let dir = ModelSource::parse("tests/fixtures/tiny-ner").resolve(&HubOptions::from_env())?;
//! let ner = NerPipeline::load(&dir, Default::default())?;
//! for entity in ner.tag("Jens Stoltenberg møtte Erna Solberg i Oslo.", &NerOptions::default())? {
//!     println!("{} {}..{} {}", entity.label, entity.start, entity.end, entity.word);
//! }
//! # Ok::<(), norsk::NorskError>(())
//! ```
//!
//! Entity offsets are **byte** offsets into the text; [`norsk_tokens::CharIndex`]
//! converts them to character offsets, which is what Python reports.

pub mod alloc;
mod batching;
pub mod bench;
mod classify;
mod embed;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod head;
mod ner;
mod ner_decode;
pub mod profile;
mod similarity;
mod source;
mod topic_model;
mod topics;

pub use classify::{
    Article, Classifier, ClassifyOptions, ZeroShotClassifier, DEFAULT_HYPOTHESIS_TEMPLATE,
};
pub use embed::{EmbedKind, EmbedOptions, Embedder, DEFAULT_EMBED_MODEL};
pub use error::NorskError;
pub use head::{save_head, HeadClassifier, HeadConfig, LinearHead, HEAD_CONFIG, HEAD_WEIGHTS};
pub use ner::{NerOptions, NerPipeline, SentenceContext, StageTimes, DEFAULT_STRIDE};
pub use norsk_lexical::{LexicalChannel, LEXICAL_CONFIG, LEXICAL_WEIGHTS};
pub use norsk_model::kernels;
pub use norsk_model::Precision;
pub use norsk_spans::{
    classification_report, evaluate, Aggregation, ClassReport, Entity, LabelDecoding, LabelScheme,
    LabelScores, Labels, MetricsError, Mode, Prediction, Report, SpanError, TypeScores,
};
pub use norsk_tokens::CharIndex;
pub use similarity::{
    Calibration, EmbeddedTopics, SimilarityClassifier, SimilarityTopics, CALIBRATION_FILE,
};
pub use source::{default_model_dir, model_roots_from_env, HubOptions, ModelSource};
pub use topic_model::{load_classifier, load_zero_shot, ClassifyArticles, NliTopics, ZeroShotKind};
pub use topics::{Topic, TopicSet};

/// A model folder of `tests/fixtures` (`tiny-cls`, `tiny-ner`…), for tests.
#[cfg(test)]
pub(crate) fn test_fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(name)
}
