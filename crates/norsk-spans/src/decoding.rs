//! How labels are chosen from scores: each item on its own (transformers),
//! or the best sequence the label scheme allows (constrained decoding).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::numeric::argmax;
use crate::{LabelScheme, Labels, SpanError, OUTSIDE};

/// How each token's (or, with a word aggregation, each word's) label is
/// chosen from its scores.
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LabelDecoding {
    /// Each item takes the argmax of its own scores, as transformers does.
    /// An `I-PER` after `O` then opens an entity of its own.
    Argmax,
    /// The sequence of labels with the highest product of scores among those
    /// the label scheme allows (Viterbi): in IOB2 no `I-X` after `O`, after
    /// the start or after another type; in BIOES/BILOU also no entity left
    /// open. IOB1 and plain labels allow every sequence, so there it is
    /// [`LabelDecoding::Argmax`].
    Constrained,
}

impl LabelDecoding {
    /// The lowercase name, as parsed by [`FromStr`] and used by serde.
    pub fn as_str(self) -> &'static str {
        match self {
            LabelDecoding::Argmax => "argmax",
            LabelDecoding::Constrained => "constrained",
        }
    }
}

impl fmt::Display for LabelDecoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LabelDecoding {
    type Err = SpanError;

    /// Parses a decoding name, ignoring ASCII case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [LabelDecoding::Argmax, LabelDecoding::Constrained]
            .into_iter()
            .find(|d| d.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| SpanError::UnknownDecoding(s.to_string()))
    }
}

/// The part a label plays in an entity, for the transition rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role<'a> {
    /// `O`, or a name without a scheme prefix: allowed anywhere.
    Free,
    /// Opens an entity that may (IOB2) or must (BIOES/BILOU) continue.
    Begin(&'a str),
    /// Continues an open entity of the same type.
    Inside(&'a str),
    /// Closes an open entity of the same type (`E-`, `L-`).
    End(&'a str),
    /// A whole entity in one item (`S-`, `U-`).
    Single,
}

impl<'a> Role<'a> {
    fn of(name: &'a str, scheme: LabelScheme) -> Role<'a> {
        let (single, end) = match scheme {
            LabelScheme::Bioes => (Some("S-"), Some("E-")),
            LabelScheme::Bilou => (Some("U-"), Some("L-")),
            _ => (None, None),
        };
        let strip = |prefix: Option<&str>| prefix.and_then(|p| name.strip_prefix(p));
        if name == OUTSIDE {
            Role::Free
        } else if let Some(t) = strip(Some("B-")) {
            Role::Begin(t)
        } else if let Some(t) = strip(Some("I-")) {
            Role::Inside(t)
        } else if let Some(t) = strip(end) {
            Role::End(t)
        } else if strip(single).is_some() {
            Role::Single
        } else {
            Role::Free
        }
    }

    /// Whether this label leaves an entity open (BIOES/BILOU must close it).
    fn is_open(self) -> bool {
        matches!(self, Role::Begin(_) | Role::Inside(_))
    }

    /// Whether `next` may follow this label (`None` for the sequence start).
    fn allows(prev: Option<Role>, next: Role, must_close: bool) -> bool {
        let continues = |t: &str| matches!(prev, Some(Role::Begin(p) | Role::Inside(p)) if p == t);
        match next {
            Role::Inside(t) | Role::End(t) => continues(t),
            Role::Free | Role::Begin(_) | Role::Single => {
                !(must_close && prev.is_some_and(Role::is_open))
            }
        }
    }
}

/// Chooses one label per item from its scores (one per label, in label
/// order). Scores are probabilities; a NaN counts as the smallest positive.
pub(crate) fn choose_labels(
    scores: &[&[f32]],
    labels: &Labels,
    decoding: LabelDecoding,
) -> Vec<usize> {
    let argmaxes = || scores.iter().map(|s| argmax(s)).collect();
    let must_close = match labels.scheme() {
        LabelScheme::Iob2 => false,
        LabelScheme::Bioes | LabelScheme::Bilou => true,
        LabelScheme::Iob1 | LabelScheme::Plain => return argmaxes(),
    };
    if decoding == LabelDecoding::Argmax || scores.is_empty() {
        return argmaxes();
    }
    let roles: Vec<Role> = labels
        .names()
        .iter()
        .map(|n| Role::of(n, labels.scheme()))
        .collect();
    viterbi(scores, &roles, must_close).unwrap_or_else(argmaxes)
}

/// The allowed label sequence with the highest sum of log scores, or `None`
/// when no sequence is allowed (a label set without `O` and `B-`).
fn viterbi(scores: &[&[f32]], roles: &[Role], must_close: bool) -> Option<Vec<usize>> {
    let n = roles.len();
    let log = |s: f32| s.max(f32::MIN_POSITIVE).ln();
    let mut best: Vec<f32> = (0..n)
        .map(|j| match Role::allows(None, roles[j], must_close) {
            true => log(scores[0].get(j).copied().unwrap_or(f32::NAN)),
            false => f32::NEG_INFINITY,
        })
        .collect();
    let mut back: Vec<Vec<usize>> = Vec::with_capacity(scores.len());
    for item in &scores[1..] {
        let mut next = vec![f32::NEG_INFINITY; n];
        let mut from = vec![0; n];
        for j in 0..n {
            for i in 0..n {
                if best[i] > next[j] && Role::allows(Some(roles[i]), roles[j], must_close) {
                    next[j] = best[i];
                    from[j] = i;
                }
            }
            next[j] += log(item.get(j).copied().unwrap_or(f32::NAN));
        }
        best = next;
        back.push(from);
    }
    let (mut label, score) = (0..n)
        .filter(|&j| !(must_close && roles[j].is_open()))
        .map(|j| (j, best[j]))
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    if score == f32::NEG_INFINITY {
        return None;
    }
    let mut path = vec![label; scores.len()];
    for (k, from) in back.iter().enumerate().rev() {
        label = from[label];
        path[k] = label;
    }
    Some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(names: &[&str]) -> Labels {
        Labels::new(names.iter().map(|s| s.to_string()).collect()).unwrap()
    }

    fn decode(names: &[&str], rows: &[&[f32]], decoding: LabelDecoding) -> Vec<String> {
        let labels = labels(names);
        choose_labels(rows, &labels, decoding)
            .into_iter()
            .map(|i| names[i].to_string())
            .collect()
    }

    const IOB2: [&str; 5] = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG"];

    #[test]
    fn an_inside_label_after_outside_is_replaced_by_the_best_allowed_sequence() {
        // argmax: O I-PER I-PER — not IOB2.
        let rows: [&[f32]; 3] = [
            &[0.9, 0.02, 0.02, 0.03, 0.03],
            &[0.2, 0.35, 0.4, 0.0, 0.05],
            &[0.1, 0.1, 0.7, 0.0, 0.1],
        ];
        assert_eq!(
            decode(&IOB2, &rows, LabelDecoding::Argmax),
            ["O", "I-PER", "I-PER"]
        );
        assert_eq!(
            decode(&IOB2, &rows, LabelDecoding::Constrained),
            ["O", "B-PER", "I-PER"]
        );
    }

    #[test]
    fn an_inside_label_of_another_type_is_not_a_continuation() {
        let rows: [&[f32]; 2] = [&[0.0, 0.0, 0.0, 0.9, 0.1], &[0.3, 0.0, 0.6, 0.0, 0.1]];
        assert_eq!(
            decode(&IOB2, &rows, LabelDecoding::Constrained),
            ["B-ORG", "O"]
        );
    }

    #[test]
    fn allowed_argmax_sequences_are_kept() {
        let rows: [&[f32]; 4] = [
            &[0.1, 0.8, 0.0, 0.1, 0.0],
            &[0.1, 0.1, 0.7, 0.0, 0.1],
            &[0.6, 0.1, 0.1, 0.1, 0.1],
            &[0.1, 0.0, 0.0, 0.5, 0.4],
        ];
        assert_eq!(
            decode(&IOB2, &rows, LabelDecoding::Constrained),
            decode(&IOB2, &rows, LabelDecoding::Argmax)
        );
    }

    #[test]
    fn bioes_entities_are_closed() {
        let names = ["O", "B-PER", "I-PER", "E-PER", "S-PER"];
        // argmax: B-PER O — an entity left open.
        let rows: [&[f32]; 2] = [&[0.1, 0.5, 0.0, 0.0, 0.4], &[0.5, 0.0, 0.0, 0.45, 0.05]];
        assert_eq!(decode(&names, &rows, LabelDecoding::Argmax), ["B-PER", "O"]);
        assert_eq!(
            decode(&names, &rows, LabelDecoding::Constrained),
            ["B-PER", "E-PER"]
        );
        // a single item cannot stay open either
        let one: [&[f32]; 1] = [&[0.1, 0.5, 0.0, 0.0, 0.4]];
        assert_eq!(decode(&names, &one, LabelDecoding::Constrained), ["S-PER"]);
    }

    #[test]
    fn nan_scores_and_label_sets_without_an_allowed_sequence_do_not_panic() {
        let rows: [&[f32]; 2] = [&[f32::NAN; 5], &[0.2, f32::NAN, 0.3, 0.1, 0.4]];
        assert_eq!(decode(&IOB2, &rows, LabelDecoding::Constrained).len(), 2);
        let only_inside = ["I-PER", "I-ORG"];
        let rows: [&[f32]; 1] = [&[0.3, 0.7]];
        assert_eq!(
            decode(&only_inside, &rows, LabelDecoding::Constrained),
            ["I-ORG"]
        );
    }

    #[test]
    fn iob1_and_plain_labels_are_taken_by_argmax() {
        let rows: [&[f32]; 2] = [&[0.9, 0.05, 0.05], &[0.1, 0.2, 0.7]];
        let iob1 = labels(&["O", "B-PER", "I-PER"]).with_scheme(LabelScheme::Iob1);
        assert_eq!(
            choose_labels(&rows, &iob1, LabelDecoding::Constrained),
            [0, 2]
        );
    }

    #[test]
    fn names_round_trip() {
        for s in ["argmax", "constrained"] {
            assert_eq!(s.parse::<LabelDecoding>().unwrap().to_string(), s);
        }
        assert!(matches!(
            "viterbi".parse::<LabelDecoding>(),
            Err(SpanError::UnknownDecoding(_))
        ));
    }
}
