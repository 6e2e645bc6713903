//! The tensor-free half of NER: texts cut into pieces and windows before the
//! model, windows and their logits turned into entities after it.

use norsk_spans::{
    decode_window, join_unmarked_pieces, merge_windows, softmax, Aggregation, Entity, Labels,
    PreEntity, SpanError,
};
use norsk_tokens::{sentences, TextTokenizer, TokenizerError, Window, WindowPlan};

/// A stretch of one text that is tagged on its own: the whole text, or one
/// of its sentences.
pub(crate) struct Piece<'a> {
    /// Which text the piece is of.
    pub text: usize,
    /// Byte offset of the piece in its text.
    pub offset: usize,
    pub body: &'a str,
}

/// One window of one piece, queued for the model.
pub(crate) struct Job {
    pub piece: usize,
    pub window: Window,
}

/// The texts, or their sentences, in order.
pub(crate) fn pieces<'a>(texts: &[&'a str], split_sentences: bool) -> Vec<Piece<'a>> {
    let mut pieces = Vec::new();
    for (text, body) in texts.iter().enumerate() {
        if split_sentences {
            pieces.extend(sentences(body).into_iter().map(|(start, end)| Piece {
                text,
                offset: start,
                body: &body[start..end],
            }));
        } else {
            pieces.push(Piece {
                text,
                offset: 0,
                body,
            });
        }
    }
    pieces
}

/// The windows of piece number `index`, in order.
pub(crate) fn piece_jobs(
    tokenizer: &TextTokenizer,
    piece: &Piece,
    index: usize,
    plan: WindowPlan,
) -> Result<Vec<Job>, TokenizerError> {
    Ok(tokenizer
        .windows(piece.body, plan)?
        .into_iter()
        .map(|window| Job {
            piece: index,
            window,
        })
        .collect())
}

/// Whether the model has to run a window: it holds a text token.
pub(crate) fn is_runnable(window: &Window) -> bool {
    window.special.iter().any(|s| !s)
}

/// How window scores become entities.
pub(crate) struct Decoding<'a> {
    pub tokenizer: &'a TextTokenizer,
    pub labels: &'a Labels,
    pub aggregation: Aggregation,
    pub ignore_labels: &'a [String],
}

impl Decoding<'_> {
    /// Adds the entities of `jobs`' windows, from their logits
    /// (`[token][label]`; empty for a window that was not run), to the
    /// entities found so far in each piece.
    pub fn add_windows(
        &self,
        pieces: &[Piece],
        jobs: &[Job],
        logits: Vec<Vec<Vec<f32>>>,
        per_piece: &mut [Vec<Entity>],
    ) -> Result<(), SpanError> {
        for (job, logits) in jobs.iter().zip(logits) {
            let body = pieces[job.piece].body;
            let pre = self.pre_entities(body, &job.window, &logits);
            let entities =
                decode_window(body, pre, self.labels, self.aggregation, self.ignore_labels)?;
            per_piece[job.piece].extend(entities.into_iter().filter_map(|e| e.fitted(body)));
        }
        Ok(())
    }

    fn pre_entities(&self, text: &str, window: &Window, logits: &[Vec<f32>]) -> Vec<PreEntity> {
        let pre = (0..window.len().min(logits.len()))
            .filter(|&i| !window.special[i])
            .map(|i| {
                let (start, end) = window.offsets[i];
                PreEntity::new(
                    text,
                    window.tokens[i].clone(),
                    softmax(&logits[i]),
                    start,
                    end,
                    i,
                    Some(window.ids[i]) == self.tokenizer.unk_id(),
                )
            })
            .collect();
        if self.tokenizer.marks_continuations() {
            pre
        } else {
            join_unmarked_pieces(text, pre)
        }
    }
}

/// Entities of each of `texts` (byte offsets, sorted, no overlaps) from
/// those of their pieces.
pub(crate) fn merge_pieces(
    texts: usize,
    pieces: &[Piece],
    per_piece: Vec<Vec<Entity>>,
) -> Vec<Vec<Entity>> {
    let mut per_text: Vec<Vec<Entity>> = vec![Vec::new(); texts];
    for (piece, entities) in pieces.iter().zip(per_piece) {
        // transformers merges only when there were several windows; one
        // window can give overlapping entities too, when tokens overlap
        // (one character split into pieces), so every piece is merged.
        // Spans are fitted to words first (no space at either end,
        // trailing combining marks inside), so lengths compare words.
        let entities = merge_windows(entities);
        per_text[piece.text].extend(entities.into_iter().map(|mut e| {
            e.start += piece.offset;
            e.end += piece.offset;
            e
        }));
    }
    per_text
}
