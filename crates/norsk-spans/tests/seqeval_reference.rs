//! `evaluate` and `entities` against Python's seqeval 1.2.2, recorded by
//! `scripts/make_seqeval_fixture.py` in `tests/fixtures/seqeval_reference.json`:
//! NorNE dev gold tags with corrupted predictions, plus random sequences of
//! odd tags that exercise seqeval's quirks.

use std::collections::BTreeMap;

use norsk_spans::{entities, evaluate, Mode, Report};
use serde::Deserialize;

const TOLERANCE: f64 = 1e-9;

#[derive(Deserialize)]
struct Fixture {
    sentences: Vec<Pair>,
    default: Scores,
    strict: Scores,
    edge: EdgeCorpus,
    edge_iob2: EdgeCorpus,
    get_entities: Vec<Sequence>,
}

#[derive(Deserialize)]
struct Pair {
    gold: Vec<String>,
    pred: Vec<String>,
}

#[derive(Deserialize)]
struct EdgeCorpus {
    sentences: Vec<Pair>,
    default: Scores,
    strict: Option<Scores>,
}

/// seqeval's micro scores and `classification_report(output_dict=True)`.
#[derive(Deserialize)]
struct Scores {
    precision: f64,
    recall: f64,
    f1: f64,
    micro_avg: Row,
    macro_avg: Row,
    weighted_avg: Row,
    per_type: BTreeMap<String, Row>,
}

#[derive(Deserialize)]
struct Row {
    precision: f64,
    recall: f64,
    f1: f64,
    support: usize,
}

#[derive(Deserialize)]
struct Sequence {
    tags: Vec<String>,
    /// `get_entities`: (type, start, inclusive end).
    default: Vec<(String, usize, usize)>,
    /// `Tokens(tags, IOB2).entities`: (type, start, exclusive end); `None`
    /// where seqeval raises.
    strict: Option<Vec<(String, usize, usize)>>,
}

fn fixture() -> Fixture {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/seqeval_reference.json"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn close(what: &str, got: f64, expected: f64) {
    assert!(
        (got - expected).abs() <= TOLERANCE,
        "{what}: got {got}, seqeval {expected}"
    );
}

fn run(pairs: &[Pair], mode: Mode) -> Report {
    let gold: Vec<&[String]> = pairs.iter().map(|p| p.gold.as_slice()).collect();
    let pred: Vec<&[String]> = pairs.iter().map(|p| p.pred.as_slice()).collect();
    evaluate(&gold, &pred, mode).unwrap()
}

fn check(name: &str, report: &Report, expected: &Scores) {
    let name = format!("{name} {}", report.mode);
    close(
        &format!("{name} precision"),
        report.precision,
        expected.precision,
    );
    close(&format!("{name} recall"), report.recall, expected.recall);
    close(&format!("{name} f1"), report.f1, expected.f1);
    close(
        &format!("{name} micro p"),
        report.precision,
        expected.micro_avg.precision,
    );
    close(
        &format!("{name} micro r"),
        report.recall,
        expected.micro_avg.recall,
    );
    close(
        &format!("{name} micro f1"),
        report.f1,
        expected.micro_avg.f1,
    );
    assert_eq!(report.support, expected.micro_avg.support, "{name} support");
    for (label, got, want) in [
        ("macro", &report.macro_avg, &expected.macro_avg),
        ("weighted", &report.weighted_avg, &expected.weighted_avg),
    ] {
        close(&format!("{name} {label} p"), got.precision, want.precision);
        close(&format!("{name} {label} r"), got.recall, want.recall);
        close(&format!("{name} {label} f1"), got.f1, want.f1);
    }
    let got_types: Vec<&String> = report.per_type.keys().collect();
    let want_types: Vec<&String> = expected.per_type.keys().collect();
    assert_eq!(got_types, want_types, "{name} entity types");
    for (kind, want) in &expected.per_type {
        let got = &report.per_type[kind];
        close(&format!("{name} {kind} p"), got.precision, want.precision);
        close(&format!("{name} {kind} r"), got.recall, want.recall);
        close(&format!("{name} {kind} f1"), got.f1, want.f1);
        assert_eq!(got.support, want.support, "{name} {kind} support");
    }
    assert_eq!(
        report.support,
        report.per_type.values().map(|t| t.support).sum::<usize>()
    );
}

#[test]
fn norne_dev_with_corrupted_predictions() {
    let fixture = fixture();
    assert_eq!(fixture.sentences.len(), 300);
    let default = run(&fixture.sentences, Mode::Default);
    check("norne", &default, &fixture.default);
    let strict = run(&fixture.sentences, Mode::Strict);
    check("norne", &strict, &fixture.strict);
    // The corruptions are meant to separate the modes.
    assert_ne!(default.f1, strict.f1);
    assert_ne!(default.predicted, strict.predicted);
}

#[test]
fn odd_tags_in_default_mode() {
    let fixture = fixture();
    let report = run(&fixture.edge.sentences, Mode::Default);
    check("edge", &report, &fixture.edge.default);
    // seqeval's strict mode raises on these tags; so do we.
    let gold: Vec<&[String]> = fixture
        .edge
        .sentences
        .iter()
        .map(|p| p.gold.as_slice())
        .collect();
    assert!(evaluate(&gold, &gold, Mode::Strict).is_err());
}

#[test]
fn odd_iob2_tags_in_both_modes() {
    let fixture = fixture();
    let corpus = &fixture.edge_iob2;
    check(
        "edge_iob2",
        &run(&corpus.sentences, Mode::Default),
        &corpus.default,
    );
    let strict = corpus.strict.as_ref().expect("strict scores");
    check("edge_iob2", &run(&corpus.sentences, Mode::Strict), strict);
}

#[test]
fn single_sequences_match_seqeval_chunks() {
    let fixture = fixture();
    assert!(!fixture.get_entities.is_empty());
    for case in &fixture.get_entities {
        let got: Vec<(String, usize, usize)> = entities(&case.tags, Mode::Default)
            .unwrap()
            .into_iter()
            .map(|c| (c.kind, c.start, c.end - 1))
            .collect();
        assert_eq!(got, case.default, "default {:?}", case.tags);
        let strict = entities(&case.tags, Mode::Strict).ok().map(|chunks| {
            chunks
                .into_iter()
                .map(|c| (c.kind, c.start, c.end))
                .collect::<Vec<_>>()
        });
        assert_eq!(strict, case.strict, "strict {:?}", case.tags);
    }
}

/// Not required by the tolerance above, but true: every score is the same
/// f64 that seqeval (numpy) computes.
#[test]
fn scores_are_bit_identical() {
    let fixture = fixture();
    for (mode, expected) in [
        (Mode::Default, &fixture.default),
        (Mode::Strict, &fixture.strict),
    ] {
        let report = run(&fixture.sentences, mode);
        assert_eq!(report.f1.to_bits(), expected.f1.to_bits());
        assert_eq!(
            report.macro_avg.f1.to_bits(),
            expected.macro_avg.f1.to_bits()
        );
        assert_eq!(
            report.weighted_avg.f1.to_bits(),
            expected.weighted_avg.f1.to_bits()
        );
        for (kind, want) in &expected.per_type {
            assert_eq!(report.per_type[kind].f1.to_bits(), want.f1.to_bits());
        }
    }
}
