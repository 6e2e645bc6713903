//! Entity-level evaluation of tag sequences, exactly as Python's `seqeval`
//! 1.2.2 computes it.
//!
//! Two modes, matching seqeval's two code paths:
//!
//! * [`Mode::Default`] — seqeval's default, `conlleval`-compatible path
//!   (`seqeval.metrics.sequence_labeling.get_entities`): lenient about
//!   prefixes. An `I-X` after `O` or after an entity of another type starts
//!   a new entity, `E-`/`S-` (IOBES) tags are understood, and a tag without a
//!   `-` still counts (its first character is read as the prefix).
//! * [`Mode::Strict`] — `mode='strict', scheme=IOB2` (`seqeval.scheme`):
//!   only well-formed chunks count, a `B-X` followed by any number of `I-X`.
//!   A stray `I-X` belongs to no entity. Tags must start with `B`, `I` or
//!   `O`; seqeval raises on anything else and so does [`evaluate`].
//!
//! Scores are micro-averaged over all entities (seqeval's
//! `precision_score`/`recall_score`/`f1_score` with `average='micro'`), per
//! entity type (the rows of `classification_report`), and macro- and
//! support-weighted averages of the per-type scores (its `macro avg` and
//! `weighted avg` rows). A zero denominator gives 0 (seqeval's default
//! `zero_division='warn'`, minus the warning).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Which of seqeval's two entity extractions to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// seqeval's default (`conlleval`-compatible) extraction; lenient.
    #[default]
    Default,
    /// seqeval with `mode='strict', scheme=IOB2`: only `B-X I-X*` chunks.
    Strict,
}

impl Mode {
    /// The lowercase name, as parsed by [`FromStr`] and used by serde.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Default => "default",
            Mode::Strict => "strict",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Mode {
    type Err = MetricsError;

    /// Parses `default` or `strict`, ignoring ASCII case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Mode::Default, Mode::Strict]
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| MetricsError::UnknownMode(s.to_string()))
    }
}

/// Why tag sequences could not be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MetricsError {
    /// Gold and predicted corpora have different numbers of sentences.
    #[error("{gold} gold sentences but {predicted} predicted sentences")]
    SentenceCount {
        /// Number of gold sentences.
        gold: usize,
        /// Number of predicted sentences.
        predicted: usize,
    },
    /// A gold sentence and its prediction have different numbers of tags.
    #[error("sentence {sentence}: {gold} gold tags but {predicted} predicted tags")]
    SentenceLength {
        /// 0-based index of the sentence.
        sentence: usize,
        /// Number of gold tags.
        gold: usize,
        /// Number of predicted tags.
        predicted: usize,
    },
    /// An empty string where a tag was expected (seqeval fails on it too).
    #[error("sentence {sentence}, token {token}: empty tag")]
    EmptyTag {
        /// 0-based index of the sentence (0 for [`entities`]).
        sentence: usize,
        /// 0-based index of the token in its sentence.
        token: usize,
    },
    /// In [`Mode::Strict`] every tag must start with `B`, `I` or `O`.
    #[error("sentence {sentence}, token {token}: tag {tag:?} is not IOB2 (strict mode allows only B, I and O prefixes)")]
    NotIob2 {
        /// 0-based index of the sentence (0 for [`entities`]).
        sentence: usize,
        /// 0-based index of the token in its sentence.
        token: usize,
        /// The offending tag.
        tag: String,
    },
    /// A name that is not an evaluation mode.
    #[error("unknown evaluation mode {0:?}: expected default or strict")]
    UnknownMode(String),
}

/// One entity found in a tag sequence.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Chunk {
    /// The entity type (`PER`), `_` when the tag names none (a bare `B`).
    pub kind: String,
    /// Index of the first token.
    pub start: usize,
    /// Index one past the last token (exclusive; seqeval's `get_entities`
    /// reports the inclusive `end - 1`).
    pub end: usize,
}

/// Extracts the entities of one tag sequence, in seqeval's order (by end).
///
/// [`Mode::Default`] is `get_entities(tags)`, [`Mode::Strict`] is
/// `Tokens(tags, IOB2).entities`. Errors name sentence 0.
pub fn entities<S: AsRef<str>>(tags: &[S], mode: Mode) -> Result<Vec<Chunk>, MetricsError> {
    let to_chunk = |(kind, start, end): (&str, usize, usize)| Chunk {
        kind: kind.to_string(),
        start,
        end,
    };
    Ok(match mode {
        Mode::Default => {
            let mut chunker = LenientChunker::new();
            let mut out = Vec::new();
            for (token, tag) in tags.iter().enumerate() {
                chunker.push(tag.as_ref(), 0, token, &mut out)?;
            }
            chunker.push("O", 0, tags.len(), &mut out)?;
            out.into_iter().map(to_chunk).collect()
        }
        Mode::Strict => strict_entities(tags, 0)?
            .into_iter()
            .map(to_chunk)
            .collect(),
    })
}

/// Precision, recall and F1 of one entity type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TypeScores {
    /// `correct / predicted`, 0 when nothing was predicted.
    pub precision: f64,
    /// `correct / support`, 0 when there is no gold entity.
    pub recall: f64,
    /// Harmonic mean of precision and recall, 0 when both are 0.
    pub f1: f64,
    /// Number of gold entities.
    pub support: usize,
    /// Number of predicted entities.
    pub predicted: usize,
    /// Number of predicted entities that match a gold entity exactly (type,
    /// start and end).
    pub correct: usize,
}

impl TypeScores {
    fn from_counts(correct: usize, predicted: usize, support: usize) -> TypeScores {
        let precision = ratio(correct, predicted);
        let recall = ratio(correct, support);
        TypeScores {
            precision,
            recall,
            f1: f1(precision, recall),
            support,
            predicted,
            correct,
        }
    }
}

/// An average of per-type scores (the `macro avg` and `weighted avg` rows of
/// seqeval's `classification_report`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Averages {
    /// Averaged precision.
    pub precision: f64,
    /// Averaged recall.
    pub recall: f64,
    /// Averaged F1 (of the per-type F1s, not the F1 of the averages).
    pub f1: f64,
}

/// Entity-level scores of predicted tags against gold tags.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The extraction the scores were computed with.
    pub mode: Mode,
    /// Number of sentences evaluated.
    pub sentences: usize,
    /// Number of tokens (tags) per side.
    pub tokens: usize,
    /// Micro precision: all correct entities / all predicted entities.
    pub precision: f64,
    /// Micro recall: all correct entities / all gold entities.
    pub recall: f64,
    /// Micro F1.
    pub f1: f64,
    /// Number of gold entities.
    pub support: usize,
    /// Number of predicted entities.
    pub predicted: usize,
    /// Number of predicted entities that match a gold entity exactly.
    pub correct: usize,
    /// Unweighted mean over entity types (0 when there are no types, where
    /// seqeval gives NaN).
    pub macro_avg: Averages,
    /// Mean over entity types weighted by support (0 when there is no gold
    /// entity, as in seqeval).
    pub weighted_avg: Averages,
    /// Scores per entity type, for every type in the gold or predicted tags.
    pub per_type: BTreeMap<String, TypeScores>,
}

/// Scores predicted tags against gold tags, sentence by sentence.
///
/// Equals seqeval's `precision_score`, `recall_score`, `f1_score`
/// (`average='micro'`) and `classification_report(output_dict=True)`, called
/// with no options for [`Mode::Default`] and with `mode='strict',
/// scheme=IOB2` for [`Mode::Strict`]. Both sides must have the same number of
/// sentences, and each sentence the same number of tags.
pub fn evaluate<G, P, T, U>(gold: &[G], predicted: &[P], mode: Mode) -> Result<Report, MetricsError>
where
    G: AsRef<[T]>,
    P: AsRef<[U]>,
    T: AsRef<str>,
    U: AsRef<str>,
{
    if gold.len() != predicted.len() {
        return Err(MetricsError::SentenceCount {
            gold: gold.len(),
            predicted: predicted.len(),
        });
    }
    let mut tokens = 0;
    for (sentence, (g, p)) in gold.iter().zip(predicted).enumerate() {
        let (g, p) = (g.as_ref().len(), p.as_ref().len());
        if g != p {
            return Err(MetricsError::SentenceLength {
                sentence,
                gold: g,
                predicted: p,
            });
        }
        tokens += g;
    }

    let gold_entities = corpus_entities(gold, mode)?;
    let predicted_entities = corpus_entities(predicted, mode)?;
    let kinds: BTreeSet<&str> = gold_entities
        .keys()
        .chain(predicted_entities.keys())
        .copied()
        .collect();
    let empty = BTreeSet::new();
    let per_type: BTreeMap<String, TypeScores> = kinds
        .into_iter()
        .map(|kind| {
            let g = gold_entities.get(kind).unwrap_or(&empty);
            let p = predicted_entities.get(kind).unwrap_or(&empty);
            let correct = g.intersection(p).count();
            (
                kind.to_string(),
                TypeScores::from_counts(correct, p.len(), g.len()),
            )
        })
        .collect();

    let correct = per_type.values().map(|t| t.correct).sum();
    let predicted_count = per_type.values().map(|t| t.predicted).sum();
    let support = per_type.values().map(|t| t.support).sum();
    let micro = TypeScores::from_counts(correct, predicted_count, support);
    Ok(Report {
        mode,
        sentences: gold.len(),
        tokens,
        precision: micro.precision,
        recall: micro.recall,
        f1: micro.f1,
        support,
        predicted: predicted_count,
        correct,
        macro_avg: macro_average(&per_type),
        weighted_avg: weighted_average(&per_type, support),
        per_type,
    })
}

/// `a / b` as numpy divides two integer arrays, 0 when `b` is 0.
fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// seqeval's `(1 + β²)·p·r / (β²·p + r)` with β = 1, 0 when `p + r` is 0.
fn f1(precision: f64, recall: f64) -> f64 {
    let denominator = precision + recall;
    if denominator == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / denominator
    }
}

/// `np.average(values)`: numpy's pairwise sum divided by the count.
fn macro_average(per_type: &BTreeMap<String, TypeScores>) -> Averages {
    let n = per_type.len();
    if n == 0 {
        return Averages {
            precision: 0.0,
            recall: 0.0,
            f1: 0.0,
        };
    }
    let mean = |field: fn(&TypeScores) -> f64| {
        let values: Vec<f64> = per_type.values().map(field).collect();
        numpy_sum(&values) / n as f64
    };
    Averages {
        precision: mean(|t| t.precision),
        recall: mean(|t| t.recall),
        f1: mean(|t| t.f1),
    }
}

/// `np.average(values, weights=support)`; all 0 when the support is 0
/// (seqeval's special case for `zero_division='warn'`).
fn weighted_average(per_type: &BTreeMap<String, TypeScores>, support: usize) -> Averages {
    if support == 0 {
        return Averages {
            precision: 0.0,
            recall: 0.0,
            f1: 0.0,
        };
    }
    let weights: Vec<f64> = per_type.values().map(|t| t.support as f64).collect();
    let scale = numpy_sum(&weights);
    let mean = |field: fn(&TypeScores) -> f64| {
        let products: Vec<f64> = per_type
            .values()
            .map(|t| field(t) * t.support as f64)
            .collect();
        numpy_sum(&products) / scale
    };
    Averages {
        precision: mean(|t| t.precision),
        recall: mean(|t| t.recall),
        f1: mean(|t| t.f1),
    }
}

/// numpy's pairwise summation of float64 (`DOUBLE_pairwise_sum`), so that
/// averages round exactly like `np.average`.
fn numpy_sum(values: &[f64]) -> f64 {
    const BLOCK: usize = 128;
    let n = values.len();
    if n < 8 {
        values.iter().fold(0.0, |sum, &v| sum + v)
    } else if n <= BLOCK {
        let mut r = [0.0; 8];
        r.copy_from_slice(&values[..8]);
        let whole = n - n % 8;
        let mut i = 8;
        while i < whole {
            for (j, slot) in r.iter_mut().enumerate() {
                *slot += values[i + j];
            }
            i += 8;
        }
        let mut sum = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &v in &values[whole..] {
            sum += v;
        }
        sum
    } else {
        let mut half = n / 2;
        half -= half % 8;
        numpy_sum(&values[..half]) + numpy_sum(&values[half..])
    }
}

/// Where an entity is: (sentence, start, end). [`Mode::Default`] numbers
/// tokens across the whole corpus, as seqeval does, with sentence 0.
type Key = (usize, usize, usize);

/// All entities of a corpus, by type.
fn corpus_entities<'a, S, T>(
    sentences: &'a [S],
    mode: Mode,
) -> Result<BTreeMap<&'a str, BTreeSet<Key>>, MetricsError>
where
    S: AsRef<[T]>,
    T: AsRef<str> + 'a,
{
    let mut by_kind: BTreeMap<&str, BTreeSet<Key>> = BTreeMap::new();
    match mode {
        Mode::Default => {
            // seqeval flattens the corpus with an `O` after every sentence
            // and runs one chunker over it: the chunker's state carries over
            // sentence boundaries (see `LenientChunker`).
            let mut chunker = LenientChunker::new();
            let mut found = Vec::new();
            for (index, sentence) in sentences.iter().enumerate() {
                for (token, tag) in sentence.as_ref().iter().enumerate() {
                    chunker.push(tag.as_ref(), index, token, &mut found)?;
                }
                chunker.push("O", index, usize::MAX, &mut found)?;
            }
            chunker.push("O", sentences.len(), usize::MAX, &mut found)?;
            for (kind, start, end) in found {
                by_kind.entry(kind).or_default().insert((0, start, end));
            }
        }
        Mode::Strict => {
            for (index, sentence) in sentences.iter().enumerate() {
                for (kind, start, end) in strict_entities(sentence.as_ref(), index)? {
                    by_kind.entry(kind).or_default().insert((index, start, end));
                }
            }
        }
    }
    Ok(by_kind)
}

/// seqeval's `get_entities` as a state machine over a flat tag sequence.
///
/// Reproduced quirks: the type is what follows the first `-` after the first
/// character (`B-GPE-LOC` → `GPE-LOC`, `PER` → `ER`), `_` when empty; the
/// type before the first tag is the empty string (so a lone `X` starts a
/// chunk at the very beginning but not after an `O`, whose type is `_`); and
/// when a chunk ends that never started, it runs from wherever the last
/// start was, even in an earlier sentence.
struct LenientChunker<'a> {
    prev_prefix: char,
    prev_kind: &'a str,
    begin: usize,
    position: usize,
}

impl<'a> LenientChunker<'a> {
    fn new() -> Self {
        LenientChunker {
            prev_prefix: 'O',
            prev_kind: "",
            begin: 0,
            position: 0,
        }
    }

    /// Feeds the next tag; a chunk ending before it goes to `out` as
    /// (type, start, exclusive end) in flat positions.
    fn push(
        &mut self,
        tag: &'a str,
        sentence: usize,
        token: usize,
        out: &mut Vec<(&'a str, usize, usize)>,
    ) -> Result<(), MetricsError> {
        let mut chars = tag.chars();
        let prefix = chars
            .next()
            .ok_or(MetricsError::EmptyTag { sentence, token })?;
        let rest = chars.as_str();
        let kind = match rest.split_once('-') {
            Some((_, after)) => after,
            None => rest,
        };
        let kind = if kind.is_empty() { "_" } else { kind };

        if end_of_chunk(self.prev_prefix, prefix, self.prev_kind, kind) {
            out.push((self.prev_kind, self.begin, self.position));
        }
        if start_of_chunk(self.prev_prefix, prefix, self.prev_kind, kind) {
            self.begin = self.position;
        }
        self.prev_prefix = prefix;
        self.prev_kind = kind;
        self.position += 1;
        Ok(())
    }
}

/// seqeval's `end_of_chunk`: did a chunk end between the previous and the
/// current tag?
fn end_of_chunk(prev: char, current: char, prev_kind: &str, kind: &str) -> bool {
    matches!(prev, 'E' | 'S')
        || (matches!(prev, 'B' | 'I') && matches!(current, 'B' | 'S' | 'O'))
        || (prev != 'O' && prev != '.' && prev_kind != kind)
}

/// seqeval's `start_of_chunk`: did a chunk start at the current tag?
fn start_of_chunk(prev: char, current: char, prev_kind: &str, kind: &str) -> bool {
    matches!(current, 'B' | 'S')
        || (matches!(prev, 'E' | 'S' | 'O') && matches!(current, 'E' | 'I'))
        || (current != 'O' && current != '.' && prev_kind != kind)
}

/// An IOB2 token as `seqeval.scheme.IOB2` reads it.
#[derive(Clone, Copy)]
struct StrictTag<'a> {
    prefix: char,
    kind: &'a str,
}

/// `Tokens(tags, IOB2).entities` for one sentence: (type, start, exclusive
/// end) in sentence positions.
fn strict_entities<S: AsRef<str>>(
    tags: &[S],
    sentence: usize,
) -> Result<Vec<(&str, usize, usize)>, MetricsError> {
    let mut parsed = Vec::with_capacity(tags.len() + 1);
    for (token, tag) in tags.iter().enumerate() {
        let tag = tag.as_ref();
        let mut chars = tag.chars();
        let prefix = chars
            .next()
            .ok_or(MetricsError::EmptyTag { sentence, token })?;
        if !matches!(prefix, 'B' | 'I' | 'O') {
            return Err(MetricsError::NotIob2 {
                sentence,
                token,
                tag: tag.to_string(),
            });
        }
        let kind = chars.as_str().trim_matches('-');
        parsed.push(StrictTag {
            prefix,
            kind: if kind.is_empty() { "_" } else { kind },
        });
    }
    // seqeval appends an outside token, which ends any open chunk.
    parsed.push(StrictTag {
        prefix: 'O',
        kind: "_",
    });

    let mut found = Vec::new();
    let mut i = 0;
    while i < parsed.len() {
        let token = parsed[i];
        // IOB2 start pattern: (ANY, B, ANY).
        if token.prefix == 'B' {
            let mut prev = token;
            let mut end = i + 1;
            // Inside patterns: (B, I, SAME), (I, I, SAME). The appended `O`
            // is never inside, so `end` stays in range.
            while end < parsed.len()
                && parsed[end].prefix == 'I'
                && matches!(prev.prefix, 'B' | 'I')
                && parsed[end].kind == prev.kind
            {
                prev = parsed[end];
                end += 1;
            }
            if end < parsed.len() && strict_is_end(parsed[end - 1], parsed[end]) {
                found.push((token.kind, i, end));
            }
            i = end;
        } else {
            i += 1;
        }
    }
    Ok(found)
}

/// IOB2 end patterns: did a chunk end at `prev`, given the tag after it?
fn strict_is_end(prev: StrictTag<'_>, current: StrictTag<'_>) -> bool {
    let different = prev.kind != current.kind;
    match (prev.prefix, current.prefix) {
        ('I', 'O') | ('I', 'B') | ('B', 'O') | ('B', 'B') => true,
        ('I', 'I') | ('B', 'I') => different,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expected chunks as seqeval prints them: (type, start, inclusive end).
    fn check(mode: Mode, tags: &[&str], expected: &[(&str, usize, usize)]) {
        let got: Vec<(String, usize, usize)> = entities(tags, mode)
            .unwrap()
            .into_iter()
            .map(|c| (c.kind, c.start, c.end - 1))
            .collect();
        let expected: Vec<(String, usize, usize)> = expected
            .iter()
            .map(|&(k, s, e)| (k.to_string(), s, e))
            .collect();
        assert_eq!(got, expected, "{mode} {tags:?}");
    }

    // Expected values printed by seqeval 1.2.2's `get_entities`.
    #[test]
    fn default_mode_matches_get_entities() {
        let d = Mode::Default;
        check(
            d,
            &["B-PER", "I-PER", "O", "B-LOC"],
            &[("PER", 0, 1), ("LOC", 3, 3)],
        );
        check(
            d,
            &["I-PER", "I-PER", "O", "I-LOC"],
            &[("PER", 0, 1), ("LOC", 3, 3)],
        );
        check(
            d,
            &["B-PER", "I-LOC", "I-LOC"],
            &[("PER", 0, 0), ("LOC", 1, 2)],
        );
        check(d, &["B-PER", "I-PER"], &[("PER", 0, 1)]);
        check(
            d,
            &["O", "I-PER", "B-PER", "I-PER", "I-PER"],
            &[("PER", 1, 1), ("PER", 2, 4)],
        );
        check(
            d,
            &["B-LOC", "E-LOC", "S-PER", "O", "E-ORG", "I-ORG", "S-ORG"],
            &[
                ("LOC", 0, 1),
                ("PER", 2, 2),
                ("ORG", 4, 4),
                ("ORG", 5, 5),
                ("ORG", 6, 6),
            ],
        );
        check(
            d,
            &["S-PER", "E-PER", "E-PER"],
            &[("PER", 0, 0), ("PER", 1, 1), ("PER", 2, 2)],
        );
        check(d, &["B", "I", "O", "I"], &[("_", 0, 1), ("_", 3, 3)]);
        check(
            d,
            &["PER", "PER", "O", "LOC"],
            &[("ER", 0, 1), ("OC", 3, 3)],
        );
        check(d, &["X", "B-PER"], &[("_", 0, 0), ("PER", 1, 1)]);
        // The `X` does not start a chunk after `O`, but ends one: from the
        // last start (here the initial 0).
        check(d, &["O", "X", "B-PER"], &[("_", 0, 1), ("PER", 2, 2)]);
        check(
            d,
            &["B-PER", "O", "X", "B-LOC"],
            &[("PER", 0, 0), ("_", 0, 2), ("LOC", 3, 3)],
        );
        check(
            d,
            &["B-GPE-LOC", "I-GPE-LOC", "B--X", "I--X"],
            &[("GPE-LOC", 0, 1), ("-X", 2, 3)],
        );
        check(d, &["B-PER", ".", "I-PER"], &[("PER", 0, 0), ("PER", 2, 2)]);
        check(d, &["B-ÆØÅ", "I-ÆØÅ"], &[("ÆØÅ", 0, 1)]);
        check(d, &["O", "O"], &[]);
        check(d, &[], &[]);
    }

    // Expected values printed by seqeval 1.2.2's `Tokens(tags, IOB2).entities`
    // (which reports exclusive ends; `check` takes inclusive ones).
    #[test]
    fn strict_mode_matches_iob2_tokens() {
        let s = Mode::Strict;
        check(
            s,
            &["B-PER", "I-PER", "O", "B-LOC"],
            &[("PER", 0, 1), ("LOC", 3, 3)],
        );
        check(s, &["I-PER", "I-PER", "O", "I-LOC"], &[]);
        check(s, &["B-PER", "I-LOC", "I-LOC"], &[("PER", 0, 0)]);
        check(
            s,
            &["O", "I-PER", "B-PER", "I-PER", "I-PER"],
            &[("PER", 2, 4)],
        );
        check(s, &["B", "I", "O", "I"], &[("_", 0, 1)]);
        check(
            s,
            &["B-PER-", "I-PER", "B--X", "I-X-"],
            &[("PER", 0, 1), ("X", 2, 3)],
        );
        check(
            s,
            &["B-PER", "B-PER", "I-PER", "OTHER", "IPER"],
            &[("PER", 0, 0), ("PER", 1, 2)],
        );
        check(s, &["BPER", "IPER"], &[("PER", 0, 1)]);
    }

    #[test]
    fn strict_mode_rejects_non_iob2_tags() {
        for bad in ["E-PER", "S-PER", "U-X", "X", "PER"] {
            let err = entities(&["O", bad], Mode::Strict).unwrap_err();
            assert_eq!(
                err,
                MetricsError::NotIob2 {
                    sentence: 0,
                    token: 1,
                    tag: bad.to_string()
                }
            );
        }
        for mode in [Mode::Default, Mode::Strict] {
            assert_eq!(
                entities(&["O", "B-PER", ""], mode).unwrap_err(),
                MetricsError::EmptyTag {
                    sentence: 0,
                    token: 2
                }
            );
        }
    }

    #[test]
    fn evaluate_rejects_mismatched_shapes() {
        let gold = vec![vec!["O", "B-PER"], vec!["O"]];
        let err = evaluate(&gold, &gold[..1], Mode::Default).unwrap_err();
        assert_eq!(
            err,
            MetricsError::SentenceCount {
                gold: 2,
                predicted: 1
            }
        );
        let predicted = vec![vec!["O", "B-PER"], vec!["O", "O"]];
        let err = evaluate(&gold, &predicted, Mode::Strict).unwrap_err();
        assert_eq!(
            err,
            MetricsError::SentenceLength {
                sentence: 1,
                gold: 1,
                predicted: 2
            }
        );
        let predicted = vec![vec!["O", "S-PER"], vec!["O"]];
        assert!(matches!(
            evaluate(&gold, &predicted, Mode::Strict),
            Err(MetricsError::NotIob2 {
                sentence: 0,
                token: 1,
                ..
            })
        ));
        assert!(evaluate(&gold, &predicted, Mode::Default).is_ok());
    }

    // seqeval's docstring example: micro 2/3, macro 0.75, weighted 2/3.
    #[test]
    fn evaluate_matches_seqeval_docstring() {
        let gold = vec![
            vec!["O", "O", "B-MISC", "I-MISC", "B-MISC", "O", "O"],
            vec!["B-PER", "I-PER", "O"],
        ];
        let predicted = vec![
            vec!["O", "O", "B-MISC", "I-MISC", "B-MISC", "I-MISC", "O"],
            vec!["B-PER", "I-PER", "O"],
        ];
        for mode in [Mode::Default, Mode::Strict] {
            let report = evaluate(&gold, &predicted, mode).unwrap();
            assert_eq!(report.f1, 0.6666666666666666);
            assert_eq!(report.precision, 0.6666666666666666);
            assert_eq!(report.recall, 0.6666666666666666);
            assert_eq!(
                (report.support, report.predicted, report.correct),
                (3, 3, 2)
            );
            assert_eq!(report.macro_avg.f1, 0.75);
            assert_eq!(report.weighted_avg.f1, 0.6666666666666666);
            assert_eq!(report.per_type["MISC"].f1, 0.5);
            assert_eq!(report.per_type["PER"].f1, 1.0);
            assert_eq!((report.sentences, report.tokens), (2, 10));
        }
    }

    #[test]
    fn modes_differ_on_bare_inside_tags() {
        let gold = vec![vec!["B-PER", "I-PER", "O", "B-LOC"]];
        let predicted = vec![vec!["I-PER", "I-PER", "O", "B-LOC"]];
        let lenient = evaluate(&gold, &predicted, Mode::Default).unwrap();
        assert_eq!(lenient.f1, 1.0);
        let strict = evaluate(&gold, &predicted, Mode::Strict).unwrap();
        assert_eq!((strict.predicted, strict.correct), (1, 1));
        assert_eq!(strict.precision, 1.0);
        assert_eq!(strict.recall, 0.5);
        assert_eq!(strict.per_type["PER"].predicted, 0);
        assert_eq!(strict.per_type["PER"].precision, 0.0);
    }

    // seqeval: get_entities([['B-PER','I-PER'],['O','X','B-LOC']]) is
    // [('PER', 0, 1), ('_', 0, 4), ('LOC', 5, 5)]: the chunker runs over the
    // flattened corpus, so a chunk can reach back into an earlier sentence.
    #[test]
    fn default_mode_state_crosses_sentences() {
        let gold = vec![vec!["B-PER", "I-PER"], vec!["O", "X", "B-LOC"]];
        let report = evaluate(&gold, &gold, Mode::Default).unwrap();
        let kinds: Vec<&str> = report.per_type.keys().map(String::as_str).collect();
        assert_eq!(kinds, ["LOC", "PER", "_"]);
        assert_eq!(report.support, 3);
        // On its own, the second sentence gives `_` over tokens 0..2 only.
        let alone = entities(&gold[1], Mode::Default).unwrap();
        assert_eq!(
            alone[0],
            Chunk {
                kind: "_".into(),
                start: 0,
                end: 2
            }
        );
    }

    #[test]
    fn nothing_to_find_scores_zero() {
        let gold = vec![vec!["O", "O"]];
        let report = evaluate(&gold, &gold, Mode::Default).unwrap();
        assert_eq!(
            (report.precision, report.recall, report.f1),
            (0.0, 0.0, 0.0)
        );
        assert!(report.per_type.is_empty());
        let predicted = vec![vec!["B-PER", "O"]];
        let report = evaluate(&gold, &predicted, Mode::Strict).unwrap();
        assert_eq!((report.predicted, report.support), (1, 0));
        assert_eq!(
            (report.precision, report.recall, report.f1),
            (0.0, 0.0, 0.0)
        );
        assert_eq!(report.weighted_avg.f1, 0.0);
        let empty: Vec<Vec<String>> = Vec::new();
        assert_eq!(evaluate(&empty, &empty, Mode::Strict).unwrap().support, 0);
    }

    #[test]
    fn mode_names_round_trip() {
        for mode in [Mode::Default, Mode::Strict] {
            assert_eq!(mode.to_string().parse::<Mode>().unwrap(), mode);
        }
        assert_eq!("STRICT".parse::<Mode>().unwrap(), Mode::Strict);
        assert!(matches!(
            "conlleval".parse::<Mode>(),
            Err(MetricsError::UnknownMode(_))
        ));
    }

    #[test]
    fn numpy_sum_is_pairwise() {
        // Sequential below 8 values, 8 accumulators from 8 on.
        let small = [0.1, 0.2, 0.3];
        assert_eq!(numpy_sum(&small), (0.0 + 0.1) + 0.2 + 0.3);
        let values: Vec<f64> = (1..=9).map(|i| 1.0 / i as f64).collect();
        let r = &values;
        let expected = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7])) + r[8];
        assert_eq!(numpy_sum(&values), expected);
        let many = vec![0.5; 300];
        assert_eq!(numpy_sum(&many), 150.0);
    }
}
