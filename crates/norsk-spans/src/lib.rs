//! Token scores in, entity spans out — no tensors.
//!
//! This crate reproduces the post-processing of Hugging Face transformers'
//! token-classification pipeline (`TokenClassificationPipeline.postprocess`):
//! softmax over the logits of each token, aggregation of tokens into words and
//! entities (`none`, `simple`, `first`, `average`, `max`), filtering by
//! `ignore_labels`, and the merge of entities found in overlapping windows of
//! one text.
//!
//! Where norsk differs from transformers, on purpose:
//!
//! * every offset is a **byte** offset into the source text, and the `word` of
//!   an [`Entity`] is the exact source substring `&text[start..end]` instead of
//!   the decoded tokens;
//! * label sets in the BIOES (`S-`/`E-`) and BILOU (`U-`/`L-`) schemes are
//!   understood: single-token tags start an entity like `B-`, end tags continue
//!   it like `I-` (transformers only knows `B-`/`I-`);
//! * on request ([`LabelDecoding::Constrained`]) labels are chosen as the
//!   best sequence the scheme allows instead of each by its own argmax.
//!
//! A typical call chain, per model window: [`softmax`] the logits of each
//! non-special token, build a [`PreEntity`] for it with [`PreEntity::new`]
//! (for tokenizers that do not mark continuations, pass them all through
//! [`join_unmarked_pieces`]), then [`decode_window`]; [`Entity::fitted`]
//! keeps whitespace out of the spans and trailing combining marks in; when
//! a text needed more than one window, pass all their entities to
//! [`merge_windows`].
//!
//! A classified text's labels are [`Prediction`]s. For evaluation, [`word_tags`] turns entities back into IOB2 word tags and
//! [`evaluate`] scores them exactly as `seqeval` does.

mod aggregate;
mod aggregation;
mod class_metrics;
mod decoding;
mod entity;
mod error;
mod group;
mod labels;
mod merge;
mod metrics;
mod numeric;
mod pre_entity;
mod prediction;
mod softmax;
mod window;
mod word_tags;

pub use aggregation::Aggregation;
pub use class_metrics::{classification_report, ClassReport, LabelScores};
pub use decoding::LabelDecoding;
pub use entity::Entity;
pub use error::SpanError;
pub use labels::{LabelScheme, Labels, OUTSIDE};
pub use merge::merge_windows;
pub use metrics::{entities, evaluate, Averages, Chunk, MetricsError, Mode, Report, TypeScores};
pub use pre_entity::{join_unmarked_pieces, PreEntity};
pub use prediction::Prediction;
pub use softmax::softmax;
pub use window::{decode_window, default_ignore_labels};
pub use word_tags::word_tags;
