//! A lexical channel for text classifiers — no tensors.
//!
//! A BERT classifier reads a window of a few hundred tokens; words that name
//! a topic outright ("tollavgift", "barnehage") may sit anywhere in a long
//! passage. The lexical channel reads the whole text as counts of words and
//! word pairs, weighted by TF-IDF, and maps them through a linear layer to one
//! logit per label, which the classifier adds to the model's logits.
//!
//! The features are those of scikit-learn's `TfidfVectorizer` with
//! `lowercase=True`, the default token pattern (`(?u)\b\w\w+\b`: runs of two
//! or more word characters), `ngram_range=(1, n)`, `sublinear_tf` and `l2`
//! norm, so a channel trained in scikit-learn gives the same logits here
//! (`scripts/train/laws_lexical.py` writes one; `tests/lexical_parity.rs`
//! checks it against scikit-learn's own numbers).
//!
//! ```no_run
//! use norsk_lexical::LexicalChannel;
//!
//! let channel = LexicalChannel::load(std::path::Path::new("models/norsk-topic"))?;
//! let logits = channel.logits("Lov om tollavgift på varer som innføres.");
//! assert_eq!(logits.len(), channel.labels().len());
//! # Ok::<(), norsk_lexical::LexicalError>(())
//! ```

mod channel;
mod error;
mod terms;

pub use channel::{LexicalChannel, LEXICAL_CONFIG, LEXICAL_WEIGHTS};
pub use error::LexicalError;
pub use terms::{term_counts, words};
