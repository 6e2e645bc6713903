//! Each label scheme decodes into sensible entities. transformers only knows
//! `B-`/`I-`; BIOES and BILOU single-token tags begin an entity and end tags
//! continue it.

use norsk_spans::{decode_window, Aggregation, LabelDecoding, LabelScheme, Labels, PreEntity};

/// Decodes whitespace-separated words, each one token labelled with
/// probability 0.9 (the rest spread evenly), with `simple` aggregation.
fn decode(labels: Labels, tagged: &[(&str, &str)]) -> Vec<(String, String)> {
    let text = tagged.iter().map(|(w, _)| *w).collect::<Vec<_>>().join(" ");
    let rest = 0.1 / (labels.len() - 1) as f32;
    let mut start = 0;
    let pre = tagged
        .iter()
        .enumerate()
        .map(|(i, (word, label))| {
            let scores = labels
                .names()
                .iter()
                .map(|n| if n == label { 0.9 } else { rest })
                .collect();
            let end = start + word.len();
            let p = PreEntity::new(&text, word.to_string(), scores, start, end, i + 1, false);
            start = end + 1;
            p
        })
        .collect();
    decode_window(
        &text,
        pre,
        &labels,
        Aggregation::Simple,
        LabelDecoding::Argmax,
        &["O".into()],
    )
    .unwrap()
    .into_iter()
    .map(|e| (e.label, e.word))
    .collect()
}

fn labels(names: &[&str]) -> Labels {
    Labels::new(names.iter().map(|s| s.to_string()).collect()).unwrap()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn iob2() {
    let l = labels(&["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]);
    assert_eq!(l.scheme(), LabelScheme::Iob2);
    let got = decode(
        l,
        &[
            ("Kari", "B-PER"),
            ("Nordmann", "I-PER"),
            ("Ola", "B-PER"),
            ("i", "O"),
            ("Nord-Norge", "B-LOC"),
            ("Oslo", "I-PER"),
        ],
    );
    let expected = [
        ("PER", "Kari Nordmann"),
        ("PER", "Ola"),
        ("LOC", "Nord-Norge"),
        ("PER", "Oslo"),
    ];
    assert_eq!(got, pairs(&expected));
}

#[test]
fn iob1() {
    let l = labels(&["O", "I-PER", "B-PER"]).with_scheme(LabelScheme::Iob1);
    let got = decode(
        l,
        &[
            ("Kari", "I-PER"),
            ("Nordmann", "I-PER"),
            ("Ola", "B-PER"),
            ("og", "O"),
            ("Per", "I-PER"),
        ],
    );
    assert_eq!(
        got,
        pairs(&[("PER", "Kari Nordmann"), ("PER", "Ola"), ("PER", "Per")])
    );
}

#[test]
fn bioes() {
    let l = labels(&["O", "B-PER", "I-PER", "E-PER", "S-PER", "S-LOC"]);
    assert_eq!(l.scheme(), LabelScheme::Bioes);
    let tagged = [
        ("Kari", "B-PER"),
        ("Anne", "I-PER"),
        ("Nordmann", "E-PER"),
        ("Ola", "S-PER"),
        ("Per", "S-PER"),
        ("i", "O"),
        ("Oslo", "S-LOC"),
    ];
    let expected = [
        ("PER", "Kari Anne Nordmann"),
        ("PER", "Ola"),
        ("PER", "Per"),
        ("LOC", "Oslo"),
    ];
    assert_eq!(decode(l.clone(), &tagged), pairs(&expected));
    // Read with transformers' B-/I- rule alone, the end tag splits off and
    // two single-token entities merge.
    let iob = decode(l.with_scheme(LabelScheme::Iob2), &tagged);
    let expected = [
        ("PER", "Kari Anne"),
        ("PER", "Nordmann"),
        ("PER", "Ola Per"),
        ("LOC", "Oslo"),
    ];
    assert_eq!(iob, pairs(&expected));
}

#[test]
fn bilou() {
    let l = labels(&["O", "B-ORG", "I-ORG", "L-ORG", "U-ORG", "U-LOC"]);
    assert_eq!(l.scheme(), LabelScheme::Bilou);
    let tagged = [
        ("Norsk", "B-ORG"),
        ("Regnesentral", "L-ORG"),
        ("NRK", "U-ORG"),
        ("DNB", "U-ORG"),
        ("Bergen", "U-LOC"),
    ];
    let expected = [
        ("ORG", "Norsk Regnesentral"),
        ("ORG", "NRK"),
        ("ORG", "DNB"),
        ("LOC", "Bergen"),
    ];
    assert_eq!(decode(l, &tagged), pairs(&expected));
}

#[test]
fn plain() {
    let l = labels(&["O", "PER", "LOC"]);
    assert_eq!(l.scheme(), LabelScheme::Plain);
    let got = decode(
        l,
        &[
            ("Kari", "PER"),
            ("Ola", "PER"),
            ("i", "O"),
            ("Oslo", "LOC"),
            ("Per", "PER"),
        ],
    );
    assert_eq!(
        got,
        pairs(&[("PER", "Kari Ola"), ("LOC", "Oslo"), ("PER", "Per")])
    );
}
