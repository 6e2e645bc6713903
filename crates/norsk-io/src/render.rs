use std::fmt::Write;

use anstyle::{AnsiColor, Style};
use norsk_spans::{word_tags, Entity};
use norsk_tokens::CharIndex;

/// Whether and how to colour entity types in human output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Palette {
    /// ANSI colours, for a terminal.
    Ansi,
    /// Plain text with `[…]` marks, for pipes and files.
    Plain,
}

const COLOURS: [AnsiColor; 6] = [
    AnsiColor::Blue,
    AnsiColor::Green,
    AnsiColor::Magenta,
    AnsiColor::Cyan,
    AnsiColor::Yellow,
    AnsiColor::Red,
];

fn style_for(label: &str) -> Style {
    let hash = label
        .bytes()
        .fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(b as usize));
    Style::new()
        .bold()
        .fg_color(Some(COLOURS[hash % COLOURS.len()].into()))
}

/// The text with its entities marked, then one line per entity:
/// `start..end  LABEL  score  word`, offsets in characters.
pub fn render_human(text: &str, entities: &[Entity], palette: Palette) -> String {
    let index = CharIndex::new(text);
    let mut out = String::new();
    let mut cursor = 0;
    for e in entities {
        out.push_str(&text[cursor..e.start]);
        let span = &text[e.start..e.end];
        match palette {
            Palette::Ansi => {
                let style = style_for(&e.label);
                let _ = write!(
                    out,
                    "{style}{span}{style:#}{dim}[{}]{dim:#}",
                    e.label,
                    dim = Style::new().dimmed()
                );
            }
            Palette::Plain => {
                let _ = write!(out, "[{span}]({})", e.label);
            }
        }
        cursor = e.end;
    }
    out.push_str(&text[cursor..]);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    for e in entities {
        let range = format!(
            "{}..{}",
            index.char_of_byte(e.start),
            index.char_of_byte(e.end)
        );
        let label = match palette {
            Palette::Ansi => {
                let style = style_for(&e.label);
                format!("{style}{:<10}{style:#}", e.label)
            }
            Palette::Plain => format!("{:<10}", e.label),
        };
        let _ = writeln!(
            out,
            "  {range:<12} {label} {:.3}  {}",
            e.score,
            e.word.escape_debug()
        );
    }
    out
}

/// CoNLL: one whitespace-separated word per line with its IOB2 tag, a blank
/// line after the text (tags as [`word_tags`] gives them).
pub fn render_conll(text: &str, entities: &[Entity]) -> String {
    let words: Vec<(usize, &str)> = words(text).collect();
    let spans: Vec<(usize, usize)> = words.iter().map(|&(s, w)| (s, s + w.len())).collect();
    let mut out = String::new();
    for ((_, word), tag) in words.iter().zip(word_tags(&spans, entities)) {
        let _ = writeln!(out, "{word}\t{tag}");
    }
    out.push('\n');
    out
}

fn words(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split(char::is_whitespace)
        .scan(0usize, move |pos, w| {
            let start = *pos;
            *pos += w.len()
                + text[start + w.len()..]
                    .chars()
                    .next()
                    .map_or(0, char::len_utf8);
            Some((start, w))
        })
        .filter(|(_, w)| !w.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::writers::test_records::entity;

    #[test]
    fn conll_tags_words_in_iob2() {
        let text = "Jens Stoltenberg\u{a0}møtte  Erna i Oslo.";
        let entities = vec![
            entity(text, "Jens Stoltenberg", "PER"),
            entity(text, "Oslo", "GPE_LOC"),
        ];
        let out = render_conll(text, &entities);
        assert_eq!(
            out,
            "Jens\tB-PER\nStoltenberg\tB-PER\nmøtte\tO\nErna\tO\ni\tO\nOslo.\tB-GPE_LOC\n\n"
                .replace("Stoltenberg\tB-PER", "Stoltenberg\tI-PER")
        );
    }

    #[test]
    fn plain_human_output_marks_entities() {
        let text = "Erna Solberg i Oslo";
        let entities = vec![entity(text, "Erna Solberg", "PER")];
        let out = render_human(text, &entities, Palette::Plain);
        assert!(out.starts_with("[Erna Solberg](PER) i Oslo\n"), "{out}");
        assert!(out.contains("0..12"), "{out}");
    }
}
