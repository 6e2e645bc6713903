use crate::Entity;

/// Merges the entities of several overlapping windows of one text, like
/// transformers' `aggregate_overlapping_entities`: sort by start (stable),
/// then, walking left to right, an entity that starts inside the kept one
/// replaces it if it is longer, or as long with a higher score; otherwise it
/// is dropped. The result is sorted by start and free of overlaps.
///
/// Lengths are compared in characters, as Python counts them: with bytes,
/// `«på 300»` would outweigh an equally long ASCII span.
///
/// transformers calls this only when a text needed more than one window.
pub fn merge_windows(mut entities: Vec<Entity>) -> Vec<Entity> {
    entities.sort_by_key(|e| e.start);
    let mut iter = entities.into_iter();
    let Some(mut kept) = iter.next() else {
        return Vec::new();
    };
    let mut merged = Vec::new();
    // transformers compares the first entity with itself: it never replaces
    // itself, but an empty first entity is not "inside" itself and is pushed
    // twice. That quirk is kept.
    if kept.start >= kept.end {
        merged.push(kept.clone());
    }
    for entity in iter {
        if kept.start <= entity.start && entity.start < kept.end {
            let length = entity.word.chars().count();
            let kept_length = kept.word.chars().count();
            if length > kept_length || (length == kept_length && entity.score > kept.score) {
                kept = entity;
            }
        } else {
            merged.push(std::mem::replace(&mut kept, entity));
        }
    }
    merged.push(kept);
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(label: &str, start: usize, end: usize, score: f32) -> Entity {
        Entity {
            label: label.into(),
            score,
            start,
            end,
            word: "x".repeat(end - start),
            index: None,
        }
    }

    #[test]
    fn lengths_count_characters_not_bytes() {
        let mut first = e("A", 0, 24, 0.5);
        first.word = "på 300 millioner kroner".into();
        let second = e("B", 17, 40, 0.6);
        let out = merge_windows(vec![first, second]);
        assert_eq!(out.len(), 1);
        assert_eq!(
            out[0].label, "B",
            "23 characters each: the higher score wins"
        );
    }

    #[test]
    fn empty_first_entity_is_doubled_like_transformers() {
        let out = merge_windows(vec![e("A", 2, 2, 0.5), e("B", 3, 5, 0.5)]);
        let spans: Vec<_> = out.iter().map(|x| (x.start, x.end)).collect();
        assert_eq!(spans, [(2, 2), (2, 2), (3, 5)]);
    }
}
