//! What a member's constraints ask the corpus to try, and whether a value sent meets it.

use crate::model::{Model, Shape, ShapeKind};

use super::observation::Seen;
use super::pattern::pattern_matches;

/// One thing a member's constraints ask the corpus to try.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Check {
    /// The member left out.
    Missing,
    /// A text of exactly this many characters.
    Length(u64),
    /// A number of exactly this value.
    Value(i64),
    /// A list of exactly this many items.
    Items(u64),
    /// A text the pattern rejects.
    PatternBroken,
    /// A text outside the enumeration.
    NotInEnum,
}

/// A check, what it means for people, and whether AWS should accept it.
pub(super) type Labelled = (Check, String, bool);

/// Constrained members of a structure, depth first: `(path, shape, required)`.
pub(super) fn member_specs<'a>(
    model: &'a Model,
    shape: &str,
    prefix: &str,
    out: &mut Vec<(String, &'a Shape, bool)>,
    depth: usize,
) {
    let s = model.shape(shape);
    let ShapeKind::Structure {
        members, required, ..
    } = &s.kind
    else {
        return;
    };
    if depth > 4 {
        return;
    }
    for (name, m) in members {
        let path = format!("{prefix}{name}");
        let ms = model.shape(&m.shape);
        out.push((path.clone(), ms, required.contains(name)));
        match &ms.kind {
            ShapeKind::Structure { .. } => {
                member_specs(model, &m.shape, &format!("{path}."), out, depth + 1)
            }
            ShapeKind::List { member } => {
                let item = model.shape(&member.shape);
                if matches!(item.kind, ShapeKind::Structure { .. }) {
                    member_specs(model, &member.shape, &format!("{path}[]."), out, depth + 1);
                } else {
                    out.push((format!("{path}[]"), item, false));
                }
            }
            _ => {}
        }
    }
}

pub(super) fn checks_for(shape: &Shape, required: bool) -> Vec<Labelled> {
    let mut out = Vec::new();
    if required {
        out.push((Check::Missing, "left out (required)".to_owned(), false));
    }
    let bound = |v: Option<f64>| v.map(|x| x as i64);
    match shape.kind {
        ShapeKind::String => {
            bounds(
                &mut out,
                bound(shape.min).filter(|m| *m > 0),
                bound(shape.max),
                |n| Check::Length(n as u64),
                |n| format!("length {n}"),
            );
            if shape.pattern.is_some() {
                out.push((
                    Check::PatternBroken,
                    "a character the pattern forbids".to_owned(),
                    false,
                ));
            }
            if !shape.enum_values.is_empty() {
                out.push((
                    Check::NotInEnum,
                    "a value outside the enumeration".to_owned(),
                    false,
                ));
            }
        }
        ShapeKind::Integer | ShapeKind::Long => bounds(
            &mut out,
            bound(shape.min),
            bound(shape.max),
            Check::Value,
            |n| format!("value {n}"),
        ),
        ShapeKind::List { .. } => bounds(
            &mut out,
            bound(shape.min).filter(|m| *m > 0),
            bound(shape.max),
            |n| Check::Items(n as u64),
            |n| format!("{n} items"),
        ),
        _ => {}
    }
    out
}

/// Each bound (accepted) and the value just past it (rejected), the minimum first.
fn bounds(
    out: &mut Vec<Labelled>,
    min: Option<i64>,
    max: Option<i64>,
    check: impl Fn(i64) -> Check,
    label: impl Fn(i64) -> String,
) {
    if let Some(min) = min {
        out.push((check(min), format!("{} (the minimum)", label(min)), true));
        out.push((
            check(min - 1),
            format!("{} (under the minimum)", label(min - 1)),
            false,
        ));
    }
    if let Some(max) = max {
        out.push((check(max), format!("{} (the maximum)", label(max)), true));
        out.push((
            check(max + 1),
            format!("{} (over the maximum)", label(max + 1)),
            false,
        ));
    }
}

pub(super) fn satisfies(seen: &Seen, check: &Check, shape: &Shape) -> bool {
    match (seen, check) {
        (Seen::Missing, Check::Missing) => true,
        (Seen::Text(t), Check::Length(n)) => t.chars().count() as u64 == *n,
        (Seen::Text(t), Check::PatternBroken) => shape
            .pattern
            .as_deref()
            .is_some_and(|p| !pattern_matches(p, t)),
        (Seen::Text(t), Check::NotInEnum) => !shape.enum_values.iter().any(|e| e == t),
        (Seen::Number(v), Check::Value(n)) => v == n,
        (Seen::Items(v), Check::Items(n)) => v == n,
        _ => false,
    }
}
