//! `merge_windows` against transformers' `aggregate_overlapping_entities`
//! (expected survivors obtained by running the Python function on the same
//! spans).

use norsk_spans::{merge_windows, Entity};

fn e(label: &str, start: usize, end: usize, score: f32) -> Entity {
    Entity {
        label: label.into(),
        score,
        start,
        end,
        word: "x".repeat(end.saturating_sub(start)),
        index: None,
    }
}

fn survivors(entities: Vec<Entity>) -> Vec<String> {
    merge_windows(entities)
        .into_iter()
        .map(|e| e.label)
        .collect()
}

#[test]
fn longer_wins() {
    assert_eq!(
        survivors(vec![e("A", 0, 5, 0.9), e("B", 2, 10, 0.5)]),
        ["B"]
    );
}

#[test]
fn same_length_higher_score_wins() {
    assert_eq!(survivors(vec![e("A", 0, 5, 0.5), e("B", 0, 5, 0.9)]), ["B"]);
    assert_eq!(survivors(vec![e("B", 0, 5, 0.9), e("A", 0, 5, 0.5)]), ["B"]);
}

#[test]
fn same_length_same_score_keeps_the_first() {
    assert_eq!(survivors(vec![e("A", 0, 5, 0.5), e("B", 1, 6, 0.5)]), ["A"]);
}

#[test]
fn disjoint_and_adjacent_are_kept() {
    let out = survivors(vec![
        e("A", 0, 3, 0.1),
        e("B", 3, 6, 0.2),
        e("C", 8, 9, 0.3),
    ]);
    assert_eq!(out, ["A", "B", "C"]);
}

#[test]
fn output_is_sorted_by_start() {
    let out = survivors(vec![
        e("C", 8, 9, 0.3),
        e("A", 0, 3, 0.1),
        e("B", 4, 6, 0.2),
    ]);
    assert_eq!(out, ["A", "B", "C"]);
}

#[test]
fn compares_with_the_kept_entity_only() {
    let out = survivors(vec![
        e("A", 0, 5, 0.9),
        e("B", 3, 10, 0.1),
        e("C", 8, 9, 0.99),
        e("D", 10, 12, 0.5),
    ]);
    assert_eq!(out, ["B", "D"]);
    // C replaces A; B, inside A but not inside C, is gone too.
    let out = survivors(vec![
        e("A", 0, 10, 0.5),
        e("B", 2, 4, 0.9),
        e("C", 5, 20, 0.1),
    ]);
    assert_eq!(out, ["C"]);
}

#[test]
fn empty_input() {
    assert!(merge_windows(Vec::new()).is_empty());
}
