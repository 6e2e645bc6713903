use std::collections::BTreeMap;

use serde::Serialize;

/// Precision, recall and F1 of one label.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelScores {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Gold examples of the label.
    pub support: usize,
}

/// Scores of single-label classification, as scikit-learn's
/// `accuracy_score`, `f1_score(average="macro")` and
/// `classification_report` compute them (zero division gives 0).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassReport {
    pub accuracy: f64,
    /// Mean F1 over every label that occurs as gold or as prediction.
    pub macro_f1: f64,
    pub examples: usize,
    pub per_label: BTreeMap<String, LabelScores>,
    /// Label names of the confusion matrix, sorted.
    pub labels: Vec<String>,
    /// `confusion[gold][predicted]`, rows and columns in `labels` order.
    pub confusion: Vec<Vec<usize>>,
}

/// Scores `predicted` against `gold` (equally long).
pub fn classification_report<G: AsRef<str>, P: AsRef<str>>(
    gold: &[G],
    predicted: &[P],
) -> ClassReport {
    let mut labels: Vec<String> = gold
        .iter()
        .map(|g| g.as_ref().to_string())
        .chain(predicted.iter().map(|p| p.as_ref().to_string()))
        .collect();
    labels.sort();
    labels.dedup();
    let index = |l: &str| labels.binary_search_by(|x| x.as_str().cmp(l)).unwrap_or(0);
    let mut confusion = vec![vec![0usize; labels.len()]; labels.len()];
    for (g, p) in gold.iter().zip(predicted) {
        confusion[index(g.as_ref())][index(p.as_ref())] += 1;
    }
    let examples = gold.len().min(predicted.len());
    let correct: usize = (0..labels.len()).map(|i| confusion[i][i]).sum();
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let per_label: BTreeMap<String, LabelScores> = labels
        .iter()
        .enumerate()
        .map(|(i, label)| {
            let tp = confusion[i][i];
            let support: usize = confusion[i].iter().sum();
            let predicted: usize = confusion.iter().map(|row| row[i]).sum();
            let (precision, recall) = (ratio(tp, predicted), ratio(tp, support));
            let f1 = if precision + recall == 0.0 {
                0.0
            } else {
                2.0 * precision * recall / (precision + recall)
            };
            let scores = LabelScores {
                precision,
                recall,
                f1,
                support,
            };
            (label.clone(), scores)
        })
        .collect();
    let macro_f1 = per_label.values().map(|s| s.f1).sum::<f64>() / labels.len().max(1) as f64;
    ClassReport {
        accuracy: ratio(correct, examples),
        macro_f1,
        examples,
        per_label,
        labels,
        confusion,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_scikit_learn() {
        // scikit-learn 1.x gives accuracy 0.5, per-label F1 [0.5, 0.6667, 0]
        // and macro F1 0.38888888888888884 on these.
        let gold = ["helse", "helse", "justis", "justis", "økonomi", "justis"];
        let pred = ["helse", "justis", "justis", "justis", "helse", "økonomi"];
        let r = classification_report(&gold, &pred);
        assert_eq!(r.accuracy, 0.5);
        assert!((r.per_label["helse"].f1 - 0.5).abs() < 1e-12);
        assert!((r.per_label["justis"].f1 - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(r.per_label["økonomi"].f1, 0.0);
        assert!((r.macro_f1 - 0.38888888888888884).abs() < 1e-12);
        assert_eq!(r.confusion[1], vec![0, 2, 1], "justis row");
        assert_eq!(r.per_label["justis"].support, 3);
    }
}
