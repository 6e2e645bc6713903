use crate::Entity;

/// IOB2 tags of words, from entities over the same text: a word takes the
/// type of the first entity it overlaps, `B-` where that entity first
/// touches a word and `I-` on the words after; other words are `O`.
///
/// `words` are byte ranges, sorted and non-overlapping; `entities` are sorted
/// by start and non-overlapping (as every norsk pipeline returns them).
/// Labels that carry a scheme prefix (`B-PER` from aggregation `none`) are
/// reduced to their type.
pub fn word_tags(words: &[(usize, usize)], entities: &[Entity]) -> Vec<String> {
    let mut tags = Vec::with_capacity(words.len());
    let mut next = 0;
    let mut open: Option<usize> = None;
    for &(start, end) in words {
        while next < entities.len() && entities[next].end <= start {
            next += 1;
        }
        match entities.get(next).filter(|e| e.start < end) {
            Some(e) => {
                let prefix = if open == Some(next) { "I" } else { "B" };
                open = Some(next);
                tags.push(format!("{prefix}-{}", entity_type(&e.label)));
            }
            None => {
                open = None;
                tags.push("O".to_string());
            }
        }
    }
    tags
}

/// `PER` from `PER`, `B-PER`, `I-PER`, `S-PER`, `E-PER`, `U-PER` or `L-PER`.
fn entity_type(label: &str) -> &str {
    match label.split_once('-') {
        Some(("B" | "I" | "E" | "S" | "L" | "U", rest)) => rest,
        _ => label,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entity(label: &str, start: usize, end: usize) -> Entity {
        Entity {
            label: label.into(),
            score: 1.0,
            start,
            end,
            word: String::new(),
            index: None,
        }
    }

    #[test]
    fn words_take_the_type_of_the_entity_they_overlap() {
        // "Jens Stoltenberg møtte GPE_LOC-Oslo"
        let words = [(0, 4), (5, 16), (17, 23), (24, 35)];
        let entities = [entity("PER", 0, 16), entity("I-GPE_LOC", 32, 35)];
        assert_eq!(
            word_tags(&words, &entities),
            ["B-PER", "I-PER", "O", "B-GPE_LOC"]
        );
        let split = [entity("PER", 0, 4), entity("PER", 5, 16)];
        assert_eq!(word_tags(&words, &split), ["B-PER", "B-PER", "O", "O"]);
    }
}
