use std::fs;
use std::path::Path;

use serde::Deserialize;
use tokenizers::decoders::wordpiece::WordPiece as WordPieceDecoder;
use tokenizers::models::wordpiece::WordPiece;
use tokenizers::models::ModelWrapper;
use tokenizers::normalizers::bert::BertNormalizer;
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::processors::template::TemplateProcessing;
use tokenizers::utils::truncation::{truncate_encodings, TruncationDirection, TruncationStrategy};
use tokenizers::{AddedToken, Encoding, PostProcessor, Tokenizer, TruncationParams};

use crate::window::{Window, WindowPlan};
use crate::TokenizerError;

/// The parts of `tokenizer_config.json` that change how text is tokenized.
///
/// Field names and defaults follow `transformers`' `BertTokenizer`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct TokenizerSettings {
    /// Lower-case the text before WordPiece (BERT's default is `true`).
    pub do_lower_case: bool,
    /// Strip accents; `None` follows `do_lower_case`, as in `transformers`.
    pub strip_accents: Option<bool>,
    /// Put spaces around CJK characters.
    pub tokenize_chinese_chars: bool,
    /// The longest input the model takes, special tokens included.
    pub model_max_length: Option<f64>,
    pub unk_token: String,
    pub cls_token: String,
    pub sep_token: String,
    pub pad_token: String,
    pub mask_token: String,
}

impl Default for TokenizerSettings {
    fn default() -> Self {
        Self {
            do_lower_case: true,
            strip_accents: None,
            tokenize_chinese_chars: true,
            model_max_length: None,
            unk_token: "[UNK]".into(),
            cls_token: "[CLS]".into(),
            sep_token: "[SEP]".into(),
            pad_token: "[PAD]".into(),
            mask_token: "[MASK]".into(),
        }
    }
}

impl TokenizerSettings {
    /// Reads `tokenizer_config.json`; a missing file gives BERT's defaults.
    pub fn from_dir(dir: &Path) -> Result<Self, TokenizerError> {
        let path = dir.join("tokenizer_config.json");
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| TokenizerError::Load {
                path,
                source: e.into(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(TokenizerError::Load {
                path,
                source: e.into(),
            }),
        }
    }

    /// `model_max_length` when it is a real limit (`transformers` writes 1e30 for "none").
    pub fn max_length(&self) -> Option<usize> {
        self.model_max_length
            .filter(|&n| n > 0.0 && n < 1e9)
            .map(|n| n as usize)
    }
}

/// A Hugging Face tokenizer that encodes texts into model windows whose
/// offsets are byte ranges of the original text.
#[derive(Clone)]
pub struct TextTokenizer {
    tokenizer: Tokenizer,
    max_length: Option<usize>,
    pad_id: u32,
    unk_id: Option<u32>,
}

impl std::fmt::Debug for TextTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextTokenizer")
            .field("vocab_size", &self.tokenizer.get_vocab_size(true))
            .field("max_length", &self.max_length)
            .finish()
    }
}

impl TextTokenizer {
    /// Loads the tokenizer of a model folder: `tokenizer.json` when present,
    /// else `vocab.txt` + `tokenizer_config.json`, built into the WordPiece
    /// pipeline `transformers` builds for BERT (its `BertConverter`).
    pub fn from_dir(dir: &Path) -> Result<Self, TokenizerError> {
        let settings = TokenizerSettings::from_dir(dir)?;
        let json = dir.join("tokenizer.json");
        let vocab = dir.join("vocab.txt");
        let tokenizer = if json.is_file() {
            Tokenizer::from_file(&json).map_err(|e| load_error(&json, e))?
        } else if vocab.is_file() {
            wordpiece_from_vocab(&vocab, &settings)?
        } else {
            return Err(TokenizerError::Missing {
                dir: dir.to_path_buf(),
            });
        };
        Ok(Self::new(tokenizer, &settings))
    }

    /// Wraps a loaded tokenizer. Its own truncation and padding are switched
    /// off: windows are cut by [`TextTokenizer::windows`].
    pub fn new(mut tokenizer: Tokenizer, settings: &TokenizerSettings) -> Self {
        tokenizer.with_padding(None);
        // Switching truncation off cannot fail.
        let _ = tokenizer.with_truncation(None);
        let pad_id = tokenizer.token_to_id(&settings.pad_token).unwrap_or(0);
        let unk_id = tokenizer.token_to_id(&settings.unk_token);
        Self {
            tokenizer,
            max_length: settings.max_length(),
            pad_id,
            unk_id,
        }
    }

    /// The longest input (special tokens included) the tokenizer config allows.
    pub fn max_length(&self) -> Option<usize> {
        self.max_length
    }

    /// Id of the padding token.
    pub fn pad_id(&self) -> u32 {
        self.pad_id
    }

    /// Id of the unknown token, if the vocabulary has one.
    pub fn unk_id(&self) -> Option<u32> {
        self.unk_id
    }

    /// Whether the model marks word continuations with a prefix (`##` in
    /// WordPiece, a BPE `continuing_subword_prefix`). transformers groups
    /// such tokens into words by that mark; for others (SentencePiece
    /// Unigram, as in XLM-R) it falls back to looking for spaces.
    pub fn marks_continuations(&self) -> bool {
        match self.tokenizer.get_model() {
            ModelWrapper::WordPiece(_) => true,
            ModelWrapper::BPE(bpe) => bpe.continuing_subword_prefix.is_some(),
            _ => false,
        }
    }

    /// The wrapped `tokenizers` tokenizer.
    pub fn inner(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// Id of a token, if it is in the vocabulary.
    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        self.tokenizer.token_to_id(token)
    }

    /// How many special tokens the post-processor adds to a single text.
    fn special_count(&self) -> usize {
        self.tokenizer
            .get_post_processor()
            .map_or(0, |p| p.added_tokens(false))
    }

    /// Encodes `text` into windows of at most `plan.max_len` tokens, special
    /// tokens included. With a stride, consecutive windows share `stride`
    /// tokens and together cover the whole text (as `transformers` does with
    /// `return_overflowing_tokens=True, stride=…`); without one, only the
    /// first window is returned (plain truncation).
    pub fn windows(&self, text: &str, plan: WindowPlan) -> Result<Vec<Window>, TokenizerError> {
        self.headed_windows(text, 0, plan)
    }

    /// Like [`windows`](Self::windows), but the tokens of the first `head`
    /// bytes of `text` (a title in front of an article) begin every window,
    /// not just the first; the rest of the text is cut into windows of the
    /// room left. A head longer than half a window is cut to half a window.
    /// The first window is the same as plain truncation gives; offsets index
    /// `text` throughout.
    pub fn headed_windows(
        &self,
        text: &str,
        head: usize,
        plan: WindowPlan,
    ) -> Result<Vec<Window>, TokenizerError> {
        let room = plan.max_len.saturating_sub(self.special_count());
        let stride = plan.stride.unwrap_or(0);
        let mut body = self
            .tokenizer
            .encode(text, false)
            .map_err(TokenizerError::Encode)?;
        let head_len = body
            .get_offsets()
            .iter()
            .take_while(|(start, _)| *start < head)
            .count()
            .min(room / 2);
        let body_room = room - head_len;
        if body_room == 0 || stride >= body_room {
            return Err(TokenizerError::Window {
                max_len: plan.max_len,
                stride,
            });
        }
        let mut head_tokens = Encoding::default();
        if head_len > 0 {
            head_tokens = body.clone();
            head_tokens.truncate(head_len, 0, TruncationDirection::Right);
            head_tokens.take_overflowing();
            body.truncate(body.len() - head_len, 0, TruncationDirection::Left);
            body.take_overflowing();
        }
        let params = TruncationParams {
            max_length: body_room,
            stride,
            strategy: TruncationStrategy::LongestFirst,
            direction: TruncationDirection::Right,
        };
        let (mut first, _) =
            truncate_encodings(body, None, &params).map_err(TokenizerError::Encode)?;
        let rest = first.take_overflowing();
        let pieces =
            std::iter::once(first).chain(rest.into_iter().filter(|_| plan.stride.is_some()));
        pieces
            .map(|piece| {
                let mut tokens = head_tokens.clone();
                tokens.merge_with(piece, false);
                let encoding = self
                    .tokenizer
                    .post_process(tokens, None, true)
                    .map_err(TokenizerError::Encode)?;
                Ok(Window::from_encoding(&encoding))
            })
            .collect()
    }

    /// Encodes a sentence pair (`[CLS] first [SEP] second [SEP]`) in at most
    /// `max_len` tokens, cutting only the first text when too long (as
    /// `transformers`' `truncation="only_first"` for NLI premises). Offsets
    /// of the second text's tokens index `second`.
    pub fn encode_pair(
        &self,
        first: &str,
        second: &str,
        max_len: usize,
    ) -> Result<Window, TokenizerError> {
        let encode = |text: &str| {
            self.tokenizer
                .encode(text, false)
                .map_err(TokenizerError::Encode)
        };
        let (mut a, b) = (encode(first)?, encode(second)?);
        let specials = self
            .tokenizer
            .get_post_processor()
            .map_or(0, |p| p.added_tokens(true));
        let room = max_len.saturating_sub(specials + b.len());
        if room == 0 && !a.is_empty() {
            return Err(TokenizerError::Window { max_len, stride: 0 });
        }
        a.truncate(room, 0, TruncationDirection::Right);
        let encoding = self
            .tokenizer
            .post_process(a, Some(b), true)
            .map_err(TokenizerError::Encode)?;
        Ok(Window::from_encoding(&encoding))
    }

    /// How many tokens `text` gives, special tokens left out.
    pub fn count_tokens(&self, text: &str) -> Result<usize, TokenizerError> {
        self.tokenizer
            .encode(text, false)
            .map(|encoding| encoding.len())
            .map_err(TokenizerError::Encode)
    }

    /// Special tokens added around one text (`[CLS]` and `[SEP]` for BERT).
    pub fn special_tokens_per_text(&self) -> usize {
        self.tokenizer
            .get_post_processor()
            .map_or(0, |p| p.added_tokens(false))
    }

    /// Encodes `text` whole, with special tokens and no length limit.
    pub fn encode(&self, text: &str) -> Result<Window, TokenizerError> {
        let encoding: Encoding = self
            .tokenizer
            .encode(text, true)
            .map_err(TokenizerError::Encode)?;
        Ok(Window::from_encoding(&encoding))
    }
}

fn load_error(path: &Path, e: impl Into<tokenizers::Error>) -> TokenizerError {
    TokenizerError::Load {
        path: path.to_path_buf(),
        source: e.into(),
    }
}

/// Builds BERT's WordPiece pipeline from `vocab.txt`, as `transformers`'
/// `BertConverter` does.
fn wordpiece_from_vocab(
    vocab: &Path,
    settings: &TokenizerSettings,
) -> Result<Tokenizer, TokenizerError> {
    let vocab_str = vocab
        .to_str()
        .ok_or_else(|| load_error(vocab, "path is not UTF-8"))?;
    let model = WordPiece::from_file(vocab_str)
        .unk_token(settings.unk_token.clone())
        .build()
        .map_err(|e| load_error(vocab, e))?;
    let id = |token: &str| -> Result<u32, TokenizerError> {
        tokenizers::Model::token_to_id(&model, token).ok_or_else(|| {
            load_error(
                vocab,
                format!("special token {token} is not in the vocabulary"),
            )
        })
    };
    let (cls, sep) = (settings.cls_token.as_str(), settings.sep_token.as_str());
    let processor = TemplateProcessing::builder()
        .try_single(format!("{cls}:0 $A:0 {sep}:0"))
        .and_then(|b| b.try_pair(format!("{cls}:0 $A:0 {sep}:0 $B:1 {sep}:1")))
        .map_err(|e| load_error(vocab, e))?
        .special_tokens(vec![(cls, id(cls)?), (sep, id(sep)?)])
        .build()
        .map_err(|e| load_error(vocab, e))?;
    let mut tokenizer = Tokenizer::new(model);
    tokenizer
        .with_normalizer(Some(BertNormalizer::new(
            true,
            settings.tokenize_chinese_chars,
            settings.strip_accents,
            settings.do_lower_case,
        )))
        .with_pre_tokenizer(Some(BertPreTokenizer))
        .with_post_processor(Some(processor))
        .with_decoder(Some(WordPieceDecoder::default()));
    let specials: Vec<AddedToken> = [
        &settings.pad_token,
        &settings.unk_token,
        &settings.cls_token,
        &settings.sep_token,
        &settings.mask_token,
    ]
    .into_iter()
    .filter(|t| tokenizer.token_to_id(t).is_some())
    .map(|t| AddedToken::from(t.clone(), true))
    .collect();
    tokenizer.add_special_tokens(&specials);
    Ok(tokenizer)
}
