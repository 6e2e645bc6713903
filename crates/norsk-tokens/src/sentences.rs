//! Splitting running text into sentences, for models trained on sentences
//! (NorNE is annotated sentence by sentence).

/// Abbreviations that end in a full stop without ending a sentence
/// (lower-cased, without the final stop).
const ABBREVIATIONS: &[&str] = &[
    "bl.a", "ca", "dvs", "d.v.s", "etc", "f.eks", "f.o.m", "t.o.m", "jf", "kl", "mr", "dr", "nr",
    "pr", "st", "o.l", "osv", "m.m", "mv", "m.v", "ev", "evt", "inkl", "iflg", "jr", "sr", "prof",
    "adv", "ass", "avd", "fig", "tlf", "vs", "e.l", "gl", "ny", "bl", "ifm", "mht", "vha", "pga",
    "p.g.a", "kap", "nov", "des", "jan", "feb", "mar", "apr", "aug", "sep", "sept", "okt",
];

/// Byte ranges of the sentences of `text`, in order, each trimmed of
/// surrounding whitespace; whitespace-only stretches give no sentence.
///
/// A sentence ends at a line break, or after `.`, `!`, `?` or `…` (and any
/// closing quotes or brackets) that is followed by whitespace and then an
/// upper-case letter, a digit, an opening quote or a dash, unless the full
/// stop closes a known abbreviation, an initial (`J. Stoltenberg`) or an
/// ordinal number (`17. mai`).
pub fn sentences(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    // What follows the run of marks being read: where a sentence would end
    // after it, if the text there opens one. Marks in one run share it, so
    // a long run (`.....`) is looked past once, not once per mark.
    let mut run: Option<(usize, Option<usize>)> = None;
    for (pos, c) in text.char_indices() {
        if pos < start {
            continue;
        }
        let end = pos + c.len_utf8();
        let boundary = match c {
            '\n' | '\r' | '\u{2028}' | '\u{2029}' => Some(pos),
            '.' | '!' | '?' | '…' => {
                let (_, cut) = match run {
                    Some(cached) if pos < cached.0 => cached,
                    _ => *run.insert(after_marks(text, end)),
                };
                cut.filter(|_| c != '.' || closes_sentence(&text[start..pos]))
            }
            _ => None,
        };
        if let Some(cut) = boundary {
            push_trimmed(text, start, cut.max(start), &mut out);
            start = if cut == pos { end } else { cut };
        }
    }
    push_trimmed(text, start, text.len(), &mut out);
    out
}

/// What follows a sentence mark that ends at byte `from`: where its run of
/// marks and closing quotes or brackets ends, and that position again if
/// whitespace (not a line break) and then an upper-case letter, a digit, an
/// opening quote or a dash follow, so that a sentence may end there.
fn after_marks(text: &str, from: usize) -> (usize, Option<usize>) {
    let mut rest = text[from..]
        .char_indices()
        .map(|(i, c)| (from + i, c))
        .peekable();
    while rest
        .next_if(|&(_, c)| {
            matches!(
                c,
                '.' | '!' | '?' | '…' | '»' | '"' | '\'' | ')' | '”' | '’'
            )
        })
        .is_some()
    {}
    let cut = rest.peek().map_or(text.len(), |&(p, _)| p);
    let mut spaced = false;
    while rest
        .next_if(|&(_, c)| c.is_whitespace() && !matches!(c, '\n' | '\r'))
        .is_some()
    {
        spaced = true;
    }
    let opens = rest.peek().is_some_and(|&(_, next)| {
        next.is_uppercase()
            || next.is_ascii_digit()
            || matches!(next, '«' | '"' | '–' | '-' | '—' | '(' | '“')
    });
    (cut, (spaced && opens).then_some(cut))
}

/// Whether a full stop after `before` can end a sentence: not after an
/// abbreviation, a single letter (an initial) or a number (an ordinal).
fn closes_sentence(before: &str) -> bool {
    let word = before
        .rsplit(|c: char| c.is_whitespace() || matches!(c, '(' | '«' | '"'))
        .next()
        .unwrap_or_default();
    if word.is_empty() {
        return true;
    }
    if word.chars().all(|c| c.is_ascii_digit()) {
        return false;
    }
    if word.chars().count() == 1 && word.chars().all(char::is_alphabetic) {
        return false;
    }
    let lower = word.to_lowercase();
    !ABBREVIATIONS.contains(&lower.as_str())
}

fn push_trimmed(text: &str, start: usize, end: usize, out: &mut Vec<(usize, usize)>) {
    let piece = &text[start..end];
    let trimmed_start = start + (piece.len() - piece.trim_start().len());
    let trimmed_end = start + piece.trim_end().len();
    if trimmed_start < trimmed_end {
        out.push((trimmed_start, trimmed_end));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> Vec<&str> {
        sentences(text)
            .into_iter()
            .map(|(s, e)| &text[s..e])
            .collect()
    }

    #[test]
    fn splits_news_text() {
        let text = "Jens Stoltenberg møtte Erna Solberg i Oslo. De snakket om NATO, bl.a. om Ukraina.\r\nNeste møte er 17. mai i Bergen! «Det blir bra», sa J. Stoltenberg.";
        assert_eq!(
            split(text),
            [
                "Jens Stoltenberg møtte Erna Solberg i Oslo.",
                "De snakket om NATO, bl.a. om Ukraina.",
                "Neste møte er 17. mai i Bergen!",
                "«Det blir bra», sa J. Stoltenberg.",
            ]
        );
    }

    #[test]
    fn keeps_everything_else_and_nothing_blank() {
        assert!(split("").is_empty());
        assert!(split(" \n\t\u{a0}\r\n").is_empty());
        assert_eq!(split("Hei på deg"), ["Hei på deg"]);
        assert_eq!(
            split("Se f.eks. Oslo. Og mer."),
            ["Se f.eks. Oslo.", "Og mer."]
        );
        assert_eq!(split("Hva? Nei... Jo."), ["Hva?", "Nei...", "Jo."]);
        assert_eq!(split("Se osv.! Nei."), ["Se osv.!", "Nei."]);
    }

    #[test]
    fn a_long_run_of_marks_is_read_once() {
        // Each mark used to look past the whole run after it: quadratic.
        let dots = ".".repeat(500_000);
        let text = format!("Hei{dots} Nei{dots}");
        assert_eq!(sentences(&text), [(0, 500_003), (500_004, text.len())]);
    }
}
