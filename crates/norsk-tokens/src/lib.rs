//! Text in, tokens with exact source offsets out.
//!
//! This crate needs no tensors. It loads a Hugging Face tokenizer (a
//! `tokenizer.json`, or a BERT `vocab.txt` with its `tokenizer_config.json`,
//! built into the same WordPiece pipeline that `transformers` builds), encodes
//! texts into model windows that overlap by a stride, and converts between byte
//! and character offsets.
//!
//! Every offset this crate hands out is a **byte** offset into the original
//! text, so `&text[start..end]` is always the source substring of a token.

mod error;
mod offsets;
mod sentences;
mod tokenizer;
mod window;

pub use error::TokenizerError;
pub use offsets::CharIndex;
pub use sentences::sentences;
pub use tokenizer::{TextTokenizer, TokenizerSettings};
pub use window::{Window, WindowPlan};
