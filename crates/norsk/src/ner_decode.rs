//! The tensor-free half of NER: texts cut into pieces and windows before the
//! model, windows and their logits turned into entities after it.

use norsk_spans::{
    decode_window, join_unmarked_pieces, merge_windows, softmax, Aggregation, Entity,
    LabelDecoding, Labels, PreEntity, SpanError,
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

/// How texts are cut into the pieces that are tagged on their own.
#[derive(Clone, Copy)]
pub(crate) enum Cut<'t> {
    /// Each text whole.
    Whole,
    /// Each sentence alone.
    Sentences,
    /// Runs of consecutive sentences of one text, as many as `tokenizer`
    /// fits in `room` text tokens, so that each sentence is tagged with its
    /// neighbours as context. A sentence longer than that is a run alone.
    SentenceRuns {
        tokenizer: &'t TextTokenizer,
        room: usize,
    },
}

/// The texts, or their sentences (alone or in runs), in order.
pub(crate) fn pieces<'a>(texts: &[&'a str], cut: Cut) -> Result<Vec<Piece<'a>>, TokenizerError> {
    let mut pieces = Vec::new();
    for (text, body) in texts.iter().enumerate() {
        let spans = match cut {
            Cut::Whole => vec![(0, body.len())],
            Cut::Sentences => sentences(body),
            Cut::SentenceRuns { tokenizer, room } => sentence_runs(tokenizer, body, room)?,
        };
        pieces.extend(spans.into_iter().map(|(start, end)| Piece {
            text,
            offset: start,
            body: &body[start..end],
        }));
    }
    Ok(pieces)
}

/// Byte spans of runs of consecutive sentences of `text`, each run as long
/// as its sentences' text tokens fit in `room`.
fn sentence_runs(
    tokenizer: &TextTokenizer,
    text: &str,
    room: usize,
) -> Result<Vec<(usize, usize)>, TokenizerError> {
    pack_runs(tokenizer, text, sentences(text), room)
}

/// `spans` of `text` (in order, not overlapping) packed into runs: each run
/// goes from the start of its first span to the end of its last, and holds
/// as many consecutive spans as fit in `room` tokens (at least one).
pub(crate) fn pack_runs(
    tokenizer: &TextTokenizer,
    text: &str,
    spans: Vec<(usize, usize)>,
    room: usize,
) -> Result<Vec<(usize, usize)>, TokenizerError> {
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut used = 0;
    for (start, end) in spans {
        let tokens = tokenizer.count_tokens(&text[start..end])?;
        match runs.last_mut() {
            Some(run) if used + tokens <= room => {
                run.1 = end;
                used += tokens;
            }
            _ => {
                runs.push((start, end));
                used = tokens;
            }
        }
    }
    Ok(runs)
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
pub(crate) struct Decoder<'a> {
    pub tokenizer: &'a TextTokenizer,
    pub labels: &'a Labels,
    pub aggregation: Aggregation,
    pub decoding: LabelDecoding,
    pub ignore_labels: &'a [String],
}

impl Decoder<'_> {
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
            let entities = decode_window(
                body,
                pre,
                self.labels,
                self.aggregation,
                self.decoding,
                self.ignore_labels,
            )?;
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn shipped_tokenizer() -> TextTokenizer {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        TextTokenizer::from_dir(&root.join("models/norsk-bert-ner")).unwrap()
    }

    const TEXT: &str = "Jens Stoltenberg møtte Erna Solberg i Oslo. Han reiste så til Bergen.\r\n\
                        Equinor melder om rekordoverskudd! Hva nå? Statsministeren er fornøyd.";

    #[test]
    fn sentence_runs_pack_whole_sentences_in_order_within_the_room() {
        let tokenizer = shipped_tokenizer();
        let sentences = sentences(TEXT);
        assert_eq!(sentences.len(), 5);
        for room in [1, 12, 20, 30, 1000] {
            let runs = sentence_runs(&tokenizer, TEXT, room).unwrap();
            // Every run begins at a sentence's start and ends at a sentence's
            // end, runs follow each other, and together hold every sentence.
            let mut next = 0;
            for &(start, end) in &runs {
                let first = sentences.iter().position(|s| s.0 == start).unwrap();
                assert_eq!(first, next, "room {room}: runs skip or repeat a sentence");
                let last = sentences.iter().position(|s| s.1 == end).unwrap();
                next = last + 1;
                let tokens = tokenizer.count_tokens(&TEXT[start..end]).unwrap();
                assert!(
                    tokens <= room || first == last,
                    "room {room}: {tokens} tokens in several sentences {:?}",
                    &TEXT[start..end]
                );
            }
            assert_eq!(next, sentences.len());
        }
        assert_eq!(sentence_runs(&tokenizer, TEXT, 1).unwrap(), sentences);
        assert_eq!(
            sentence_runs(&tokenizer, TEXT, 1000).unwrap(),
            vec![(0, TEXT.len())]
        );
    }

    #[test]
    fn a_run_is_full_before_the_next_begins() {
        let tokenizer = shipped_tokenizer();
        let room = 20;
        let runs = sentence_runs(&tokenizer, TEXT, room).unwrap();
        assert!(runs.len() > 1 && runs.len() < 5, "{runs:?}");
        for pair in runs.windows(2) {
            let (start, _) = pair[0];
            let next_end = sentences(&TEXT[pair[1].0..])[0].1 + pair[1].0;
            let grown = tokenizer.count_tokens(&TEXT[start..next_end]).unwrap();
            assert!(
                grown > room,
                "the next sentence fitted in {:?}",
                &TEXT[start..next_end]
            );
        }
    }

    #[test]
    fn pieces_of_sentence_runs_index_their_text() {
        let tokenizer = shipped_tokenizer();
        let texts = [TEXT, "", "Bare én setning"];
        let cut = Cut::SentenceRuns {
            tokenizer: &tokenizer,
            room: 20,
        };
        let pieces = pieces(&texts, cut).unwrap();
        assert!(
            pieces.iter().all(|p| p.text != 1),
            "an empty text has no piece"
        );
        for piece in &pieces {
            let text = texts[piece.text];
            assert_eq!(
                &text[piece.offset..piece.offset + piece.body.len()],
                piece.body
            );
        }
        assert_eq!(pieces.last().unwrap().body, "Bare én setning");
    }
}
