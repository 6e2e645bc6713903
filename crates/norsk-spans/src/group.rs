//! Grouping of labelled tokens or words into entities (transformers'
//! `group_entities` and `group_sub_entities`).

use crate::aggregate::Labelled;
use crate::labels::{group_name, Boundary};
use crate::numeric::nanmean;
use crate::{Entity, Labels};

/// Groups adjacent items whose labels have the same tag, unless the later one
/// begins an entity. Each group becomes one entity named after its first
/// item's label ([`group_name`]) with the mean of the items' scores.
pub(crate) fn group_entities(text: &str, labels: &Labels, items: &[Labelled]) -> Vec<Entity> {
    let mut entities = Vec::new();
    let mut open = 0;
    for i in 1..items.len() {
        let (boundary, tag) = labels.tag(label_name(labels, &items[i]));
        let (_, last_tag) = labels.tag(label_name(labels, &items[i - 1]));
        if tag != last_tag || boundary == Boundary::Begin {
            entities.extend(group(text, labels, &items[open..i]));
            open = i;
        }
    }
    entities.extend(group(text, labels, &items[open..]));
    entities
}

/// transformers' `group_sub_entities`; `None` for an empty group.
fn group(text: &str, labels: &Labels, items: &[Labelled]) -> Option<Entity> {
    let first = items.first()?;
    let last = items.last()?;
    let (start, end) = (first.start, last.end);
    Some(Entity {
        label: group_name(label_name(labels, first)).to_string(),
        score: nanmean(items.iter().map(|item| item.score)),
        start,
        end,
        word: text.get(start..end).unwrap_or_default().to_string(),
        index: None,
    })
}

/// The label name of an item (ids are checked before grouping).
fn label_name<'a>(labels: &'a Labels, item: &Labelled) -> &'a str {
    labels.name(item.label).unwrap_or_default()
}
