//! Text to terms, as scikit-learn's `CountVectorizer` makes them.

use std::collections::HashMap;

use unicode_categories::UnicodeCategories;

/// Whether `c` is a word character of Python's `re` (`\w` on `str`):
/// a letter, a number or `_`.
fn is_word_char(c: char) -> bool {
    c == '_' || c.is_letter() || c.is_number()
}

/// The words of an already lowercased text: maximal runs of two or more
/// word characters (what `(?u)\b\w\w+\b` finds), in text order.
pub fn words(lowercased: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = None;
    let mut chars = 0;
    for (i, c) in lowercased.char_indices() {
        if is_word_char(c) {
            if start.is_none() {
                start = Some(i);
                chars = 0;
            }
            chars += 1;
        } else if let Some(s) = start.take() {
            if chars >= 2 {
                out.push(&lowercased[s..i]);
            }
        }
    }
    if let Some(s) = start {
        if chars >= 2 {
            out.push(&lowercased[s..]);
        }
    }
    out
}

/// How often each known term occurs in `text`: words and runs of up to
/// `max_n` consecutive words joined by one space, after lowercasing;
/// `index` maps a term to its feature id and terms it lacks are skipped.
pub fn term_counts(
    text: &str,
    max_n: usize,
    index: impl Fn(&str) -> Option<u32>,
) -> HashMap<u32, u32> {
    let lowercased = text.to_lowercase();
    let words = words(&lowercased);
    let mut counts = HashMap::new();
    let mut term = String::new();
    for n in 1..=max_n.max(1) {
        for gram in words.windows(n) {
            term.clear();
            for (k, word) in gram.iter().enumerate() {
                if k > 0 {
                    term.push(' ');
                }
                term.push_str(word);
            }
            if let Some(id) = index(&term) {
                *counts.entry(id).or_insert(0) += 1;
            }
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_runs_of_two_or_more_word_characters() {
        assert_eq!(
            words("§ 3. lov om nav-kontor i 2024, å, ål og tromsø_2"),
            ["lov", "om", "nav", "kontor", "2024", "ål", "og", "tromsø_2"]
        );
    }

    #[test]
    fn a_combining_mark_ends_a_word_as_in_python() {
        // U+0308 is a mark (Mn), not a word character of Python's `re`.
        assert_eq!(words("tromso\u{308}ya"), ["tromso", "ya"]);
    }

    #[test]
    fn pairs_join_neighbouring_words_with_one_space() {
        let known = ["lov", "om", "lov om", "om toll"];
        let counts = term_counts("Lov om  TOLL, lov om.", 2, |t| {
            known.iter().position(|k| *k == t).map(|p| p as u32)
        });
        assert_eq!(counts.get(&0), Some(&2));
        assert_eq!(counts.get(&1), Some(&2));
        assert_eq!(counts.get(&2), Some(&2));
        assert_eq!(counts.get(&3), Some(&1));
        assert_eq!(counts.len(), 4);
    }
}
