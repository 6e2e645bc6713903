use tokenizers::Encoding;

/// How to cut a text into model windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowPlan {
    /// Window length in tokens, special tokens included (the model's maximum).
    pub max_len: usize,
    /// Tokens shared by consecutive windows. `None` keeps only the first
    /// window, truncating the text as `transformers` does without `stride`.
    pub stride: Option<usize>,
}

/// One model input: the tokens of a window over the text, with byte offsets
/// into the original text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// Token ids, special tokens included.
    pub ids: Vec<u32>,
    /// Segment (token type) ids.
    pub type_ids: Vec<u32>,
    /// Byte range of each token in the source text; `(0, 0)` for special tokens.
    pub offsets: Vec<(usize, usize)>,
    /// Whether each token is a special token (`[CLS]`, `[SEP]`, …).
    pub special: Vec<bool>,
    /// Index of the pre-tokenized word each token belongs to.
    pub word_ids: Vec<Option<u32>>,
    /// The token strings, as the vocabulary spells them (`##`-prefixed pieces).
    pub tokens: Vec<String>,
}

impl Window {
    pub(crate) fn from_encoding(encoding: &Encoding) -> Self {
        Self {
            ids: encoding.get_ids().to_vec(),
            type_ids: encoding.get_type_ids().to_vec(),
            offsets: encoding.get_offsets().to_vec(),
            special: encoding
                .get_special_tokens_mask()
                .iter()
                .map(|&m| m == 1)
                .collect(),
            word_ids: encoding.get_word_ids().to_vec(),
            tokens: encoding.get_tokens().to_vec(),
        }
    }

    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the window holds no token at all.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}
