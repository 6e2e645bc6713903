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
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    for (i, &(pos, c)) in chars.iter().enumerate() {
        if pos < start {
            continue;
        }
        let end = pos + c.len_utf8();
        let boundary = match c {
            '\n' | '\r' | '\u{2028}' | '\u{2029}' => Some(pos),
            '.' | '!' | '?' | '…' => sentence_end(text, &chars, i, start),
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

/// Where the sentence ends if the mark at `chars[i]` ends one.
fn sentence_end(text: &str, chars: &[(usize, char)], i: usize, start: usize) -> Option<usize> {
    let mut j = i + 1;
    while j < chars.len()
        && matches!(
            chars[j].1,
            '.' | '!' | '?' | '…' | '»' | '"' | '\'' | ')' | '”' | '’'
        )
    {
        j += 1;
    }
    let cut = chars.get(j).map_or(text.len(), |&(p, _)| p);
    let mut k = j;
    while k < chars.len() && chars[k].1.is_whitespace() && !matches!(chars[k].1, '\n' | '\r') {
        k += 1;
    }
    if k == j || k == chars.len() {
        return None;
    }
    let next = chars[k].1;
    if matches!(next, '\n' | '\r') {
        return None;
    }
    let opens = next.is_uppercase()
        || next.is_ascii_digit()
        || matches!(next, '«' | '"' | '–' | '-' | '—' | '(' | '“');
    if !opens {
        return None;
    }
    if chars[i].1 == '.' && !closes_sentence(&text[start..chars[i].0]) {
        return None;
    }
    Some(cut)
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
    }
}
