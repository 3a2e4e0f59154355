//! The recordings of a service's answers that a fact or a case may cite as `[R:id]`.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::diagnostic::did_you_mean;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recording {
    pub what: String,
    #[serde(rename = "where")]
    pub location: String,
}

/// The ids of the `[R:id]` citations in a text.
pub fn citations(text: &str) -> impl Iterator<Item = &str> {
    text.match_indices("[R:").filter_map(move |(i, _)| {
        let rest = &text[i + 3..];
        let end = rest.find([']', ' '])?;
        Some(&rest[..end])
    })
}

/// What to write instead of `[R:id]` when `id` is none of `recordings`, or None when it is one.
pub fn unknown_citation(recordings: &BTreeMap<String, Recording>, id: &str) -> Option<String> {
    if recordings.contains_key(id) {
        return None;
    }
    let ids: Vec<&str> = recordings.keys().map(String::as_str).collect();
    Some(match did_you_mean(id, ids.iter().copied()) {
        Some(s) => format!("did you mean `[R:{s}]`?"),
        None => format!("cite one of: {}", ids.join(", ")),
    })
}
