//! Fine-tuning of BERT sequence classifiers with candle on the CPU, no
//! Python.
//!
//! [`train_classifier`] takes any BERT model folder as the base (its encoder,
//! and pooler if it has one), adds a fresh classification head over the
//! training labels, trains with AdamW (separate learning rates for encoder
//! and head, linear warm-up and decay, gradient clipping, BERT's dropout),
//! scores a dev set after each epoch and writes the best epoch as a Hugging
//! Face `BertForSequenceClassification` folder that both `transformers` and
//! [`norsk_model::SequenceClassifier::load`] load.
//!
//! ```no_run
//! use std::path::Path;
//! use norsk_train::{train_classifier, TrainConfig};
//!
//! let data = Path::new("laws_chunks.jsonl.xz");
//! let split = |s: &str| [("split".to_string(), s.to_string())];
//! let train = norsk_io::read_labelled(data, "text", "label", &split("train")).unwrap();
//! let dev = norsk_io::read_labelled(data, "text", "label", &split("dev")).unwrap();
//! let report = train_classifier(
//!     Path::new("models/norsk-bert-ner"),
//!     &train,
//!     &dev,
//!     &TrainConfig { max_minutes: Some(40.0), ..TrainConfig::default() },
//!     Path::new("out/laws-classifier"),
//!     |event| eprintln!("{event:?}"),
//! )?;
//! println!("best epoch {}", report.best_epoch);
//! # Ok::<(), norsk_train::TrainError>(())
//! ```

mod config;
mod data;
mod embedding_cache;
mod error;
mod head;
mod loss;
mod optim;
mod save;
mod trainer;
mod vars;

pub use config::TrainConfig;
pub use embedding_cache::EmbeddingCache;
pub use error::TrainError;
pub use head::{fit_head, train_head, Example, HeadReport, HeadTrainConfig, L2Score};
pub use loss::ClassWeights;
pub use save::TOKENIZER_FILES;
pub use trainer::{train_classifier, EpochReport, Event, TrainReport, Trainer};
